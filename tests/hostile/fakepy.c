// SPDX-License-Identifier: MIT
/*
 * A fake CPython that lies to pyprobed. It maps a fake libpython3.N.so.1.0
 * (fakelib.c) that has everything the daemon keys on, fills the interpreter
 * structures the daemon and the BPF sampler walk with hostile contents, burns
 * CPU in two threads (so the sampler and the stack walks run), starts and ends
 * short-lived threads, and calls the "collector" (so the GC uprobes fire).
 * Offsets come from the daemon's own table (daemon/target/pyoffsets_table.h), and the
 * _Py_DebugOffsets fields from its own list (pyoffsets_debug.h): the lies sit exactly
 * where the daemon looks.
 *
 *   fakepy [-m MINOR] [-t SECONDS] MODE [SEED]
 *   fakepy runtime-size MINOR      (sizeof(_PyRuntimeState) for the Makefile)
 *
 * MODE:
 *   garbage     thread states and frames the sampler can find, but code objects,
 *               strings, bytes, line tables, instruction pointers and GC counters
 *               that are garbage: unmapped and kernel pointers, pointers into a
 *               PROT_NONE page, lengths of INT64_MAX and -1, absurd str kinds,
 *               64 KiB line tables, INT_MAX first lines; 300-frame stacks; 6000
 *               distinct functions rotating through the frames.
 *   cyclic      interpreter and thread-state lists that loop, frame chains that
 *               loop (length 3) or point at themselves, objects that point at
 *               themselves or at each other (a code object as its own file name).
 *   random      a plausible skeleton whose every word a mutator thread keeps
 *               rewriting with random values (pointers into the arena, small
 *               ints, thread identities, garbage) while the daemon reads it; the
 *               skeleton is healed every 200 ms so walks restart. SEED: default 1.
 *   version313  a 3.13 _PyRuntime whose _Py_DebugOffsets change every 250 ms:
 *               wild offsets (< 1 MiB, accepted), one out of range (rejected),
 *               all zero, the real ones, a wrong version; the structures are
 *               planted at the wild offsets over a soup of random words.
 *
 * -F: 3.13+ publish free_threaded = 1 in their _Py_DebugOffsets (pyprobe must refuse).
 *
 * Prints "ready PID" when the structures are in place; exits after SECONDS
 * (default 600) in case the test that started it does not stop it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "pyoffsets.h"
#include "pyoffsets_debug.h"

#define ARENA_SIZE (32u << 20)
#define NBURN 2
#define NDISTINCT 30000
#define MAX_TABLE 65536
#define P(x) ((uint64_t)(uintptr_t)(x))

/* Addresses no read can succeed at. */
#define UNMAPPED 0x10ULL
#define KERNEL 0xffffffff81000000ULL
#define NONCANON 0xdead000000000000ULL
#define TOP_OF_USER 0x7ffffffff000ULL

enum mode { M_GARBAGE, M_CYCLIC, M_RANDOM, M_V313 };

static enum mode mode;
static unsigned minor = 12;
static int free_threaded;	/* -F: 3.13+ say they are a free-threaded build */
static const struct py_offsets *o;
static uint8_t *rt;		/* _PyRuntime (3.7+) */
static uint8_t *arena, *guard, *guard2;	/* PROT_NONE pages: after the arena, 8 KiB before its end */
static size_t used;
static long (*collect_fn)(void *, long, long);
static uint64_t (*burn_fn)(uint64_t, long);
/* 3.6's separate variables */
static int *gil_locked_36;
static uint64_t *gil_holder_36, *interp_head_36, *gc_stats_36;
static int *collecting_36;

struct thr {
	pthread_t self;
	pid_t tid;
	uint8_t *ts;
};
static struct thr thr[NBURN + 1];	/* [0]: main thread */
static atomic_int started;

