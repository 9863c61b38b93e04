// SPDX-License-Identifier: MIT
/*
 * Native symbolization and roles. The .eh_frame_hdr parser on hand-made
 * tables, on truncated and mangled copies of them, and on /usr/bin/python3's
 * own sections against its .dynsym sizes; then, as root, live interpreters:
 * Debian's stripped python3 (roles from type slots) and a pyenv 3.12 with a
 * shared libpython (roles from .symtab names).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "ehframe.h"
#include "elffile.h"
#include "nativesym.h"
#include "tmem.h"

/* Hand-made sections: a "zR" CIE and FDEs with the given encodings. */

#define HDR_VADDR 0x1000
#define EH_VADDR  0x2000

struct fn {
	uint64_t start, size;
};

static void put_enc(uint8_t *b, size_t *off, uint8_t enc, uint64_t v, uint64_t field_vaddr,
		    uint64_t dbase)
{
	uint32_t u32;

	if ((enc & 0x70) == 0x10)
		v -= field_vaddr;
	else if ((enc & 0x70) == 0x30)
		v -= dbase;
	switch (enc & 0x0f) {
	case 0x03:
	case 0x0b:
		u32 = (uint32_t)v;
		memcpy(b + *off, &u32, 4);
		*off += 4;
		break;
	default:
		memcpy(b + *off, &v, 8);
		*off += 8;
	}
}

/*
 * One CIE (augmentation aug, FDE encoding fde_enc) and one FDE per function,
 * the first ext_fdes of them with a 64-bit length; returns the size of eh.
 * fde_off receives each FDE's offset.
 */
static size_t build_eh(uint8_t *eh, const char *aug, uint8_t fde_enc, const struct fn *f, int nf,
		       int ext_fdes, size_t *fde_off)
{
	size_t off = 0, len_at, start;
	uint32_t u32;

	/* CIE */
	len_at = off;
	off += 4;
	start = off;
	memset(eh + off, 0, 4); /* CIE id */
	off += 4;
	eh[off++] = 1; /* version */
	memcpy(eh + off, aug, strlen(aug) + 1);
	off += strlen(aug) + 1;
	eh[off++] = 1;	  /* code alignment */
	eh[off++] = 0x78; /* data alignment -8 */
	eh[off++] = 16;	  /* return address register */
	if (aug[0] == 'z') {
		size_t alen_at = off++;

		for (const char *a = aug + 1; *a; a++) {
			if (*a == 'R') {
				eh[off++] = fde_enc;
			} else if (*a == 'P') {
				eh[off++] = 0x9b; /* indirect pcrel sdata4 personality */
				memset(eh + off, 0x11, 4);
				off += 4;
			} else if (*a == 'L') {
				eh[off++] = 0x1b;
			}
		}
		eh[alen_at] = (uint8_t)(off - alen_at - 1);
	}
	while ((off - start) % 8)
		eh[off++] = 0; /* DW_CFA_nop */
	u32 = (uint32_t)(off - start);
	memcpy(eh + len_at, &u32, 4);

	for (int i = 0; i < nf; i++) {
		bool ext = i < ext_fdes;

		fde_off[i] = off;
		len_at = off;
		off += ext ? 12 : 4;
		start = off;
		u32 = (uint32_t)(off - 0); /* back to the CIE at 0 */
		memcpy(eh + off, &u32, 4);
		off += 4;
		put_enc(eh, &off, fde_enc, f[i].start, EH_VADDR + off, 0);
		put_enc(eh, &off, fde_enc & 0x0f, f[i].size, 0, 0);
		if (aug[0] == 'z')
			eh[off++] = 0; /* augmentation data length */
		while ((off - start) % 8)
			eh[off++] = 0;
		if (ext) {
			uint64_t len = off - start;

			u32 = 0xffffffff;
			memcpy(eh + len_at, &u32, 4);
			memcpy(eh + len_at + 4, &len, 8);
		} else {
			u32 = (uint32_t)(off - start);
			memcpy(eh + len_at, &u32, 4);
		}
	}
	memset(eh + off, 0, 4); /* terminator */
	return off + 4;
}

