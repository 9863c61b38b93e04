// SPDX-License-Identifier: MIT
/* Classifier fixtures: bucket numbers in, label out. No BPF, no root. */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "classify.h"

#define W 2.0	/* window seconds */

enum { ON, RQ, GIL, LOCK, NET, FILE_, POLL, SLEEP, CHILD, OTHER };

static struct thread_window th(double on, double rq, double gil, double lock, double net, double file, double poll,
			       double sleep, double child, double other)
{
	struct thread_window t = { .tid = 1 };
	double v[] = { on, rq, gil, lock, net, file, poll, sleep, child, other };

	for (int i = 0; i < PP_NBUCKETS; i++)
		t.sec[i] = v[i];
	t.gil_sec[PP_GIL_ACQUIRE] = gil;
	return t;
}

static void samples(struct thread_window *t, unsigned gil, unsigned nogil, unsigned kio)
{
	t->samples = gil + nogil + kio;
	t->samples_gil = gil;
	t->samples_nogil = nogil;
	t->samples_kernel_io = kio;
}

static const char *label_of(struct thread_window *t, size_t n, struct verdict *v)
{
	struct window w = { .seconds = W, .n = n, .t = t };

	classify(&w, v);
	return v->label;
}

static void single_thread_python_loop(void)
{
	struct thread_window t[1] = { th(1.98, 0.02, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct verdict v;

	samples(&t[0], 196, 2, 0);
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(v.confidence > 0.9, "confidence %g", v.confidence);
	CHECK(v.nreasons >= 2 && v.nadvice >= 2, "reasons %d advice %d", v.nreasons, v.nadvice);
}

static void four_threads_fighting_for_the_gil(void)
{
	struct thread_window t[5];
	struct verdict v;

	for (int i = 0; i < 4; i++) {
		t[i] = th(0.45, 0.05, 1.5, 0, 0, 0, 0, 0, 0, 0);
		samples(&t[i], 44, 1, 0);
	}
	t[4] = th(0, 0, 0, 2.0, 0, 0, 0, 0, 0, 0);	/* main thread in join() */
	CHECK_STR(label_of(t, 5, &v), "gil-contended");
	CHECK_INT(v.tot.gil_waiters, 4);
}

static void native_threads_release_the_gil(void)
{
	struct thread_window t[4];
	struct verdict v;

	for (int i = 0; i < 3; i++) {
		t[i] = th(1.3, 0.6, 0.05, 0, 0, 0, 0, 0, 0, 0);
		samples(&t[i], 3, 126, 0);
	}
	t[3] = th(0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0);	/* watchdog sleeping */
	CHECK_STR(label_of(t, 4, &v), "cpu-bound-native");
}

static void threads_waiting_on_sockets(void)
{
	struct thread_window t[5];
	struct verdict v;

	for (int i = 0; i < 4; i++) {
		t[i] = th(0.1, 0.02, 0.01, 0, 1.87, 0, 0, 0, 0, 0);
		samples(&t[i], 2, 1, 7);
	}
	t[4] = th(0, 0, 0, 2.0, 0, 0, 0, 0, 0, 0);
	CHECK_STR(label_of(t, 5, &v), "io-bound");
}

static void fsync_loop_kernel_time_is_io(void)
{
	struct thread_window t[1] = { th(0.8, 0.1, 0, 0, 0, 1.1, 0, 0, 0, 0) };
	struct verdict v;

	/* Most on-CPU samples are in the kernel inside write/fsync. */
	samples(&t[0], 6, 2, 72);
	CHECK_STR(label_of(t, 1, &v), "io-bound");
	CHECK(v.tot.cpu_io > 0.6, "cpu_io %g", v.tot.cpu_io);
}

static void sleeping_process_is_idle(void)
{
	struct thread_window t[2] = { th(0.004, 0, 0, 0, 0, 0, 0, 1.996, 0, 0), th(0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0) };
	struct verdict v;

	CHECK_STR(label_of(t, 2, &v), "idle");
	CHECK(v.confidence > 0.9, "confidence %g", v.confidence);
}

static void quiet_event_loop_is_idle_busy_one_is_io(void)
{
	struct thread_window t[1] = { th(0.001, 0, 0, 0, 0, 0, 1.999, 0, 0, 0) };
	struct verdict v;

	t[0].cnt[POLL] = 2;
	CHECK_STR(label_of(t, 1, &v), "idle");
	t[0] = th(0.3, 0.01, 0, 0, 0, 0, 1.69, 0, 0, 0);
	t[0].cnt[POLL] = 400;	/* 200 wakeups/s: requests in flight */
	samples(&t[0], 25, 5, 0);
	CHECK_STR(label_of(t, 1, &v), "io-bound");
	CHECK(v.tot.poll_is_io, "poll_is_io");
}

static void sleeping_helper_does_not_hide_a_busy_thread(void)
{
	struct thread_window t[3] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0), th(0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0),
				      th(0, 0, 0, 0, 0, 0, 1.999, 0, 0, 0.001) };
	struct verdict v;

	samples(&t[0], 190, 8, 0);
	CHECK_STR(label_of(t, 3, &v), "cpu-bound-python");
}

