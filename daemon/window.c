// SPDX-License-Identifier: MIT
/* Snapshots of per-thread counters and the difference between two of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "window.h"

int snapshot__add(struct snapshot *s, const struct snap_thread *t)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct snap_thread *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *t;
	return 0;
}

static int cmp_tid(const void *a, const void *b)
{
	uint32_t x = ((const struct snap_thread *)a)->tid, y = ((const struct snap_thread *)b)->tid;

	return x < y ? -1 : x > y;
}

void snapshot__sort(struct snapshot *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_tid);
}

void snapshot__clear(struct snapshot *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const struct snap_thread *find(const struct snapshot *s, uint32_t tid)
{
	struct snap_thread key = { .tid = tid };

	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_tid) : NULL;
}

/* Counters only grow; a smaller end value means the entry was recreated. */
static uint64_t d64(uint64_t end, uint64_t start)
{
	return end >= start ? end - start : end;
}

int window__diff(struct window *w, const struct snapshot *start, const struct snapshot *end)
{
	memset(w, 0, sizeof(*w));
	w->seconds = end->ts > start->ts ? (end->ts - start->ts) / 1e9 : 0;
	if (!end->n)
		return 0;
	w->t = calloc(end->n, sizeof(*w->t));
	if (!w->t)
		return -ENOMEM;
	for (size_t i = 0; i < end->n; i++) {
		const struct snap_thread *e = &end->v[i], *s = find(start, e->tid);
		static const struct snap_thread none;
		struct thread_window *t = &w->t[w->n];
		uint64_t busy = 0;

		if (!s)
			s = &none;
		t->tid = e->tid;
		t->exited = e->exited;
		t->fsbase = e->th.fsbase;
		memcpy(t->name, e->th.comm, sizeof(t->name) - 1);
		for (int b = 0; b < PP_NBUCKETS; b++) {
			uint64_t ns = d64(e->th.ns[b], s->th.ns[b]);

			t->sec[b] = ns / 1e9;
			t->cnt[b] = d64(e->th.cnt[b], s->th.cnt[b]);
			busy += ns;
		}
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			t->gil_sec[k] = d64(e->th.gil_ns[k], s->th.gil_ns[k]) / 1e9;
			t->gil_cnt[k] = d64(e->th.gil_cnt[k], s->th.gil_cnt[k]);
		}
		t->samples = d64(e->smp.total, s->smp.total);
		t->samples_gil = d64(e->smp.gil, s->smp.gil);
		t->samples_nogil = d64(e->smp.nogil, s->smp.nogil);
		t->samples_unknown = d64(e->smp.unknown, s->smp.unknown);
		t->samples_kernel_io = d64(e->smp.kernel_io, s->smp.kernel_io);
		t->samples_gc = d64(e->smp.gc, s->smp.gc);
		/* Threads that did nothing observable in the window are left out. */
		if (busy || t->samples)
			w->n++;
	}
	return 0;
}

void window__free(struct window *w)
{
	free(w->t);
	memset(w, 0, sizeof(*w));
}
