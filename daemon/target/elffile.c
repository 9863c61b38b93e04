// SPDX-License-Identifier: MIT
/*
 * The bounds-checked ELF reader (elffile.h). libelf parses the headers and
 * checks that sections lie in the file (elf_getdata), that symbols and notes
 * lie in their sections (gelf_getsym, gelf_getnote) and that strings end in
 * their string table (elf_strptr); what libelf does not know, program
 * headers and virtual addresses, is checked here against the file image.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elffile.h"

/* SystemTap's note: type 3, owner "stapsdt"; pc, .stapsdt.base, semaphore, three strings. */
#define NT_STAPSDT 3
#define STAPSDT_FIXED (3 * 8)

struct symtab {
	Elf_Data *data;		/* NULL: no such table */
	size_t strndx, n;
};

struct elffile {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	const char *image;	/* the whole file, size bytes (libelf's mapping) */
	size_t size;
	size_t shstrndx;
	struct elf_segment *segs;
	size_t nsegs;
	struct symtab tabs[2];	/* SHT_SYMTAB, SHT_DYNSYM */
	Elf_Data *stapsdt;	/* .note.stapsdt */
	uint64_t stapsdt_base;	/* address of .stapsdt.base, if has_stapsdt_base */
	bool has_stapsdt_base;
};

static struct symtab *symtab_of(const struct elffile *ef, uint32_t type)
{
	if (type == SHT_SYMTAB)
		return (struct symtab *)&ef->tabs[0];
	if (type == SHT_DYNSYM)
		return (struct symtab *)&ef->tabs[1];
	return NULL;
}

/* The PT_LOAD program headers, counted first: e_phnum comes from the file. */
static int read_segments(struct elffile *ef)
{
	size_t nph, n = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(ef->elf, &nph))
		return 0;	/* no program headers: no segments */
	for (size_t i = 0; i < nph && i <= INT_MAX; i++)
		n += gelf_getphdr(ef->elf, (int)i, &ph) && ph.p_type == PT_LOAD;
	if (!n)
		return 0;
	ef->segs = calloc(n, sizeof(*ef->segs));
	if (!ef->segs)
		return -ENOMEM;
	for (size_t i = 0; i < nph && i <= INT_MAX && ef->nsegs < n; i++) {
		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		ef->segs[ef->nsegs++] = (struct elf_segment){ ph.p_offset, ph.p_vaddr, ph.p_filesz,
							     ph.p_flags };
	}
	return 0;
}

/* Symbol tables, .note.stapsdt and .stapsdt.base: the first of each. */
static void read_sections(struct elffile *ef)
{
	size_t entsize = gelf_fsize(ef->elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		struct symtab *t;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(ef->elf, ef->shstrndx, sh.sh_name);
		t = symtab_of(ef, sh.sh_type);
		if (t && !t->data && entsize && sh.sh_entsize == entsize &&
		    (t->data = elf_getdata(scn, NULL))) {
			t->strndx = sh.sh_link;
			t->n = t->data->d_size / entsize;
			if (t->n > INT_MAX)
				t->n = INT_MAX;	/* gelf_getsym takes an int */
		} else if (sh.sh_type == SHT_NOTE && !ef->stapsdt && name &&
			   !strcmp(name, ".note.stapsdt")) {
			ef->stapsdt = elf_getdata(scn, NULL);
		} else if (!ef->has_stapsdt_base && name && !strcmp(name, ".stapsdt.base")) {
			ef->stapsdt_base = sh.sh_addr;
			ef->has_stapsdt_base = true;
		}
	}
}

struct elffile *elffile__open_fd(int fd)
{
	struct elffile *ef = calloc(1, sizeof(*ef));
	int err = 0;

	if (!ef)
		return NULL;
	ef->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (ef->fd < 0) {
		err = -errno;
		goto cleanup;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EINVAL;
		goto cleanup;
	}
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ef->ehdr) ||
	    elf_getshdrstrndx(ef->elf, &ef->shstrndx)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	/* libelf's own image of the file: mapped, or read whole when it cannot map. */
	ef->image = elf_rawfile(ef->elf, &ef->size);
	if (!ef->image) {
		err = -EIO;
		goto cleanup;
	}
	err = read_segments(ef);
	if (err)
		goto cleanup;
	read_sections(ef);
cleanup:
	if (err) {
		elffile__free(ef);
		errno = -err;
		return NULL;
	}
	return ef;
}

struct elffile *elffile__open(const char *path)
{
	struct elffile *ef;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return NULL;
	ef = elffile__open_fd(fd);
	err = errno;
	close(fd);
	errno = err;
	return ef;
}

void elffile__free(struct elffile *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->segs);
	free(ef);
}

const GElf_Ehdr *elffile__ehdr(const struct elffile *ef)
{
	return &ef->ehdr;
}

const void *elffile__bytes(const struct elffile *ef, uint64_t off, uint64_t len)
{
	if (off > ef->size || len > ef->size - off)
		return NULL;
	return ef->image + off;
}

const struct elf_segment *elffile__segments(const struct elffile *ef, size_t *n)
{
	*n = ef->nsegs;
	return ef->segs;
}

