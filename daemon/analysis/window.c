// SPDX-License-Identifier: MIT
/* A window: the difference between two snapshots, per thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "window.h"

/* Counters only grow; a smaller end value means the entry was recreated. */
static uint64_t d64(uint64_t end, uint64_t start)
{
	return end >= start ? end - start : end;
}

static void busy_diff(struct busy_window *b, const struct pp_hist *e, const struct pp_hist *s, uint64_t from,
		      uint64_t to)
{
	for (int i = 0; i < PP_HIST; i++) {
		b->sec[i] = d64(e->ns[i], s->ns[i]) / 1e9;
		b->cnt[i] = d64(e->cnt[i], s->cnt[i]);
		b->total += b->sec[i];
		b->n += b->cnt[i];
	}
	/*
	 * The longest period is kept since attach: it is this window's when it
	 * grew in it; otherwise the longest bucket with a period in it says
	 * about how long this window's longest was (its mean).
	 */
	if (e->max_ns > s->max_ns)
		b->max = e->max_ns / 1e9;
	for (int i = PP_HIST - 1; i >= 0 && !b->max; i--)
		if (b->cnt[i])
			b->max = b->sec[i] / b->cnt[i];
	if (e->start && to > e->start)
		b->open = (to - (e->start > from ? e->start : from)) / 1e9;
}

static int cmp_gil(const void *a, const void *b)
{
	double x = ((const struct gil_holder_window *)a)->sec, y = ((const struct gil_holder_window *)b)->sec;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* GIL charges of the window: end - start per key, largest first. */
static int gil_diff(struct window *w, const struct snapshot *start, const struct snapshot *end)
{
	if (!end->ngil)
		return 0;
	w->gil = calloc(end->ngil, sizeof(*w->gil));
	if (!w->gil)
		return -ENOMEM;
	for (size_t i = 0; i < end->ngil; i++) {
		const struct snap_gil *e = &end->gil[i];
		struct pp_gil_charge s = {};

		for (size_t j = 0; j < start->ngil; j++)
			if (!memcmp(&start->gil[j].k, &e->k, sizeof(e->k)))
				s = start->gil[j].c;
		if (d64(e->c.ns, s.ns) == 0)
			continue;
		w->gil[w->ngil++] = (struct gil_holder_window){ e->k.waiter_tid, e->k.holder_tid, e->k.holder_state,
								 e->k.holder_nr,
								 d64(e->c.ns, s.ns) / 1e9, d64(e->c.cnt, s.cnt) };
	}
	qsort(w->gil, w->ngil, sizeof(*w->gil), cmp_gil);
	return 0;
}

int window__diff(struct window *w, const struct snapshot *start, const struct snapshot *end)
{
	memset(w, 0, sizeof(*w));
	w->seconds = end->ts > start->ts ? (end->ts - start->ts) / 1e9 : 0;
	if (start->host_busy && end->host_busy > start->host_busy && w->seconds > 0)
		w->host_busy = (end->host_busy - start->host_busy) / 1e9;
	if (!end->n)
		return 0;
	w->t = calloc(end->n, sizeof(*w->t));
	if (!w->t || gil_diff(w, start, end)) {
		window__free(w);
		return -ENOMEM;
	}
	for (size_t i = 0; i < end->n; i++) {
		const struct snap_thread *e = &end->v[i], *s = snapshot__find(start, e->tid);
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
		t->samples = d64(e->th.smp.total, s->th.smp.total);
		t->samples_gil = d64(e->th.smp.gil, s->th.smp.gil);
		t->samples_gil_native = d64(e->th.smp.gil_native, s->th.smp.gil_native);
		t->samples_nogil = d64(e->th.smp.nogil, s->th.smp.nogil);
		t->samples_unknown = d64(e->th.smp.unknown, s->th.smp.unknown);
		t->samples_kernel_io = d64(e->th.smp.kernel_io, s->th.smp.kernel_io);
		t->samples_gc = d64(e->th.smp.gc, s->th.smp.gc);
		busy_diff(&t->busy, &e->th.busy, &s->th.busy, start->ts, end->ts);
		busy_diff(&t->loop, &e->th.loop, &s->th.loop, start->ts, end->ts);
		t->held_blocked = d64(e->th.held_blocked_ns, s->th.held_blocked_ns) / 1e9;
		t->rq_wake = d64(e->th.wake_rq_ns, s->th.wake_rq_ns) / 1e9;
		if (t->rq_wake > t->sec[PP_B_RUNQUEUE])
			t->rq_wake = t->sec[PP_B_RUNQUEUE];
		t->end_state = e->th.state;
		t->end_nr = e->th.blk_nr;
		t->ipc_ino = e->th.ipc_ino;
		t->ipc_peer_ino = e->th.ipc_peer_ino;
		/* Threads that did nothing observable in the window are left out. */
		if (busy || t->samples)
			w->n++;
	}
	return 0;
}

void window__free(struct window *w)
{
	free(w->t);
	free(w->gil);
	memset(w, 0, sizeof(*w));
}
