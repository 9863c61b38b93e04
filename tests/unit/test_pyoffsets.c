// SPDX-License-Identifier: MIT
/* The offsets table: a row per layout of a minor version, picked by _PyRuntime's size. */
#include "unit.h"
#include "pyoffsets.h"

/* Debian trixie's 3.13.5 and python.org's 3.13.0 differ (_PyRuntime, the GIL, the collector). */
static void two_builds_of_313(void)
{
	const struct py_offsets *first = py_offsets__find(3, 13);
	const struct py_offsets *org = py_offsets__find_build(3, 13, 283320);
	const struct py_offsets *deb = py_offsets__find_build(3, 13, 283376);
	char sizes[64];

	CHECK(first && org && deb, "both 3.13 rows");
	if (!first || !org || !deb)
		return;
	CHECK(org != deb, "two rows");
	CHECK(first == org, "the first row is the smaller (rows sorted by size)");
	CHECK_INT(org->minor, 13);
	CHECK_INT(deb->minor, 13);
	CHECK_INT(deb->rt_gil - org->rt_gil, 48);
	CHECK(deb->gc_generations != org->gc_generations, "generations moved");
	CHECK(py_offsets__find_build(3, 13, 283321) == NULL, "an unknown size has no row");
	py_offsets__sizes(3, 13, sizes, sizeof(sizes));
	CHECK_STR(sizes, "283320, 283376");
}

/* Every other version: one row, found by its own size; 3.6 has no _PyRuntime (-1). */
static void one_row_per_other_version(void)
{
	char sizes[64];

	for (unsigned minor = 6; minor <= 15; minor++) {
		const struct py_offsets *o = py_offsets__find(3, minor);

		CHECK(o != NULL, "3.%u has a row", minor);
		if (!o)
			continue;
		CHECK(py_offsets__find_build(3, minor, o->runtime_size) == o, "3.%u by its size", minor);
		CHECK((minor == 6) == (o->runtime_size == -1), "3.%u runtime_size %d", minor, o->runtime_size);
	}
	CHECK(py_offsets__find(3, 5) == NULL && py_offsets__find(3, 16) == NULL && py_offsets__find(2, 7) == NULL,
	      "versions outside 3.6-3.15");
	CHECK(py_offsets__find_build(3, 16, 1000) == NULL, "3.16 by size");
	py_offsets__sizes(3, 16, sizes, sizeof(sizes));
	CHECK_STR(sizes, "");
	/* A buffer too small is cut, never overrun. */
	py_offsets__sizes(3, 13, sizes, 8);
	CHECK_INT(strlen(sizes), 7);
}

int main(void)
{
	RUN(two_builds_of_313);
	RUN(one_row_per_other_version);
	return UNIT_EXIT();
}
