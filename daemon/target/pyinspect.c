// SPDX-License-Identifier: MIT
/*
 * Target inspection: which interpreter a process runs, where its runtime state
 * and GIL live. The ELF is read through /proc/PID/root (elffile.h) so that
 * processes in other mount namespaces work; the ELF and the target's memory
 * are untrusted, so every size and offset is checked before use. pyinspect(),
 * at the end, is the list of steps.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"
#include "elffile.h"
#include "procfs.h"
#include "rules.h"
#include "pyoffsets.h"
#include "procmaps.h"
#include "pyoffsets_debug.h"
#include "tmem.h"
#include "usdtarg.h"
#include "pyinspect.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* The interpreter's symbols the steps use: the first definition of each. */
struct interp_syms {
	bool found[S_NSYMS];
	GElf_Sym sym[S_NSYMS];
	/* Local FUNC symbols named like the collector ("collect", "collect.constprop.1", ...). */
	int ngc;
	struct {
		char name[48];
		uint64_t value;
	} gc[GC_FUNC_MAX];
};

struct mapinfo {
	char path[PATH_MAX];
	struct procmap map;	/* a mapping of that file, to open it by */
	uint64_t base;		/* lowest start of a mapping of path with file offset 0 */
	bool is_libpython;
	/* Executable mappings: of the executable, of libpython, of libc. */
	struct pp_range exe_text, lib_text, libc_text;
};

/* One inspection: the target, what the steps have found so far, where a failure is told. */
struct inspect {
	pid_t pid;
	char comm[32];
	struct pyinfo *pi;
	struct mapinfo mi;
	struct elffile *ef;
	struct interp_syms syms;
	char *msg;
	size_t msglen;
};

static enum pyinspect_err fail(struct inspect *in, enum pyinspect_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum pyinspect_err fail(struct inspect *in, enum pyinspect_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->msg, in->msglen, fmt, ap);
	va_end(ap);
	return e;
}

/* The function that runs a collection: collect (3.6-3.9), gc_collect_main (3.10-3.13), and their clones. */
static bool is_collector(const char *name)
{
	static const char *const names[] = { "collect", "gc_collect_main" };

	for (size_t i = 0; i < LEN(names); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(name, names[i], n) == 0 && (name[n] == 0 || name[n] == '.'))
			return true;
	}
	return false;
}

/* From one symbol table: definitions of wanted symbols not found before, collector functions. */
static void scan_symbols(const struct elffile *ef, uint32_t type, struct interp_syms *s)
{
	const char *name;
	size_t pos = 0;
	GElf_Sym sym;

	while (elffile__next_sym(ef, type, &pos, &sym, &name) == 0) {
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && s->ngc < GC_FUNC_MAX && is_collector(name)) {
			snprintf(s->gc[s->ngc].name, sizeof(s->gc[0].name), "%s", name);
			s->gc[s->ngc++].value = sym.st_value;
		}
		for (int k = 0; k < S_NSYMS; k++) {
			if (!s->found[k] && strcmp(name, wanted[k]) == 0) {
				s->found[k] = true;
				s->sym[k] = sym;
			}
		}
	}
}

/*
 * Find the full "M.m.p" version string for a known M.m in .rodata: PY_VERSION
 * as a NUL-terminated string. Linkers merge string tails, so "3.8.18" may only
 * exist as the end of ".../Python-3.8.18": a standalone copy wins, else a tail
 * that follows a character which cannot be part of a version.
 */
