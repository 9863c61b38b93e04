// SPDX-License-Identifier: MIT
/*
 * Snapshots and windows (snapshot.c, window.c): a window is the end snapshot
 * minus the start one, per thread; threads born inside it count from zero,
 * counters that went backwards (a recreated entry) count from their end
 * value, idle threads are left out, GIL charges come out largest first.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "unit.h"
#include "window.h"

#define MS 1000000ULL

static struct snap_thread thread(uint32_t tid, uint64_t oncpu_ms, uint64_t sleep_ms, uint64_t samples)
{
	struct snap_thread t = { .tid = tid };

	t.th.ns[PP_B_ONCPU] = oncpu_ms * MS;
	t.th.cnt[PP_B_ONCPU] = oncpu_ms / 10;
	t.th.ns[PP_B_SLEEP] = sleep_ms * MS;
	t.th.smp.total = samples;
	t.th.smp.gil = samples / 2;
	snprintf(t.th.comm, sizeof(t.th.comm), "t%u", tid);
	return t;
}

static void add(struct snapshot *s, struct snap_thread t)
{
	CHECK_INT(snapshot__add(s, &t), 0);
}

static const struct thread_window *tw(const struct window *w, uint32_t tid)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->t[i].tid == tid)
			return &w->t[i];
	return NULL;
}

static void per_thread_difference(void)
{
	struct snapshot a = { .ts = 10 * 1000 * MS }, b = { .ts = 12500 * MS };
	struct window w;
	const struct thread_window *t;

	/* added out of order: snapshot__sort makes them searchable */
	add(&a, thread(30, 100, 0, 10));
	add(&a, thread(10, 500, 200, 40));
	add(&a, thread(20, 5, 900, 0));
	snapshot__sort(&a);
	add(&b, thread(20, 5, 900, 0));	/* idle throughout */
	add(&b, thread(10, 1700, 450, 160));
	add(&b, thread(40, 80, 0, 8));	/* born in the window */
	add(&b, thread(30, 30, 0, 3));	/* recreated: counters restarted */
	snapshot__sort(&b);
	CHECK(snapshot__find(&b, 40) && !snapshot__find(&b, 41), "find by tid");
	CHECK_INT(window__diff(&w, &a, &b), 0);
	CHECK_NEAR(w.seconds, 2.5, 1e-9);
	CHECK_INT(w.n, 3);
	CHECK(!tw(&w, 20), "a thread that did nothing is left out");
	t = tw(&w, 10);
	CHECK(t, "thread 10");
	if (t) {
		CHECK_NEAR(t->sec[PP_B_ONCPU], 1.2, 1e-9);
		CHECK_NEAR(t->sec[PP_B_SLEEP], 0.25, 1e-9);
		CHECK_INT(t->cnt[PP_B_ONCPU], 120);
		CHECK_INT(t->samples, 120);
		CHECK_INT(t->samples_gil, 60);
		CHECK_STR(t->name, "t10");
	}
	t = tw(&w, 40);
	CHECK(t && fabs(t->sec[PP_B_ONCPU] - 0.08) < 1e-9 && t->samples == 8, "born inside: counted from zero");
	t = tw(&w, 30);
	CHECK(t && fabs(t->sec[PP_B_ONCPU] - 0.03) < 1e-9 && t->samples == 3, "recreated: its end value");
	window__free(&w);
	snapshot__clear(&a);
	snapshot__clear(&b);
	CHECK(!a.v && !a.n && !a.cap, "cleared");
}