int elffile__phdr(const struct elffile *ef, uint32_t type, GElf_Phdr *out)
{
	size_t nph;

	if (elf_getphdrnum(ef->elf, &nph))
		return -ENOENT;
	for (size_t i = 0; i < nph && i <= INT_MAX; i++)
		if (gelf_getphdr(ef->elf, (int)i, out) && out->p_type == type)
			return 0;
	return -ENOENT;
}

const void *elffile__vaddr_bytes(const struct elffile *ef, uint64_t vaddr, size_t *avail)
{
	for (size_t i = 0; i < ef->nsegs; i++) {
		const struct elf_segment *s = &ef->segs[i];
		uint64_t d = vaddr - s->vaddr, left;

		if (vaddr < s->vaddr || d >= s->filesz)
			continue;
		/* The first segment that holds vaddr decides, in the file or not. */
		if (s->off > ef->size || d >= ef->size - s->off)
			return NULL;
		left = ef->size - (s->off + d);
		*avail = s->filesz - d < left ? s->filesz - d : left;
		return ef->image + s->off + d;
	}
	return NULL;
}

int elffile__vaddr_to_offset(const struct elffile *ef, uint64_t vaddr, uint64_t *off)
{
	size_t avail;
	const char *p = elffile__vaddr_bytes(ef, vaddr, &avail);

	if (!p)
		return -ENOENT;
	*off = (uint64_t)(p - ef->image);
	return 0;
}

int elffile__read_vaddr(const struct elffile *ef, uint64_t vaddr, void *buf, size_t len)
{
	size_t avail;
	const void *p = elffile__vaddr_bytes(ef, vaddr, &avail);

	if (!p || avail < len)
		return -ENOENT;
	memcpy(buf, p, len);
	return 0;
}

Elf_Scn *elffile__section(const struct elffile *ef, const char *name, uint32_t type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr tmp;

	if (!sh)
		sh = &tmp;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || (type != SHT_NULL && sh->sh_type != type))
			continue;
		n = elf_strptr(ef->elf, ef->shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

const void *elffile__section_bytes(const struct elffile *ef, const char *name, uint32_t type,
				   size_t *size, uint64_t *addr)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elffile__section(ef, name, type, &sh);
	Elf_Data *d = scn && sh.sh_type != SHT_NOBITS ? elf_getdata(scn, NULL) : NULL;

	if (!d || !d->d_buf || !d->d_size)
		return NULL;
	*size = d->d_size;
	if (addr)
		*addr = sh.sh_addr;
	return d->d_buf;
}

size_t elffile__nsyms(const struct elffile *ef, uint32_t type)
{
	const struct symtab *t = symtab_of(ef, type);

	return t && t->data ? t->n : 0;
}

int elffile__next_sym(const struct elffile *ef, uint32_t type, size_t *pos, GElf_Sym *sym,
		      const char **name)
{
	const struct symtab *t = symtab_of(ef, type);

	while (t && t->data && *pos < t->n) {
		if (!gelf_getsym(t->data, (int)(*pos)++, sym))
			continue;
		*name = elf_strptr(ef->elf, t->strndx, sym->st_name);
		if (*name && **name)
			return 0;
	}
	return -ENOENT;
}

/*
 * The descriptor holds the probe's address, the address .stapsdt.base had
 * when the linker wrote it (prelink may have moved the file since: adjust by
 * the difference) and the semaphore's, then "provider\0name\0args\0".
 */
int elffile__next_usdt(const struct elffile *ef, size_t *pos, struct elf_usdt *out)
{
	const Elf_Data *d = ef->stapsdt;
	size_t next, name_off, desc_off;
	GElf_Nhdr nh;

	while (d && d->d_buf &&
	       (next = gelf_getnote((Elf_Data *)d, *pos, &nh, &name_off, &desc_off)) > 0) {
		const char *base = d->d_buf, *desc = base + desc_off, *end, *name, *args;
		uint64_t linked_base;

		*pos = next;
		if (nh.n_type != NT_STAPSDT || nh.n_namesz != 8 ||
		    memcmp(base + name_off, "stapsdt", 8) || nh.n_descsz < STAPSDT_FIXED + 3 ||
		    desc_off > d->d_size || nh.n_descsz > d->d_size - desc_off)
			continue;
		end = desc + nh.n_descsz;
		out->provider = desc + STAPSDT_FIXED;
		name = memchr(out->provider, 0, end - out->provider);
		if (!name || ++name >= end)
			continue;
		args = memchr(name, 0, end - name);
		if (!args || ++args >= end || !memchr(args, 0, end - args))
			continue;
		out->name = name;
		out->args = args;
		memcpy(&out->pc, desc, 8);
		memcpy(&linked_base, desc + 8, 8);
		memcpy(&out->semaphore, desc + 16, 8);
		if (ef->has_stapsdt_base) {
			out->pc += ef->stapsdt_base - linked_base;
			if (out->semaphore)
				out->semaphore += ef->stapsdt_base - linked_base;
		}
		return 0;
	}
	return -ENOENT;
}