/* The search table over the FDEs, in the given order of functions. */
static size_t build_hdr(uint8_t *hdr, uint8_t tab_enc, uint32_t count, const struct fn *f,
			const size_t *fde_off, const int *order, int nf)
{
	size_t off = 4;

	hdr[0] = 1;
	hdr[1] = 0x1b; /* eh_frame_ptr: pcrel sdata4 */
	hdr[2] = 0x03; /* fde_count: udata4 */
	hdr[3] = tab_enc;
	put_enc(hdr, &off, 0x1b, EH_VADDR, HDR_VADDR + off, 0);
	memcpy(hdr + off, &count, 4);
	off += 4;
	for (int i = 0; i < nf; i++) {
		int k = order ? order[i] : i;

		put_enc(hdr, &off, tab_enc, f[k].start, HDR_VADDR + off, HDR_VADDR);
		put_enc(hdr, &off, tab_enc, EH_VADDR + fde_off[k], HDR_VADDR + off, HDR_VADDR);
	}
	return off;
}

static const struct fn fns[] = {
	{ 0x10000, 0x100 },
	{ 0x10100, 0x80 },
	{ 0x10200, 0 },
	{ 0x10300, 0x100 },
};
#define NFNS 4

struct sections {
	uint8_t hdr[256], eh[1024];
	size_t hdr_n, eh_n;
};

static void build(struct sections *s, const char *aug, uint8_t fde_enc, uint8_t tab_enc,
		  int ext_fdes)
{
	size_t fde_off[NFNS];

	memset(s, 0, sizeof(*s));
	s->eh_n = build_eh(s->eh, aug, fde_enc, fns, NFNS, ext_fdes, fde_off);
	s->hdr_n = build_hdr(s->hdr, tab_enc, NFNS, fns, fde_off, NULL, NFNS);
}

static int range(const struct sections *s, uint64_t v, uint64_t *lo, uint64_t *hi)
{
	*lo = *hi = 0;
	return ehframe_range(s->hdr, s->hdr_n, HDR_VADDR, s->eh, s->eh_n, EH_VADDR, v, lo,
				       hi);
}

#define CHECK_RANGE(s, v, elo, ehi)                                              \
	do {                                                                     \
		uint64_t lo_, hi_;                                               \
		int rc_ = range((s), (v), &lo_, &hi_);                           \
		CHECK(rc_ == 0 && lo_ == (elo) && hi_ == (ehi),                  \
		      "at %#llx: rc %d [%#llx, %#llx), expected [%#llx, %#llx)", \
		      (unsigned long long)(v), rc_, (unsigned long long)lo_,     \
		      (unsigned long long)hi_, (unsigned long long)(elo),        \
		      (unsigned long long)(ehi));                                \
	} while (0)

#define CHECK_NONE(s, v)                                         \
	do {                                                     \
		uint64_t lo_, hi_;                               \
		CHECK_INT(range((s), (v), &lo_, &hi_), -ENOENT); \
	} while (0)