static void busy_periods(void)
{
	struct snapshot a = { .ts = 1000 * MS }, b = { .ts = 3000 * MS };
	struct snap_thread s = thread(7, 100, 0, 1), e = thread(7, 900, 0, 9);
	struct window w;

	s.th.busy.ns[5] = 10 * MS;
	s.th.busy.cnt[5] = 3;
	s.th.busy.max_ns = 40 * MS;
	e.th.busy.ns[5] = 30 * MS;
	e.th.busy.cnt[5] = 8;
	e.th.busy.ns[12] = 300 * MS;
	e.th.busy.cnt[12] = 2;
	e.th.busy.max_ns = 160 * MS;	/* grew in the window: this window's longest */
	e.th.busy.start = 2600 * MS;	/* one period in progress at the end */
	s.th.ns[PP_B_RUNQUEUE] = 50 * MS;
	s.th.wake_rq_ns = 20 * MS;
	e.th.ns[PP_B_RUNQUEUE] = 90 * MS;
	e.th.wake_rq_ns = 45 * MS;
	a.host_busy = 7000 * MS;
	b.host_busy = 10500 * MS;
	snapshot__add(&a, &s);
	snapshot__add(&b, &e);
	CHECK_INT(window__diff(&w, &a, &b), 0);
	CHECK_INT(w.n, 1);
	CHECK_NEAR(w.t[0].rq_wake, 0.025, 1e-9);
	CHECK_NEAR(w.host_busy, 3.5, 1e-9);
	CHECK_INT(w.t[0].busy.n, 7);
	CHECK_NEAR(w.t[0].busy.total, 0.32, 1e-9);
	CHECK_NEAR(w.t[0].busy.max, 0.16, 1e-9);
	CHECK_NEAR(w.t[0].busy.open, 0.4, 1e-9);
	window__free(&w);
	/* the longest since attach did not grow: the longest bucket's mean stands for it */
	e.th.busy.max_ns = 40 * MS;
	e.th.busy.start = 500 * MS;	/* began before the window: open counts from its start */
	snapshot__clear(&b);
	b.ts = 3000 * MS;
	snapshot__add(&b, &e);
	CHECK_INT(window__diff(&w, &a, &b), 0);
	CHECK_NEAR(w.t[0].busy.max, 0.15, 1e-9);
	CHECK_NEAR(w.t[0].busy.open, 2.0, 1e-9);
	window__free(&w);
	snapshot__clear(&a);
	snapshot__clear(&b);
}

static void gil_charges(void)
{
	struct snapshot a = { .ts = 0 }, b = { .ts = 1000 * MS };
	struct pp_gil_key k1 = { .tgid = 1, .waiter_tid = 11, .holder_tid = 10, .holder_nr = PP_NR_NONE,
				 .holder_state = PP_B_ONCPU };
	struct pp_gil_key k2 = { .tgid = 1, .waiter_tid = 12, .holder_tid = 10, .holder_nr = 35,
				 .holder_state = PP_B_SLEEP };
	struct pp_gil_key k3 = { .tgid = 1, .waiter_tid = 13, .holder_nr = PP_NR_NONE, .holder_state = PP_B_NONE };
	struct window w;

	add(&a, thread(10, 0, 0, 1));
	add(&b, thread(10, 0, 0, 2));
	snapshot__add_gil(&a, &k1, 100 * MS, 10);
	snapshot__add_gil(&a, &k3, 5 * MS, 1);
	snapshot__add_gil(&b, &k1, 150 * MS, 14);
	snapshot__add_gil(&b, &k2, 200 * MS, 2);
	snapshot__add_gil(&b, &k2, 100 * MS, 1);	/* an in-progress wait adds to the same key */
	snapshot__add_gil(&b, &k3, 5 * MS, 1);	/* unchanged: nothing in the window */
	CHECK_INT(b.ngil, 3);
	CHECK_INT(window__diff(&w, &a, &b), 0);
	CHECK_INT(w.ngil, 2);
	if (w.ngil == 2) {
		CHECK_INT(w.gil[0].waiter_tid, 12);
		CHECK_NEAR(w.gil[0].sec, 0.3, 1e-9);
		CHECK_INT(w.gil[0].cnt, 3);
		CHECK_INT(w.gil[0].nr, 35);
		CHECK_INT(w.gil[0].state, PP_B_SLEEP);
		CHECK_INT(w.gil[1].holder_tid, 10);
		CHECK_NEAR(w.gil[1].sec, 0.05, 1e-9);
		CHECK_INT(w.gil[1].cnt, 4);
	}
	window__free(&w);
	snapshot__clear(&a);
	snapshot__clear(&b);
}

static void empty_end(void)
{
	struct snapshot a = { .ts = 5 }, b = { .ts = 3 };
	struct window w;

	CHECK_INT(window__diff(&w, &a, &b), 0);
	CHECK_INT(w.n, 0);
	CHECK_NEAR(w.seconds, 0, 0);	/* a clock that went backwards is no window */
	window__free(&w);
}

int main(void)
{
	RUN(per_thread_difference);
	RUN(busy_periods);
	RUN(gil_charges);
	RUN(empty_end);
	return UNIT_EXIT();
}
