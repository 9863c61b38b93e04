// SPDX-License-Identifier: MIT
/*
 * Target inspection: which interpreter a process runs, where its runtime state
 * and GIL live. The ELF is read with libelf through /proc/PID/root so processes
 * in other mount namespaces work; the ELF and the target's memory are
 * untrusted, so every size and offset is checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pyoffsets.h"
#include "tmem.h"
#include "usdtarg.h"
#include "pyinspect.h"

/* Collector functions: the name (a clone keeps it as a prefix) by version. */
#define GC_FUNC_MAX 4

enum { S_RUNTIME, S_PY_VERSION, S_PY_INITIALIZE, S_GIL_COND, S_GIL_MUTEX, S_SWITCH_COND,
       S_SWITCH_MUTEX, S_GIL_LOCKED, S_GIL_LAST_HOLDER, S_INTERP_HEAD,
       S_GC_STATS, S_GC_COLLECTING, S_NSYMS };

static const char *const wanted[S_NSYMS] = {
	"_PyRuntime", "Py_Version", "Py_Initialize", "gil_cond", "gil_mutex",
	"switch_cond", "switch_mutex", "gil_locked", "gil_last_holder", "interp_head",
	"generation_stats", "collecting",
};

struct elfinfo {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	bool symtab, usdt;
	bool found[S_NSYMS];
	GElf_Sym sym[S_NSYMS];
	/* Local FUNC symbols named like the collector ("collect", "collect.constprop.1", ...). */
	int ngc;
	struct {
		char name[48];
		uint64_t value;
	} gc[GC_FUNC_MAX];
	uint64_t first_load_vaddr;
	/* .note.stapsdt and .stapsdt.base, for the USDT sites. */
	Elf_Scn *notes;
	uint64_t stapsdt_base;
	bool has_stapsdt_base;
};

static void elfinfo_close(struct elfinfo *e)
{
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
}

/* The function that runs a collection: collect (3.6-3.9), gc_collect_main (3.10-3.13), and their clones. */
static bool is_collector(const char *name)
{
	static const char *const names[] = { "collect", "gc_collect_main" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(name, names[i], n) == 0 && (name[n] == 0 || name[n] == '.'))
			return true;
	}
	return false;
}

static void scan_symbols(struct elfinfo *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && e->ngc < GC_FUNC_MAX && is_collector(name)) {
			snprintf(e->gc[e->ngc].name, sizeof(e->gc[0].name), "%s", name);
			e->gc[e->ngc++].value = sym.st_value;
		}
		for (int k = 0; k < S_NSYMS; k++) {
			if (!e->found[k] && strcmp(name, wanted[k]) == 0) {
				e->found[k] = true;
				e->sym[k] = sym;
			}
		}
	}
}

static int elfinfo_open(struct elfinfo *e, const char *path)
{
	size_t shstrndx, nph;
	Elf_Scn *scn = NULL;

	memset(e, 0, sizeof(*e));
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->ehdr) ||
	    gelf_getclass(e->elf) != ELFCLASS64 || elf_getshdrstrndx(e->elf, &shstrndx))
		return -ENOEXEC;
	e->first_load_vaddr = UINT64_MAX;
	if (elf_getphdrnum(e->elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e->elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < e->first_load_vaddr)
				e->first_load_vaddr = ph.p_vaddr;
		}
	}
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB) {
			e->symtab = true;
			scan_symbols(e, scn, &sh);
		} else if (sh.sh_type == SHT_DYNSYM) {
			scan_symbols(e, scn, &sh);
		} else if (sh.sh_type == SHT_NOTE && name && strcmp(name, ".note.stapsdt") == 0) {
			e->usdt = true;
			e->notes = scn;
		} else if (name && strcmp(name, ".stapsdt.base") == 0) {
			e->stapsdt_base = sh.sh_addr;
			e->has_stapsdt_base = true;
		}
	}
	return 0;
}