static uint8_t *interp0, *interp1, *gc_state;
static uint8_t *type_code, *type_other;
static uint8_t *codes[64];
static int ncodes;
static uint8_t *distinct[NDISTINCT];
static uint8_t *bigtable;
static uint8_t *frames2[64];	/* burner 2's frames in garbage mode (code rotated) */
static uint8_t *morph;		/* a code object rewritten in place */
static uint8_t *soup_lo, *soup_hi;
static uint8_t *mut_lo;		/* random mode: everything from here to used is fair game */
static pthread_mutex_t heal_lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *what)
{
	fprintf(stderr, "fakepy: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void w64(void *base, int off, uint64_t v)
{
	if (base && off >= 0)
		memcpy((uint8_t *)base + off, &v, 8);
}

static void w32(void *base, int off, uint32_t v)
{
	if (base && off >= 0)
		memcpy((uint8_t *)base + off, &v, 4);
}

static void w8(void *base, int off, uint8_t v)
{
	if (base && off >= 0)
		((uint8_t *)base)[off] = v;
}

static uint8_t *alloc(size_t n)
{
	uint8_t *p;

	n = (n + 63) & ~(size_t)63;
	if (used + n > ARENA_SIZE - 65536)	/* the last 64 KiB: objects placed against the guard page */
		die("arena full");
	p = arena + used;
	used += n;
	memset(p, 0, n);
	return p;
}

/* n bytes that end exactly at a PROT_NONE page (slot 0 or 1). */
static uint8_t *at_edge(size_t n, int slot)
{
	return (slot ? guard2 : guard) - n;
}

/* Offset of a str's data: compact ASCII or compact non-ASCII. */
static int str_data(uint32_t state)
{
	return (state & 0x40) ? o->unicode_ascii_size : o->unicode_compact_size;
}

#define ASCII (0x20 | 0x40 | (1 << 2))

static uint8_t *str_at(uint8_t *s, uint32_t state, int64_t len, const void *data, size_t n)
{
	w64(s, o->object_type, P(type_other));
	w32(s, o->unicode_state, state);
	w64(s, o->unicode_length, len);
	memcpy(s + str_data(state), data, n);
	return s;
}

static uint8_t *mkstr_raw(uint32_t state, int64_t len, const void *data, size_t n)
{
	return str_at(alloc(str_data(state) + n + 8), state, len, data, n);
}

static uint8_t *mkstr(const char *s)
{
	return mkstr_raw(ASCII, (int64_t)strlen(s), s, strlen(s) + 1);
}

static uint8_t *mkbytes(int64_t size, const void *data, size_t n)
{
	uint8_t *b = alloc(o->bytes_sval + n + 8);

	w64(b, o->var_size, (uint64_t)size);
	if (n)
		memcpy(b + o->bytes_sval, data, n);
	return b;
}

static uint8_t *code_at(uint8_t *c, uint64_t type, uint64_t file, uint64_t name, int32_t first, uint64_t table)
{
	w64(c, o->object_type, type);
	w64(c, o->code_filename, file);
	w64(c, o->code_name, name);
	w64(c, o->code_qualname, name);
	w32(c, o->code_firstlineno, (uint32_t)first);
	w64(c, o->code_linetable, table);
	return c;
}

static uint8_t *mkcode(uint64_t type, uint64_t file, uint64_t name, int32_t first, uint64_t table)
{
	int size = o->code_size > 0 ? o->code_size : 256;

	return code_at(alloc(size + 64), type, file, name, first, table);
}

/* A small line table in this version's format: two lines, first+1 and first+2. */
static uint8_t *fine_table(void)
{
	static const uint8_t lnotab[] = { 2, 1, 2, 1 }, lt310[] = { 4, 1, 4, 1 },
			     loc[] = { 0x80 | (13 << 3) | 1, 2, 0x80 | (13 << 3) | 1, 2 };

	if (minor <= 9)
		return mkbytes(4, lnotab, 4);
	if (minor == 10)
		return mkbytes(4, lt310, 4);
	return mkbytes(4, loc, 4);
}

/* A frame's instruction: f_lasti (<= 3.10) or a pointer (3.11+); fine or hostile. */
static uint64_t instr_for(uint8_t *code, int k)
{
	static const uint64_t wild[] = { 0, ~0ULL, 1ULL << 63, INT64_MAX, KERNEL, 1ULL << 62 };

	if (k % 3 == 0)
		return o->frame_instr >= 0 ? P(code) + o->code_code_adaptive + 2 : 2;
	if (o->frame_instr < 0) {
		static const int32_t lasti[] = { -1, INT32_MIN, INT32_MAX, 1 << 30 };

		return (uint64_t)(int64_t)lasti[k % 4];
	}
	return wild[k % 6];
}

static uint8_t *mkframe(uint64_t code, uint64_t instr, uint64_t back)
{
	uint8_t *f = alloc(o->frame_size > 0 ? o->frame_size + 64 : 512);

	w64(f, o->frame_code, code);
	w64(f, o->frame_back, back);
	if (o->frame_instr >= 0)
		w64(f, o->frame_instr, instr);
	else
		w32(f, o->frame_lasti, (uint32_t)instr);
	w8(f, o->frame_owner, 0);
	return f;
}

static void set_top_frame(uint8_t *ts, uint64_t frame)
{
	if (o->tstate_current_frame >= 0) {
		w64(ts, o->tstate_current_frame, frame);
	} else if (o->tstate_cframe >= 0) {
		uint8_t *cf = alloc(64);

		w64(cf, o->cframe_current_frame, frame);
		w64(ts, o->tstate_cframe, P(cf));
	} else {
		w64(ts, o->tstate_frame, frame);
	}
}

static uint8_t *mktstate(struct thr *t, uint8_t *interp)
{
	uint8_t *ts = alloc(4096);

	w64(ts, o->tstate_thread_id, (uint64_t)t->self);
	w64(ts, o->tstate_native_thread_id, (uint64_t)t->tid);
	w64(ts, o->tstate_interp, P(interp));
	t->ts = ts;
	return ts;
}

/* Where the daemon looks for the GIL's locked flag and holder, the interpreter list and the GC state. */
static int *gil_locked(void)
{
	return minor == 6 ? gil_locked_36 : (int *)(rt + o->rt_gil + o->gil_locked);
}

static uint64_t *gil_holder(void)
{
	return minor == 6 ? gil_holder_36 : (uint64_t *)(rt + o->rt_gil + o->gil_last_holder);
}

static void set_interp_head(uint8_t *interp)
{
	if (minor == 6) {
		*interp_head_36 = P(interp);
		return;
	}
	w64(rt, o->rt_interp_head, P(interp));
	w64(rt, o->rt_interp_main, P(interp));
	w64(interp, o->interp_ceval_gil, P(rt + o->rt_gil));	/* 3.12+ */
}

static int64_t *gc_stats(void)
{
	if (minor == 6)
		return (int64_t *)gc_stats_36;
	return (int64_t *)(gc_state + o->gc_stats);
}

static int *gc_collecting(void)
{
	return minor == 6 ? collecting_36 : (int *)(gc_state + o->gc_collecting);
}

/* 3.13+: a valid _Py_DebugOffsets (the table's own values) unless a mode says otherwise. */
static void write_debug_offsets(const struct py_offsets *v, uint64_t version)
{
	if (o->dbg_cookie < 0)
		return;
	memcpy(rt + o->dbg_cookie, "xdebugpy", 8);
	w64(rt, o->dbg_version, version);
	w64(rt, o->dbg_version + 8, free_threaded);	/* _Py_DebugOffsets.free_threaded */
#define X(f) w64(rt, o->dbg_##f, (uint64_t)(int64_t)v->f);
	PY_DEBUG_OFFSETS(X)
#undef X
}

/* Types: one named "code" (3.13 checks f_executable's type), one not. */
static void make_types(void)
{
	uint8_t *code_name = alloc(16), *str_name = alloc(16);

	memcpy(code_name, "code", 5);
	memcpy(str_name, "str", 4);
	type_code = alloc(512);
	type_other = alloc(512);
	w64(type_code, o->type_name, P(code_name));
	w64(type_other, o->type_name, P(str_name));
}

/* The common skeleton: interpreter, a thread state per thread, GIL, GC state. */
static void build_base(void)
{
	make_types();
	interp0 = alloc(16384);
	interp1 = alloc(16384);
	w64(interp0, o->interp_id, 0);
	w64(interp1, o->interp_id, 1);
	set_interp_head(interp0);
	if (minor >= 7)
		gc_state = o->rt_gc >= 0 ? rt + o->rt_gc : interp0 + o->interp_gc;
	*gc_collecting() = 0;
	*gil_locked() = 0;
	for (int i = 0; i <= NBURN; i++)
		mktstate(&thr[i], interp0);
	if (minor >= 13)
		write_debug_offsets(o, 0x030000f0 | (uint64_t)minor << 16);
}

/* A value from the soup: mostly pointers into the arena, then small numbers, identities, garbage. */
static uint64_t soup_value(uint64_t *rs)
{
	uint64_t r = rng_next(rs), pick = r % 100, x = rng_next(rs);

	if (pick < 35)
		return P(arena) + (x % (used ? used : 4096) & ~7ULL);
	if (pick < 45)
		return P(arena) + x % (used ? used : 4096);
	if (pick < 65)
		return x & 1;
	if (pick < 75)
		return x % 1000;
	if (pick < 83)
		return (uint64_t)thr[x % (NBURN + 1)].self;
	if (pick < 88)
		return x & 1 ? P(type_code) : P(codes[x % (ncodes ? ncodes : 1)]);
	if (pick < 93) {
		static const uint64_t edge[] = { INT64_MAX, ~0ULL, 1ULL << 63, (uint64_t)INT32_MIN, KERNEL,
						 NONCANON, TOP_OF_USER };

		return edge[x % 7];
	}
	return x;
}

static void fill_soup(uint8_t *lo, uint8_t *hi, uint64_t *rs)
{
	for (uint8_t *p = lo; p + 8 <= hi; p += 8)
		w64(p, 0, soup_value(rs));
}

/* The hostile code objects of garbage mode, each wrong in its own way. */
static void make_hostile_codes(void)
{
	uint8_t *file = mkstr("hostile/garbage.py"), *name = mkstr("fine"), *table = fine_table();
	static const uint32_t wide[] = { 0x41, 0xffffffff, 0xd800, 0, 0x10ffff, 0x110000, 0x80000000 };
	static const uint16_t ucs2[] = { 0x263a, 0xd800, 0xdfff, 0, 0xffff };
	uint8_t varints[256], junk[MAX_TABLE];
	uint64_t rs = 42;
	uint8_t *edge_str, *edge_code;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rng_next(&rs);
	memset(varints, 0xff, sizeof(varints));	/* 3.11+ entries whose varints never end */
	bigtable = mkbytes(MAX_TABLE, junk, MAX_TABLE);
	/* A str whose 512 characters run into a PROT_NONE page; a code object cut short by one. */
	edge_str = str_at(at_edge(str_data(ASCII) + 100, 0), ASCII, 512, "edge", 5);
	edge_code = at_edge(64, 1);
	w64(edge_code, o->object_type, P(type_code));

#define ADD(c) (codes[ncodes++] = (c))
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(table)));	/* fine */
	ADD(mkcode(P(type_code), P(mkstr_raw(ASCII, INT64_MAX, "long", 5)), P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(mkstr_raw(ASCII, -1, "neg", 4)), P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(file), P(mkstr_raw(0x40 | (1 << 2), 4, "nocompact", 10)), 1, P(table)));
	ADD(mkcode(P(type_code), P(file), P(mkstr_raw(0x20 | (3 << 2), 4, "kind3", 6)), 1, P(table)));
	ADD(mkcode(P(type_code), P(file), P(mkstr_raw(0x20 | (7 << 2) | 0x40, 4, "kind7", 6)), 1, P(table)));
	ADD(mkcode(P(type_code), P(mkstr_raw(0x20 | (4 << 2), 7, wide, sizeof(wide))), P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(mkstr_raw(0x20 | (2 << 2), 5, ucs2, sizeof(ucs2))), P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(mkstr_raw(0x20 | (4 << 2), INT64_MAX / 2, wide, sizeof(wide))), P(name), 1,
		   P(table)));
	ADD(mkcode(P(type_code), P(edge_str), P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(mkbytes(-1, NULL, 0))));
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(mkbytes(MAX_TABLE + 1, NULL, 0))));
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(mkbytes(INT64_MAX, NULL, 0))));
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(bigtable)));
	ADD(mkcode(P(type_code), P(file), P(name), 1, UNMAPPED));
	ADD(mkcode(P(type_code), P(file), P(name), 1, P(guard)));
	ADD(mkcode(P(type_code), P(file), P(name), INT32_MAX, P(bigtable)));
	ADD(mkcode(P(type_code), P(file), P(name), INT32_MIN, P(bigtable)));
	ADD(mkcode(P(type_code), P(file), P(name), -1, P(mkbytes(sizeof(varints), varints, sizeof(varints)))));
	ADD(mkcode(P(type_code), 0, P(name), 1, P(table)));
	ADD(mkcode(P(type_code), KERNEL, P(name), 1, P(table)));
	ADD(mkcode(P(type_code), P(file), NONCANON, 1, P(table)));
	ADD(mkcode(UNMAPPED, P(file), P(name), 1, P(table)));
	ADD(mkcode(P(type_other), P(file), P(name), 1, P(table)));
	ADD(edge_code);
	morph = ADD(mkcode(P(type_code), P(file), P(name), 7, P(table)));
	/* Not code objects at all. */
	ADD((uint8_t *)(uintptr_t)0);
	ADD((uint8_t *)(uintptr_t)KERNEL);
	ADD((uint8_t *)(uintptr_t)NONCANON);
	ADD(guard);
	ADD(codes[0] + 3);
	ADD(file);