static void find_version_string(const struct elffile *ef, unsigned major, unsigned minor,
				unsigned *micro, char *out, size_t outlen)
{
	char prefix[16];
	int plen = snprintf(prefix, sizeof(prefix), "%u.%u.", major, minor);
	const char *tail = NULL, *tail_end = NULL, *start, *end, *p;
	size_t size;

	start = elffile__section_bytes(ef, ".rodata", SHT_PROGBITS, &size, NULL);
	if (!start)
		return;
	end = start + size;
	for (p = start; p + plen < end; p++) {
		const char *q;
		char before = p > start ? p[-1] : 0;

		if (memcmp(p, prefix, plen) != 0 || (before >= '0' && before <= '9') || before == '.')
			continue;
		q = p + plen;
		if (*q < '0' || *q > '9')
			continue;
		while (q < end && *q && q - p < 16 &&
		       (*q == '+' || (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z')))
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
	struct procmaps pm;
	struct procmap m;
	int err;

	memset(mi, 0, sizeof(*mi));
	mi->base = UINT64_MAX;
	err = procmaps__open(&pm, pid);
	if (err)
		return err;
	while ((err = procmaps__next(&pm, &m)) == 0) {
		const char *base = strrchr(m.path, '/');
		bool lib, x;

		if (m.path[0] != '/' || !base)
			continue;
		base++;
		lib = strncmp(base, "libpython", 9) == 0 && strstr(base, ".so");
		x = m.perms[2] == 'x';
		if (x && (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5)))
			widen(&mi->libc_text, m.start, m.end);
		if (!lib && strcmp(m.path, exe) != 0)
			continue;
		if (x)
			widen(lib ? &mi->lib_text : &mi->exe_text, m.start, m.end);
		if (lib && !mi->is_libpython) {
			/* libpython wins over the executable. */
			snprintf(mi->path, sizeof(mi->path), "%s", m.path);
			mi->map = m;
			mi->is_libpython = true;
			mi->base = UINT64_MAX;
		} else if (!mi->path[0]) {
			snprintf(mi->path, sizeof(mi->path), "%s", m.path);
			mi->map = m;
		}
		if (strcmp(m.path, mi->path) == 0 && m.off == 0 && m.start < mi->base)
			mi->base = m.start;
	}
	procmaps__close(&pm);
	if (err != -ENOENT)
		return err;
	return mi->path[0] ? 0 : -ENOENT;
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

/* The steps of pyinspect(), in order. Each returns PYI_OK or fails with a message. */

/* The process's name and executable: is there a process, and may we read it. */
static enum pyinspect_err read_exe(struct inspect *in)
{
	char fn[64];
	ssize_t n;

	read_comm(in->pid, in->comm, sizeof(in->comm));
	snprintf(fn, sizeof(fn), "/proc/%d/exe", in->pid);
	n = readlink(fn, in->pi->exe, sizeof(in->pi->exe) - 1);
	if (n < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return fail(in, PYI_NO_PROCESS, "no such process: %d", in->pid);
		if (errno == EACCES || errno == EPERM)
			return fail(in, PYI_PERMISSION, "permission denied reading process %d", in->pid);
		return fail(in, PYI_NOT_PYTHON, "process %d (%s) has no executable (kernel thread?)",
			    in->pid, in->comm);
	}
	in->pi->exe[n] = 0;
	/* An executable deleted or replaced since the exec: its maps lines say so too. */
	if (n > 10 && !strcmp(in->pi->exe + n - 10, " (deleted)"))
		in->pi->exe[n - 10] = 0;
	return PYI_OK;
}

/* Where it lives: its own pid, root and cgroup, when a container put it there. */
static enum pyinspect_err read_placement(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	static struct procinfo proc;	/* 12 KiB: the daemon inspects one process at a time */

	if (procfs_ns_tid(in->pid, in->pid, &pi->ns_pid))
		pi->ns_pid = in->pid;
	pi->own_root = procfs_own_root(in->pid) == 1;
	/* The cgroup as the watch rules read it (no other kind of rule: nothing else read). */
	if (rules__procinfo(in->pid, &proc, 0) == 0) {
		cgroup_path(proc.cgroup, pi->cgroup, sizeof(pi->cgroup));
		cgroup_container_id(proc.cgroup, pi->container, sizeof(pi->container));
	}
	return PYI_OK;
}

/* The interpreter ELF in the maps (libpython, else the executable); its text and libc's. */
static enum pyinspect_err find_interp_elf(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	int err = find_interp_mapping(in->pid, pi->exe, &in->mi);

	if (err == -EACCES || err == -EPERM)
		return fail(in, PYI_PERMISSION, "permission denied reading the maps of process %d", in->pid);
	if (err == -ESRCH)
		return fail(in, PYI_NO_PROCESS, "no such process: %d", in->pid);
	if (err)
		return fail(in, PYI_NOT_PYTHON, "process %d (%s, %s) is not a CPython process: "
			    "no interpreter mapping found", in->pid, in->comm, pi->exe);
	snprintf(pi->elf_path, sizeof(pi->elf_path), "%s", in->mi.path);
	pi->shared = in->mi.is_libpython;
	pi->bpf.python_text[0] = in->mi.is_libpython ? in->mi.lib_text : in->mi.exe_text;
	pi->bpf.python_text[1] = in->mi.libc_text;
	return PYI_OK;
}

/*
 * Open that ELF as the target sees it: the mapped file itself, in whatever
 * namespace, deleted or replaced on disk since (procmaps.h). A 64-bit one.
 */
static enum pyinspect_err open_interp_elf(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	enum procmaps_via via = VIA_HOST;
	int fd, err = 0;

	fd = procmaps__open_file(in->pid, &in->mi.map, pi->elf_open, sizeof(pi->elf_open), &via);
	if (fd == -ESRCH)
		return fail(in, PYI_NO_PROCESS, "no such process: %d", in->pid);
	if (fd == -ESTALE)
		return fail(in, PYI_UNREADABLE, "process %d (%s): %s was deleted or replaced on disk "
			    "since the process mapped it, and its mapping cannot be opened "
			    "(/proc/%d/map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)",
			    in->pid, in->comm, in->mi.path, in->pid);
	if (fd < 0)
		return fail(in, PYI_UNREADABLE, "process %d (%s): cannot open %s as the process sees it "
			    "(not through /proc/%d/map_files, its root or the host): %s", in->pid,
			    in->comm, in->mi.path, in->pid, strerror(-fd));
	pi->elf_via = via;
	pi->elf_deleted = in->mi.map.deleted;
	in->ef = elffile__open_fd(fd);
	if (!in->ef)
		err = -errno;
	else if (elffile__ehdr(in->ef)->e_ident[EI_CLASS] != ELFCLASS64)
		err = -ENOEXEC;
	close(fd);
	if (err)
		return fail(in, err == -ENOEXEC ? PYI_NOT_PYTHON : PYI_INTERNAL,
			    "cannot read %s of process %d: %s", in->mi.path, in->pid, strerror(-err));
	return PYI_OK;
}

/* Its kind (PIE, symbols, USDT) and symbols: a CPython has _PyRuntime or Py_Initialize. */
static enum pyinspect_err read_interp_symbols(struct inspect *in)
{
	struct pyinfo *pi = in->pi;

	pi->symtab = elffile__nsyms(in->ef, SHT_SYMTAB) > 0;
	pi->usdt = elffile__section(in->ef, ".note.stapsdt", SHT_NOTE, NULL) != NULL;
	pi->pie = elffile__ehdr(in->ef)->e_type == ET_DYN;
	scan_symbols(in->ef, SHT_DYNSYM, &in->syms);
	scan_symbols(in->ef, SHT_SYMTAB, &in->syms);
	if (!in->syms.found[S_RUNTIME] && !in->syms.found[S_PY_INITIALIZE])
		return fail(in, PYI_NOT_PYTHON, "process %d (%s, %s) is not a CPython process: "
			    "%s has no _PyRuntime or Py_Initialize symbol", in->pid, in->comm, pi->exe,
			    in->mi.path);
	return PYI_OK;
}

/* A PIE's load bias: its mapping at file offset 0 less the page of its lowest segment. */
static enum pyinspect_err find_load_bias(struct inspect *in)
{
	uint64_t first = UINT64_MAX;
	const struct elf_segment *segs;
	size_t n;

	if (!in->pi->pie)
		return PYI_OK;
	segs = elffile__segments(in->ef, &n);
	for (size_t i = 0; i < n; i++)
		if (segs[i].vaddr < first)
			first = segs[i].vaddr;
	if (in->mi.base == UINT64_MAX || first == UINT64_MAX)
		return fail(in, PYI_INTERNAL, "cannot find the load address of %s", in->mi.path);
	in->pi->load_bias = in->mi.base - (first & ~0xfffULL);
	return PYI_OK;
}

/* The version: Py_Version (3.11+), else from the file names and then the version string. */
static enum pyinspect_err read_version(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	const struct interp_syms *s = &in->syms;
	uint64_t hex = 0;

	if (s->found[S_PY_VERSION] &&
	    elffile__read_vaddr(in->ef, s->sym[S_PY_VERSION].st_value, &hex, sizeof(hex)) == 0) {
		pi->major = (hex >> 24) & 0xff;
		pi->minor = (hex >> 16) & 0xff;
		pi->micro = (hex >> 8) & 0xff;
	}
	if (!pi->major && !version_from_name(in->mi.path, &pi->major, &pi->minor) &&
	    !version_from_name(pi->exe, &pi->major, &pi->minor))
		return fail(in, PYI_NOT_PYTHON, "process %d (%s): cannot tell the Python version of %s",
			    in->pid, in->comm, in->mi.path);
	snprintf(pi->version, sizeof(pi->version), "%u.%u.%u", pi->major, pi->minor, pi->micro);
	if (!s->found[S_PY_VERSION])
		find_version_string(in->ef, pi->major, pi->minor, &pi->micro, pi->version,
				    sizeof(pi->version));
	return PYI_OK;
}

/*
 * The compiled struct offsets of that version and build, and the build
 * summary. Builds of one minor version with different layouts are told apart
 * by the size of _PyRuntime; with no row of that size, the version's first
 * row stays and find_runtime refuses the build, saying so.
 */
static enum pyinspect_err find_offsets(struct inspect *in)
{
	const struct interp_syms *s = &in->syms;
	struct pyinfo *pi = in->pi;
	long long size = s->found[S_RUNTIME] ? (long long)s->sym[S_RUNTIME].st_size : -1;
	const struct py_offsets *o = py_offsets__find_build(pi->major, pi->minor, size);

	if (!o)
		o = py_offsets__find(pi->major, pi->minor);
	if (pi->major != 3 || !o)
		return fail(in, PYI_UNSUPPORTED, "process %d runs CPython %s (%s), which pyprobe does not "
			    "support (supported: 3.6 to 3.15)", in->pid, pi->version, in->mi.path);
	pi->off = o;
	snprintf(pi->build, sizeof(pi->build), "%s%s, %s, %s%s",
		 pi->shared ? "shared " : "static", pi->shared ? strrchr(in->mi.path, '/') + 1 : "",
		 pi->pie ? "PIE" : "non-PIE", pi->symtab ? "symbols" : "stripped", pi->usdt ? ", USDT" : "");
	pi->bpf.tstate_thread_id_off = o->tstate_thread_id;
	return PYI_OK;
}

/* 3.6 (no _PyRuntime): the GIL's parts and the interpreter list are file-static variables. */
static enum pyinspect_err find_statics_36(struct inspect *in)
{
	static const int parts[4] = { S_GIL_COND, S_GIL_MUTEX, S_SWITCH_COND, S_SWITCH_MUTEX };
	const struct interp_syms *s = &in->syms;
	struct pyinfo *pi = in->pi;

	if (pi->off->runtime_size >= 0)
		return PYI_OK;
	for (int i = 0; i < 4; i++) {
		if (!s->found[parts[i]] || !s->found[S_GIL_LOCKED] || !s->found[S_GIL_LAST_HOLDER])
			return fail(in, PYI_UNSUPPORTED, "process %d runs CPython %s from a stripped %s: "
				    "3.6 support needs its symbol table", in->pid, pi->version, in->mi.path);
		pi->bpf.gil[i].lo = pi->load_bias + s->sym[parts[i]].st_value;
		pi->bpf.gil[i].hi = pi->bpf.gil[i].lo + s->sym[parts[i]].st_size;
	}
	pi->bpf.gil_locked_addr = pi->load_bias + s->sym[S_GIL_LOCKED].st_value;
	if (s->found[S_INTERP_HEAD])
		pi->interp_head_addr = pi->load_bias + s->sym[S_INTERP_HEAD].st_value;
	pi->bpf.gil_holder_addr = pi->load_bias + s->sym[S_GIL_LAST_HOLDER].st_value;
	return PYI_OK;
}

/* 3.7+: _PyRuntime, whose size must be the one the table knows for this version. */
static enum pyinspect_err find_runtime(struct inspect *in)
{
	const struct interp_syms *s = &in->syms;
	struct pyinfo *pi = in->pi;

	if (pi->off->runtime_size < 0)
		return PYI_OK;
	if (!s->found[S_RUNTIME] || s->sym[S_RUNTIME].st_size != (uint64_t)pi->off->runtime_size) {
		char known[64];

		py_offsets__sizes(pi->major, pi->minor, known, sizeof(known));
		if (!s->found[S_RUNTIME])
			return fail(in, PYI_UNSUPPORTED, "process %d runs CPython %s but %s has no _PyRuntime "
				    "symbol: unsupported build", in->pid, pi->version, in->mi.path);
		return fail(in, PYI_UNSUPPORTED, "process %d runs CPython %s but %s's _PyRuntime "
			    "is %llu bytes, not a size pyprobe knows for %u.%u (%s): unsupported build",
			    in->pid, pi->version, in->mi.path, (unsigned long long)s->sym[S_RUNTIME].st_size,
			    pi->major, pi->minor, known);
	}
	pi->runtime_addr = pi->load_bias + s->sym[S_RUNTIME].st_value;
	pi->runtime_size = s->sym[S_RUNTIME].st_size;
	return PYI_OK;
}

/*
 * 3.13+: the interpreter publishes its own layout at the start of _PyRuntime
 * (_Py_DebugOffsets). Read it from the target, check the cookie and the
 * version, and let it override the compiled table: it describes this build,
 * configure options included. Values are untrusted: each must be a plausible
 * offset, or the whole block is ignored.
 */
static enum pyinspect_err read_debug_offsets(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	const struct py_offsets *o = pi->off;
	uint8_t buf[4096];
	uint64_t version = 0, v;
	struct py_offsets n;

	if (o->runtime_size < 0 || o->dbg_cookie < 0 || o->dbg_size <= 0 ||
	    o->dbg_size > (int)sizeof(buf) || tmem_read(in->pid, pi->runtime_addr, buf, o->dbg_size) ||
	    memcmp(buf + o->dbg_cookie, "xdebugpy", 8))
		return PYI_OK;
	memcpy(&version, buf + o->dbg_version, sizeof(version));
	if (((version >> 24) & 0xff) != pi->major || ((version >> 16) & 0xff) != pi->minor)
		return PYI_OK;
	/* free_threaded, the uint64 after the version: the table describes GIL builds only. */
	memcpy(&v, buf + o->dbg_version + 8, sizeof(v));
	if (v)
		return fail(in, PYI_UNSUPPORTED, "process %d runs a free-threaded CPython %s (%s), which pyprobe "
			    "does not support (its objects, frames and GIL differ)", in->pid, pi->version, in->mi.path);
	n = *o;
#define X(f)                                                                    \
	if (o->dbg_##f >= 0) {                                                  \
		memcpy(&v, buf + o->dbg_##f, sizeof(v));                         \
		if (v >= (1u << 20))                                            \
			return PYI_OK; /* not an offset into any of these structs */ \
		n.f = (int)v;                                                    \
	}
	PY_DEBUG_OFFSETS(X)
#undef X
	pi->offsets = n;
	pi->off = &pi->offsets;
	pi->debug_offsets = true;
	return PYI_OK;
}

/* 3.7+: the interpreter list head and the GIL in _PyRuntime (3.12+: the main interpreter's). */
static enum pyinspect_err find_runtime_gil(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	const struct py_offsets *o = pi->off;

	if (o->runtime_size < 0)
		return PYI_OK;
	pi->gil_addr = pi->runtime_addr + o->rt_gil;
	pi->interp_head_addr = pi->runtime_addr + o->rt_interp_head;
	if (o->interp_ceval_gil >= 0) {
		/* 3.12+: follow the main interpreter's ceval.gil pointer. */
		uint64_t interp = 0, gil = 0;

		if (tmem_read_u64(in->pid, pi->runtime_addr + o->rt_interp_main, &interp) == 0 && interp &&
		    tmem_read_u64(in->pid, interp + o->interp_ceval_gil, &gil) == 0 && gil)
			pi->gil_addr = gil;
	}
	fill_gil_ranges(pi);
	return PYI_OK;
}

/* The GIL's locked flag, read from the target, must look like one. */
static enum pyinspect_err check_gil(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	int locked = 0;
	int err = tmem_read(in->pid, pi->bpf.gil_locked_addr, &locked, sizeof(locked));

	if (err == -ESRCH)
		return fail(in, PYI_NO_PROCESS, "no such process: %d", in->pid);
	if (err == -EPERM || err == -EACCES)
		return fail(in, PYI_PERMISSION, "permission denied reading the memory of process %d", in->pid);
	if (err || locked < -1 || locked > 1)
		return fail(in, PYI_UNSUPPORTED, "process %d (CPython %s): the GIL at 0x%llx does not "
			    "look like one (locked=%d, read %s); unsupported build", in->pid, pi->version,
			    (unsigned long long)pi->bpf.gil_locked_addr, locked, err ? strerror(-err) : "ok");
	pi->bpf.flags = PP_TF_GIL_KNOWN;
	return PYI_OK;
}

/* The collector's statistics and "collecting" flag, if they are where the table says. */
static enum pyinspect_err find_gc_state(struct inspect *in)
{
	const struct interp_syms *s = &in->syms;
	struct pyinfo *pi = in->pi;
	const struct py_offsets *o = pi->off;
	uint64_t gc = 0, collecting_addr = 0;
	int collecting = -1;

	if (o->rt_gc >= 0) {
		gc = pi->runtime_addr + o->rt_gc;
	} else if (o->interp_gc >= 0) {
		uint64_t interp = 0;

		if (tmem_read_u64(in->pid, pi->runtime_addr + o->rt_interp_main, &interp) == 0 && interp)
			gc = interp + o->interp_gc;
	}
	if (gc && o->gc_stats >= 0 && o->gc_collecting >= 0) {
		pi->gc_stats_addr = gc + o->gc_stats;
		collecting_addr = gc + o->gc_collecting;
	} else if (o->runtime_size < 0 && s->found[S_GC_STATS] && s->found[S_GC_COLLECTING]) {
		/* 3.6: file-static variables of gcmodule.c */
		pi->gc_stats_addr = pi->load_bias + s->sym[S_GC_STATS].st_value;
		collecting_addr = pi->load_bias + s->sym[S_GC_COLLECTING].st_value;
	}
	pi->gc_stats_size = o->gc_stats_size > 0 ? o->gc_stats_size : 24;
	/* Untrusted memory: a flag that is not 0 or 1 means the layout is wrong. */
	if (collecting_addr && (tmem_read(in->pid, collecting_addr, &collecting, sizeof(collecting)) ||
				collecting < 0 || collecting > 1)) {
		pi->gc_stats_addr = 0;
		collecting_addr = 0;
	}
	pi->bpf.gc_collecting_addr = collecting_addr;
	/* 3.15's statistics sit behind a pointer: the daemon follows it, the BPF side does without. */
	pi->bpf.gc_stats_addr = o->gc_stats_ring0 >= 0 ? 0 : pi->gc_stats_addr;
	pi->bpf.gc_stats_stride = pi->gc_stats_size;
	return PYI_OK;
}

/* The collector functions' file offsets (for uprobes) and where each takes its generation. */
static enum pyinspect_err find_gc_funcs(struct inspect *in)
{
	const struct interp_syms *s = &in->syms;
	struct pyinfo *pi = in->pi;

	for (int i = 0; i < s->ngc && pi->ngc_funcs < (int)LEN(pi->gc_funcs); i++) {
		struct pyinfo_gcfunc *f = &pi->gc_funcs[pi->ngc_funcs];

		if (elffile__vaddr_to_offset(in->ef, s->gc[i].value, &f->file_offset))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", s->gc[i].name);
		f->cookie = gc_abi_cookie(pi->minor, f->name);
		pi->ngc_funcs++;
	}
	return PYI_OK;
}

/* The python:gc__start and gc__done USDT sites: file offsets, semaphores, argument locations. */
static enum pyinspect_err find_gc_usdt(struct inspect *in)
{
	struct pyinfo *pi = in->pi;
	struct elf_usdt p;
	size_t pos = 0;

	while (pi->ngc_usdt < (int)LEN(pi->gc_usdt) && elffile__next_usdt(in->ef, &pos, &p) == 0) {
		struct pyinfo_usdt *u = &pi->gc_usdt[pi->ngc_usdt];
		char arg[64];

		if (strcmp(p.provider, "python") ||
		    (strcmp(p.name, "gc__start") && strcmp(p.name, "gc__done")))
			continue;
		if (usdt_arg_nth(p.args, 0, arg, sizeof(arg)) || usdt_arg_parse(arg, &u->cookie) ||
		    elffile__vaddr_to_offset(in->ef, p.pc, &u->file_offset) ||
		    (p.semaphore &&
		     elffile__vaddr_to_offset(in->ef, p.semaphore, &u->ref_ctr_offset)))
			continue;
		if (!p.semaphore)
			u->ref_ctr_offset = 0;
		u->done = !strcmp(p.name, "gc__done");
		pi->ngc_usdt++;
	}
	return PYI_OK;
}

enum pyinspect_err pyinspect(pid_t pid, struct pyinfo *pi, char *msg, size_t msglen)
{
	static enum pyinspect_err (*const steps[])(struct inspect *) = {
		read_exe,
		read_placement,
		find_interp_elf,
		open_interp_elf,
		read_interp_symbols,
		find_load_bias,
		read_version,
		find_offsets,
		find_statics_36,
		find_runtime,
		read_debug_offsets,
		find_runtime_gil,
		check_gil,
		find_gc_state,
		find_gc_funcs,
		find_gc_usdt,
	};
	struct inspect in = { .pid = pid, .pi = pi, .msg = msg, .msglen = msglen };
	enum pyinspect_err ret = PYI_OK;

	memset(pi, 0, sizeof(*pi));
	for (size_t i = 0; i < LEN(steps) && ret == PYI_OK; i++)
		ret = steps[i](&in);
	elffile__free(in.ef);
	return ret;
}
