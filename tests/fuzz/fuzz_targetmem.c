// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the readers of target memory. pysym (code objects, str
 * and bytes objects, line tables) and the thread-state walk read another
 * process with process_vm_readv; here that process is this one and the
 * memory is an arena filled from the input, so every field is hostile.
 *
 * Input: byte 0 picks the interpreter version (3.6 .. 3.15), byte 1 how
 * pointers are treated, bytes 2..9 the instruction argument, the rest the
 * arena. Pointer fields of the code object and of the thread lists are
 * rewritten to land inside the arena (at an offset the input chose) unless
 * byte 1 says to leave them wild, so the fuzzer reaches the objects behind
 * them and not just unmapped addresses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pyinspect.h"
#include "pyoffsets.h"
#include "pysym.h"
#include "pythreads.h"

#define ARENA (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t arena[ARENA] __attribute__((aligned(64)));

/* Make the u64 at off point into the arena, at the offset it holds modulo the size. */
static void aim(size_t off)
{
	uint64_t v;

	if (off + 8 > ARENA)
		return;
	memcpy(&v, arena + off, 8);
	v = (uint64_t)(uintptr_t)arena + (v % (ARENA - 8));
	memcpy(arena + off, &v, 8);
}

static void aim_field(size_t base, int field)
{
	if (field >= 0)
		aim(base + field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned minors[] = { 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct pythread threads[64];
	struct pyinfo py = { .major = 3 };
	const struct py_offsets *o;
	struct pyframe fr;
	struct pysym *ps;
	struct pyattr attr;
	uint64_t instr = 0, base = (uint64_t)(uintptr_t)arena;
	bool wild;

	if (size < 10)
		return 0;
	py.minor = minors[data[0] % (sizeof(minors) / sizeof(minors[0]))];
	wild = data[1] & 1;
	memcpy(&instr, data + 2, 8);
	o = py_offsets__find(3, py.minor);
	if (!o)
		return 0;
	py.off = o;
	memset(arena, 0, sizeof(arena));
	memcpy(arena, data + 10, size - 10 < ARENA ? size - 10 : ARENA);

	/* The code object at the arena's start; its strings and tables somewhere inside. */
	if (!wild) {
		aim_field(0, o->code_filename);
		aim_field(0, o->code_name);
		aim_field(0, o->code_qualname);
		aim_field(0, o->code_linetable);
		aim_field(0, o->code_code);
		aim_field(0, o->code_names);
		aim_field(0, o->code_varnames);
		/* instr as an offset into the arena too (the sampler's instruction pointer) */
		instr = base + instr % ARENA;
	}
	ps = pysym__new(getpid(), &py);
	if (!ps)
		return 0;
	pysym__resolve(ps, base, instr, &fr);
	/* Again: the cache must validate what it kept, not trust it. */
	arena[(instr & 0xfff) % ARENA] ^= 0x5a;
	pysym__resolve(ps, base, instr, &fr);
	/* The instruction, its names and its loop: code units and name tuples from the arena. */
	if (pysym__attr(ps, base, instr, &attr) == 0 && (!attr.name || !attr.receiver))
		__builtin_trap();
	pysym__free(ps);

	/* The interpreter and thread-state lists: the head pointer at 0x100, lists through the arena. */
	if (!wild) {
		aim(0x100);
		for (size_t off = 0x200; off + 8 <= 0x1200 && off + 8 <= ARENA; off += 8)
			aim(off);	/* a region of pointers: list links land there and loop */
	}
	py.interp_head_addr = base + 0x100;
	pythreads_read(getpid(), &py, threads, sizeof(threads) / sizeof(threads[0]));
	return 0;
}
