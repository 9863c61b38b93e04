// SPDX-License-Identifier: MIT
/* The attrs/churn aggregator: what a sample counts as, and the reply's rows. No BPF, no root. */
#include <linux/types.h>
#include "pyprobe/events.h"
#include "unit.h"
#include "bytecode.h"
#include "hotspots.h"

static const struct pyframe loop_frame = { "/srv/app.py", "work", 19, 17 };
static const struct nativeloc eval = { NULL, "python3.11", "interpreter", NR_NONE };
static const struct nativeloc dealloc = { "list.tp_dealloc", "python3.11", "interpreter", NR_FREE };
static const struct nativeloc getattr_fn = { "PyObject_GetAttr", "python3.11", "interpreter", NR_ATTR };
static const struct nativeloc libc_malloc = { "malloc", "libc.so.6", "libc", NR_ALLOC };

static struct pyattr method_attr(void)
{
	return (struct pyattr){ BC_LOAD_METHOD, "method", "obj", true, true, 18, BCM_NOTHING };
}

static void add(struct hotspots *h, const struct nativeloc *leaf, const struct pyattr *a, int state, bool gc)
{
	struct hot_sample s = { &loop_frame, 1, leaf, a, false, state, gc, BCM_NOTHING };

	CHECK_INT(hotspots__add(h, &s), 0);
}

static long long geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void each_sample_counts_once(void)
{
	struct hotspots *h = hotspots__new(10);
	struct pyattr a = method_attr();
	json_t *at, *ch, *spot;

	add(h, &eval, &a, PP_CPU_GIL, false);		/* a lookup */
	add(h, &getattr_fn, &a, PP_CPU_GIL, false);	/* a lookup, its leaf in a lookup function too */
	add(h, &dealloc, &a, PP_CPU_GIL, false);	/* freeing under the lookup: churn, not a lookup */
	add(h, &eval, &a, PP_CPU_GIL, true);		/* the collector runs: neither */
	add(h, &libc_malloc, NULL, PP_CPU_NOGIL, false);	/* native without the GIL: neither */
	add(h, &eval, &a, PP_CPU_KERNEL_IO, false);	/* kernel I/O: neither */
	add(h, &getattr_fn, NULL, PP_CPU_UNKNOWN, false);	/* getattr() under another instruction */
	at = hotspots__attrs(h, 10);
	ch = hotspots__churn(h, 10);
	CHECK_INT(geti(at, "samples"), 7);
	CHECK_INT(geti(at, "attr_samples"), 3);
	CHECK_INT(geti(at, "native_samples"), 2);
	CHECK_INT(geti(at, "native_only_samples"), 1);
	CHECK_INT(geti(at, "gc_samples"), 1);
	CHECK_INT(geti(at, "other_state_samples"), 2);
	CHECK_INT(geti(ch, "churn_samples"), 1);
	CHECK_INT(json_array_size(json_object_get(at, "spots")), 2);
	spot = json_array_get(json_object_get(at, "spots"), 0);
	CHECK_STR(json_string_value(json_object_get(spot, "name")), "method");
	CHECK_STR(json_string_value(json_object_get(spot, "op")), "load_method");
	CHECK_INT(geti(spot, "samples"), 2);
	CHECK(json_is_true(json_object_get(spot, "cache_in_local")), "3.10 method in an invariant loop");
	spot = json_array_get(json_object_get(at, "spots"), 1);
	CHECK_STR(json_string_value(json_object_get(spot, "op")), "native");
	CHECK(json_is_null(json_object_get(spot, "name")), "a native spot has no name");
	CHECK_STR(json_string_value(json_object_get(spot, "native_function")), "PyObject_GetAttr");
	spot = json_array_get(json_object_get(ch, "functions"), 0);
	CHECK_STR(json_string_value(json_object_get(spot, "symbol")), "list.tp_dealloc");
	CHECK_STR(json_string_value(json_object_get(spot, "role")), "free");
	CHECK_INT(geti(json_array_get(json_object_get(ch, "lines"), 0), "line"), 19);
	json_decref(at);
	json_decref(ch);
	hotspots__free(h);
}