/* Whatever the input, a found range holds the address. */
static int check_invariant(const struct sections *s, uint64_t v)
{
	uint64_t lo, hi;
	int rc = range(s, v, &lo, &hi);

	if (rc == 0 && !(lo <= v && v < hi)) {
		CHECK(0, "at %#llx: [%#llx, %#llx) does not hold it", (unsigned long long)v,
		      (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	CHECK(rc == 0 || rc == -ENOENT, "rc %d", rc);
	return rc;
}

static void check_standard(const struct sections *s)
{
	CHECK_NONE(s, 0xffff);
	CHECK_RANGE(s, 0x10000, 0x10000, 0x10100);
	CHECK_RANGE(s, 0x100ff, 0x10000, 0x10100);
	CHECK_RANGE(s, 0x10100, 0x10100, 0x10180);
	CHECK_NONE(s, 0x10180); /* between functions */
	CHECK_NONE(s, 0x10200); /* zero-length FDE */
	CHECK_NONE(s, 0x102ff);
	CHECK_RANGE(s, 0x10300, 0x10300, 0x10400);
	CHECK_RANGE(s, 0x103ff, 0x10300, 0x10400);
	CHECK_NONE(s, 0x10400);
	CHECK_NONE(s, UINT64_MAX);
}

static void ehframe_handmade(void)
{
	struct sections s;

	/* GCC's usual: table datarel sdata4, FDE pcrel sdata4 */
	build(&s, "zR", 0x1b, 0x3b, 0);
	check_standard(&s);
	/* 64-bit record lengths */
	build(&s, "zR", 0x1b, 0x3b, NFNS);
	check_standard(&s);
	/* absolute udata8 table and FDEs */
	build(&s, "zR", 0x04, 0x04, 1);
	check_standard(&s);
	/* datarel udata4 table, pcrel sdata8 FDEs, a personality and LSDA before R */
	build(&s, "zPLR", 0x1c, 0x33, 0);
	check_standard(&s);
	/* udata4 absolute FDEs; no augmentation means absptr */
	build(&s, "zR", 0x03, 0x3b, 0);
	check_standard(&s);
	build(&s, "", 0x00, 0x3b, 0);
	check_standard(&s);
	/* an unknown augmentation after R: its length still says where the data ends */
	build(&s, "zRX", 0x1b, 0x3b, 0);
	check_standard(&s);
}

static void ehframe_bad_tables(void)
{
	struct sections s;
	uint64_t lo, hi;
	uint32_t u32;

	/* fde_count absurdly large: cut to the table's size */
	build(&s, "zR", 0x1b, 0x3b, 0);
	u32 = 0xffffffff;
	memcpy(s.hdr + 8, &u32, 4);
	check_standard(&s);
	/* fde_count 0 */
	u32 = 0;
	memcpy(s.hdr + 8, &u32, 4);
	CHECK_NONE(&s, 0x10000);

	/* encodings a search table cannot use, and other versions */
	build(&s, "zR", 0x1b, 0x39, 0); /* sleb128 */
	CHECK_NONE(&s, 0x10000);
	build(&s, "zR", 0x1b, 0xff, 0); /* omitted */
	CHECK_NONE(&s, 0x10000);
	build(&s, "zR", 0x1b, 0x3b, 0);
	s.hdr[3] = 0xbb; /* indirect */
	CHECK_NONE(&s, 0x10000);
	build(&s, "zR", 0x1b, 0x3b, 0);
	s.hdr[3] = 0x2b; /* textrel */
	CHECK_NONE(&s, 0x10000);
	build(&s, "zR", 0x1b, 0x3b, 0);
	s.hdr[2] = 0xff; /* no count */
	CHECK_NONE(&s, 0x10000);
	build(&s, "zR", 0x1b, 0x3b, 0);
	s.hdr[0] = 2;
	CHECK_NONE(&s, 0x10000);
	CHECK_INT(ehframe_range(NULL, 0, 0, NULL, 0, 0, 0x10000, &lo, &hi), -ENOENT);

	/* datarel FDE pointers mean nothing on these machines: fall back to the next entry */
	build(&s, "zR", 0x3b, 0x3b, 0);
	CHECK_RANGE(&s, 0x10050, 0x10000, 0x10100);

	/* no .eh_frame: the next entry's start ends a function, and the last has no end */
	build(&s, "zR", 0x1b, 0x3b, 0);
	CHECK(ehframe_range(s.hdr, s.hdr_n, HDR_VADDR, NULL, 0, EH_VADDR, 0x10050, &lo,
				      &hi) == 0 &&
		      lo == 0x10000 && hi == 0x10100,
	      "[%#llx, %#llx)", (unsigned long long)lo, (unsigned long long)hi);
	CHECK(ehframe_range(s.hdr, s.hdr_n, HDR_VADDR, NULL, 0, EH_VADDR, 0x10190, &lo,
				      &hi) == 0 &&
		      lo == 0x10100 && hi == 0x10200,
	      "[%#llx, %#llx)", (unsigned long long)lo, (unsigned long long)hi);
	CHECK_INT(ehframe_range(s.hdr, s.hdr_n, HDR_VADDR, NULL, 0, EH_VADDR, 0x10350,
					  &lo, &hi),
		  -ENOENT);
	/* the FDE's own start disagrees with the table: not trusted */
	s.hdr[12] ^= 0x40;
	CHECK_NONE(&s, 0x10040);

	/* unsorted: any answer holds the address */
	{
		static const int order[NFNS] = { 3, 1, 0, 2 };
		size_t fde_off[NFNS];

		memset(&s, 0, sizeof(s));
		s.eh_n = build_eh(s.eh, "zR", 0x1b, fns, NFNS, 0, fde_off);
		s.hdr_n = build_hdr(s.hdr, 0x3b, NFNS, fns, fde_off, order, NFNS);
		for (uint64_t v = 0xff00; v < 0x10500; v += 0x10)
			check_invariant(&s, v);
	}
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return rnd_state >> 8;
}

static void ehframe_truncated_and_mangled(void)
{
	static const uint64_t probes[] = { 0x10000, 0x10080, 0x10100, 0x10190,
					   0x10200, 0x10350, 0x0,     0x1000 };
	struct sections good, s;
	int found = 0;

	build(&good, "zPLR", 0x1b, 0x3b, 2);
	/* every prefix of either section */
	for (size_t n = 0; n <= good.hdr_n; n++) {
		s = good;
		s.hdr_n = n;
		for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++)
			found += check_invariant(&s, probes[p]) == 0;
	}
	for (size_t n = 0; n <= good.eh_n; n++) {
		s = good;
		s.eh_n = n;
		for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++)
			found += check_invariant(&s, probes[p]) == 0;
	}
	/* every byte set to a few values, then random garbage */
	for (size_t i = 0; i < good.hdr_n + good.eh_n; i++) {
		static const uint8_t vals[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, 0x1b, 0x3b };

		for (size_t k = 0; k < sizeof(vals); k++) {
			s = good;
			if (i < good.hdr_n)
				s.hdr[i] = vals[k];
			else
				s.eh[i - good.hdr_n] = vals[k];
			for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++)
				check_invariant(&s, probes[p]);
		}
	}
	for (int round = 0; round < 2000; round++) {
		s = good;
		for (int k = 0; k < 1 + round % 8; k++) {
			size_t i = rnd() % (good.hdr_n + good.eh_n);

			if (i < good.hdr_n)
				s.hdr[i] = (uint8_t)rnd();
			else
				s.eh[i - good.hdr_n] = (uint8_t)rnd();
		}
		check_invariant(&s, 0x10000 + rnd() % 0x500);
	}
	CHECK(found > 0, "no prefix found anything");
}

