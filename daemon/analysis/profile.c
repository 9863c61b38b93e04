// SPDX-License-Identifier: MIT
/*
 * Aggregation of sampled stacks. Frames are interned as (file, function,
 * first line, line); functions as (file, function, first line). Each sample
 * adds one to its leaf's "self" and once to every distinct function and line
 * on its stack ("total"), so recursion is not counted twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "array.h"
#include "hindex.h"
#include "profile.h"

struct func {
	char *file, *name;
	int firstline;
	uint64_t self, total;
	uint32_t mark;		/* last sample that counted it in total */
	uint64_t hash;
};

struct line {
	uint32_t func;
	int line;
	uint64_t self, total;
	uint32_t mark;
	uint64_t hash;
};

/* A distinct stack: line ids, innermost first; in a wall profile, the time it stands for. */
struct stack {
	uint64_t hash, count;
	uint64_t ns[PROFILE_NVALUES];
	uint32_t *ids;
	uint32_t n;
};

struct native {
	char *symbol, *object;
	const char *kind;	/* static strings from nativesym */
	uint64_t count;
	uint64_t hash;
};

/*
 * Functions, lines, stacks and native leaves are found through hash indexes
 * (hindex.h): a target decides how many there are and how alike their names
 * are, and a linear search costing 64 frames x 20000 names per sample kept
 * the daemon busy for good (tests/bats/090-hostile.bats).
 */
struct profile {
	struct native *natives;
	size_t nnatives, capnatives;
	struct stack *stacks;
	size_t nstacks, capstacks;
	uint64_t dropped_stacks;
	struct func *funcs;
	size_t nfuncs, capfuncs;
	struct line *lines;
	size_t nlines, caplines;
	struct hindex funcs_idx, lines_idx, stacks_idx, natives_idx;
	uint64_t samples, python, gil, nogil, unknown, kernel_io, gc, no_python;
	uint32_t sample_id;
	uint64_t period_ns;	/* a wall profile: what one CPU sample stands for (0: a CPU profile) */
	uint64_t off_samples;	/* ... and its off-CPU observations */
};

struct profile *profile__new(void)
{
	return calloc(1, sizeof(struct profile));
}

void profile__free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfuncs; i++) {
		free(p->funcs[i].file);
		free(p->funcs[i].name);
	}
	for (size_t i = 0; i < p->nstacks; i++)
		free(p->stacks[i].ids);
	for (size_t i = 0; i < p->nnatives; i++) {
		free(p->natives[i].symbol);
		free(p->natives[i].object);
	}
	free(p->natives);
	free(p->stacks);
	free(p->funcs);
	free(p->lines);
	hindex_drop(&p->funcs_idx);
	hindex_drop(&p->lines_idx);
	hindex_drop(&p->stacks_idx);
	hindex_drop(&p->natives_idx);
	free(p);
}

/* Bounds on what one window keeps: a target chooses how many functions it has. */
#define MAX_FUNCS 20000
#define MAX_LINES 50000
#define MAX_STACKS 100000

static uint64_t stack_hash(const void *v, size_t i)
{
	return ((const struct stack *)v)[i].hash;
}

struct stack_key {
	uint64_t hash;
	const uint32_t *ids;
	uint32_t n;
};

static bool stack_match(const void *v, size_t i, const void *key)
{
	const struct stack *s = (const struct stack *)v + i;
	const struct stack_key *k = key;

	return s->n == k->n && !memcmp(s->ids, k->ids, k->n * sizeof(*k->ids));
}

static int stack_add(struct profile *p, const uint32_t *ids, uint32_t n, const uint64_t *ns)
{
	struct stack_key key = { hash_bytes(HASH_INIT, ids, n * sizeof(*ids)), ids, n };
	struct stack *s;
	long pos;
	int err;

	err = hindex_fit(&p->stacks_idx, p->nstacks, stack_hash, p->stacks);
	if (err)
		return err;
	pos = hindex_find(&p->stacks_idx, key.hash, stack_hash, stack_match, p->stacks, &key);
	if (pos >= 0) {
		p->stacks[pos].count++;
		for (int v = 0; ns && v < PROFILE_NVALUES; v++)
			p->stacks[pos].ns[v] += ns[v];
		return 0;
	}
	if (p->nstacks >= MAX_STACKS) {
		p->dropped_stacks++;
		return 0;
	}
	err = ARRAY_GROW(&p->stacks, &p->capstacks, p->nstacks, 1024, 0);
	if (err)
		return err;
	s = &p->stacks[p->nstacks];
	s->ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!s->ids)
		return -ENOMEM;
	memcpy(s->ids, ids, n * sizeof(*ids));
	s->n = n;
	s->count = 1;
	for (int v = 0; v < PROFILE_NVALUES; v++)
		s->ns[v] = ns ? ns[v] : 0;
	s->hash = key.hash;
	hindex_add(&p->stacks_idx, key.hash, p->nstacks++);
	return 0;
}

