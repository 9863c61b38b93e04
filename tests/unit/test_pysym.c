// SPDX-License-Identifier: MIT
/* Line-table decoders of the three formats, on hand-made tables, and on garbage. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "pyinspect.h"
#include "pyoffsets.h"
#include "pysym.h"

static void lnotab_38(void)
{
	/* (address increment, line increment) pairs; offsets in bytes */
	const uint8_t t[] = { 6, 1, 8, 2, 4, 0xff };

	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, -1), 10);	/* not started yet */
	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, 0), 10);
	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, 5), 10);
	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, 6), 11);
	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, 14), 13);
	CHECK_INT(pysym_line_lnotab(t, sizeof(t), 10, 100), 12);	/* negative delta */
}

static void linetable_310(void)
{
	/* (range length in bytes, line delta; -128 = no line) */
	const uint8_t t[] = { 6, 0, 8, 1, 4, 0x80, 2, 2 };

	CHECK_INT(pysym_line_linetable310(t, sizeof(t), 10, 0), 10);
	CHECK_INT(pysym_line_linetable310(t, sizeof(t), 10, 13), 11);
	CHECK_INT(pysym_line_linetable310(t, sizeof(t), 10, 15), 0);
	CHECK_INT(pysym_line_linetable310(t, sizeof(t), 10, 18), 13);
	CHECK_INT(pysym_line_linetable310(t, sizeof(t), 10, 20), 0);	/* past the end */
}

static void locations_311(void)
{
	const uint8_t t[] = {
		0x80 | (13 << 3) | 1, 0,		/* units 0-1: no column, delta 0 -> 10 */
		0x80 | (11 << 3) | 2, 4, 9,		/* units 2-4: one-line form, delta 1 -> 11 */
		0x80 | (15 << 3) | 0,			/* unit 5: no location */
		0x80 | (14 << 3) | 0, 7, 0, 1, 1,	/* unit 6: long form, delta -3 -> 8 */
		0x80 | (3 << 3) | 1, 5,			/* units 7-8: short form, same line */
	};

	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 0), 10);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 1), 10);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 4), 11);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 5), 0);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 6), 8);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 8), 8);
	CHECK_INT(pysym_line_locations(t, sizeof(t), 10, 9), 0);
}

static void garbage_stays_in_bounds(void)
{
	uint8_t t[257];

	for (int i = 0; i < 257; i++)
		t[i] = (uint8_t)(i * 151 + 7);
	/* Truncated varints and entries must not read past the end (ASan would tell). */
	for (int64_t u = -2; u < 300; u += 7) {
		pysym_line_locations(t, sizeof(t), 1, u);
		pysym_line_linetable310(t, sizeof(t), 1, u);
		pysym_line_lnotab(t, sizeof(t), 1, u);
	}
	CHECK_INT(pysym_line_locations(t, 0, 5, 0), 0);
	CHECK_INT(pysym_line_lnotab(t, 0, 5, 3), 5);
}

/*
 * pysym reads target memory with process_vm_readv: point it at this process
 * and at code and str objects laid out by hand, some of them hostile.
 */
static struct pyinfo fake_py(void)
{
	struct pyinfo py = { .major = 3, .minor = 11 };

	py.off = py_offsets__find(3, 11);
	return py;
}

static uint8_t *fake_str(const char *s, int64_t claimed_len, uint32_t state)
{
	const struct py_offsets *o = py_offsets__find(3, 11);
	uint8_t *obj = calloc(1, 4096);

	memcpy(obj + o->unicode_state, &state, 4);
	memcpy(obj + o->unicode_length, &claimed_len, 8);
	strcpy((char *)obj + o->unicode_ascii_size, s);
	return obj;
}

static void hostile_code_objects(void)
{
	const struct py_offsets *o = py_offsets__find(3, 11);
	struct pyinfo py = fake_py();
	struct pysym *ps = pysym__new(getpid(), &py);
	uint8_t *code = calloc(1, 4096), *file = fake_str("app.py", 6, 0x20 | 0x40 | (1 << 2));
	uint8_t *name = fake_str("f", 1, 0x20 | 0x40 | (1 << 2)), *table = calloc(1, 64);
	uint64_t p;
	int32_t first = 7;
	struct pyframe fr;

	CHECK(o && ps, "3.11 offsets");
	if (!o || !ps)
		return;
	/* A sane object: a bytes line table of one entry, "no column", delta +1. */
	p = (uint64_t)(uintptr_t)file;
	memcpy(code + o->code_filename, &p, 8);
	p = (uint64_t)(uintptr_t)name;
	memcpy(code + o->code_qualname, &p, 8);
	memcpy(code + o->code_firstlineno, &first, 4);
	*(int64_t *)(table + o->var_size) = 2;
	table[o->bytes_sval] = 0x80 | (13 << 3) | 7;
	table[o->bytes_sval + 1] = 2;
	p = (uint64_t)(uintptr_t)table;
	memcpy(code + o->code_linetable, &p, 8);
	CHECK_INT(pysym__resolve(ps, (uint64_t)(uintptr_t)code, (uint64_t)(uintptr_t)code + o->code_code_adaptive + 4,
				 &fr), 0);
	CHECK_STR(fr.file ? fr.file : "", "app.py");
	CHECK_STR(fr.func ? fr.func : "", "f");
	CHECK_INT(fr.line, 8);

	/* A huge claimed string length is cut, not followed (the buffer is 4 KiB). */
	*(int64_t *)(name + o->unicode_length) = 1LL << 40;
	first = 9;	/* a changed first line: the cache must notice and reread */
	memcpy(code + o->code_firstlineno, &first, 4);
	CHECK_INT(pysym__resolve(ps, (uint64_t)(uintptr_t)code, 0, &fr), 0);
	CHECK(fr.func && strlen(fr.func) <= 512 * 4, "bounded name");
	CHECK_INT(fr.firstline, 9);

	/* Not compact, or a bad kind: refused. */
	*(uint32_t *)(name + o->unicode_state) = 0x40;
	first = 10;
	memcpy(code + o->code_firstlineno, &first, 4);
	CHECK(pysym__resolve(ps, (uint64_t)(uintptr_t)code, 0, &fr) < 0, "non-compact name refused");
	*(uint32_t *)(name + o->unicode_state) = 0x20 | (3 << 2);
	first = 11;
	memcpy(code + o->code_firstlineno, &first, 4);
	CHECK(pysym__resolve(ps, (uint64_t)(uintptr_t)code, 0, &fr) < 0, "bad kind refused");

	/* Unmapped pointers and a line table that claims to be enormous. */
	CHECK(pysym__resolve(ps, 8, 0, &fr) < 0, "unmapped code object");
	*(uint32_t *)(name + o->unicode_state) = 0x20 | 0x40 | (1 << 2);
	*(int64_t *)(name + o->unicode_length) = 1;
	*(int64_t *)(table + o->var_size) = 1LL << 50;
	first = 12;
	memcpy(code + o->code_firstlineno, &first, 4);
	CHECK_INT(pysym__resolve(ps, (uint64_t)(uintptr_t)code, 0, &fr), 0);
	CHECK_INT(fr.line, 0);	/* no table: no line, no crash */
	pysym__free(ps);
	free(code);
	free(file);
	free(name);
	free(table);
}

int main(void)
{
	RUN(lnotab_38);
	RUN(linetable_310);
	RUN(locations_311);
	RUN(garbage_stays_in_bounds);
	RUN(hostile_code_objects);
	return UNIT_EXIT();
}
