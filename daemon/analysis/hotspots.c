// SPDX-License-Identifier: MIT
/*
 * Attribute-lookup spots and object churn, aggregated from CPU samples.
 * A target decides how many distinct spots there are: each table is
 * bounded, and an entry is found through a hash index (hindex.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "array.h"
#include "hindex.h"
#include "bytecode.h"
#include "hotspots.h"
#include "utf8.h"

#define MAX_ROWS 4096

/* An attribute spot: a line, the instruction's family and name; or a native lookup under a line. */
struct spot {
	uint64_t hash;
	char *file, *func, *name, *receiver, *via;
	int line, family, loop_line;
	bool in_loop, invariant;
	uint64_t samples;
	uint64_t native;	/* ... of which the native leaf was a lookup function */
};

/* A native function of a churn role. */
struct cfunc {
	uint64_t hash;
	char *symbol, *object;
	int role;
	uint64_t samples;
};

/* A Python line under churn samples (its innermost frame). */
struct cline {
	uint64_t hash;
	char *file, *func;
	int line;
	uint64_t samples, role[NR_NROLES];
};

/* Rows of one kind (each starts with its hash), found through idx. */
struct table {
	void *v;
	size_t n, cap, size;
	struct hindex idx;
	uint64_t dropped;	/* samples that found the table full */
};

struct hotspots {
	int minor;		/* CPython 3.minor: whether caching a method pays depends on it */
	uint64_t samples, python;
	uint64_t other_state;	/* kernel I/O or native without the GIL: neither lookups nor churn */
	uint64_t gc;		/* taken while the collector ran */
	uint64_t undecoded;	/* innermost instruction not decodable (unreadable, instrumented) */
	uint64_t attr, attr_bytecode, attr_native, attr_native_only;
	uint64_t churn, role[NR_NROLES];
	/* Churn samples whose native function does not name the type, by what the instruction makes. */
	uint64_t made[BCM_STRING + 1];
	struct table spots, funcs, lines;
};

struct hotspots *hotspots__new(int minor)
{
	struct hotspots *h = calloc(1, sizeof(*h));

	if (h) {
		h->minor = minor;
		h->spots.size = sizeof(struct spot);
		h->funcs.size = sizeof(struct cfunc);
		h->lines.size = sizeof(struct cline);
	}
	return h;
}

void hotspots__free(struct hotspots *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->spots.n; i++) {
		struct spot *s = (struct spot *)h->spots.v + i;

		free(s->file);
		free(s->func);
		free(s->name);
		free(s->receiver);
		free(s->via);
	}
	for (size_t i = 0; i < h->funcs.n; i++) {
		struct cfunc *f = (struct cfunc *)h->funcs.v + i;

		free(f->symbol);
		free(f->object);
	}
	for (size_t i = 0; i < h->lines.n; i++) {
		struct cline *l = (struct cline *)h->lines.v + i;

		free(l->file);
		free(l->func);
	}
	free(h->spots.v);
	free(h->funcs.v);
	free(h->lines.v);
	hindex_drop(&h->spots.idx);
	hindex_drop(&h->funcs.idx);
	hindex_drop(&h->lines.idx);
	free(h);
}

static bool same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void *row_at(const struct table *t, size_t pos)
{
	return (char *)t->v + pos * t->size;
}

static uint64_t row_hash(const void *t, size_t pos)
{
	return *(const uint64_t *)row_at(t, pos);
}

/*
 * The row of t that match finds for key (hashed h), or a new zeroed one past
 * the end, holding only h, that table_keep adds once it is filled in. NULL
 * when the table is full (counted) or on ENOMEM (*err set).
 */