static uint64_t func_hash(const void *v, size_t i)
{
	return ((const struct func *)v)[i].hash;
}

struct func_key {
	uint64_t hash;
	const struct pyframe *f;
};

static bool func_match(const void *v, size_t i, const void *key)
{
	const struct func *x = (const struct func *)v + i;
	const struct func_key *k = key;

	return x->firstline == k->f->firstline && !strcmp(x->name, k->f->func) &&
	       !strcmp(x->file, k->f->file);
}

static long func_id(struct profile *p, const struct pyframe *f)
{
	struct func_key key = { hash_int(hash_str(hash_str(HASH_INIT, f->file), f->func), f->firstline), f };
	long pos;
	int err;

	err = hindex_fit(&p->funcs_idx, p->nfuncs, func_hash, p->funcs);
	if (err)
		return err;
	pos = hindex_find(&p->funcs_idx, key.hash, func_hash, func_match, p->funcs, &key);
	if (pos >= 0)
		return pos;
	if (p->nfuncs >= MAX_FUNCS)
		return -ENOSPC;
	err = ARRAY_GROW(&p->funcs, &p->capfuncs, p->nfuncs, 64, 0);
	if (err)
		return err;
	p->funcs[p->nfuncs] = (struct func){ strdup(f->file), strdup(f->func), f->firstline, 0, 0, 0, key.hash };
	if (!p->funcs[p->nfuncs].file || !p->funcs[p->nfuncs].name) {
		free(p->funcs[p->nfuncs].file);
		free(p->funcs[p->nfuncs].name);
		return -ENOMEM;
	}
	hindex_add(&p->funcs_idx, key.hash, p->nfuncs);
	return p->nfuncs++;
}

static uint64_t line_hash(const void *v, size_t i)
{
	return ((const struct line *)v)[i].hash;
}

static bool line_match(const void *v, size_t i, const void *key)
{
	const struct line *x = (const struct line *)v + i, *k = key;

	return x->func == k->func && x->line == k->line;
}

static long line_id(struct profile *p, uint32_t fid, int line)
{
	struct line key = { .func = fid, .line = line, .hash = hash_int(hash_int(HASH_INIT, fid), line) };
	long pos;
	int err;

	err = hindex_fit(&p->lines_idx, p->nlines, line_hash, p->lines);
	if (err)
		return err;
	pos = hindex_find(&p->lines_idx, key.hash, line_hash, line_match, p->lines, &key);
	if (pos >= 0)
		return pos;
	if (p->nlines >= MAX_LINES)
		return -ENOSPC;
	err = ARRAY_GROW(&p->lines, &p->caplines, p->nlines, 128, 0);
	if (err)
		return err;
	p->lines[p->nlines] = key;
	hindex_add(&p->lines_idx, key.hash, p->nlines);
	return p->nlines++;
}

void profile__set_wall(struct profile *p, uint64_t period_ns)
{
	p->period_ns = period_ns;
}

/* Frames (innermost first) to line ids, counting self and total; the number of ids, or -errno. */
static int line_ids(struct profile *p, const struct pyframe *frames, int n, uint32_t *ids)
{
	uint32_t id = ++p->sample_id;

	for (int i = 0; i < n; i++) {
		long f = func_id(p, &frames[i]), l;

		if (f < 0)
			return (int)f;
		l = line_id(p, f, frames[i].line);
		if (l < 0)
			return (int)l;
		ids[i] = l;
		if (i == 0) {
			p->funcs[f].self++;
			p->lines[l].self++;
		}
		if (p->funcs[f].mark != id) {
			p->funcs[f].mark = id;
			p->funcs[f].total++;
		}
		if (p->lines[l].mark != id) {
			p->lines[l].mark = id;
			p->lines[l].total++;
		}
	}
	return n;
}

int profile__add_off(struct profile *p, const struct pyframe *frames, int n, const char *reason, uint64_t ns,
		     bool gil)
{
	struct pyframe all[PP_MAX_FRAMES + 1];
	uint64_t v[PROFILE_NVALUES] = { 0, ns, gil ? ns : 0 };
	uint32_t ids[PP_MAX_FRAMES + 1];
	int k;

	if (n > PP_MAX_FRAMES)
		n = PP_MAX_FRAMES;
	all[0] = (struct pyframe){ "", reason, 0, 0 };
	memcpy(all + 1, frames, n * sizeof(*frames));
	p->off_samples++;
	k = line_ids(p, all, n + 1, ids);
	if (k < 0)
		return k == -ENOSPC ? 0 : k;
	return stack_add(p, ids, k, v);
}

