// SPDX-License-Identifier: MIT
/*
 * A fake libpython for the hostile-target test: built as libpython3.N.so.1.0
 * with FAKE_MINOR=N and FAKE_RUNTIME_SIZE=sizeof(_PyRuntimeState) of that
 * version (from the daemon's own offset table, via `fakepy runtime-size N`),
 * it exports what pyprobed keys on to recognise an interpreter: _PyRuntime of
 * the right size (3.7+), Py_Version (3.11+), Py_Initialize, the 3.6 GIL and
 * collector variables, a version string, and a collector function for the
 * GC uprobes. What is in those symbols at run time is fakepy's business.
 */
#include <stdint.h>

#ifndef FAKE_MINOR
#error "FAKE_MINOR must be set"
#endif

#if FAKE_MINOR >= 7
#ifndef FAKE_RUNTIME_SIZE
#error "FAKE_RUNTIME_SIZE must be set"
#endif
__attribute__((aligned(64))) unsigned char _PyRuntime[FAKE_RUNTIME_SIZE];
#else
/* 3.6: the GIL and the collector's state are separate variables (found in .symtab). */
__attribute__((aligned(64))) unsigned char gil_cond[48], gil_mutex[40], switch_cond[48], switch_mutex[40];
int gil_locked = -1;
void *gil_last_holder;
void *interp_head;
__attribute__((aligned(64))) int64_t generation_stats[9];
int collecting;
#endif

#if FAKE_MINOR >= 11
const unsigned long Py_Version = 0x03000000UL | ((unsigned long)FAKE_MINOR << 16) | 0xf0;
#endif

/* The version string a <= 3.10 build is searched for; the micro part overflows 32 bits. */
#define STR2(x) #x
#define STR(x) STR2(x)
const char fake_py_version[] = "3." STR(FAKE_MINOR) ".4294967297";

void Py_Initialize(void);
void Py_Initialize(void)
{
}

/*
 * The collector, under the name the daemon attaches uprobes to. fakepy calls
 * it with garbage arguments; "collected" comes back as whatever it is given.
 */
#if FAKE_MINOR >= 10
#define COLLECTOR gc_collect_main
#else
#define COLLECTOR collect
#endif
long COLLECTOR(void *tstate, long generation, long collected);
__attribute__((noinline, used)) long COLLECTOR(void *tstate, long generation, long collected)
{
	__asm__ volatile("" ::: "memory");
	return collected ^ (long)tstate ^ generation;
}

long fake_collect(void *tstate, long generation, long collected);
long fake_collect(void *tstate, long generation, long collected)
{
	return COLLECTOR(tstate, generation, collected);
}

/* Where the burner threads spend their time: a native leaf inside "the interpreter". */
uint64_t _PyEval_EvalFrameDefault(uint64_t x, long n);
__attribute__((noinline)) uint64_t _PyEval_EvalFrameDefault(uint64_t x, long n)
{
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}