static void *table_row(struct table *t, uint64_t h, hindex_match_fn *match, const void *key, bool *fresh,
		       int *err)
{
	void *row;
	long pos;

	*fresh = false;
	*err = hindex_fit(&t->idx, t->n, row_hash, t);
	if (*err)
		return NULL;
	pos = hindex_find(&t->idx, h, row_hash, match, t, key);
	if (pos >= 0)
		return row_at(t, pos);
	if (t->n >= MAX_ROWS) {
		t->dropped++;
		return NULL;
	}
	*err = array_grow(&t->v, &t->cap, t->n, t->size, 32, 0);
	if (*err)
		return NULL;
	row = row_at(t, t->n);
	memset(row, 0, t->size);
	*(uint64_t *)row = h;
	*fresh = true;
	return row;
}

static void table_keep(struct table *t)
{
	hindex_add(&t->idx, row_hash(t, t->n), t->n);
	t->n++;
}

/* strdup of each string that is not NULL; false when one failed. */
static bool dup_all(char **dst[], const char *src[], int n)
{
	bool ok = true;

	for (int i = 0; i < n; i++) {
		*dst[i] = src[i] ? strdup(src[i]) : NULL;
		ok &= !src[i] || *dst[i];
	}
	if (!ok)
		for (int i = 0; i < n; i++) {
			free(*dst[i]);
			*dst[i] = NULL;
		}
	return ok;
}

struct spot_key {
	const struct pyframe *f;
	const struct pyattr *a;
	const char *via;
	int family;
};

static bool spot_match(const void *t, size_t pos, const void *key)
{
	const struct spot *s = row_at(t, pos);
	const struct spot_key *k = key;
	const struct pyframe *f = k->f;
	const struct pyattr *a = k->a;

	return s->family == k->family && s->line == (f ? f->line : 0) && same(s->file, f ? f->file : NULL) &&
	       same(s->func, f ? f->func : NULL) && same(s->name, a ? a->name : NULL) && same(s->via, k->via) &&
	       same(s->receiver, a ? a->receiver : NULL);
}

static int add_spot(struct hotspots *h, const struct pyframe *f, const struct pyattr *a, const char *via,
		    bool native)
{
	struct spot_key key = { f, a, via, a ? a->family : BC_NONE };
	uint64_t k = hash_int(hash_str(hash_str(HASH_INIT, f ? f->file : NULL), f ? f->func : NULL), f ? f->line : 0);
	struct spot *s;
	bool fresh;
	int err;

	k = hash_int(hash_str(hash_str(hash_str(k, a ? a->name : NULL), via), a ? a->receiver : NULL), key.family);
	s = table_row(&h->spots, k, spot_match, &key, &fresh, &err);
	if (!s)
		return err;
	if (fresh) {
		char **dst[] = { &s->file, &s->func, &s->name, &s->receiver, &s->via };
		const char *src[] = { f ? f->file : NULL, f ? f->func : NULL, a ? a->name : NULL,
				      a ? a->receiver : NULL, via };

		if (!dup_all(dst, src, 5))
			return -ENOMEM;
		s->line = f ? f->line : 0;
		s->family = key.family;
		if (a) {
			s->in_loop = a->in_loop;
			s->invariant = a->invariant;
			s->loop_line = a->loop_line;
		}
		table_keep(&h->spots);
	}
	s->samples++;
	s->native += native;
	return 0;
}

static bool func_match(const void *t, size_t pos, const void *key)
{
	const struct cfunc *c = row_at(t, pos);
	const struct nativeloc *leaf = key;

	return c->role == leaf->role && same(c->symbol, leaf->symbol) && same(c->object, leaf->object);
}

static int add_func(struct hotspots *h, const struct nativeloc *leaf)
{
	uint64_t k = hash_int(hash_str(hash_str(HASH_INIT, leaf->symbol), leaf->object), leaf->role);
	struct cfunc *c;
	bool fresh;
	int err;

	c = table_row(&h->funcs, k, func_match, leaf, &fresh, &err);
	if (!c)
		return err;
	if (fresh) {
		char **dst[] = { &c->symbol, &c->object };
		const char *src[] = { leaf->symbol, leaf->object };

		if (!dup_all(dst, src, 2))
			return -ENOMEM;
		c->role = leaf->role;
		table_keep(&h->funcs);
	}
	c->samples++;
	return 0;
}