int profile__add(struct profile *p, const struct pyframe *frames, int n, int state, int gc)
{
	uint64_t v[PROFILE_NVALUES] = { p->period_ns, p->period_ns, 0 };
	uint32_t ids[PP_MAX_FRAMES];
	int k;

	p->samples++;
	p->gil += state == PP_CPU_GIL;
	p->nogil += state == PP_CPU_NOGIL;
	p->unknown += state == PP_CPU_UNKNOWN;
	p->kernel_io += state == PP_CPU_KERNEL_IO;
	p->gc += !!gc;
	if (n > PP_MAX_FRAMES)
		n = PP_MAX_FRAMES;
	if (n == 0) {
		p->no_python++;
		return 0;
	}
	p->python++;
	k = line_ids(p, frames, n, ids);
	if (k < 0)
		return k == -ENOSPC ? 0 : k;
	return stack_add(p, ids, k, p->period_ns ? v : NULL);
}

#define MAX_NATIVES 5000

static uint64_t native_hash(const void *v, size_t i)
{
	return ((const struct native *)v)[i].hash;
}

static bool native_match(const void *v, size_t i, const void *key)
{
	const struct native *n = (const struct native *)v + i, *k = key;

	return !strcmp(n->symbol, k->symbol) && !strcmp(n->object, k->object);
}

int profile__add_native(struct profile *p, const char *symbol, const char *object, const char *kind)
{
	struct native key = { .symbol = (char *)(symbol ? symbol : ""), .object = (char *)object };
	struct native *n;
	long pos;
	int err;

	key.hash = hash_str(hash_str(HASH_INIT, key.symbol), object);
	/* Sorting (profile__top) moves the entries and drops the index: this rebuilds it. */
	err = hindex_fit(&p->natives_idx, p->nnatives, native_hash, p->natives);
	if (err)
		return err;
	pos = hindex_find(&p->natives_idx, key.hash, native_hash, native_match, p->natives, &key);
	if (pos >= 0) {
		p->natives[pos].count++;
		return 0;
	}
	if (p->nnatives >= MAX_NATIVES)
		return 0;
	err = ARRAY_GROW(&p->natives, &p->capnatives, p->nnatives, 64, 0);
	if (err)
		return err;
	n = &p->natives[p->nnatives];
	*n = (struct native){ strdup(key.symbol), strdup(object), kind, 1, key.hash };
	if (!n->symbol || !n->object) {
		free(n->symbol);
		free(n->object);
		return -ENOMEM;
	}
	hindex_add(&p->natives_idx, key.hash, p->nnatives++);
	return 0;
}