/* File offset of virtual address vaddr (in a PT_LOAD segment with file contents). */
static int elf_vaddr_to_offset(struct elfinfo *e, uint64_t vaddr, uint64_t *off)
{
	size_t nph;

	if (elf_getphdrnum(e->elf, &nph))
		return -ENOEXEC;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
		    vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = ph.p_offset + (vaddr - ph.p_vaddr);
			return 0;
		}
	}
	return -ENOENT;
}

/* Read bytes at virtual address vaddr from the file's PT_LOAD contents. */
static int elf_read_vaddr(struct elfinfo *e, uint64_t vaddr, void *buf, size_t len)
{
	size_t nph;

	if (elf_getphdrnum(e->elf, &nph))
		return -ENOEXEC;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr + len > ph.p_filesz)
			continue;
		if (pread(e->fd, buf, len, ph.p_offset + (vaddr - ph.p_vaddr)) != (ssize_t)len)
			return -EIO;
		return 0;
	}
	return -ENOENT;
}

/*
 * Find the full "M.m.p" version string for a known M.m in .rodata: PY_VERSION
 * as a NUL-terminated string. Linkers merge string tails, so "3.8.18" may only
 * exist as the end of ".../Python-3.8.18": a standalone copy wins, else a tail
 * that follows a character which cannot be part of a version.
 */
static void find_version_string(struct elfinfo *e, unsigned major, unsigned minor, unsigned *micro, char *out,
				size_t outlen)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	char prefix[16];
	int plen = snprintf(prefix, sizeof(prefix), "%u.%u.", major, minor);
	const char *tail = NULL, *tail_end = NULL;

	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *name, *p, *start, *end;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".rodata") != 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return;
		start = d->d_buf;
		end = start + d->d_size;
		for (p = start; p + plen < end; p++) {
			const char *q;
			char before = p > start ? p[-1] : 0;

			if (memcmp(p, prefix, plen) != 0 || (before >= '0' && before <= '9') || before == '.')
				continue;
			q = p + plen;
			if (*q < '0' || *q > '9')
				continue;
			while (q < end && *q && q - p < 16 && (*q == '+' || (*q >= '0' && *q <= '9') ||
							      (*q >= 'a' && *q <= 'z')))
				q++;
			if (q >= end || *q != 0)
				continue;
			if (before == 0) {
				tail = p;
				tail_end = q;
				break;
			}
			if (!tail) {
				tail = p;
				tail_end = q;
			}
		}
		if (tail) {
			*micro = (unsigned)strtoul(tail + plen, NULL, 10);
			snprintf(out, outlen, "%.*s", (int)(tail_end - tail), tail);
		}
		return;
	}
}

/* major.minor from a file name: libpython3.11.so.1.0, python3.11, libpython3.6m.so */
static bool version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *b = strrchr(path, '/');
	const char *p;

	b = b ? b + 1 : path;
	p = strstr(b, "python");
	if (!p)
		return false;
	return sscanf(p + 6, "%u.%u", major, minor) == 2;
}

struct mapinfo {
	char path[256];
	uint64_t base;		/* lowest start of a mapping of path with file offset 0 */
	bool is_libpython;
	/* Executable mappings: of the executable, of libpython, of libc. */
	struct pp_range exe_text, lib_text, libc_text;
};

static void widen(struct pp_range *r, uint64_t lo, uint64_t hi)
{
	if (r->lo == r->hi || lo < r->lo)
		r->lo = lo;
	if (hi > r->hi)
		r->hi = hi;
}