static bool line_match(const void *t, size_t pos, const void *key)
{
	const struct cline *l = row_at(t, pos);
	const struct pyframe *f = key;

	return l->line == f->line && same(l->file, f->file) && same(l->func, f->func);
}

static int add_line(struct hotspots *h, const struct pyframe *f, int role)
{
	uint64_t k = hash_int(hash_str(hash_str(HASH_INIT, f->file), f->func), f->line);
	struct cline *l;
	bool fresh;
	int err;

	l = table_row(&h->lines, k, line_match, f, &fresh, &err);
	if (!l)
		return err;
	if (fresh) {
		char **dst[] = { &l->file, &l->func };
		const char *src[] = { f->file, f->func };

		if (!dup_all(dst, src, 2))
			return -ENOMEM;
		l->line = f->line;
		table_keep(&h->lines);
	}
	l->samples++;
	l->role[role]++;
	return 0;
}

static int churn_type_of(const char *symbol);

int hotspots__add(struct hotspots *h, const struct hot_sample *x)
{
	const struct pyframe *top = x->n > 0 ? &x->frames[0] : NULL;
	const struct nativeloc *leaf = x->leaf;
	int role = leaf ? leaf->role : NR_NONE, err = 0;

	h->samples++;
	h->python += x->n > 0;
	/*
	 * Only a thread holding the GIL (or whose GIL state is unknown) can be
	 * looking up attributes or making Python objects: kernel I/O, native
	 * code without the GIL (its malloc is not object churn) and the
	 * collector's own work (timed by pyprobe gc) are neither.
	 */
	if (x->state == PP_CPU_KERNEL_IO || x->state == PP_CPU_NOGIL) {
		h->other_state++;
		return 0;
	}
	if (x->gc) {
		h->gc++;
		return 0;
	}
	/* The leaf decides first: a sample in the allocator is churn, whatever instruction called it. */
	if (role == NR_ALLOC || role == NR_FREE || role == NR_GC_LINK) {
		h->churn++;
		h->role[role]++;
		if (churn_type_of(leaf->symbol) < 0 && x->makes > BCM_NOTHING && x->makes <= BCM_STRING)
			h->made[x->makes]++;
		err = add_func(h, leaf);
		if (!err && top)
			err = add_line(h, top, role);
		return err;
	}
	h->undecoded += x->undecoded;
	if (x->attr || role == NR_ATTR) {
		h->attr++;
		h->attr_bytecode += !!x->attr;
		h->attr_native += role == NR_ATTR;
		h->attr_native_only += role == NR_ATTR && !x->attr;
		/* A native lookup under another instruction (getattr(), hasattr(), C code) keeps its function. */
		err = add_spot(h, top, x->attr, x->attr ? NULL : leaf->symbol ? leaf->symbol : "?",
			       role == NR_ATTR);
	}
	return err;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / whole : 0.0;
}

struct rank {
	uint64_t samples;
	size_t pos;
};

