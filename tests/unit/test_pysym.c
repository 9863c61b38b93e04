// SPDX-License-Identifier: MIT
/* Line-table decoders of the three formats, on hand-made tables, and on garbage. */
#include <stdint.h>
#include "unit.h"
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

int main(void)
{
	RUN(lnotab_38);
	RUN(linetable_310);
	RUN(locations_311);
	RUN(garbage_stays_in_bounds);
	return UNIT_EXIT();
}