static int by_native_count(const void *a, const void *b)
{
	const struct native *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static const struct profile *sort_ctx;

static int by_func_self(const void *a, const void *b)
{
	const struct func *x = &sort_ctx->funcs[*(const size_t *)a], *y = &sort_ctx->funcs[*(const size_t *)b];

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static int by_func_total(const void *a, const void *b)
{
	const struct func *x = &sort_ctx->funcs[*(const size_t *)a], *y = &sort_ctx->funcs[*(const size_t *)b];

	return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static int by_line_self(const void *a, const void *b)
{
	const struct line *x = &sort_ctx->lines[*(const size_t *)a], *y = &sort_ctx->lines[*(const size_t *)b];

	return x->self < y->self ? 1 : x->self > y->self ? -1 : 0;
}

static json_t *func_row(const struct profile *p, size_t i)
{
	const struct func *f = &p->funcs[i];

	return json_pack("{s:s, s:s, s:i, s:I, s:I, s:f, s:f}", "function", f->name, "file", f->file, "line",
			 f->firstline, "self", (json_int_t)f->self, "total", (json_int_t)f->total, "self_share",
			 p->samples ? (double)f->self / p->samples : 0.0, "total_share",
			 p->samples ? (double)f->total / p->samples : 0.0);
}

json_t *profile__top(struct profile *p, int limit)
{
	json_t *natives;
	size_t nf = p->nfuncs, nl = p->nlines;
	size_t *fi = malloc((nf ? nf : 1) * sizeof(size_t)), *li = malloc((nl ? nl : 1) * sizeof(size_t));
	json_t *self = json_array(), *total = json_array(), *lines = json_array(), *o;

	if (!fi || !li) {
		free(fi);
		free(li);
		json_decref(self);
		json_decref(total);
		json_decref(lines);
		return NULL;
	}
	for (size_t i = 0; i < nf; i++)
		fi[i] = i;
	for (size_t i = 0; i < nl; i++)
		li[i] = i;
	sort_ctx = p;
	qsort(fi, nf, sizeof(*fi), by_func_self);
	for (size_t i = 0; i < nf && (int)i < limit && p->funcs[fi[i]].self; i++)
		json_array_append_new(self, func_row(p, fi[i]));
	qsort(fi, nf, sizeof(*fi), by_func_total);
	for (size_t i = 0; i < nf && (int)i < limit; i++)
		json_array_append_new(total, func_row(p, fi[i]));
	qsort(li, nl, sizeof(*li), by_line_self);
	for (size_t i = 0; i < nl && (int)i < limit && p->lines[li[i]].self; i++) {
		const struct line *l = &p->lines[li[i]];
		const struct func *f = &p->funcs[l->func];

		json_array_append_new(lines, json_pack("{s:s, s:s, s:i, s:I, s:I, s:f, s:f}", "function", f->name,
						       "file", f->file, "line", l->line, "self", (json_int_t)l->self,
						       "total", (json_int_t)l->total, "self_share",
						       p->samples ? (double)l->self / p->samples : 0.0, "total_share",
						       p->samples ? (double)l->total / p->samples : 0.0));
	}
	free(fi);
	free(li);
	natives = json_array();
	if (p->nnatives) {
		qsort(p->natives, p->nnatives, sizeof(*p->natives), by_native_count);
		hindex_drop(&p->natives_idx);
	}
	for (size_t i = 0; i < p->nnatives && (int)i < limit; i++) {
		const struct native *n = &p->natives[i];

		json_array_append_new(natives, json_pack("{s:s?, s:s, s:s, s:I, s:f}", "symbol", *n->symbol ? n->symbol : NULL,
							 "object", n->object, "kind", n->kind, "samples",
							 (json_int_t)n->count, "share",
							 p->samples ? (double)n->count / p->samples : 0.0));
	}
	o = json_pack("{s:I, s:I, s:I, s:{s:f, s:f, s:f, s:f}, s:o, s:o, s:o}", "samples", (json_int_t)p->samples,
		      "python_samples", (json_int_t)p->python, "no_python_samples", (json_int_t)p->no_python, "share",
		      "gil", p->samples ? (double)p->gil / p->samples : 0.0, "native", p->samples ?
		      (double)(p->nogil + p->unknown) / p->samples : 0.0, "kernel_io", p->samples ?
		      (double)p->kernel_io / p->samples : 0.0, "gc", p->samples ? (double)p->gc / p->samples : 0.0,
		      "functions_by_self", self, "functions_by_total", total, "lines", lines);
	json_object_set_new(o, "native_leaves", natives);
	return o;
}

json_t *profile__stacks(const struct profile *p)
{
	json_t *frames = json_array(), *stacks = json_array(), *o;

	for (size_t i = 0; i < p->nlines; i++) {
		const struct line *l = &p->lines[i];
		const struct func *f = &p->funcs[l->func];
		json_t *fr = json_pack("{s:s, s:s, s:i, s:i}", "function", f->name, "file", f->file, "line", l->line,
				       "firstline", f->firstline);

		/* Stacks refer to frames by position: a name JSON refuses must not shift the rest. */
		if (!fr)
			fr = json_pack("{s:s, s:s, s:i, s:i}", "function", "?", "file", "?", "line", l->line,
				       "firstline", f->firstline);
		json_array_append_new(frames, fr);
	}
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct stack *s = &p->stacks[i];
		json_t *ids = json_array();

		for (uint32_t k = 0; k < s->n; k++)
			json_array_append_new(ids, json_integer(s->ids[k]));
		if (p->period_ns)
			json_array_append_new(stacks, json_pack("{s:o, s:I, s:I, s:I, s:I}", "frames", ids, "count",
								(json_int_t)s->count, "cpu_ns", (json_int_t)s->ns[0],
								"wall_ns", (json_int_t)s->ns[1], "gil_wait_ns",
								(json_int_t)s->ns[2]));
		else
			json_array_append_new(stacks, json_pack("{s:o, s:I}", "frames", ids, "count", (json_int_t)s->count));
	}
	o = json_pack("{s:I, s:I, s:I, s:o, s:o}", "samples", (json_int_t)p->samples, "no_python_samples",
		      (json_int_t)p->no_python, "dropped_stacks", (json_int_t)p->dropped_stacks, "frames", frames,
		      "stacks", stacks);
	if (o && p->period_ns) {
		json_object_set_new(o, "wall", json_true());
		json_object_set_new(o, "off_cpu_samples", json_integer((json_int_t)p->off_samples));
	}
	return o;
}
