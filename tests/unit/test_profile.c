// SPDX-License-Identifier: MIT
/*
 * Stack aggregation (profile.c) and the hash index under it (hindex.c):
 * self and total counts, recursion counted once, distinct stacks, native
 * leaves found again after sorting, and the bounds a target cannot push past.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "unit.h"
#include "pyprobe/events.h"
#include "hindex.h"
#include "profile.h"

static const json_t *find_func(const json_t *rows, const char *name)
{
	size_t i;
	json_t *r;

	json_array_foreach(rows, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "function")), name))
			return r;
	return NULL;
}

static long long ival(const json_t *o, const char *key)
{
	return o ? json_integer_value(json_object_get(o, key)) : -1;
}

static void self_and_total(void)
{
	struct profile *p = profile__new();
	/* innermost first: leaf <- mid <- main, twice; then mid <- main once */
	struct pyframe a[] = { { "m.py", "leaf", 12, 10 }, { "m.py", "mid", 22, 20 }, { "m.py", "main", 31, 30 } };
	struct pyframe b[] = { { "m.py", "mid", 23, 20 }, { "m.py", "main", 31, 30 } };
	json_t *top, *self, *total;

	CHECK(p, "profile__new");
	CHECK_INT(profile__add(p, a, 3, PP_CPU_GIL, 0), 0);
	CHECK_INT(profile__add(p, a, 3, PP_CPU_GIL, 0), 0);
	CHECK_INT(profile__add(p, b, 2, PP_CPU_NOGIL, 1), 0);
	CHECK_INT(profile__add(p, NULL, 0, PP_CPU_KERNEL_IO, 0), 0);
	top = profile__top(p, 10);
	CHECK(top, "profile__top");
	CHECK_INT(ival(top, "samples"), 4);
	CHECK_INT(ival(top, "python_samples"), 3);
	CHECK_INT(ival(top, "no_python_samples"), 1);
	self = json_object_get(top, "functions_by_self");
	total = json_object_get(top, "functions_by_total");
	/* by self: leaf 2, mid 1; main never innermost is left out */
	CHECK_INT(json_array_size(self), 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(self, 0), "function")), "leaf");
	CHECK_INT(ival(find_func(self, "mid"), "self"), 1);
	CHECK(!find_func(self, "main"), "main has no self samples");
	CHECK_INT(ival(find_func(total, "main"), "total"), 3);
	CHECK_INT(ival(find_func(total, "mid"), "total"), 3);
	CHECK_INT(ival(find_func(total, "leaf"), "total"), 2);
	CHECK_NEAR(json_real_value(json_object_get(json_object_get(top, "share"), "gc")), 0.25, 1e-9);
	CHECK_NEAR(json_real_value(json_object_get(json_object_get(top, "share"), "kernel_io")), 0.25, 1e-9);
	/* lines: mid's two lines are two rows */
	CHECK_INT(json_array_size(json_object_get(top, "lines")), 2);
	json_decref(top);
	profile__free(p);
}

static void recursion_counts_once(void)
{
	struct profile *p = profile__new();
	struct pyframe f[] = { { "r.py", "fib", 3, 1 }, { "r.py", "fib", 3, 1 }, { "r.py", "fib", 3, 1 },
			       { "r.py", "fib", 4, 1 }, { "r.py", "<module>", 9, 1 } };
	json_t *top, *lines;

	profile__add(p, f, 5, PP_CPU_GIL, 0);
	top = profile__top(p, 10);
	CHECK_INT(ival(find_func(json_object_get(top, "functions_by_total"), "fib"), "total"), 1);
	CHECK_INT(ival(find_func(json_object_get(top, "functions_by_self"), "fib"), "self"), 1);
	lines = json_object_get(top, "lines");
	CHECK_INT(json_array_size(lines), 1);	/* only the innermost line has self */
	CHECK_INT(ival(json_array_get(lines, 0), "total"), 1);
	json_decref(top);
	profile__free(p);
}

static void distinct_stacks(void)
{
	struct profile *p = profile__new();
	struct pyframe a[] = { { "s.py", "f", 2, 1 }, { "s.py", "g", 6, 5 } };
	struct pyframe b[] = { { "s.py", "f", 3, 1 }, { "s.py", "g", 6, 5 } };
	json_t *st, *stacks, *frames;
	long long sum = 0;
	size_t i;
	json_t *s;

	for (int k = 0; k < 5; k++)
		profile__add(p, a, 2, PP_CPU_GIL, 0);
	for (int k = 0; k < 3; k++)
		profile__add(p, b, 2, PP_CPU_GIL, 0);
	profile__add(p, b, 1, PP_CPU_GIL, 0);	/* a shorter stack is another stack */
	st = profile__stacks(p);
	stacks = json_object_get(st, "stacks");
	frames = json_object_get(st, "frames");
	CHECK_INT(json_array_size(stacks), 3);
	CHECK_INT(json_array_size(frames), 3);	/* lines f:2, g:6, f:3 */
	json_array_foreach(stacks, i, s) {
		json_t *ids = json_object_get(s, "frames");

		sum += ival(s, "count");
		for (size_t k = 0; k < json_array_size(ids); k++)
			CHECK(json_integer_value(json_array_get(ids, k)) < (json_int_t)json_array_size(frames),
			      "frame index in range");
	}
	CHECK_INT(sum, 9);
	CHECK_INT(ival(json_array_get(stacks, 0), "count"), 5);	/* first seen first */
	json_decref(st);
	profile__free(p);
}