/* /usr/bin/python3's own tables against its .dynsym sizes, read with the daemon's ELF reader. */

struct elfsec {
	struct elffile *ef;
	const uint8_t *hdr, *eh;
	size_t hdr_n, eh_n;
	uint64_t hdr_addr, eh_addr;
};

static int elfsec_open(struct elfsec *e, const char *path)
{
	memset(e, 0, sizeof(*e));
	e->ef = elffile__open(path);
	if (!e->ef)
		return -ENOENT;
	e->hdr = elffile__section_bytes(e->ef, ".eh_frame_hdr", SHT_NULL, &e->hdr_n, &e->hdr_addr);
	e->eh = elffile__section_bytes(e->ef, ".eh_frame", SHT_NULL, &e->eh_n, &e->eh_addr);
	return e->hdr && e->eh && elffile__nsyms(e->ef, SHT_DYNSYM) ? 0 : -ENOENT;
}

static void elfsec_close(struct elfsec *e)
{
	elffile__free(e->ef);
	e->ef = NULL;
}

static int find_in(const struct elfsec *e, uint32_t type, const char *want, GElf_Sym *out)
{
	const char *name;
	size_t pos = 0;

	while (elffile__next_sym(e->ef, type, &pos, out, &name) == 0)
		if (out->st_shndx != SHN_UNDEF && !strcmp(name, want))
			return 0;
	return -ENOENT;
}

/* A defined symbol of e's .dynsym. */
static int dynsym(const struct elfsec *e, const char *want, GElf_Sym *out)
{
	return find_in(e, SHT_DYNSYM, want, out);
}

/* A defined symbol of e's .symtab, else .dynsym. */
static int anysym(const struct elfsec *e, const char *want, GElf_Sym *out)
{
	return find_in(e, SHT_SYMTAB, want, out) ? dynsym(e, want, out) : 0;
}

static int eh_lookup(const struct elfsec *e, uint64_t v, uint64_t *lo, uint64_t *hi)
{
	return ehframe_range(e->hdr, e->hdr_n, e->hdr_addr, e->eh, e->eh_n, e->eh_addr, v, lo, hi);
}