#undef ADD
	/*
	 * Thousands of distinct functions with 64 KiB line tables, the same first
	 * line and names that differ only after 500 characters: the resolver's
	 * cache and the profile's function and line tables.
	 */
	for (int i = 0; i < NDISTINCT; i++) {
		char nm[512];

		memset(nm, 'f', 500);
		snprintf(nm + 500, sizeof(nm) - 500, "%d", i);
		distinct[i] = mkcode(P(type_code), P(file), P(mkstr(nm)), 1, P(bigtable));
	}
}

static void build_garbage(void)
{
	uint8_t *bogus, *f = NULL;

	make_hostile_codes();
	bogus = alloc(4096);
	w64(bogus, o->tstate_thread_id, 0);
	set_top_frame(bogus, UNMAPPED);
	w64(bogus, o->tstate_next, UNMAPPED);
	w64(interp0, o->interp_tstate_head, P(thr[0].ts));
	w64(thr[0].ts, o->tstate_next, P(thr[1].ts));
	w64(thr[1].ts, o->tstate_next, P(thr[2].ts));
	w64(thr[2].ts, o->tstate_next, P(bogus));
	w64(interp0, o->interp_next, P(guard));
	set_top_frame(thr[0].ts, P(guard));
	/* Burner 1: 300 frames, every hostile code object and instruction in turn. */
	for (int i = 0; i < 300; i++) {
		uint8_t *c = codes[i % ncodes];

		f = mkframe(P(c), instr_for(c, i), P(f ? f : (uint8_t *)(uintptr_t)UNMAPPED));
	}
	set_top_frame(thr[1].ts, P(f));
	/* Burner 2: 64 frames whose code objects the churn thread keeps replacing. */
	f = NULL;
	for (int i = 0; i < 64; i++) {
		frames2[i] = mkframe(P(distinct[i]), instr_for(distinct[i], i), P(f));
		f = frames2[i];
	}
	set_top_frame(thr[2].ts, P(f));
	*gil_holder() = UNMAPPED;
	gc_stats()[0] = INT64_MAX - 1000;
}