static void caching_advice_depends_on_version_and_family(void)
{
	struct pyattr m = method_attr(), g = { BC_LOAD_GLOBAL, "len", "len", true, true, 18, BCM_NOTHING };
	struct hotspots *h311 = hotspots__new(11);
	json_t *at, *spot;

	add(h311, &eval, &m, PP_CPU_GIL, false);
	add(h311, &eval, &g, PP_CPU_GIL, false);
	add(h311, &eval, &g, PP_CPU_GIL, false);
	at = hotspots__attrs(h311, 10);
	spot = json_array_get(json_object_get(at, "spots"), 0);	/* the global: 2 samples */
	CHECK_STR(json_string_value(json_object_get(spot, "op")), "load_global");
	CHECK(json_is_null(json_object_get(spot, "receiver")), "a global has no receiver");
	CHECK(json_is_true(json_object_get(spot, "cache_in_local")), "globals gain on 3.11");
	spot = json_array_get(json_object_get(at, "spots"), 1);
	CHECK(json_is_false(json_object_get(spot, "cache_in_local")), "methods are specialised on 3.11");
	CHECK(strstr(json_string_value(json_object_get(spot, "advice")), "specialises") != NULL, "advice %s",
	      json_string_value(json_object_get(spot, "advice")));
	json_decref(at);
	hotspots__free(h311);
}

static void names_from_the_target_become_valid_utf8(void)
{
	struct hotspots *h = hotspots__new(12);
	/* 100 two-byte characters: the advice repeats the name and is cut mid-character. */
	char name[256], file[] = "/srv/\xff\xfe.py";
	struct pyframe f = { file, "f\xc3", 3, 1 };
	struct pyattr a = { BC_LOAD_ATTR, name, "self", true, true, 2, BCM_NOTHING };
	struct hot_sample s = { &f, 1, &eval, &a, false, PP_CPU_GIL, false, BCM_NOTHING };
	json_t *at, *spot;
	char *dump;

	for (int i = 0; i < 100; i++)
		memcpy(name + 2 * i, "\xd0\x96", 2);
	name[200] = 0;
	CHECK_INT(hotspots__add(h, &s), 0);
	at = hotspots__attrs(h, 10);
	spot = json_array_get(json_object_get(at, "spots"), 0);
	CHECK(spot != NULL, "the row is there");
	CHECK(json_string_value(json_object_get(spot, "advice")) != NULL, "advice kept");
	CHECK(strstr(json_string_value(json_object_get(spot, "file")), "\xef\xbf\xbd") != NULL, "U+FFFD in %s",
	      json_string_value(json_object_get(spot, "file")));
	dump = json_dumps(at, 0);
	CHECK(dump != NULL, "the reply dumps");
	free(dump);
	json_decref(at);
	hotspots__free(h);
}

/*
 * Samples in the allocator say nothing of the type: the instruction above
 * them does (BINARY_OP makes numbers, BUILD_MAP a dict); a typed function
 * (list.tp_dealloc) keeps its own type whatever the instruction.
 */
static void allocator_samples_typed_by_their_instruction(void)
{
	static const struct nativeloc pymalloc = { "_PyObject_Malloc", "python3.13", "interpreter", NR_ALLOC };
	struct hotspots *h = hotspots__new(13);
	struct cpu_mix m;
	int i;

	for (i = 0; i < 6; i++) {
		struct hot_sample s = { &loop_frame, 1, &pymalloc, NULL, false, PP_CPU_GIL, false, BCM_NUMBER };

		CHECK_INT(hotspots__add(h, &s), 0);
	}
	for (i = 0; i < 3; i++) {
		struct hot_sample s = { &loop_frame, 1, &pymalloc, NULL, false, PP_CPU_GIL, false, BCM_CONTAINER };

		CHECK_INT(hotspots__add(h, &s), 0);
	}
	for (i = 0; i < 2; i++) {
		struct hot_sample s = { &loop_frame, 1, &pymalloc, NULL, false, PP_CPU_GIL, false, BCM_NOTHING };

		CHECK_INT(hotspots__add(h, &s), 0);
	}
	{
		struct hot_sample s = { &loop_frame, 1, &dealloc, NULL, false, PP_CPU_GIL, false, BCM_NUMBER };

		CHECK_INT(hotspots__add(h, &s), 0);
	}
	hotspots__mix(h, &m);
	CHECK_INT(m.churn, 12);
	CHECK_INT(m.churn_kind[CHURN_NUMBER], 6);
	CHECK_INT(m.churn_kind[CHURN_CONTAINER], 4);	/* 3 built + list.tp_dealloc */
	CHECK_INT(m.churn_kind[CHURN_OTHER], 2);
	CHECK(strstr(m.churn_types, "arithmetic results 50%") != NULL, "types: %s", m.churn_types);
	CHECK(strstr(m.churn_types, "containers built 25%") != NULL, "types: %s", m.churn_types);
	hotspots__free(h);
}

int main(void)
{
	RUN(each_sample_counts_once);
	RUN(caching_advice_depends_on_version_and_family);
	RUN(names_from_the_target_become_valid_utf8);
	RUN(allocator_samples_typed_by_their_instruction);
	return UNIT_EXIT();
}
