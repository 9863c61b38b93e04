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

/* A distinct stack: line ids, innermost first. */
struct stack {
	uint64_t hash, count;
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
 * Functions, lines and native leaves are found through hash indexes: a
 * target decides how many there are and how alike their names are, and a
 * linear search costing 64 frames x 20000 names per sample kept the daemon
 * busy for good (tests/bats/090-hostile.bats). Open addressing, at most half
 * full; a slot holds an entry's position + 1, 0 is empty.
 */
struct index {
	uint32_t *slot;
	size_t cap;		/* a power of two, or 0 */
};

struct profile {
	struct native *natives;
	size_t nnatives, capnatives;
	struct stack *stacks;	/* open addressing, capstacks a power of two */
	size_t nstacks, capstacks;
	uint64_t dropped_stacks;
	struct func *funcs;
	size_t nfuncs, capfuncs;
	struct line *lines;
	size_t nlines, caplines;
	struct index funcs_idx, lines_idx, natives_idx;
	uint64_t samples, python, gil, nogil, unknown, kernel_io, gc, no_python;
	uint32_t sample_id;
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
	for (size_t i = 0; i < p->capstacks; i++)
		free(p->stacks[i].ids);
	for (size_t i = 0; i < p->nnatives; i++) {
		free(p->natives[i].symbol);
		free(p->natives[i].object);
	}
	free(p->natives);
	free(p->stacks);
	free(p->funcs);
	free(p->lines);
	free(p->funcs_idx.slot);
	free(p->lines_idx.slot);
	free(p->natives_idx.slot);
	free(p);
}

/* Bounds on what one window keeps: a target chooses how many functions it has. */
#define MAX_FUNCS 20000
#define MAX_LINES 50000
#define MAX_STACKS 100000

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t hash_ids(const uint32_t *ids, uint32_t n)
{
	uint64_t h = FNV_OFFSET;

	for (uint32_t i = 0; i < n; i++) {
		h ^= ids[i];
		h *= FNV_PRIME;
	}
	return h | 1;	/* 0 marks an empty slot */
}

static int stack_add(struct profile *p, const uint32_t *ids, uint32_t n)
{
	uint64_t h = hash_ids(ids, n);
	size_t mask, i;

	if (p->nstacks * 2 >= p->capstacks) {
		size_t cap = p->capstacks ? p->capstacks * 2 : 1024;
		struct stack *v;

		if (p->nstacks >= MAX_STACKS) {
			p->dropped_stacks++;
			return 0;
		}
		v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t k = 0; k < p->capstacks; k++) {
			struct stack *s = &p->stacks[k];

			if (!s->hash)
				continue;
			for (i = s->hash & (cap - 1); v[i].hash; i = (i + 1) & (cap - 1))
				;
			v[i] = *s;
		}
		free(p->stacks);
		p->stacks = v;
		p->capstacks = cap;
	}
	mask = p->capstacks - 1;
	for (i = h & mask; p->stacks[i].hash; i = (i + 1) & mask) {
		struct stack *s = &p->stacks[i];

		if (s->hash == h && s->n == n && !memcmp(s->ids, ids, n * sizeof(*ids))) {
			s->count++;
			return 0;
		}
	}
	p->stacks[i].ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!p->stacks[i].ids)
		return -ENOMEM;
	memcpy(p->stacks[i].ids, ids, n * sizeof(*ids));
	p->stacks[i].n = n;
	p->stacks[i].count = 1;
	p->stacks[i].hash = h;
	p->nstacks++;
	return 0;
}

static uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return hash_bytes(h, s, strlen(s) + 1);
}