static void everyone_blocked_on_locks_is_idle(void)
{
	struct thread_window t[3] = { th(0, 0, 0, 2, 0, 0, 0, 0, 0, 0), th(0, 0, 0, 2, 0, 0, 0, 0, 0, 0),
				      th(0, 0, 0, 2, 0, 0, 0, 0, 0, 0) };
	struct verdict v;

	CHECK_STR(label_of(t, 3, &v), "idle");
	CHECK(strstr(v.reasons[v.nreasons - 1], "deadlock") != NULL, "last reason: %s", v.reasons[v.nreasons - 1]);
}

static void no_dominant_cause_is_mixed(void)
{
	struct thread_window t[2] = { th(0.8, 0, 0.1, 0, 0, 0, 0, 0, 0, 0), th(0.1, 0, 0, 0, 0.9, 0, 0, 0, 0, 0.2) };
	struct verdict v;

	samples(&t[0], 80, 0, 0);
	CHECK_STR(label_of(t, 2, &v), "mixed");
	CHECK(v.confidence > 0 && v.confidence <= 1, "confidence %g", v.confidence);
}

static void nothing_observed(void)
{
	struct verdict v;

	CHECK_STR(label_of(NULL, 0, &v), "idle");
	CHECK(v.confidence < 0.5, "confidence %g", v.confidence);
}

static void few_samples_lower_confidence(void)
{
	struct thread_window t[1] = { th(1.0, 0, 0, 0, 0, 0, 0, 1.0, 0, 0) };
	struct verdict v;

	samples(&t[0], 5, 0, 0);
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(v.confidence < 0.7, "confidence %g", v.confidence);
}

static void gc_pauses_add_a_trait(void)
{
	struct thread_window t[1] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct window w = { .seconds = W, .n = 1, .t = t };
	struct verdict v;

	samples(&t[0], 190, 8, 0);
	w.gc.share = 0.12;
	w.gc.pause_seconds = 0.24;
	w.gc.all.collections = 300;
	classify(&w, &v);
	CHECK_STR(v.label, "cpu-bound-python");
	CHECK_INT(v.ntraits, 1);
	CHECK_STR(v.ntraits ? v.traits[0] : "", "gc-pressure");
	CHECK(strstr(v.advice[v.nadvice - 2], "gc.freeze()") != NULL, "advice: %s", v.advice[v.nadvice - 2]);
	w.gc.share = 0.01;
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
}

static void attribute_lookups_and_churn_add_traits(void)
{
	struct thread_window t[1] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct window w = { .seconds = W, .n = 1, .t = t };
	struct verdict v;

	samples(&t[0], 190, 8, 0);
	/* Not measured (no stacks, e.g. a watched window): no trait, whatever the numbers. */
	w.mix = (struct cpu_mix){ .measured = false, .samples = 198, .attr = 150, .churn = 150 };
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
	w.mix = (struct cpu_mix){ .measured = true, .samples = 198, .attr = 40, .churn = 10,
				  .attr_spot_samples = 30, .attr_line = 19, .attr_loop_line = 18,
				  .attr_cache_pays = true };
	snprintf(w.mix.attr_name, sizeof(w.mix.attr_name), "method");
	snprintf(w.mix.attr_receiver, sizeof(w.mix.attr_receiver), "obj");
	snprintf(w.mix.attr_file, sizeof(w.mix.attr_file), "/srv/app.py");
	classify(&w, &v);
	CHECK_STR(v.label, "cpu-bound-python");
	CHECK_INT(v.ntraits, 1);
	CHECK_STR(v.ntraits ? v.traits[0] : "", "attr-hot");
	CHECK(strstr(v.reasons[v.nreasons - 1], "obj.method at /srv/app.py:19") != NULL, "reason: %s",
	      v.reasons[v.nreasons - 1]);
	CHECK(strstr(v.advice[v.nadvice - 1], "before the loop") != NULL, "advice: %s", v.advice[v.nadvice - 1]);
	/* Below the threshold (10 %), and churn at it (15 %). */
	w.mix.attr = 19;
	w.mix.churn = 30;
	w.mix.churn_line = 7;
	snprintf(w.mix.churn_file, sizeof(w.mix.churn_file), "/srv/app.py");
	classify(&w, &v);
	CHECK_INT(v.ntraits, 1);
	CHECK_STR(v.ntraits ? v.traits[0] : "", "alloc-churn");
	CHECK(strstr(v.advice[v.nadvice - 1], "generators") != NULL, "advice: %s", v.advice[v.nadvice - 1]);
	/* Too few samples to judge. */
	w.mix = (struct cpu_mix){ .measured = true, .samples = 30, .attr = 20, .churn = 20 };
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
}

int main(void)
{
	RUN(single_thread_python_loop);
	RUN(four_threads_fighting_for_the_gil);
	RUN(native_threads_release_the_gil);
	RUN(threads_waiting_on_sockets);
	RUN(fsync_loop_kernel_time_is_io);
	RUN(sleeping_process_is_idle);
	RUN(quiet_event_loop_is_idle_busy_one_is_io);
	RUN(sleeping_helper_does_not_hide_a_busy_thread);
	RUN(everyone_blocked_on_locks_is_idle);
	RUN(no_dominant_cause_is_mixed);
	RUN(nothing_observed);
	RUN(few_samples_lower_confidence);
	RUN(gc_pauses_add_a_trait);
	RUN(attribute_lookups_and_churn_add_traits);
	return UNIT_EXIT();
}