/* Most samples first; equal counts in the order they were first seen. */
static int by_samples(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Row positions of t, most samples first (samples_off: where a row keeps its count). Caller frees. */
static size_t *ranked(const struct table *t, size_t samples_off)
{
	struct rank *v = calloc(t->n ? t->n : 1, sizeof(*v));
	size_t *out = malloc((t->n ? t->n : 1) * sizeof(*out));

	if (!v || !out) {
		free(v);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		memcpy(&v[i].samples, (const char *)t->v + i * t->size + samples_off, sizeof(uint64_t));
		v[i].pos = i;
	}
	qsort(v, t->n, sizeof(*v), by_samples);
	for (size_t i = 0; i < t->n; i++)
		out[i] = v[i].pos;
	free(v);
	return out;
}

/*
 * A method loaded to be called at once (LOAD_METHOD, 3.12+ LOAD_ATTR with the
 * method bit) is specialised from 3.11 on: load and call skip the bound
 * method object, and calling one kept in a local is slower. Measured with
 * obj.method() against m = obj.method; m() over 2M iterations: 7-25 % faster
 * cached on 3.6-3.10, 3 % faster to 17 % slower on 3.11-3.13. Value loads and
 * globals still gain from a local on 3.11+ (0-15 %, against 20-50 % before).
 */
static bool specialised_method(const struct hotspots *h, const struct spot *s)
{
	return s->family == BC_LOAD_METHOD && h->minor >= 11;
}

/* Whether caching the lookup in a local before its loop would pay. */
static bool cache_pays(const struct hotspots *h, const struct spot *s)
{
	return s->in_loop && s->invariant && s->receiver && *s->receiver && !specialised_method(h, s) &&
	       (s->family == BC_LOAD_ATTR || s->family == BC_LOAD_METHOD || s->family == BC_LOAD_GLOBAL);
}

static void spot_advice(const struct hotspots *h, const struct spot *s, char *buf, size_t n)
{
	const char *name = s->name ? s->name : "?";

	if (s->via) {
		snprintf(buf, n, "attribute lookup in native code (%s) called from this line: getattr()/hasattr() "
			 "or a C extension looking up attributes; look names up once outside hot loops", s->via);
	} else if (specialised_method(h, s) && s->in_loop && s->invariant) {
		snprintf(buf, n, "%s.%s() is looked up on every iteration of the loop at line %d, but Python 3.%d "
			 "specialises a method call: keeping the bound method in a local would be slower; "
			 "call it less often instead", s->receiver && *s->receiver ? s->receiver : "(an expression)",
			 name, s->loop_line, h->minor);
	} else if (cache_pays(h, s) && s->family == BC_LOAD_GLOBAL) {
		snprintf(buf, n, "global %s is looked up on every iteration of the loop at line %d: bind it to a "
			 "local before the loop (%s_ = %s)", name, s->loop_line, name, name);
	} else if (cache_pays(h, s)) {
		snprintf(buf, n, "%s.%s is looked up on every iteration of the loop at line %d and %s is not "
			 "rebound there: cache it in a local before the loop (%s = %s.%s)", s->receiver, name,
			 s->loop_line, s->receiver, name, s->receiver, name);
	} else if (s->family == BC_STORE_ATTR || s->family == BC_DELETE_ATTR) {
		snprintf(buf, n, "attribute %s%s: keep the value in a local while working on it and %s once, or use "
			 "__slots__", s->family == BC_STORE_ATTR ? "store" : "delete",
			 s->in_loop ? " in a loop" : "", s->family == BC_STORE_ATTR ? "store it" : "delete it");
	} else if (s->in_loop) {
		snprintf(buf, n, "looked up in the loop at line %d, where its receiver %s or the attribute itself "
			 "changes (or the receiver is not a plain name): a local copy could go stale; fewer "
			 "lookups per iteration would help", s->loop_line,
			 s->receiver && *s->receiver ? s->receiver : "(an expression)");
	} else {
		snprintf(buf, n, "not in a loop of its own function: the function is called often; cache the "
			 "value in its caller or pass it in");
	}
}

static json_t *str_or_null(const char *s)
{
	return s ? utf8_json_string(s) : json_null();
}

/* What a spot's row calls its receiver: a global is looked up by its own name, it has none. */
static const char *spot_receiver(const struct spot *s)
{
	return s->family == BC_LOAD_GLOBAL || !s->receiver || !*s->receiver ? NULL : s->receiver;
}

json_t *hotspots__attrs(const struct hotspots *h, int limit)
{
	size_t *order = ranked(&h->spots, offsetof(struct spot, samples));
	json_t *spots = json_array(), *o;

	if (!order || !spots) {
		free(order);
		json_decref(spots);
		return NULL;
	}
	for (size_t i = 0; i < h->spots.n && (int)i < limit; i++) {
		const struct spot *s = (const struct spot *)h->spots.v + order[i];
		char advice[512];
		json_t *row;

		spot_advice(h, s, advice, sizeof(advice));
		row = json_pack("{s:i, s:s, s:I, s:f, s:I, s:b, s:b, s:b}", "line", s->line, "op",
				s->via ? "native" : bytecode_family_name(s->family), "samples", (json_int_t)s->samples,
				"share", share(s->samples, h->samples), "native_samples", (json_int_t)s->native,
				"in_loop", s->in_loop, "receiver_invariant", s->invariant, "cache_in_local",
				cache_pays(h, s));
		if (!row)
			continue;
		/* Names come from the target and from ELF files: any bytes, made valid UTF-8. */
		json_object_set_new(row, "file", str_or_null(s->file));
		json_object_set_new(row, "function", str_or_null(s->func));
		json_object_set_new(row, "name", str_or_null(s->name));
		json_object_set_new(row, "receiver", str_or_null(spot_receiver(s)));
		json_object_set_new(row, "advice", utf8_json_string(advice));
		if (s->via)
			json_object_set_new(row, "native_function", utf8_json_string(s->via));
		if (s->in_loop)
			json_object_set_new(row, "loop_line", json_integer(s->loop_line));
		json_array_append_new(spots, row);
	}
	free(order);
	o = json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "samples",
		      (json_int_t)h->samples, "python_samples", (json_int_t)h->python, "attr_samples",
		      (json_int_t)h->attr, "share", share(h->attr, h->samples), "bytecode_samples",
		      (json_int_t)h->attr_bytecode, "native_samples", (json_int_t)h->attr_native,
		      "native_only_samples", (json_int_t)h->attr_native_only, "undecoded_samples",
		      (json_int_t)h->undecoded, "gc_samples", (json_int_t)h->gc, "other_state_samples",
		      (json_int_t)h->other_state, "dropped_samples", (json_int_t)h->spots.dropped, "spots", spots);
	return o;
}