static void ehframe_python3(void)
{
	static const char *const sample[] = {
		"PyObject_GetAttr",
		"PyObject_Malloc",
		"PyObject_Free",
		"PyTuple_New",
		"PyList_New",
		"PyType_GenericAlloc",
		"PyRun_SimpleStringFlags",
		"_PyEval_EvalFrameDefault",
		"Py_Initialize",
	};
	struct elfsec e;
	size_t total = 0, same = 0, pos = 0;
	const char *name;
	uint64_t lo, hi;
	GElf_Sym s;

	if (elfsec_open(&e, "/usr/bin/python3")) {
		elfsec_close(&e);
		SKIP("/usr/bin/python3 has no .eh_frame_hdr, .eh_frame and .dynsym");
	}
	while (elffile__next_sym(e.ef, SHT_DYNSYM, &pos, &s, &name) == 0) {
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || !s.st_size)
			continue;
		total++;
		if (eh_lookup(&e, s.st_value, &lo, &hi) == 0 && lo == s.st_value &&
		    hi == s.st_value + s.st_size &&
		    eh_lookup(&e, s.st_value + s.st_size - 1, &lo, &hi) == 0 && lo == s.st_value)
			same++;
	}
	printf("# /usr/bin/python3: %zu of %zu sized .dynsym functions have exactly their FDE's "
	       "range\n",
	       same, total);
	CHECK(total > 500 && same * 100 >= total * 95, "%zu of %zu", same, total);
	for (size_t i = 0; i < sizeof(sample) / sizeof(sample[0]); i++) {
		if (dynsym(&e, sample[i], &s)) {
			printf("# %s: not in .dynsym\n", sample[i]);
			continue;
		}
		CHECK(eh_lookup(&e, s.st_value + s.st_size / 2, &lo, &hi) == 0 &&
			      lo == s.st_value && hi == s.st_value + s.st_size,
		      "%s [%#llx, +%llu): [%#llx, %#llx)", sample[i],
		      (unsigned long long)s.st_value, (unsigned long long)s.st_size,
		      (unsigned long long)lo, (unsigned long long)hi);
	}
	/* before .text, and in .rodata (after the last FDE's function) */
	CHECK_INT(eh_lookup(&e, 0x1000, &lo, &hi), -ENOENT);
	CHECK_INT(eh_lookup(&e, e.hdr_addr, &lo, &hi), -ENOENT);
	elfsec_close(&e);
}

/* Live interpreters. */

