// SPDX-License-Identifier: MIT
/*
 * Native leaf frames: which object a sampled user-space address is in, and
 * which function where the object has a symbol table (.symtab, else .dynsym).
 * Objects are read through /proc/PID/root with libelf, once, on first use.
 * A stripped object still tells its kind: interpreter, extension module, libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nativesym.h"

#define MAX_MAPS 512

struct sym {
	uint64_t addr, size;
	char *name;
};

struct obj {
	char *path;
	const char *kind;
	int loaded;		/* symbols read (or tried) */
	struct sym *syms;	/* sorted by addr */
	size_t nsyms;
	struct {		/* PT_LOAD segments: file offset -> vaddr */
		uint64_t off, vaddr, filesz;
	} seg[16];
	int nseg;
};

struct map {
	uint64_t start, end, off;
	struct obj *obj;
};

struct nativesym {
	pid_t pid;
	struct map maps[MAX_MAPS];
	int nmaps;
	struct obj *objs[MAX_MAPS];
	int nobjs;
};

static const char *kind_of(const char *path, const char *interp)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (!strcmp(path, interp))
		return "interpreter";
	if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5))
		return "libc";
	if (strstr(path, "/lib-dynload/") || strstr(base, ".cpython-") || strstr(path, "-packages/"))
		return "extension";
	return "library";
}

static struct obj *obj_for(struct nativesym *ns, const char *path, const char *interp)
{
	struct obj *o;

	for (int i = 0; i < ns->nobjs; i++)
		if (!strcmp(ns->objs[i]->path, path))
			return ns->objs[i];
	if (ns->nobjs >= MAX_MAPS || !(o = calloc(1, sizeof(*o))))
		return NULL;
	o->path = strdup(path);
	if (!o->path) {
		free(o);
		return NULL;
	}
	o->kind = kind_of(path, interp);
	ns->objs[ns->nobjs++] = o;
	return o;
}

struct nativesym *nativesym__new(pid_t pid, const char *interp_path)
{
	struct nativesym *ns = calloc(1, sizeof(*ns));
	char fn[64], line[PATH_MAX + 128];
	FILE *f;

	if (!ns)
		return NULL;
	ns->pid = pid;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", pid);
	f = fopen(fn, "re");
	if (!f)
		return ns;	/* every lookup will say "unknown" */
	while (fgets(line, sizeof(line), f) && ns->nmaps < MAX_MAPS) {
		unsigned long long start, end, off;
		char perms[8], *path = strchr(line, '/');

		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &off) != 4 || perms[2] != 'x' || !path)
			continue;
		path[strcspn(path, "\n")] = 0;
		ns->maps[ns->nmaps] = (struct map){ start, end, off, obj_for(ns, path, interp_path) };
		if (ns->maps[ns->nmaps].obj)
			ns->nmaps++;
	}
	fclose(f);
	return ns;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_syms(struct nativesym *ns, struct obj *o)
{
	char fn[PATH_MAX];
	Elf_Scn *scn = NULL, *best = NULL;
	GElf_Shdr sh, bestsh = {};
	size_t nph;
	Elf *elf;
	int fd;

	o->loaded = 1;
	snprintf(fn, sizeof(fn), "/proc/%d/root%s", ns->pid, o->path);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE)
		goto out_fd;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		goto out_fd;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph && o->nseg < 16; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD) {
				o->seg[o->nseg].off = ph.p_offset;
				o->seg[o->nseg].vaddr = ph.p_vaddr;
				o->seg[o->nseg].filesz = ph.p_filesz;
				o->nseg++;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best)) {
			best = scn;
			bestsh = sh;
		}
	}
	if (best && bestsh.sh_entsize) {
		Elf_Data *d = elf_getdata(best, NULL);
		size_t n = d ? bestsh.sh_size / bestsh.sh_entsize : 0;

		o->syms = calloc(n ? n : 1, sizeof(*o->syms));
		for (size_t i = 0; o->syms && i < n; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value ||
			    !(name = elf_strptr(elf, bestsh.sh_link, s.st_name)) || !*name)
				continue;
			o->syms[o->nsyms] = (struct sym){ s.st_value, s.st_size, strdup(name) };
			if (o->syms[o->nsyms].name)
				o->nsyms++;
		}
		if (o->nsyms)
			qsort(o->syms, o->nsyms, sizeof(*o->syms), cmp_sym);
	}
	elf_end(elf);
out_fd:
	if (fd >= 0)
		close(fd);
}

int nativesym__lookup(struct nativesym *ns, uint64_t ip, struct nativeloc *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ns->nmaps; i++) {
		struct map *m = &ns->maps[i];
		struct obj *o = m->obj;
		uint64_t off, vaddr = 0;
		size_t lo = 0, hi;

		if (ip < m->start || ip >= m->end)
			continue;
		out->object = strrchr(o->path, '/') + 1;
		out->kind = o->kind;
		if (!o->loaded)
			load_syms(ns, o);
		off = ip - m->start + m->off;
		for (int k = 0; k < o->nseg; k++) {
			if (off >= o->seg[k].off && off < o->seg[k].off + o->seg[k].filesz) {
				vaddr = o->seg[k].vaddr + (off - o->seg[k].off);
				break;
			}
		}
		/* The last symbol starting at or below vaddr, if vaddr is inside it. */
		hi = o->nsyms;
		while (vaddr && lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (o->syms[mid].addr <= vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (vaddr && lo > 0) {
			struct sym *s = &o->syms[lo - 1];

			if (vaddr < s->addr + (s->size ? s->size : 1))
				out->symbol = s->name;
		}
		return 0;
	}
	out->kind = "jit/anonymous";
	out->object = "?";
	return -ENOENT;
}

void nativesym__free(struct nativesym *ns)
{
	if (!ns)
		return;
	for (int i = 0; i < ns->nobjs; i++) {
		for (size_t k = 0; k < ns->objs[i]->nsyms; k++)
			free(ns->objs[i]->syms[k].name);
		free(ns->objs[i]->syms);
		free(ns->objs[i]->path);
		free(ns->objs[i]);
	}
	free(ns);
}