json_t *hotspots__churn(const struct hotspots *h, int limit)
{
	size_t *fo = ranked(&h->funcs, offsetof(struct cfunc, samples));
	size_t *lo = ranked(&h->lines, offsetof(struct cline, samples));
	json_t *funcs = json_array(), *lines = json_array(), *roles = json_object(), *o;

	if (!fo || !lo || !funcs || !lines || !roles) {
		free(fo);
		free(lo);
		json_decref(funcs);
		json_decref(lines);
		json_decref(roles);
		return NULL;
	}
	for (int r = NR_ALLOC; r <= NR_GC_LINK; r++)
		json_object_set_new(roles, nativesym_role_name(r),
				    json_pack("{s:I, s:f}", "samples", (json_int_t)h->role[r], "share",
					      share(h->role[r], h->samples)));
	for (size_t i = 0; i < h->funcs.n && (int)i < limit; i++) {
		const struct cfunc *c = (const struct cfunc *)h->funcs.v + fo[i];

		json_t *row = json_pack("{s:s, s:I, s:f}", "role", nativesym_role_name(c->role), "samples",
					(json_int_t)c->samples, "share", share(c->samples, h->samples));

		if (!row)
			continue;
		json_object_set_new(row, "symbol", str_or_null(c->symbol));
		json_object_set_new(row, "object", str_or_null(c->object));
		json_array_append_new(funcs, row);
	}
	for (size_t i = 0; i < h->lines.n && (int)i < limit; i++) {
		const struct cline *l = (const struct cline *)h->lines.v + lo[i];

		json_t *row = json_pack("{s:i, s:I, s:f, s:I, s:I, s:I}", "line", l->line, "samples",
					(json_int_t)l->samples, "share", share(l->samples, h->samples), "alloc",
					(json_int_t)l->role[NR_ALLOC], "free", (json_int_t)l->role[NR_FREE], "gc_link",
					(json_int_t)l->role[NR_GC_LINK]);

		if (!row)
			continue;
		json_object_set_new(row, "file", str_or_null(l->file));
		json_object_set_new(row, "function", str_or_null(l->func));
		json_array_append_new(lines, row);
	}
	free(fo);
	free(lo);
	o = json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:o, s:o, s:o}", "samples", (json_int_t)h->samples,
		      "python_samples", (json_int_t)h->python, "churn_samples", (json_int_t)h->churn, "share",
		      share(h->churn, h->samples), "gc_samples", (json_int_t)h->gc, "other_state_samples",
		      (json_int_t)h->other_state, "by_role", roles, "functions", funcs, "lines", lines);
	return o;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/*
 * What an allocation or deallocation function makes or frees, from its name:
 * exported and static names (PyFloat_FromDouble, tupledealloc, dict_dealloc)
 * and the slot names nativesym gives stripped builds ("list.tp_dealloc").
 * The allocator itself (pymalloc, malloc, GC linking) does not say.
 */
