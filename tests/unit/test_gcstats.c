// SPDX-License-Identifier: MIT
/* GC window: counts from the interpreter's counters, pauses inside the window, percentiles. */
#include "unit.h"
#include "gcstats.h"

#define MS 1000000ULL

static struct gc_log make_log(void)
{
	struct gc_log log = {};
	/* 10 gen-0 pauses of 1..10 ms at t = 100..1000 ms, one 50 ms gen-2 at 1500 ms. */
	for (int i = 1; i <= 10; i++) {
		struct gc_pause p = { i * 100 * MS, i * MS, 0, 10 };

		gcstats__log_add(&log, &p);
	}
	struct gc_pause big = { 1500 * MS, 50 * MS, 2, 1000 };

	gcstats__log_add(&log, &big);
	return log;
}

static void exact_counts_and_pauses(void)
{
	struct gc_log log = make_log();
	struct gc_counts a = { .valid = true, .collections = { 5, 1, 0 }, .collected = { 100, 0, 0 } };
	struct gc_counts b = { .valid = true, .collections = { 15, 1, 1 }, .collected = { 200, 0, 1000 } };
	struct gc_window w;

	CHECK_INT(gcstats__window(&w, &a, &b, &log, 0, 2000 * MS, GC_METHOD_UPROBE, false, 0.0), 0);
	CHECK(w.counts_exact, "counts exact");
	CHECK_INT(w.gen[0].collections, 10);
	CHECK_INT(w.gen[2].collections, 1);
	CHECK_INT(w.all.collections, 11);
	CHECK_INT(w.all.timed, 11);
	CHECK_INT(w.gen[0].collected, 100);
	CHECK_NEAR(w.gen[0].total, 0.055, 1e-9);
	CHECK_NEAR(w.gen[0].p50, 0.005, 1e-9);
	CHECK_NEAR(w.gen[0].p95, 0.010, 1e-9);
	CHECK_NEAR(w.gen[0].max, 0.010, 1e-9);
	CHECK_NEAR(w.all.max, 0.050, 1e-9);
	CHECK_NEAR(w.pause_seconds, 0.105, 1e-9);
	CHECK_NEAR(w.share, 0.105 / 2.0, 1e-9);
	gcstats__log_free(&log);
}

static void pauses_outside_the_window_do_not_count(void)
{
	struct gc_log log = make_log();
	struct gc_counts none = {};
	struct gc_window w;

	/* [250 ms, 1520 ms]: pauses starting at 300..1000 ms; the 50 ms one ends at 1550 ms, outside. */
	CHECK_INT(gcstats__window(&w, &none, &none, &log, 250 * MS, 1520 * MS, GC_METHOD_USDT, false, 0), 0);
	CHECK(!w.counts_exact, "no counters");
	CHECK_INT(w.all.timed, 8);
	CHECK_INT(w.all.collections, 8);
	CHECK_INT(w.gen[0].collected, 80);
	CHECK_INT(w.gen[2].timed, 0);
	gcstats__log_free(&log);
}

static void sampled_method_uses_the_estimate(void)
{
	struct gc_log log = {};
	struct gc_counts a = { .valid = true }, b = { .valid = true, .collections = { 5000, 10, 1 } };
	struct gc_window w;

	CHECK_INT(gcstats__window(&w, &a, &b, &log, 0, 2000 * MS, GC_METHOD_SAMPLED, true, 0.4), 0);
	CHECK(w.rate_guard, "rate guard");
	CHECK_INT(w.all.collections, 5011);
	CHECK_NEAR(w.pause_seconds, 0.4, 1e-9);
	CHECK_NEAR(w.share, 0.2, 1e-9);
}

static void histogram_buckets(void)
{
	struct gc_log log = {};
	struct gc_pause p1 = { 10, 3000, 0, 0 }, p2 = { 20, 700000, 1, 0 }, p3 = { 30, 10000000000ULL, 2, 0 };
	struct gc_counts none = {};
	struct gc_window w;

	gcstats__log_add(&log, &p1);	/* 3 us -> [2, 4) */
	gcstats__log_add(&log, &p2);	/* 700 us -> [512, 1024) */
	gcstats__log_add(&log, &p3);	/* 10 s -> last bucket */
	CHECK_INT(gcstats__window(&w, &none, &none, &log, 0, 20000000000ULL, GC_METHOD_UPROBE, false, 0), 0);
	CHECK_INT(w.hist[1], 1);
	CHECK_INT(w.hist[9], 1);
	CHECK_INT(w.hist[GC_HIST_BUCKETS - 1], 1);
	gcstats__log_free(&log);
}

int main(void)
{
	RUN(exact_counts_and_pauses);
	RUN(pauses_outside_the_window_do_not_count);
	RUN(sampled_method_uses_the_estimate);
	RUN(histogram_buckets);
	return UNIT_EXIT();
}