/* Pick the interpreter ELF from /proc/PID/maps: libpython if mapped, else the executable. */
static int find_interp_mapping(pid_t pid, const char *exe, struct mapinfo *mi)
{
	char fn[64], line[PATH_MAX + 128];
	FILE *f;

	memset(mi, 0, sizeof(*mi));
	mi->base = UINT64_MAX;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char *path = strchr(line, '/'), perms[8];
		const char *base;
		bool lib, x;

		if (!path || sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &off) != 4)
			continue;
		path[strcspn(path, "\n")] = 0;
		base = strrchr(path, '/') + 1;
		lib = strncmp(base, "libpython", 9) == 0 && strstr(base, ".so");
		x = perms[2] == 'x';
		if (x && (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5)))
			widen(&mi->libc_text, start, end);
		if (!lib && strcmp(path, exe) != 0)
			continue;
		if (x)
			widen(lib ? &mi->lib_text : &mi->exe_text, start, end);
		if (lib && !mi->is_libpython) {
			/* libpython wins over the executable. */
			snprintf(mi->path, sizeof(mi->path), "%s", path);
			mi->is_libpython = true;
			mi->base = UINT64_MAX;
		} else if (!mi->path[0]) {
			snprintf(mi->path, sizeof(mi->path), "%s", path);
		}
		if (strcmp(path, mi->path) == 0 && off == 0 && start < mi->base)
			mi->base = start;
	}
	if (ferror(f)) {
		int err = -errno;

		fclose(f);
		return err;
	}
	fclose(f);
	return mi->path[0] ? 0 : -ENOENT;
}