static const struct churn_type {
	const char *match;	/* substring of the lower-cased symbol */
	const char *type;
	int kind;
} churn_types[] = {
	{ "float", "float", CHURN_NUMBER },	   { "complex", "complex", CHURN_NUMBER },
	{ "long", "int", CHURN_NUMBER },	   { "bool", "int", CHURN_NUMBER },
	{ "tuple", "tuple", CHURN_CONTAINER },	   { "list", "list", CHURN_CONTAINER },
	{ "dict", "dict", CHURN_CONTAINER },	   { "frozenset", "set", CHURN_CONTAINER },
	{ "set", "set", CHURN_CONTAINER },	   { "range", "range", CHURN_CONTAINER },
	{ "iter", "iterator", CHURN_CONTAINER },   { "slice", "slice", CHURN_CONTAINER },
	{ "unicode", "str", CHURN_STRING },	   { "bytearray", "bytearray", CHURN_STRING },
	{ "bytes", "bytes", CHURN_STRING },	   { "subtype", "instance", CHURN_INSTANCE },
	{ "method", "method", CHURN_CALL },	   { "frame", "frame", CHURN_CALL },
	{ "cell", "cell", CHURN_CALL },		   { "func", "function", CHURN_CALL },
	{ "gen_", "generator", CHURN_CALL },	   { "generator", "generator", CHURN_CALL },
	{ "coro", "coroutine", CHURN_CALL },
};
#define NCHURN_TYPES (sizeof(churn_types) / sizeof(churn_types[0]))

/* Allocator samples typed by their instruction (enum bc_makes), as kinds and as names. */
static const struct {
	int kind;
	const char *name;
} made_kinds[] = {
	[BCM_NUMBER] = { CHURN_NUMBER, "arithmetic results" },
	[BCM_CONTAINER] = { CHURN_CONTAINER, "containers built" },
	[BCM_STRING] = { CHURN_STRING, "strings built" },
};
/* Per type name: churn_types, then the allocator, then made_kinds from BCM_NUMBER. */
#define NTYPE_TOTALS (NCHURN_TYPES + 1 + BCM_STRING)

/* The churn_types entry for symbol, or -1 (allocator, or unknown). */
static int churn_type_of(const char *symbol)
{
	char low[128];
	size_t i;

	if (!symbol)
		return -1;
	for (i = 0; symbol[i] && i < sizeof(low) - 1; i++)
		low[i] = (symbol[i] >= 'A' && symbol[i] <= 'Z') ? symbol[i] - 'A' + 'a' : symbol[i];
	low[i] = 0;
	/*
	 * The allocator's own names say nothing of the type, nor does
	 * object_dealloc (ints use it before 3.12) or a generic allocator.
	 */
	if (strstr(low, "malloc") || strstr(low, "_gc_") || strstr(low, "arena") || strstr(low, "generic") ||
	    strstr(low, "object_dealloc"))
		return -1;
	for (size_t k = 0; k < NCHURN_TYPES; k++)
		if (strstr(low, churn_types[k].match))
			return (int)k;
	return -1;
}