static void build_cyclic(void)
{
	uint8_t *file = mkstr("hostile/cyclic.py"), *table = fine_table();
	uint8_t *ca = mkcode(P(type_code), P(file), P(mkstr("cycle_a")), 10, P(table));
	uint8_t *cb = mkcode(P(type_code), P(file), P(mkstr("cycle_b")), 20, P(table));
	uint8_t *cc = mkcode(P(type_code), P(file), P(mkstr("cycle_c")), 30, P(table));
	uint8_t *cs = mkcode(P(type_code), P(file), P(mkstr("selfloop")), 40, P(table));
	uint8_t *f1, *f2, *f3, *fs, *self_code, *t4, *t5, *t6;

	codes[ncodes++] = ca;
	/* A code object that is its own file name, name and line table; a type that names itself. */
	self_code = alloc(1024);
	code_at(self_code, P(self_code), P(self_code), P(self_code), 5, P(self_code));
	w64(type_other, o->type_name, P(type_other));
	/* Interpreters: A -> B -> A. Threads in A: main -> b1 -> b2 -> main. */
	w64(interp0, o->interp_next, P(interp1));
	w64(interp1, o->interp_next, P(interp0));
	w64(interp0, o->interp_tstate_head, P(thr[1].ts));
	w64(thr[1].ts, o->tstate_next, P(thr[2].ts));
	w64(thr[2].ts, o->tstate_next, P(thr[0].ts));
	w64(thr[0].ts, o->tstate_next, P(thr[1].ts));
	/* In B: two states pointing at each other and one at itself, none of them ours. */
	t4 = alloc(4096);
	t5 = alloc(4096);
	t6 = alloc(4096);
	w64(t4, o->tstate_thread_id, 4);
	w64(t5, o->tstate_thread_id, 5);
	w64(t6, o->tstate_thread_id, 6);
	w64(t4, o->tstate_next, P(t5));
	w64(t5, o->tstate_next, P(t4));
	w64(t6, o->tstate_next, P(t6));
	w64(interp1, o->interp_tstate_head, P(t4));
	set_top_frame(t4, P(t4));
	/* Burner 1: f1 -> f2 -> f3 -> f1. Burner 2: a frame that is its own parent, over a self-made code object. */
	f1 = mkframe(P(ca), instr_for(ca, 0), 0);
	f2 = mkframe(P(cb), instr_for(cb, 0), P(f1));
	f3 = mkframe(P(cc), instr_for(cc, 0), P(f2));
	w64(f1, o->frame_back, P(f3));
	set_top_frame(thr[1].ts, P(f3));
	fs = mkframe(P(cs), instr_for(cs, 0), 0);
	w64(fs, o->frame_back, P(fs));
	f1 = mkframe(P(self_code), P(self_code), P(fs));
	set_top_frame(thr[2].ts, P(f1));
	/* The main thread's frame pointer leads back to its own thread state. */
	set_top_frame(thr[0].ts, P(thr[0].ts));
	*gil_holder() = P(thr[1].ts);
}