static enum pyinspect_err fail(char *msg, size_t len, enum pyinspect_err e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum pyinspect_err fail(char *msg, size_t len, enum pyinspect_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return e;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char fn[64];
	FILE *f;

	snprintf(comm, len, "?");
	snprintf(fn, sizeof(fn), "/proc/%d/comm", pid);
	f = fopen(fn, "re");
	if (!f)
		return;
	if (fgets(comm, len, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

static void fill_gil_ranges(struct pyinfo *pi)
{
	const struct py_offsets *o = pi->off;
	uint64_t g = pi->gil_addr;

	pi->bpf.gil[0] = (struct pp_range){ g + o->gil_cond, g + o->gil_switch_cond };	/* cond, mutex */
	pi->bpf.gil[2] = (struct pp_range){ g + o->gil_switch_cond, g + o->gil_size };	/* switch_* */
	pi->bpf.gil_locked_addr = g + o->gil_locked;
	pi->bpf.gil_holder_addr = g + o->gil_last_holder;
}

/*
 * 3.13+: the interpreter publishes its own layout at the start of _PyRuntime
 * (_Py_DebugOffsets). Read it from the target, check the cookie and the
 * version, and let it override the compiled table: it describes this build,
 * configure options included. Values are untrusted: each must be a plausible
 * offset, or the whole block is ignored.
 */
#define DBG_FIELDS(X)                                                                              \
	X(rt_interp_head) X(interp_next) X(interp_id) X(interp_tstate_head) X(interp_gc)            \
	X(interp_ceval_gil) X(tstate_next) X(tstate_interp) X(tstate_current_frame)                 \
	X(tstate_thread_id) X(tstate_native_thread_id) X(frame_back) X(frame_code) X(frame_instr)   \
	X(frame_owner) X(code_filename) X(code_name) X(code_qualname) X(code_linetable)             \
	X(code_firstlineno) X(code_code_adaptive) X(object_type) X(type_name) X(tuple_item)         \
	X(bytes_sval) X(var_size) X(unicode_state) X(unicode_length) X(unicode_ascii_size)         \
	X(gc_collecting)

static void apply_debug_offsets(pid_t pid, struct pyinfo *pi)
{
	const struct py_offsets *o = pi->off;
	uint8_t buf[4096];
	uint64_t version = 0, v;
	struct py_offsets n;

	if (o->dbg_cookie < 0 || o->dbg_size <= 0 || o->dbg_size > (int)sizeof(buf) ||
	    tmem_read(pid, pi->runtime_addr, buf, o->dbg_size) || memcmp(buf + o->dbg_cookie, "xdebugpy", 8))
		return;
	memcpy(&version, buf + o->dbg_version, sizeof(version));
	if (((version >> 24) & 0xff) != pi->major || ((version >> 16) & 0xff) != pi->minor)
		return;
	n = *o;
#define X(f)                                                                    \
	if (o->dbg_##f >= 0) {                                                  \
		memcpy(&v, buf + o->dbg_##f, sizeof(v));                         \
		if (v >= (1u << 20))                                            \
			return; /* not an offset into any of these structs */    \
		n.f = (int)v;                                                    \
	}
	DBG_FIELDS(X)
#undef X
	/* The GC state's collecting flag is published relative to the GC state. */
	pi->offsets = n;
	pi->off = &pi->offsets;
	pi->debug_offsets = true;
}

/*
 * Where the collector clone named name receives its generation (see the
 * bpf_cookie convention in events.h). From the DWARF and disassembly of each
 * build, checked live with bpftrace on every version (tools/gc-abi.md).
 */
static uint64_t gc_abi_cookie(unsigned minor, const char *name)
{
	/* Clones with the generation folded to 2 serve PyGC_Collect and finalization. */
	if ((minor <= 8 && strcmp(name, "collect.constprop.0") == 0))
		return PP_GC_GEN_CONST + 2;
	if ((minor <= 7 && strcmp(name, "collect") == 0) || (minor == 8 && strcmp(name, "collect.constprop.1") == 0))
		return 1;	/* collect(int generation, ...) */
	if ((minor == 9 && strcmp(name, "collect") == 0) || (minor >= 10 && strcmp(name, "gc_collect_main") == 0))
		return 2;	/* (tstate, generation, ...); 3.13 passes -1 for automatic collections */
	return PP_GC_GEN_UNKNOWN;	/* resolved at return from the statistics */
}

/* The collector's statistics, "collecting" flag and functions; all optional. */
static void find_gc(pid_t pid, struct pyinfo *pi, struct elfinfo *e)
{
	const struct py_offsets *o = pi->off;
	uint64_t gc = 0, collecting_addr = 0;
	int collecting = -1;

	if (o->rt_gc >= 0) {
		gc = pi->runtime_addr + o->rt_gc;
	} else if (o->interp_gc >= 0) {
		uint64_t interp = 0;

		if (tmem_read_u64(pid, pi->runtime_addr + o->rt_interp_main, &interp) == 0 && interp)
			gc = interp + o->interp_gc;
	}
	if (gc && o->gc_stats >= 0 && o->gc_collecting >= 0) {
		pi->gc_stats_addr = gc + o->gc_stats;
		collecting_addr = gc + o->gc_collecting;
	} else if (o->runtime_size < 0 && e->found[S_GC_STATS] && e->found[S_GC_COLLECTING]) {
		/* 3.6: file-static variables of gcmodule.c */
		pi->gc_stats_addr = pi->load_bias + e->sym[S_GC_STATS].st_value;
		collecting_addr = pi->load_bias + e->sym[S_GC_COLLECTING].st_value;
	}
	pi->gc_stats_size = o->gc_stats_size > 0 ? o->gc_stats_size : 24;
	/* Untrusted memory: a flag that is not 0 or 1 means the layout is wrong. */
	if (collecting_addr && (tmem_read(pid, collecting_addr, &collecting, sizeof(collecting)) ||
				collecting < 0 || collecting > 1)) {
		pi->gc_stats_addr = 0;
		collecting_addr = 0;
	}
	pi->bpf.gc_collecting_addr = collecting_addr;
	pi->bpf.gc_stats_addr = pi->gc_stats_addr;
	pi->bpf.gc_stats_stride = pi->gc_stats_size;
	for (int i = 0; i < e->ngc && pi->ngc_funcs < (int)(sizeof(pi->gc_funcs) / sizeof(pi->gc_funcs[0])); i++) {
		struct pyinfo_gcfunc *f = &pi->gc_funcs[pi->ngc_funcs];

		if (elf_vaddr_to_offset(e, e->gc[i].value, &f->file_offset))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", e->gc[i].name);
		f->cookie = gc_abi_cookie(pi->minor, f->name);
		pi->ngc_funcs++;
	}
}

/*
 * python:gc__start / gc__done sites from the SystemTap notes: each note's
 * descriptor holds the probe address, the .stapsdt.base address the linker
 * saw (a prelinked file moved it: adjust by the difference) and the
 * semaphore's, then "provider\0name\0args\0". Untrusted file: every length
 * is checked.
 */
static void find_gc_usdt(struct elfinfo *e, struct pyinfo *pi)
{
	Elf_Data *data = e->notes ? elf_getdata(e->notes, NULL) : NULL;
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while (data && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0 &&
	       pi->ngc_usdt < (int)(sizeof(pi->gc_usdt) / sizeof(pi->gc_usdt[0]))) {
		const char *desc = (const char *)data->d_buf + desc_off, *prov, *name, *args, *end;
		struct pyinfo_usdt *u = &pi->gc_usdt[pi->ngc_usdt];
		uint64_t pc, base, sema;
		char arg[64];

		off = next;
		if (nh.n_type != 3 || nh.n_namesz != 8 || memcmp((const char *)data->d_buf + name_off, "stapsdt", 8) ||
		    nh.n_descsz < 3 * 8 + 3)
			continue;
		end = desc + nh.n_descsz;
		memcpy(&pc, desc, 8);
		memcpy(&base, desc + 8, 8);
		memcpy(&sema, desc + 16, 8);
		prov = desc + 24;
		name = memchr(prov, 0, end - prov);
		if (name)
			name++;
		args = name && name < end ? memchr(name, 0, end - name) : NULL;
		if (args)
			args++;
		if (!args || args >= end || !memchr(args, 0, end - args) || strcmp(prov, "python") ||
		    (strcmp(name, "gc__start") && strcmp(name, "gc__done")))
			continue;
		if (e->has_stapsdt_base) {
			pc += e->stapsdt_base - base;
			if (sema)
				sema += e->stapsdt_base - base;
		}
		if (usdt_arg_nth(args, 0, arg, sizeof(arg)) || usdt_arg_parse(arg, &u->cookie) ||
		    elf_vaddr_to_offset(e, pc, &u->file_offset) ||
		    (sema && elf_vaddr_to_offset(e, sema, &u->ref_ctr_offset)))
			continue;
		if (!sema)
			u->ref_ctr_offset = 0;
		u->done = !strcmp(name, "gc__done");
		pi->ngc_usdt++;
	}
}

enum pyinspect_err pyinspect(pid_t pid, struct pyinfo *pi, char *msg, size_t msglen)
{
	struct elfinfo e = { .fd = -1 };
	struct mapinfo mi;
	char fn[PATH_MAX], comm[32];
	enum pyinspect_err ret = PYI_OK;
	const struct py_offsets *o;
	ssize_t n;
	int err;

	memset(pi, 0, sizeof(*pi));
	read_comm(pid, comm, sizeof(comm));
	snprintf(fn, sizeof(fn), "/proc/%d/exe", pid);
	n = readlink(fn, pi->exe, sizeof(pi->exe) - 1);
	if (n < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return fail(msg, msglen, PYI_NO_PROCESS, "no such process: %d", pid);
		if (errno == EACCES || errno == EPERM)
			return fail(msg, msglen, PYI_PERMISSION, "permission denied reading process %d", pid);
		return fail(msg, msglen, PYI_NOT_PYTHON, "process %d (%s) has no executable (kernel thread?)",
			    pid, comm);
	}
	pi->exe[n] = 0;
	err = find_interp_mapping(pid, pi->exe, &mi);
	if (err == -EACCES || err == -EPERM)
		return fail(msg, msglen, PYI_PERMISSION, "permission denied reading the maps of process %d", pid);
	if (err == -ESRCH)
		return fail(msg, msglen, PYI_NO_PROCESS, "no such process: %d", pid);
	if (err)
		return fail(msg, msglen, PYI_NOT_PYTHON, "process %d (%s, %s) is not a CPython process: "
			    "no interpreter mapping found", pid, comm, pi->exe);
	snprintf(pi->elf_path, sizeof(pi->elf_path), "%s", mi.path);
	pi->shared = mi.is_libpython;
	pi->bpf.python_text[0] = mi.is_libpython ? mi.lib_text : mi.exe_text;
	pi->bpf.python_text[1] = mi.libc_text;

	snprintf(fn, sizeof(fn), "/proc/%d/root%s", pid, mi.path);
	err = elfinfo_open(&e, fn);
	if (err) {
		ret = fail(msg, msglen, err == -ENOEXEC ? PYI_NOT_PYTHON : PYI_INTERNAL,
			   "cannot read %s of process %d: %s", mi.path, pid, strerror(-err));
		goto out;
	}
	pi->symtab = e.symtab;
	pi->usdt = e.usdt;
	pi->pie = e.ehdr.e_type == ET_DYN;
	if (!e.found[S_RUNTIME] && !e.found[S_PY_INITIALIZE]) {
		ret = fail(msg, msglen, PYI_NOT_PYTHON, "process %d (%s, %s) is not a CPython process: "
			   "%s has no _PyRuntime or Py_Initialize symbol", pid, comm, pi->exe, mi.path);
		goto out;
	}
	if (pi->pie) {
		if (mi.base == UINT64_MAX || e.first_load_vaddr == UINT64_MAX) {
			ret = fail(msg, msglen, PYI_INTERNAL, "cannot find the load address of %s", mi.path);
			goto out;
		}
		pi->load_bias = mi.base - (e.first_load_vaddr & ~0xfffULL);
	}

	/* Version: Py_Version (3.11+), else the file name, then the version string. */
	if (e.found[S_PY_VERSION]) {
		uint64_t hex = 0;

		if (elf_read_vaddr(&e, e.sym[S_PY_VERSION].st_value, &hex, sizeof(hex)) == 0) {
			pi->major = (hex >> 24) & 0xff;
			pi->minor = (hex >> 16) & 0xff;
			pi->micro = (hex >> 8) & 0xff;
		}
	}
	if (!pi->major && !version_from_name(mi.path, &pi->major, &pi->minor) &&
	    !version_from_name(pi->exe, &pi->major, &pi->minor)) {
		ret = fail(msg, msglen, PYI_NOT_PYTHON, "process %d (%s): cannot tell the Python version of %s",
			   pid, comm, mi.path);
		goto out;
	}
	snprintf(pi->version, sizeof(pi->version), "%u.%u.%u", pi->major, pi->minor, pi->micro);
	if (!e.found[S_PY_VERSION])
		find_version_string(&e, pi->major, pi->minor, &pi->micro, pi->version, sizeof(pi->version));
	if (pi->major != 3 || !(o = py_offsets__find(pi->major, pi->minor))) {
		ret = fail(msg, msglen, PYI_UNSUPPORTED, "process %d runs CPython %s (%s), which pyprobe does not "
			   "support (supported: 3.6 to 3.13)", pid, pi->version, mi.path);
		goto out;
	}
	pi->off = o;
	snprintf(pi->build, sizeof(pi->build), "%s%s, %s, %s%s",
		 pi->shared ? "shared " : "static", pi->shared ? strrchr(mi.path, '/') + 1 : "",
		 pi->pie ? "PIE" : "non-PIE", pi->symtab ? "symbols" : "stripped", pi->usdt ? ", USDT" : "");
	pi->bpf.tstate_thread_id_off = o->tstate_thread_id;

	if (o->runtime_size < 0) {
		/* 3.6: no _PyRuntime; the GIL is a set of file-static variables. */
		static const int parts[4] = { S_GIL_COND, S_GIL_MUTEX, S_SWITCH_COND, S_SWITCH_MUTEX };

		for (int i = 0; i < 4; i++) {
			if (!e.found[parts[i]] || !e.found[S_GIL_LOCKED] || !e.found[S_GIL_LAST_HOLDER]) {
				ret = fail(msg, msglen, PYI_UNSUPPORTED, "process %d runs CPython %s from a stripped %s: "
					   "3.6 support needs its symbol table", pid, pi->version, mi.path);
				goto out;
			}
			pi->bpf.gil[i].lo = pi->load_bias + e.sym[parts[i]].st_value;
			pi->bpf.gil[i].hi = pi->bpf.gil[i].lo + e.sym[parts[i]].st_size;
		}
		pi->bpf.gil_locked_addr = pi->load_bias + e.sym[S_GIL_LOCKED].st_value;
		if (e.found[S_INTERP_HEAD])
			pi->interp_head_addr = pi->load_bias + e.sym[S_INTERP_HEAD].st_value;
		pi->bpf.gil_holder_addr = pi->load_bias + e.sym[S_GIL_LAST_HOLDER].st_value;
	} else {
		if (!e.found[S_RUNTIME] || e.sym[S_RUNTIME].st_size != (uint64_t)o->runtime_size) {
			ret = fail(msg, msglen, PYI_UNSUPPORTED, "process %d runs CPython %s but %s's _PyRuntime "
				   "is %llu bytes, not the %d pyprobe knows: unsupported build", pid, pi->version,
				   mi.path, e.found[S_RUNTIME] ? (unsigned long long)e.sym[S_RUNTIME].st_size : 0ULL,
				   o->runtime_size);
			goto out;
		}
		pi->runtime_addr = pi->load_bias + e.sym[S_RUNTIME].st_value;
		pi->runtime_size = e.sym[S_RUNTIME].st_size;
		apply_debug_offsets(pid, pi);
		o = pi->off;
		pi->gil_addr = pi->runtime_addr + o->rt_gil;
		pi->interp_head_addr = pi->runtime_addr + o->rt_interp_head;
		if (o->interp_ceval_gil >= 0) {
			/* 3.12+: follow the main interpreter's ceval.gil pointer. */
			uint64_t interp = 0, gil = 0;

			if (tmem_read_u64(pid, pi->runtime_addr + o->rt_interp_main, &interp) == 0 && interp &&
			    tmem_read_u64(pid, interp + o->interp_ceval_gil, &gil) == 0 && gil)
				pi->gil_addr = gil;
		}
		fill_gil_ranges(pi);
	}
	{
		int locked = 0;

		err = tmem_read(pid, pi->bpf.gil_locked_addr, &locked, sizeof(locked));
		if (err == -ESRCH) {
			ret = fail(msg, msglen, PYI_NO_PROCESS, "no such process: %d", pid);
			goto out;
		}
		if (err == -EPERM || err == -EACCES) {
			ret = fail(msg, msglen, PYI_PERMISSION, "permission denied reading the memory of process %d", pid);
			goto out;
		}
		if (err || locked < -1 || locked > 1) {
			ret = fail(msg, msglen, PYI_UNSUPPORTED, "process %d (CPython %s): the GIL at 0x%llx does not "
				   "look like one (locked=%d, read %s); unsupported build", pid, pi->version,
				   (unsigned long long)pi->bpf.gil_locked_addr, locked, err ? strerror(-err) : "ok");
			goto out;
		}
	}
	pi->bpf.flags = PP_TF_GIL_KNOWN;
	find_gc(pid, pi, &e);
	find_gc_usdt(&e, pi);
out:
	elfinfo_close(&e);
	return ret;
}