struct target {
	pid_t pid;
	int out; /* read end of its stdout */
	char interp
		[PATH_MAX]; /* as the daemon names it: libpython if mapped, else the executable */
	uint64_t bias;
	struct elfsec e;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Start python and wait for its "ready" line; 0 or -errno. Its stdout stays
 * open until reap(), so that no write of it can fail and end it early.
 */
static int spawn(const char *python, struct target *t)
{
	static const char script[] = "import sys, time; sys.stdout.write('ready\\n'); "
				     "sys.stdout.flush(); time.sleep(30)";
	int fds[2];
	char buf[16] = "";
	size_t got = 0;

	memset(t, 0, sizeof(*t));
	t->out = -1;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		execl(python, python, "-c", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	t->out = fds[0];
	while (got < 6) {
		struct pollfd pfd = { .fd = t->out, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10000) != 1 ||
		    (n = read(t->out, buf + got, sizeof(buf) - 1 - got)) <= 0)
			return -ETIMEDOUT;
		got += n;
	}
	return strncmp(buf, "ready\n", 6) ? -EPROTO : 0;
}

static void reap(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	if (t->out >= 0)
		close(t->out);
	elfsec_close(&t->e);
}

/* The interpreter mapping as pyinspect picks it (libpython wins), its load bias and ELF. */
static int find_interp(struct target *t)
{
	char fn[64], line[PATH_MAX + 128], exe[PATH_MAX], lib[PATH_MAX] = "",
							  elfpath[PATH_MAX + 64];
	uint64_t exe_base = UINT64_MAX, lib_base = UINT64_MAX, base;
	const struct elf_segment *segs;
	size_t nsegs;
	ssize_t n;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/exe", t->pid);
	n = readlink(fn, exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", t->pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char *path = strchr(line, '/');
		const char *b;

		if (!path || sscanf(line, "%llx-%llx %*s %llx", &start, &end, &off) != 3)
			continue;
		path[strcspn(path, "\n")] = 0;
		b = strrchr(path, '/') + 1;
		if (!strncmp(b, "libpython", 9) && strstr(b, ".so") &&
		    (!lib[0] || !strcmp(lib, path))) {
			snprintf(lib, sizeof(lib), "%s", path);
			if (off == 0 && start < lib_base)
				lib_base = start;
		} else if (!strcmp(path, exe) && off == 0 && start < exe_base) {
			exe_base = start;
		}
	}
	fclose(f);
	snprintf(t->interp, sizeof(t->interp), "%s", lib[0] ? lib : exe);
	base = lib[0] ? lib_base : exe_base;
	snprintf(elfpath, sizeof(elfpath), "/proc/%d/root%s", t->pid, t->interp);
	if (base == UINT64_MAX || elfsec_open(&t->e, elfpath))
		return -ENOENT;
	/* ET_EXEC: no bias; ET_DYN: the first PT_LOAD is at base */
	segs = elffile__segments(t->e.ef, &nsegs);
	t->bias = elffile__ehdr(t->e.ef)->e_type == ET_DYN && nsegs ? base - (segs[0].vaddr & ~0xfffULL) : 0;
	return 0;
}

static int sym_addr(const struct target *t, const char *name, uint64_t *addr, uint64_t *size)
{
	GElf_Sym s;

	if (anysym(&t->e, name, &s))
		return -ENOENT;
	*addr = s.st_value + t->bias;
	if (size)
		*size = s.st_size;
	return 0;
}

/* addr resolves with role erole and, unless esym is NULL, symbol esym. */
static void check_loc(struct nativesym *ns, const char *what, uint64_t addr, int erole,
		      const char *esym)
{
	struct nativeloc l;
	int rc = nativesym__lookup(ns, addr, &l);
	const char *sym = l.symbol ? l.symbol : "(null)";

	CHECK(rc == 0 && l.role == erole && (!esym || !strcmp(sym, esym)),
	      "%s at %#llx: rc %d role '%s' symbol %s, expected role '%s' symbol %s", what,
	      (unsigned long long)addr, rc, nativesym_role_name(l.role), sym,
	      nativesym_role_name(erole), esym ? esym : "(any)");
}

struct want {
	const char *sym; /* in .symtab or .dynsym */
	int role;
};

/*
 * Checks common to every interpreter; dealloc_sym is list's tp_dealloc as
 * lookup should name it; then each of want found in the ELF, if present.
 */
static void check_live(const char *label, const char *python, const char *dealloc_sym,
		       const struct want *want, int nwant)
{
	struct nativesym *ns = NULL;
	struct nativeloc l;
	struct target t;
	uint64_t a, size, dealloc = 0;
	int64_t t0;
	int err;

	err = spawn(python, &t);
	if (!err)
		err = find_interp(&t);
	CHECK(err == 0, "%s: starting %s: %s", label, python, strerror(-err));
	if (err)
		goto out;
	ns = nativesym__new(t.pid, t.interp);
	CHECK(ns != NULL, "%s: nativesym__new", label);
	if (!ns)
		goto out;

	/* list's tp_dealloc, read from the target as the resolver does */
	CHECK(sym_addr(&t, "PyList_Type", &a, NULL) == 0 &&
		      tmem_read_u64(t.pid, a + 48, &dealloc) == 0 && dealloc,
	      "%s: PyList_Type.tp_dealloc", label);
	t0 = now_ns();
	err = nativesym__lookup(ns, dealloc, &l);
	printf("# %s (%s): first lookup %.1f ms\n", label, t.interp, (now_ns() - t0) / 1e6);
	CHECK_INT(err, 0);
	CHECK_STR(l.kind ? l.kind : "(null)", "interpreter");
	check_loc(ns, "list.tp_dealloc", dealloc, NR_FREE, dealloc_sym);
	check_loc(ns, "list.tp_dealloc+1", dealloc + 1, NR_FREE, dealloc_sym);

	if (sym_addr(&t, "PyObject_GetAttr", &a, NULL) == 0)
		check_loc(ns, label, a + 1, NR_ATTR, "PyObject_GetAttr");
	else
		CHECK(0, "%s: no PyObject_GetAttr", label);
	if (sym_addr(&t, "PyObject_Malloc", &a, &size) == 0 && size > 1)
		check_loc(ns, label, a + 1, NR_ALLOC, "PyObject_Malloc");
	if (sym_addr(&t, "PyObject_Free", &a, &size) == 0 && size > 1)
		check_loc(ns, label, a + 1, NR_FREE, "PyObject_Free");
	if (sym_addr(&t, "_PyEval_EvalFrameDefault", &a, &size) == 0 && size > 64)
		check_loc(ns, label, a + size / 2, NR_NONE, "_PyEval_EvalFrameDefault");
	if (sym_addr(&t, "PyRun_SimpleStringFlags", &a, &size) == 0 && size > 1)
		check_loc(ns, label, a + 1, NR_NONE, "PyRun_SimpleStringFlags");
	/* the tuple type's slots too: found by name or by slot, never unknown */
	if (sym_addr(&t, "PyTuple_Type", &a, NULL) == 0 && tmem_read_u64(t.pid, a + 48, &a) == 0)
		check_loc(ns, "tuple.tp_dealloc", a, NR_FREE, NULL);
	if (sym_addr(&t, "PyModule_Type", &a, NULL) == 0 && tmem_read_u64(t.pid, a + 144, &a) == 0)
		check_loc(ns, "module.tp_getattro", a, NR_ATTR, NULL);
	for (int i = 0; i < nwant; i++) {
		if (sym_addr(&t, want[i].sym, &a, &size) || size < 2) {
			printf("# %s: no %s\n", label, want[i].sym);
			continue;
		}
		check_loc(ns, want[i].sym, a + 1, want[i].role, want[i].sym);
	}

	/* the process gone before the first lookup: object and kind, no symbol, no role */
	nativesym__free(ns);
	ns = nativesym__new(t.pid, t.interp);
	kill(t.pid, SIGKILL);
	waitpid(t.pid, NULL, 0);
	t.pid = 0;
	CHECK(ns != NULL, "%s: nativesym__new", label);
	if (ns) {
		CHECK_INT(nativesym__lookup(ns, dealloc, &l), 0);
		CHECK_STR(l.kind ? l.kind : "(null)", "interpreter");
		CHECK(l.symbol == NULL && l.role == NR_NONE, "%s: symbol %s role %d", label,
		      l.symbol ? l.symbol : "(null)", l.role);
	}
out:
	nativesym__free(ns);
	reap(&t);
}

static void live_debian_python3(void)
{
	static const struct want debian[] = {
		{ "PyObject_GC_Track", NR_GC_LINK }, { "_Py_Dealloc", NR_FREE },
		{ "PyType_GenericAlloc", NR_ALLOC }, { "_PyType_Lookup", NR_ATTR },
		{ "PyObject_GC_Del", NR_FREE },	     { "PyDict_GetItem", NR_NONE },
	};
	if (geteuid() != 0) {
		SKIP("needs root to read another process");
	}
	if (access("/usr/bin/python3", X_OK)) {
		SKIP("no /usr/bin/python3");
	}
	/* a stripped interpreter has no list_dealloc symbol: the slot names it */
	{
		struct elfsec e;
		GElf_Sym s;
		bool has = elfsec_open(&e, "/usr/bin/python3") == 0 &&
			   dynsym(&e, "list_dealloc", &s) == 0;

		elfsec_close(&e);
		check_live("python3", "/usr/bin/python3", has ? "list_dealloc" : "list.tp_dealloc",
			   debian, sizeof(debian) / sizeof(debian[0]));
	}
}

static void live_pyenv_312(void)
{
	/* static functions, by name: the "dealloc" rule and the table */
	static const struct want pyenv[] = {
		{ "subtype_dealloc", NR_FREE },	   { "free_keys_object", NR_FREE },
		{ "allocate_from_new_pool", NR_ALLOC }, { "_PyObject_GC_Link", NR_GC_LINK },
		{ "_PyDict_LoadGlobal", NR_ATTR },	   { "find_name_in_mro", NR_ATTR },
		{ "gc_collect_main", NR_NONE },	   { "_PyEval_EvalFrameDefault", NR_NONE },
	};
	const char *root = getenv("PYENV_ROOT");
	char pat[PATH_MAX];
	glob_t g;

	if (geteuid() != 0) {
		SKIP("needs root to read another process");
	}
	if (root)
		snprintf(pat, sizeof(pat), "%s/versions/3.12.*/bin/python3", root);
	else
		snprintf(pat, sizeof(pat), "%s/.pyenv/versions/3.12.*/bin/python3",
			 getenv("HOME") ? getenv("HOME") : "");
	if (glob(pat, 0, NULL, &g) || !g.gl_pathc) {
		SKIP("no %.200s", pat);
	}
	check_live("pyenv 3.12", g.gl_pathv[0], "list_dealloc", pyenv,
		   sizeof(pyenv) / sizeof(pyenv[0]));
	globfree(&g);
}

/*
 * Hostile objects, as this process's own executable mappings named as the
 * interpreter (so that the type-slot pass runs too): garbage, an ELF cut
 * after its program headers, and a copy of /usr/bin/python3 whose type
 * objects are not where its symbols say.
 */
static int map_copy(const char *path, const uint8_t *data, size_t n, size_t off, void **addr)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = 0;

