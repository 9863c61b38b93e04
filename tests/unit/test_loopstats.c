// SPDX-License-Identifier: MIT
/*
 * Stall causes from the scheduler hook's record of a busy period and the
 * window's samples (daemon/analysis/loopstats.c): what the hook counted, and
 * what the samples say when the hook missed a switch. No BPF, no root.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "loopstats.h"

#define MS 1000000ULL
#define T0 (1000 * MS)	/* the window's start, CLOCK_MONOTONIC */
#define TID 42
#define STR(s) ((s) ? (s) : "(null)")

static struct thread_window loop_thread(void)
{
	struct thread_window t = { .tid = TID };

	snprintf(t.name, sizeof(t.name), "python3");
	t.sec[PP_B_POLL_WAIT] = 1.5;
	t.loop.n = 10;
	return t;
}

/* One busy period [start, start + len) ms into the window, its time in bucket b (ONCPU for the rest). */
static struct loop_iter period(uint64_t start, uint64_t len, int b, uint16_t nr)
{
	struct loop_iter it = { .tid = TID, .start_ns = T0 + start * MS, .end_ns = T0 + (start + len) * MS,
				.max_state = PP_B_NONE, .max_nr = PP_NR_NONE };

	it.ns[PP_B_ONCPU] = 1 * MS;
	it.ns[b] += (len - 1) * MS;
	if (b != PP_B_ONCPU) {
		it.max_state = b;
		it.max_nr = nr;
		it.max_off_ns = (len - 1) * MS;
	}
	return it;
}

static struct loop_sample cpu_at(uint64_t ms, const char *site)
{
	return (struct loop_sample){ .tid = TID, .ts = T0 + ms * MS, .python = true, .bucket = PP_B_NONE,
				     .nr = PP_NR_NONE, .site = site, .task = "handle_client" };
}

static struct loop_sample blocked_at(uint64_t ms, int bucket, uint16_t nr, const char *site)
{
	return (struct loop_sample){ .tid = TID, .ts = T0 + ms * MS, .blocked = true, .bucket = bucket, .nr = nr,
				     .site = site, .task = "handle_client" };
}

static void report(struct loop_iter *its, size_t nits, struct loop_sample *s, size_t ns, struct loop_report *r)
{
	struct thread_window t = loop_thread();
	struct window w = { .seconds = 2.0, .n = 1, .t = &t, .ncpus = 2 };
	struct loop_log log = { .v = its, .n = nits, .cap = nits };

	loopstats__report(&w, T0, T0 + 2000 * MS, &log, 0.1, s, ns, r);
}

/* One stall: blocking, asleep in clock_nanosleep at the sleeping line. */
static void check_slept(const struct loop_report *r)
{
	CHECK_INT(r->nstalls, 1);
	CHECK_STR(loop_cause_name(r->stalls[0].cause), "blocking");
	CHECK_INT(r->stalls[0].blocked_state, PP_B_SLEEP);
	CHECK_INT(r->stalls[0].blocked_nr, 230);
	CHECK_STR(STR(r->stalls[0].site), "stall (app.py:53)");
}

static void blocking_call_the_hook_saw(void)
{
	static struct loop_report r;
	struct loop_iter it = period(500, 201, PP_B_SLEEP, 230);
	struct loop_sample s[] = { blocked_at(540, PP_B_SLEEP, 230, "stall (app.py:53)"),
				   blocked_at(600, PP_B_SLEEP, 230, "stall (app.py:53)") };

	report(&it, 1, s, 2, &r);
	check_slept(&r);
	CHECK_NEAR(r.stalls[0].blocked_seconds, 0.2, 1e-9);
}

/*
 * The hook never saw the thread leave the CPU for its sleep: its record has
 * the whole period on CPU. No CPU sample fell in it; the daemon's looks found
 * the thread asleep: a blocking stall, in the call the looks saw.
 */
static void switch_out_the_hook_missed(void)
{
	static struct loop_report r;
	struct loop_iter it = period(500, 201, PP_B_ONCPU, PP_NR_NONE);
	struct loop_sample s[] = { cpu_at(100, "crunch (app.py:46)"),	/* before the period */
				   blocked_at(540, PP_B_SLEEP, 230, "stall (app.py:53)"),
				   blocked_at(560, PP_B_SLEEP, 230, "stall (app.py:53)"),
				   blocked_at(580, PP_B_OTHER, PP_NR_NONE, "stall (app.py:53)"),
				   blocked_at(600, PP_B_SLEEP, 230, "stall (app.py:53)") };

	report(&it, 1, s, 5, &r);
	check_slept(&r);
	CHECK_STR(STR(r.stalls[0].task), "handle_client");
	CHECK(r.stalls[0].oncpu_share < 0, "on-CPU share not known: %g", r.stalls[0].oncpu_share);
}

/* A period on CPU that the samples confirm stays a Python stall, whatever a look saw at its edge. */
static void computing_stall_stays_on_cpu(void)
{
	static struct loop_report r;
	struct loop_iter it = period(500, 300, PP_B_ONCPU, PP_NR_NONE);
	struct loop_sample s[] = { cpu_at(520, "crunch (app.py:46)"), cpu_at(530, "crunch (app.py:46)"),
				   cpu_at(540, "crunch (app.py:46)"), blocked_at(790, PP_B_OTHER, PP_NR_NONE, NULL) };

	report(&it, 1, s, 4, &r);
	CHECK_INT(r.nstalls, 1);
	CHECK_STR(loop_cause_name(r.stalls[0].cause), "python");
	CHECK_STR(STR(r.stalls[0].site), "crunch (app.py:46)");
	CHECK_NEAR(r.stalls[0].oncpu_share, 1.0, 0.01);
}

/* On CPU by the hook's count, and no sample of any kind in it: nothing contradicts the count. */
static void on_cpu_without_samples_is_left_alone(void)
{
	static struct loop_report r;
	struct loop_iter it = period(500, 150, PP_B_ONCPU, PP_NR_NONE);

	report(&it, 1, NULL, 0, &r);
	CHECK_INT(r.nstalls, 1);
	CHECK_STR(loop_cause_name(r.stalls[0].cause), "python");
	CHECK(r.stalls[0].site == NULL, "no site");
}

int main(void)
{
	RUN(blocking_call_the_hook_saw);
	RUN(switch_out_the_hook_missed);
	RUN(computing_stall_stays_on_cpu);
	RUN(on_cpu_without_samples_is_left_alone);
	return UNIT_EXIT();
}