/* Churn samples by type (the entries of churn_types; the last slot: not told apart). */
static void churn_by_type(const struct hotspots *h, uint64_t *by, size_t n)
{
	memset(by, 0, n * sizeof(*by));
	for (size_t i = 0; i < h->funcs.n; i++) {
		const struct cfunc *c = (const struct cfunc *)h->funcs.v + i;
		int k = churn_type_of(c->symbol);

		by[k < 0 ? NCHURN_TYPES : (size_t)k] += c->samples;
	}
}

void hotspots__mix(const struct hotspots *h, struct cpu_mix *m)
{
	uint64_t by[NCHURN_TYPES + 1], type_total[NTYPE_TOTALS] = {};
	size_t used = 0;
	memset(m, 0, sizeof(*m));
	m->measured = true;
	m->samples = h->samples;
	m->attr = h->attr;
	m->churn = h->churn;
	for (size_t i = 0; i < h->spots.n; i++) {
		const struct spot *s = (const struct spot *)h->spots.v + i;

		if (s->samples <= m->attr_spot_samples)
			continue;
		m->attr_spot_samples = s->samples;
		copy(m->attr_name, sizeof(m->attr_name), s->via ? s->via : s->name);
		copy(m->attr_receiver, sizeof(m->attr_receiver), spot_receiver(s));
		copy(m->attr_file, sizeof(m->attr_file), s->file);
		m->attr_line = s->line;
		m->attr_loop_line = s->loop_line;
		m->attr_cache_pays = cache_pays(h, s);
	}
	for (size_t i = 0; i < h->lines.n; i++) {
		const struct cline *l = (const struct cline *)h->lines.v + i;

		if (l->samples <= m->churn_line_samples)
			continue;
		m->churn_line_samples = l->samples;
		copy(m->churn_file, sizeof(m->churn_file), l->file);
		copy(m->churn_func, sizeof(m->churn_func), l->func);
		m->churn_line = l->line;
	}
	/*
	 * Kinds, and the commonest type names ("tuple 40%, dict 22%"). Samples
	 * in the allocator itself go by what their instruction makes where it
	 * says (arithmetic, building containers or strings); the rest stay
	 * "allocator".
	 */
	churn_by_type(h, by, NCHURN_TYPES + 1);
	for (size_t k = 0; k < NCHURN_TYPES; k++) {
		size_t same = k;

		m->churn_kind[churn_types[k].kind] += by[k];
		/* Several matches name one type (long, bool: int). */
		for (size_t j = 0; j < k; j++)
			if (!strcmp(churn_types[j].type, churn_types[k].type))
				same = j;
		type_total[same] += by[k];
	}
	for (int k = BCM_NUMBER; k <= BCM_STRING; k++) {
		uint64_t n = h->made[k] < by[NCHURN_TYPES] ? h->made[k] : by[NCHURN_TYPES];

		by[NCHURN_TYPES] -= n;
		m->churn_kind[made_kinds[k].kind] += n;
		type_total[NCHURN_TYPES + k] = n;
	}
	m->churn_kind[CHURN_OTHER] += by[NCHURN_TYPES];
	type_total[NCHURN_TYPES] = by[NCHURN_TYPES];
	for (int shown = 0; shown < 3 && h->churn; shown++) {
		size_t best = 0;

		for (size_t k = 1; k < NTYPE_TOTALS; k++)
			if (type_total[k] > type_total[best])
				best = k;
		if (!type_total[best] || (double)type_total[best] / h->churn < 0.05)
			break;
		used += snprintf(m->churn_types + used, used < sizeof(m->churn_types) ? sizeof(m->churn_types) - used : 0,
				 "%s%s %.0f%%", shown ? ", " : "", best < NCHURN_TYPES ? churn_types[best].type :
				 best == NCHURN_TYPES ? "allocator" : made_kinds[best - NCHURN_TYPES].name,
				 100.0 * type_total[best] / h->churn);
		type_total[best] = 0;
		if (used >= sizeof(m->churn_types))
			break;
	}
}