	*addr = MAP_FAILED;
	if (fd < 0)
		return -errno;
	if (write(fd, data, n) != (ssize_t)n) {
		err = -EIO;
		goto out;
	}
	*addr = mmap(NULL, 65536, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, off);
	if (*addr == MAP_FAILED)
		err = -errno;
out:
	close(fd);
	return err;
}

static void hostile_objects(void)
{
	static uint8_t garbage[65536];
	char path[] = "/tmp/test_nativesym.XXXXXX";
	uint8_t *exe = NULL;
	size_t exe_n = 0;
	int tmp = mkstemp(path);
	FILE *f;

	CHECK(tmp >= 0, "mkstemp: %s", strerror(errno));
	if (tmp < 0)
		return;
	close(tmp);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 7 + (i >> 8));
	f = fopen("/usr/bin/python3", "re");
	if (f) {
		exe = malloc(16 << 20);
		exe_n = exe ? fread(exe, 1, 16 << 20, f) : 0;
		fclose(f);
	}
	for (int k = 0; k < 3; k++) {
		const uint8_t *data = k == 0 ? garbage : exe;
		size_t n = k == 0 ? sizeof(garbage) : k == 1 ? 4096 : exe_n;
		size_t off = k == 2 ? 0x1f000 : 0;
		struct nativesym *ns;
		struct nativeloc l;
		void *addr;

		if (k > 0 && exe_n < (1 << 20))
			break;	/* no python3 to copy */
		if (k == 1)
			memcpy(garbage, exe, 4096);	/* header and program headers only */
		if (map_copy(path, k == 1 ? garbage : data, n, off, &addr)) {
			printf("# skip hostile_objects %d: cannot map an executable copy\n", k);
			continue;
		}
		ns = nativesym__new(getpid(), path);
		CHECK(ns != NULL, "nativesym__new");
		if (ns) {
			CHECK_INT(nativesym__lookup(ns, (uint64_t)(uintptr_t)addr + 0x100, &l), 0);
			CHECK_STR(l.kind ? l.kind : "(null)", "interpreter");
			CHECK(l.role >= NR_NONE && l.role < NR_NROLES, "role %d", l.role);
			if (k < 2)
				CHECK(l.symbol == NULL, "symbol %s", l.symbol);
		}
		nativesym__free(ns);
		munmap(addr, 65536);
	}
	unlink(path);
	free(exe);
}