static void natives_found_again_after_sorting(void)
{
	struct profile *p = profile__new();
	json_t *top, *nat;

	profile__add_native(p, NULL, "[unknown]", "unknown");
	profile__add_native(p, "PyDict_GetItem", "python3", "interpreter");
	for (int i = 0; i < 3; i++)
		profile__add_native(p, "memcpy", "libc.so.6", "libc");
	top = profile__top(p, 10);	/* sorts the leaves (memcpy moves first): the index must follow */
	json_decref(top);
	for (int i = 0; i < 4; i++)
		profile__add_native(p, "PyDict_GetItem", "python3", "interpreter");
	profile__add_native(p, NULL, "[unknown]", "unknown");
	top = profile__top(p, 10);
	nat = json_object_get(top, "native_leaves");
	CHECK_INT(json_array_size(nat), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(nat, 0), "symbol")), "PyDict_GetItem");
	CHECK_INT(ival(json_array_get(nat, 0), "samples"), 5);
	CHECK_INT(ival(json_array_get(nat, 1), "samples"), 3);
	CHECK(json_is_null(json_object_get(json_array_get(nat, 2), "symbol")), "no symbol is null");
	CHECK_INT(ival(json_array_get(nat, 2), "samples"), 2);
	json_decref(top);
	profile__free(p);
}

/* A target with more functions than a window keeps: the profile stops growing, samples still count. */
static void bounded_by_the_target(void)
{
	struct profile *p = profile__new();
	char name[32];
	json_t *top;
	int err = 0;

	for (int i = 0; i < 25000 && !err; i++) {
		struct pyframe f = { "many.py", name, 1, 1 };

		snprintf(name, sizeof(name), "f%d", i);
		err = profile__add(p, &f, 1, PP_CPU_GIL, 0);
	}
	CHECK_INT(err, 0);
	top = profile__top(p, 30000);
	CHECK_INT(ival(top, "samples"), 25000);
	CHECK_INT(json_array_size(json_object_get(top, "functions_by_total")), 20000);
	json_decref(top);
	profile__free(p);
}

struct entry {
	uint64_t hash;
	int key;
};

static uint64_t entry_hash(const void *v, size_t i)
{
	return ((const struct entry *)v)[i].hash;
}

static bool entry_match(const void *v, size_t i, const void *key)
{
	return ((const struct entry *)v)[i].key == *(const int *)key;
}

/* Many entries, colliding hashes among them: each found at its position, absent keys not found. */
static void hash_index(void)
{
	enum { N = 5000 };
	struct entry *e = calloc(N, sizeof(*e));
	struct hindex ix = {};
	int misses = 0;

	for (int i = 0; i < N; i++) {
		CHECK_INT(hindex_fit(&ix, i, entry_hash, e), 0);
		e[i].key = i;
		e[i].hash = i % 7 ? hash_int(HASH_INIT, i) : 42;	/* every 7th shares one hash */
		hindex_add(&ix, e[i].hash, i);
	}
	CHECK(ix.cap >= 2 * N, "at most half full: cap %zu", ix.cap);
	for (int i = 0; i < N; i++) {
		uint64_t h = i % 7 ? hash_int(HASH_INIT, i) : 42;

		misses += hindex_find(&ix, h, entry_hash, entry_match, e, &i) != i;
	}
	CHECK_INT(misses, 0);
	{
		int absent = N + 1;

		CHECK_INT(hindex_find(&ix, 42, entry_hash, entry_match, e, &absent), -1);
		CHECK_INT(hindex_find(&ix, hash_int(HASH_INIT, absent), entry_hash, entry_match, e, &absent), -1);
	}
	/* dropped (entries moved), then rebuilt by the next fit */
	hindex_drop(&ix);
	CHECK_INT(hindex_find(&ix, 42, entry_hash, entry_match, e, &(int){ 7 }), -1);
	CHECK_INT(hindex_fit(&ix, N, entry_hash, e), 0);
	CHECK_INT(hindex_find(&ix, 42, entry_hash, entry_match, e, &(int){ 7 }), 7);
	CHECK(hash_str(HASH_INIT, NULL) == hash_str(HASH_INIT, ""), "NULL hashes as the empty string");
	CHECK(hash_str(HASH_INIT, "ab") != hash_str(hash_str(HASH_INIT, "a"), "b"), "strings keep their ends");
	hindex_drop(&ix);
	free(e);
}

int main(void)
{
	RUN(self_and_total);
	RUN(recursion_counts_once);
	RUN(distinct_stacks);
	RUN(natives_found_again_after_sorting);
	RUN(bounded_by_the_target);
	RUN(hash_index);
	return UNIT_EXIT();
}