/* random: the skeleton of a sane process, healed periodically; everything else a moving soup. */
static void heal(void)
{
	uint8_t *f = NULL;

	pthread_mutex_lock(&heal_lock);
	set_interp_head(interp0);
	if (minor >= 13)
		write_debug_offsets(o, 0x030000f0 | (uint64_t)minor << 16);
	w64(interp0, o->interp_tstate_head, P(thr[0].ts));
	for (int i = 0; i <= NBURN; i++) {
		w64(thr[i].ts, o->tstate_thread_id, (uint64_t)thr[i].self);
		w64(thr[i].ts, o->tstate_interp, P(interp0));
		w64(thr[i].ts, o->tstate_next, i < NBURN ? P(thr[i + 1].ts) : 0);
		f = frames2[i * 16];
		set_top_frame(thr[i].ts, P(f));
	}
	*gil_locked() = 0;
	*gc_collecting() = 0;
	pthread_mutex_unlock(&heal_lock);
}

static void build_random(uint64_t seed)
{
	uint8_t *file = mkstr("hostile/random.py"), *table = fine_table(), *f = NULL;
	uint64_t rs = seed;

	for (int i = 0; i < 32; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "r%d", i);
		codes[ncodes++] = mkcode(P(type_code), P(file), P(mkstr(nm)), i, P(table));
	}
	for (int i = 0; i < 64; i++) {
		frames2[i] = mkframe(P(codes[i % ncodes]), instr_for(codes[i % ncodes], i), P(f));
		f = frames2[i];
	}
	mut_lo = arena + 65536;	/* types, interpreters and thread states are below: rewritten less often */
	soup_lo = alloc(4u << 20);
	soup_hi = soup_lo + (4u << 20);
	fill_soup(soup_lo, soup_hi, &rs);
	heal();
}