static void live_gone_process(void)
{
	struct nativesym *ns = nativesym__new(999999999, "/nonexistent");
	struct nativeloc l;

	/* no maps: everything unknown, nothing crashes */
	CHECK(ns != NULL, "nativesym__new");
	if (ns)
		CHECK_INT(nativesym__lookup(ns, 0x401000, &l), -ENOENT);
	nativesym__free(ns);
	nativesym__free(NULL);
	CHECK_STR(nativesym_role_name(NR_NONE), "");
	CHECK_STR(nativesym_role_name(NR_ALLOC), "alloc");
	CHECK_STR(nativesym_role_name(NR_FREE), "free");
	CHECK_STR(nativesym_role_name(NR_GC_LINK), "gc-link");
	CHECK_STR(nativesym_role_name(NR_ATTR), "attr");
	CHECK_STR(nativesym_role_name(-1), "");
	CHECK_STR(nativesym_role_name(NR_NROLES), "");
}

int main(void)
{
	RUN(ehframe_handmade);
	RUN(ehframe_bad_tables);
	RUN(ehframe_truncated_and_mangled);
	RUN(ehframe_python3);
	RUN(live_gone_process);
	RUN(hostile_objects);
	RUN(live_debian_python3);
	RUN(live_pyenv_312);
	printf("1..%d\n", unit_tests_run);
	return UNIT_EXIT();
}