static void index_put(uint32_t *slot, size_t cap, uint64_t hash, size_t pos)
{
	size_t k;

	for (k = hash & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
		;
	slot[k] = pos + 1;
}

/* Make room in ix for one entry more than the n there are: rebuilt, from hash_of, when it grows. */
static int index_fit(struct index *ix, size_t n, const struct profile *p,
		     uint64_t (*hash_of)(const struct profile *p, size_t i))
{
	size_t cap = 256;
	uint32_t *v;

	if (ix->cap && (n + 1) * 2 <= ix->cap)
		return 0;
	while ((n + 1) * 2 > cap)
		cap *= 2;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		index_put(v, cap, hash_of(p, i), i);
	free(ix->slot);
	ix->slot = v;
	ix->cap = cap;
	return 0;
}

static uint64_t func_hash(const struct profile *p, size_t i)
{
	return p->funcs[i].hash;
}

static uint64_t line_hash(const struct profile *p, size_t i)
{
	return p->lines[i].hash;
}

static uint64_t native_hash(const struct profile *p, size_t i)
{
	return p->natives[i].hash;
}

static long func_id(struct profile *p, const struct pyframe *f)
{
	uint64_t h = hash_bytes(hash_str(hash_str(FNV_OFFSET, f->file), f->func), &f->firstline,
				sizeof(f->firstline));
	const struct index *ix = &p->funcs_idx;
	int err;

	for (size_t k = h & (ix->cap - 1); ix->cap && ix->slot[k]; k = (k + 1) & (ix->cap - 1)) {
		const struct func *x = &p->funcs[ix->slot[k] - 1];

		if (x->hash == h && x->firstline == f->firstline && !strcmp(x->name, f->func) &&
		    !strcmp(x->file, f->file))
			return ix->slot[k] - 1;
	}
	if (p->nfuncs >= MAX_FUNCS)
		return -ENOSPC;
	err = ARRAY_GROW(&p->funcs, &p->capfuncs, p->nfuncs, 64, 0);
	if (err)
		return err;
	err = index_fit(&p->funcs_idx, p->nfuncs, p, func_hash);
	if (err)
		return err;
	p->funcs[p->nfuncs] = (struct func){ strdup(f->file), strdup(f->func), f->firstline, 0, 0, 0, h };
	if (!p->funcs[p->nfuncs].file || !p->funcs[p->nfuncs].name) {
		free(p->funcs[p->nfuncs].file);
		free(p->funcs[p->nfuncs].name);
		return -ENOMEM;
	}
	index_put(p->funcs_idx.slot, p->funcs_idx.cap, h, p->nfuncs);
	return p->nfuncs++;
}

static long line_id(struct profile *p, uint32_t fid, int line)
{
	uint64_t h = hash_bytes(hash_bytes(FNV_OFFSET, &fid, sizeof(fid)), &line, sizeof(line));
	const struct index *ix = &p->lines_idx;
	int err;

	for (size_t k = h & (ix->cap - 1); ix->cap && ix->slot[k]; k = (k + 1) & (ix->cap - 1)) {
		const struct line *x = &p->lines[ix->slot[k] - 1];

		if (x->func == fid && x->line == line)
			return ix->slot[k] - 1;
	}
	if (p->nlines >= MAX_LINES)
		return -ENOSPC;
	err = ARRAY_GROW(&p->lines, &p->caplines, p->nlines, 128, 0);
	if (err)
		return err;
	err = index_fit(&p->lines_idx, p->nlines, p, line_hash);
	if (err)
		return err;
	p->lines[p->nlines] = (struct line){ fid, line, 0, 0, 0, h };
	index_put(p->lines_idx.slot, p->lines_idx.cap, h, p->nlines);
	return p->nlines++;
}

int profile__add(struct profile *p, const struct pyframe *frames, int n, int state, int gc)
{
	uint32_t id = ++p->sample_id, ids[PP_MAX_FRAMES];

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
	for (int i = 0; i < n; i++) {
		long f = func_id(p, &frames[i]), l;

		if (f < 0)
			return f == -ENOSPC ? 0 : (int)f;
		l = line_id(p, f, frames[i].line);
		if (l < 0)
			return l == -ENOSPC ? 0 : (int)l;
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
	return stack_add(p, ids, n);
}

#define MAX_NATIVES 5000

int profile__add_native(struct profile *p, const char *symbol, const char *object, const char *kind)
{
	const char *sym = symbol ? symbol : "";
	uint64_t h = hash_str(hash_str(FNV_OFFSET, sym), object);
	const struct index *ix = &p->natives_idx;
	int err;

	/* Sorting (profile__top) moves the entries: the index is rebuilt on the next insertion. */
	for (size_t k = h & (ix->cap - 1); ix->cap && ix->slot[k]; k = (k + 1) & (ix->cap - 1)) {
		struct native *n = &p->natives[ix->slot[k] - 1];

		if (n->hash == h && !strcmp(n->symbol, sym) && !strcmp(n->object, object)) {
			n->count++;
			return 0;
		}
	}
	if (p->nnatives && !ix->cap) {
		/* sorted since: search the entries themselves once, then index them again */
		for (size_t i = 0; i < p->nnatives; i++) {
			struct native *n = &p->natives[i];

			if (n->hash == h && !strcmp(n->symbol, sym) && !strcmp(n->object, object)) {
				n->count++;
				return index_fit(&p->natives_idx, p->nnatives, p, native_hash);
			}
		}
	}
	if (p->nnatives >= MAX_NATIVES)
		return 0;
	err = ARRAY_GROW(&p->natives, &p->capnatives, p->nnatives, 64, 0);
	if (err)
		return err;
	err = index_fit(&p->natives_idx, p->nnatives, p, native_hash);
	if (err)
		return err;
	p->natives[p->nnatives] = (struct native){ strdup(sym), strdup(object), kind, 1, h };
	if (!p->natives[p->nnatives].symbol || !p->natives[p->nnatives].object) {
		free(p->natives[p->nnatives].symbol);
		free(p->natives[p->nnatives].object);
		return -ENOMEM;
	}
	index_put(p->natives_idx.slot, p->natives_idx.cap, h, p->nnatives);
	p->nnatives++;
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
		free(p->natives_idx.slot);
		p->natives_idx = (struct index){ NULL, 0 };
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
	json_t *frames = json_array(), *stacks = json_array();

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
	for (size_t i = 0; i < p->capstacks; i++) {
		const struct stack *s = &p->stacks[i];
		json_t *ids;

		if (!s->hash)
			continue;
		ids = json_array();
		for (uint32_t k = 0; k < s->n; k++)
			json_array_append_new(ids, json_integer(s->ids[k]));
		json_array_append_new(stacks, json_pack("{s:o, s:I}", "frames", ids, "count", (json_int_t)s->count));
	}
	return json_pack("{s:I, s:I, s:I, s:o, s:o}", "samples", (json_int_t)p->samples, "no_python_samples",
			 (json_int_t)p->no_python, "dropped_stacks", (json_int_t)p->dropped_stacks, "frames", frames,
			 "stacks", stacks);
}