/*
 * version313: the structures planted at the offsets this round's
 * _Py_DebugOffsets claim (the daemon believes them when accepted), over soup.
 */
static uint8_t *big[NBURN + 2];	/* interp0 and the thread states: > 1 MiB each, any wild offset lands inside */

static void v313_round(uint64_t *rs)
{
	struct py_offsets v = *o, eff;
	uint64_t version = 0x030d00f0;
	int kind = (int)(rng_next(rs) % 5), nf = 0;

#define X(f) nf++;
	PY_DEBUG_OFFSETS(X)
#undef X
	switch (kind) {
	case 0:	/* wild, accepted */
	case 1:	/* wild, one field out of range: the daemon must ignore the block */
#define X(f) v.f = (int)(rng_next(rs) % (1u << 20)) & (rng_next(rs) & 1 ? ~7 : ~0);
		PY_DEBUG_OFFSETS(X)
#undef X
		break;
	case 2:	/* all zero: every list its own successor */
#define X(f) v.f = 0;
		PY_DEBUG_OFFSETS(X)
#undef X
		break;
	case 3:	/* the real ones */
		break;
	default:	/* the real ones, but for another version */
		version = 0x030c00f0;
	}
	pthread_mutex_lock(&heal_lock);
	fill_soup(rt + o->dbg_size, rt + o->runtime_size, rs);
	for (int i = 0; i < NBURN + 2; i++)
		fill_soup(big[i], big[i] + 4096, rs);	/* the start; the rest stays from the last rounds */
	fill_soup(soup_lo, soup_hi, rs);
	write_debug_offsets(&v, version);
	if (kind == 1) {
		int which = (int)(rng_next(rs) % nf), k = 0;

#define X(f) if (k++ == which) w64(rt, o->dbg_##f, (1u << 20) + rng_next(rs) % 1000);
		PY_DEBUG_OFFSETS(X)
#undef X
	}
	eff = kind == 1 || kind == 4 ? *o : v;
	/*
	 * Plant what the daemon will follow: head, threads, frames into the soup,
	 * and last (where fields collide, it wins) the GIL the inspection checks.
	 * Never over the block itself, nor past the end of _PyRuntime.
	 */
	if (eff.rt_interp_head >= o->dbg_size && eff.rt_interp_head + 8 <= o->runtime_size)
		w64(rt, eff.rt_interp_head, P(big[0]));
	w64(rt, o->rt_interp_main, P(big[0]));
	w64(big[0], eff.interp_tstate_head, P(big[1]));
	w64(big[0], eff.interp_next, rng_next(rs) & 1 ? P(big[0]) : 0);
	for (int i = 0; i <= NBURN; i++) {
		uint8_t *ts = big[1 + i];

		w64(ts, eff.tstate_current_frame, P(soup_lo) + (rng_next(rs) % (4u << 20) & ~7ULL));
		w64(ts, eff.tstate_next, i < NBURN ? P(big[2 + i]) : P(big[1]));
		w64(ts, eff.tstate_thread_id, (uint64_t)thr[i].self);
	}
	w64(big[0], eff.interp_ceval_gil, P(rt + o->rt_gil));
	*gil_locked() = 0;
	pthread_mutex_unlock(&heal_lock);
}

static void build_v313(uint64_t seed)
{
	uint64_t rs = seed;
	uint8_t *file = mkstr("hostile/v313.py"), *table = fine_table();

	for (int i = 0; i < 16; i++)
		codes[ncodes++] = mkcode(P(type_code), P(file), P(mkstr("wild")), i, P(table));
	for (int i = 0; i < NBURN + 2; i++)
		big[i] = alloc((1u << 20) + 65536);
	soup_lo = alloc(4u << 20);
	soup_hi = soup_lo + (4u << 20);
	for (int i = 0; i < NBURN + 2; i++)
		fill_soup(big[i], big[i] + (1u << 20) + 65536, &rs);
	v313_round(&rs);
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *burner(void *arg)
{
	struct thr *t = arg;
	uint64_t x = (uint64_t)t->tid | 1;

	t->self = pthread_self();
	t->tid = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&started, 1);
	for (;;) {
		/* "Hold the GIL" while burning, in the modes whose GIL is kept sane. */
		if (mode == M_GARBAGE || mode == M_CYCLIC) {
			*gil_locked() = 1;
			*gil_holder() = mode == M_CYCLIC || (x & 3) ? P(t->ts) : (x & 4 ? UNMAPPED : P(guard));
		}
		x = burn_fn(x, 200000);
		if (mode == M_GARBAGE || mode == M_CYCLIC)
			*gil_locked() = 0;
	}
	return NULL;
}

/* Short-lived threads: thread exits, threads the walks cannot find. */
static void *shortlived(void *arg)
{
	burn_fn((uint64_t)(uintptr_t)arg | 1, 20000);
	return NULL;
}

static void *spawner(void *arg)
{
	for (uint64_t i = 0;; i++) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, shortlived, (void *)(uintptr_t)i) == 0)
			sleep_us(5000);
		else
			sleep_us(50000);
		pthread_attr_destroy(&a);
	}
	return NULL;
}

/* Collections with garbage arguments and counters that wrap, at a rate that varies. */
static void *collector(void *arg)
{
	uint64_t rs = (uint64_t)(uintptr_t)arg;

	for (uint64_t i = 0;; i++) {
		uint64_t r = rng_next(&rs);
		int64_t *st = gc_stats();

		*gc_collecting() = 1;
		st[3 * (r % 3)]++;	/* from INT64_MAX - 1000 in garbage mode: goes negative */
		st[3 * (r % 3) + 1] = (int64_t)(r >> 3) - (int64_t)(r >> 4);
		collect_fn((void *)(uintptr_t)rng_next(&rs), (long)rng_next(&rs), (long)r);
		*gc_collecting() = 0;
		/* bursts of a few thousand per second, then quiet */
		sleep_us((i / 2000) % 2 ? 2000 : 200);
	}
	return NULL;
}

/* The churn of each mode: rotating code objects, rewritten objects, mutated words. */
static void *churner(void *arg)
{
	uint64_t rs = (uint64_t)(uintptr_t)arg;

	for (uint64_t i = 0;; i++) {
		uint64_t r = rng_next(&rs);

		switch (mode) {
		case M_GARBAGE:
			for (int k = 0; k < 64; k++) {
				uint8_t *c = distinct[rng_next(&rs) % NDISTINCT];

				w64(frames2[k], o->frame_code, P(c));
				w64(frames2[k], o->frame_instr, o->frame_instr >= 0 ?
					P(c) + o->code_code_adaptive + rng_next(&rs) % (2 * MAX_TABLE) : 0);
				w32(frames2[k], o->frame_lasti, (uint32_t)(rng_next(&rs) % (2 * MAX_TABLE)));
			}
			/* The same address, another object: a new first line, name and file each time. */
			w32(morph, o->code_firstlineno, (uint32_t)r);
			w64(morph, o->code_qualname, P(distinct[r % NDISTINCT]) + (r & 8));
			w64(morph, o->code_filename, r & 16 ? P(codes[1]) : 0);
			*gc_collecting() = (int)(r % 3);	/* 2 is not a flag */
			sleep_us(1000);
			break;
		case M_CYCLIC:
			/* Flip the cycle's direction now and then: the walk may meet either. */
			w64(thr[0].ts, o->tstate_next, r & 1 ? P(thr[1].ts) : P(thr[0].ts));
			sleep_us(10000);
			break;
		case M_RANDOM:
			for (int k = 0; k < 512; k++) {
				size_t span = used - (size_t)(mut_lo - arena);
				uint8_t *p = mut_lo + (rng_next(&rs) % span & ~7ULL);

				w64(p, 0, soup_value(&rs));
			}
			/* The runtime and the thread states too, more rarely. */
			if (r % 16 == 0 && rt)
				w64(rt, (int)(rng_next(&rs) % (uint64_t)(o->runtime_size - 8)) & ~7, soup_value(&rs));
			if (r % 4 == 0)
				w64(thr[rng_next(&rs) % (NBURN + 1)].ts, (int)(rng_next(&rs) % 512) * 8, soup_value(&rs));
			if (i % 200 == 0)
				heal();
			sleep_us(1000);
			break;
		case M_V313:
			v313_round(&rs);
			sleep_us(250000);
			break;
		}
	}
	return NULL;
}

static void *lib_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "fakepy: %s: %s\n", name, dlerror());
		exit(2);
	}
	return p;
}

static void load_lib(const char *argv0)
{
	char self[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	void *h;

	if (n < 0)
		die("/proc/self/exe");
	self[n] = 0;
	slash = strrchr(self, '/');
	*slash = 0;
	snprintf(path, sizeof(path), "%s/libpython3.%u.so.1.0", self, minor);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "%s: %s\n", argv0, dlerror());
		exit(2);
	}
	collect_fn = lib_sym(h, "fake_collect");
	burn_fn = lib_sym(h, "_PyEval_EvalFrameDefault");
	if (minor >= 7) {
		rt = lib_sym(h, "_PyRuntime");
	} else {
		gil_locked_36 = lib_sym(h, "gil_locked");
		gil_holder_36 = lib_sym(h, "gil_last_holder");
		interp_head_36 = lib_sym(h, "interp_head");
		gc_stats_36 = lib_sym(h, "generation_stats");
		collecting_36 = lib_sym(h, "collecting");
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fakepy [-m MINOR] [-t SECONDS] [-F] garbage|cyclic|random|version313 [SEED]\n"
			"       fakepy runtime-size MINOR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "garbage", "cyclic", "random", "version313" };
	unsigned lifetime = 600;
	uint64_t seed = 1;
	pthread_t t;
	int c, m = -1;

	if (argc == 3 && strcmp(argv[1], "runtime-size") == 0) {
		o = py_offsets__find(3, (unsigned)atoi(argv[2]));
		if (!o)
			usage();
		printf("%d\n", o->runtime_size > 0 ? o->runtime_size : 0);
		return 0;
	}
	while ((c = getopt(argc, argv, "m:t:F")) != -1) {
		if (c == 'm')
			minor = (unsigned)atoi(optarg);
		else if (c == 'F')
			free_threaded = 1;
		else if (c == 't')
			lifetime = (unsigned)atoi(optarg);
		else
			usage();
	}
	if (optind >= argc)
		usage();
	for (int i = 0; i < 4; i++)
		if (strcmp(argv[optind], names[i]) == 0)
			m = i;
	if (m < 0)
		usage();
	mode = m;
	if (optind + 1 < argc)
		seed = strtoull(argv[optind + 1], NULL, 0);
	if (mode == M_V313)
		minor = 13;
	o = py_offsets__find(3, minor);
	if (!o)
		usage();
	load_lib(argv[0]);
	alarm(lifetime);

	/* The arena, then a PROT_NONE page: every page present, so BPF reads do not fault. */
	arena = mmap(NULL, ARENA_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		     -1, 0);
	if (arena == MAP_FAILED)
		die("mmap");
	guard = arena + ARENA_SIZE;
	guard2 = guard - 8192;
	if (mprotect(guard, 4096, PROT_NONE) || mprotect(guard2, 4096, PROT_NONE))
		die("mprotect");

	thr[0].self = pthread_self();
	thr[0].tid = getpid();
	for (int i = 1; i <= NBURN; i++)
		if (pthread_create(&t, NULL, burner, &thr[i]))
			die("pthread_create");
	while (atomic_load(&started) < NBURN)
		sleep_us(1000);

	build_base();
	if (mode == M_GARBAGE)
		build_garbage();
	else if (mode == M_CYCLIC)
		build_cyclic();
	else if (mode == M_RANDOM)
		build_random(seed);
	else
		build_v313(seed);

	if (pthread_create(&t, NULL, churner, (void *)(uintptr_t)(seed * 3)) ||
	    pthread_create(&t, NULL, collector, (void *)(uintptr_t)(seed * 5)) ||
	    pthread_create(&t, NULL, spawner, NULL))
		die("pthread_create");
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
