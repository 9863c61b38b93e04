// SPDX-License-Identifier: MIT
/*
 * Classifier fixtures: a window in, a verdict out, one per rule of
 * docs/classify.md (roles, utilization, bursts, event loops, GIL holders,
 * waits on other processes, waits inside work, traits). No BPF, no root.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "classify.h"

#define W 2.0	/* window seconds */
#define MS 1000000ULL

enum { ON, RQ, GIL, LOCK, NET, FILE_, POLL, SLEEP, CHILD, IPC, OTHER };
_Static_assert(OTHER + 1 == PP_NBUCKETS, "a fixture column per bucket");

static struct thread_window th(double on, double rq, double gil, double lock, double net, double file, double poll,
			       double sleep, double child, double other)
{
	struct thread_window t = { .tid = 1 };
	double v[] = { on, rq, gil, lock, net, file, poll, sleep, child, 0, other };

	for (int i = 0; i < PP_NBUCKETS; i++)
		t.sec[i] = v[i];
	t.gil_sec[PP_GIL_ACQUIRE] = gil;
	snprintf(t.name, sizeof(t.name), "python3");
	return t;
}

static void samples(struct thread_window *t, unsigned gil, unsigned nogil, unsigned kio)
{
	t->samples = gil + nogil + kio;
	t->samples_gil = gil;
	t->samples_nogil = nogil;
	t->samples_kernel_io = kio;
}

/* One busy period of len seconds (completed in the window). */
static void busy_period(struct busy_window *b, double len, unsigned int n)
{
	uint64_t ns = (uint64_t)(len * 1e9);
	int i = 0;

	while (i < PP_HIST - 1 && ns >= (1ULL << (PP_HIST_SHIFT + i)))
		i++;
	b->sec[i] += len * n;
	b->cnt[i] += n;
	b->total += len * n;
	b->n += n;
	if (len > b->max)
		b->max = len;
}

static const char *label_of(struct thread_window *t, size_t n, struct verdict *v)
{
	struct window w = { .seconds = W, .n = n, .t = t, .ncpus = 2 };

	classify(&w, v);
	return v->label;
}

static bool has_reason(const struct verdict *v, const char *s)
{
	for (int i = 0; i < v->nreasons; i++)
		if (strstr(v->reasons[i], s))
			return true;
	return false;
}

static bool has_advice(const struct verdict *v, const char *s)
{
	for (int i = 0; i < v->nadvice; i++)
		if (strstr(v->advice[i], s))
			return true;
	return false;
}

static bool has_trait(const struct verdict *v, const char *s)
{
	for (int i = 0; i < v->ntraits; i++)
		if (!strcmp(v->traits[i], s))
			return true;
	return false;
}

static void single_thread_python_loop(void)
{
	struct thread_window t[1] = { th(1.98, 0.02, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct verdict v;

	samples(&t[0], 196, 2, 0);
	busy_period(&t[0].busy, 2.0, 1);
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(v.confidence > 0.9, "confidence %g", v.confidence);
	CHECK(v.nreasons >= 2 && v.nadvice >= 2, "reasons %d advice %d", v.nreasons, v.nadvice);
	CHECK_INT(v.deciding_tid, 1);
	CHECK(v.utilization > 0.95, "utilization %g", v.utilization);
	CHECK_STR(v.pattern, "steady");
	CHECK(has_reason(&v, "steadily: without a break"), "%s", v.nreasons ? v.reasons[0] : "");

	/* A loop that never stopped: its only busy period is still open at the window's end. */
	t[0].busy = (struct busy_window){ .open = 2.0 };
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(has_reason(&v, "steadily: without a break"), "%s", v.nreasons ? v.reasons[0] : "");
	CHECK(!has_reason(&v, "periods up to 0.0 ms"), "no median of nothing");

	/* Busy in 5 ms periods between short waits: the median period is named. */
	t[0].busy = (struct busy_window){ 0 };
	busy_period(&t[0].busy, 0.005, 390);
	t[0].busy.open = 0.002;
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(has_reason(&v, "half its busy time in periods up to"), "%s", v.nreasons ? v.reasons[0] : "");
	CHECK(!has_reason(&v, "up to 0.0 ms"), "a median of the periods");
}

static void roles_of_threads(void)
{
	struct window w = { .seconds = W, .n = 1, .ncpus = 2 };
	struct thread_window t = th(0.2, 0, 1.3, 0, 0, 0, 0, 0, 0, 0.5);
	struct thread_role r;

	w.t = &t;
	classify_thread(&w, &t, &r);
	CHECK_INT(r.role, ROLE_GIL_STARVED);
	CHECK_NEAR(r.share, 0.65, 0.01);
	CHECK_STR(role_names[r.role], "gil-starved");
	t = th(0, 0, 0, 0, 1.8, 0, 0, 0.2, 0, 0);
	classify_thread(&w, &t, &r);
	CHECK_STR(role_names[r.role], "io");
	t = th(0, 0, 0, 1.9, 0, 0, 0, 0.1, 0, 0);
	classify_thread(&w, &t, &r);
	CHECK_STR(role_names[r.role], "lock-wait");
	/* A pipe wait on another process, and a wait on its own pipe. */
	t = th(0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	t.sec[IPC] = 1.9;
	t.peer_pid = 42;
	classify_thread(&w, &t, &r);
	CHECK_STR(role_names[r.role], "waiting-on-process");
	t.peer_pid = 0;
	classify_thread(&w, &t, &r);
	CHECK_STR(role_names[r.role], "idle");
	t = th(1.0, 0, 0, 0, 0, 0, 0, 0.5, 0, 0);
	samples(&t, 10, 90, 0);
	classify_thread(&w, &t, &r);
	CHECK_STR(role_names[r.role], "cpu-native");
}

static void four_threads_fighting_for_the_gil(void)
{
	struct thread_window t[5];
	struct gil_holder_window g[4];
	struct window w = { .seconds = W, .n = 5, .t = t, .ncpus = 2, .gil = g, .ngil = 4 };
	struct verdict v;

	for (int i = 0; i < 4; i++) {
		t[i] = th(0.45, 0.05, 1.5, 0, 0, 0, 0, 0, 0, 0);
		t[i].tid = 10 + i;
		samples(&t[i], 44, 1, 0);
		/* Each holds it in turn, running Python. */
		g[i] = (struct gil_holder_window){ 10 + (i + 1) % 4, 10 + i, PP_B_ONCPU, PP_NR_NONE, 1.5, 300 };
	}
	t[4] = th(0, 0, 0, 2.0, 0, 0, 0, 0, 0, 0);	/* main thread in join() */
	t[4].tid = 2;
	classify(&w, &v);
	CHECK_STR(v.label, "gil-contended");
	CHECK_INT(v.tot.gil_waiters, 4);
	CHECK_INT(v.nholders, 4);
	CHECK(has_reason(&v, "passes among 4 threads"), "reason");
	CHECK(has_advice(&v, "Use processes"), "advice");
	CHECK(!has_trait(&v, "gil-held-blocking"), "no held-blocking");
}

/*
 * Thread 7 computes in Python; four I/O threads (21-24) wait for the GIL it
 * holds, 0.75 s each. handover: the part of each wait the cruncher spent
 * handing the GIL over (it had let go, the waiter not yet running).
 */
static void cruncher_window(struct thread_window t[5], struct gil_holder_window g[8], double handover,
			    struct verdict *v)
{
	struct window w = { .seconds = W, .n = 5, .t = t, .ncpus = 2, .gil = g, .ngil = 0 };

	t[0] = th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0);
	t[0].tid = 7;
	snprintf(t[0].name, sizeof(t[0].name), "cruncher");
	samples(&t[0], 190, 0, 0);
	for (int i = 1; i < 5; i++) {
		t[i] = th(0.1, 0.05, 0.75, 0, 1.1, 0, 0, 0, 0, 0);
		t[i].tid = 20 + i;
		samples(&t[i], 8, 2, 0);
		g[w.ngil++] = (struct gil_holder_window){ 20 + i, 7, PP_B_ONCPU, PP_NR_NONE, 0.75 - handover, 150 };
		if (handover > 0)
			g[w.ngil++] = (struct gil_holder_window){ 20 + i, 7, PP_B_GIL_WAIT, PP_NR_NONE, handover, 80 };
	}
	classify(&w, v);
}

/*
 * Named and advised on whether or not hand-overs are part of what it held the
 * GIL for: a CI run on 3.9 had them at half of the waiting charged to it.
 */
static void a_cruncher_makes_io_threads_wait(void)
{
	static const struct {
		double handover;
		const char *reason;
	} cases[] = {
		{ 0, "held by thread 7 (cruncher) for 3.00 s of the others' waiting (100% of it), 100% of that "
		     "time running Python" },
		{ 0.4, "47% of that time running Python, 53% handing it over" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct thread_window t[5];
		struct gil_holder_window g[8];
		struct verdict v;

		cruncher_window(t, g, cases[i].handover, &v);
		CHECK_STR(v.label, "gil-contended");
		CHECK_INT(v.deciding_tid, 7);
		CHECK(v.nholders == 1 && v.holders[0].tid == 7, "holder %u", v.nholders ? v.holders[0].tid : 0);
		CHECK_NEAR(v.holders[0].part[HOLD_HANDOVER], 4 * cases[i].handover, 0.01);
		CHECK(has_reason(&v, cases[i].reason), "reason %zu", i);
		CHECK(has_advice(&v, "Thread 7 (cruncher) computes in Python"), "advice %zu", i);
	}
}

static void a_holder_asleep_with_the_gil(void)
{
	struct thread_window t[3];
	struct gil_holder_window g[3];
	struct window w = { .seconds = W, .n = 3, .t = t, .ncpus = 2, .gil = g, .ngil = 3 };
	struct verdict v;

	t[0] = th(0.02, 0.02, 0.6, 0, 0, 0, 0, 1.36, 0, 0);
	t[0].tid = 5;
	t[0].held_blocked = 1.3;
	for (int i = 1; i < 3; i++) {
		t[i] = th(0.3, 0.2, 1.5, 0, 0, 0, 0, 0, 0, 0);
		t[i].tid = 10 + i;
		samples(&t[i], 30, 0, 0);
	}
	/* nanosleep (35) with the GIL held: both spinners wait; a little while it runs Python. */
	g[0] = (struct gil_holder_window){ 11, 5, PP_B_SLEEP, 35, 1.3, 260 };
	g[1] = (struct gil_holder_window){ 12, 5, PP_B_SLEEP, 35, 1.25, 250 };
	g[2] = (struct gil_holder_window){ 12, 11, PP_B_ONCPU, PP_NR_NONE, 0.2, 40 };
	classify(&w, &v);
	CHECK_STR(v.label, "gil-contended");
	CHECK(has_trait(&v, "gil-held-blocking"), "trait");
	CHECK_NEAR(v.holders[0].held_blocked, 1.3, 1e-9);
	CHECK_INT(v.holders[0].nwaiters, 2);
	CHECK(v.holders[0].top_nr == 35, "top nr %u", v.holders[0].top_nr);
	CHECK(has_reason(&v, "blocked in nanosleep() (sleep) for 1.30 s"), "reason");
	CHECK(has_advice(&v, "ctypes.CDLL instead of ctypes.PyDLL"), "advice");
	CHECK(!has_advice(&v, "Use processes"), "no process advice for a sleeping holder");
	/* Without the holder's own count (it exited), the most any one waiter was charged. */
	t[0].tid = 99;
	classify(&w, &v);
	CHECK_NEAR(v.holders[0].held_blocked, 1.3, 1e-9);
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

static void cores_saturated_without_one_thread_saturated(void)
{
	struct thread_window t[4];
	struct verdict v;

	/* Four threads half busy each on two CPUs: the cores are what is saturated. */
	for (int i = 0; i < 4; i++) {
		t[i] = th(0.9, 0.5, 0, 0, 0, 0, 0, 0.6, 0, 0);
		t[i].tid = 30 + i;
		samples(&t[i], 2, 88, 0);
	}
	CHECK_STR(label_of(t, 4, &v), "cpu-bound-native");
	CHECK(has_reason(&v, "want 2.8 of 2 CPUs"), "reason");
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
	CHECK_INT(v.tot.roles[ROLE_IO], 4);
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
	CHECK_STR(v.pattern, "idle");
}

static void sleeping_inside_request_handling_is_work(void)
{
	struct thread_window t[1] = { th(0.04, 0, 0, 0, 0, 0, 0.06, 1.9, 0, 0) };
	struct verdict v;

	/* A sync worker sleeping in its handler (the wall sampler saw application code under the server). */
	t[0].blocked_in_work = 0.97;
	t[0].blocked_samples = 20;
	CHECK_STR(label_of(t, 1, &v), "io-bound");
	CHECK(has_reason(&v, "inside request handling"), "reason");
	/* The same sleep in its own top-level loop is idle. */
	t[0].blocked_in_work = 0;
	CHECK_STR(label_of(t, 1, &v), "idle");
}

static void event_loops_by_what_they_wait_on(void)
{
	struct thread_window t[1] = { th(0.001, 0, 0, 0, 0, 0, 1.999, 0, 0, 0) };
	struct verdict v;

	t[0].cnt[POLL] = 2;
	CHECK_STR(label_of(t, 1, &v), "idle");
	/* Woken 200 times/s for 1.5 ms of work each: serving, its waits are for I/O. */
	t[0] = th(0.3, 0.01, 0, 0, 0, 0, 1.69, 0, 0, 0);
	t[0].cnt[POLL] = 400;
	busy_period(&t[0].loop, 0.0015, 400);
	busy_period(&t[0].busy, 0.0015, 400);
	samples(&t[0], 25, 5, 0);
	CHECK_STR(label_of(t, 1, &v), "io-bound");
	CHECK(has_reason(&v, "event loop woken 200 times/s"), "reason");
	/* The same loop over pipes of another process (a pool's handler): waiting on that process. */
	t[0].poll_samples = 20;
	t[0].poll_ipc = 1.0;
	t[0].poll_peer_pid = 77;
	t[0].npeers = 1;
	t[0].peers[0] = 77;
	snprintf(t[0].peer_comms[0], 16, "worker");
	CHECK_STR(label_of(t, 1, &v), "idle");
	CHECK(v.npeers == 1 && v.peers[0].pid == 77, "peers %d", v.npeers);
	/* ... and a loop whose set holds a network socket serves it. */
	t[0].poll_ipc = 0;
	t[0].poll_net = 1.0;
	CHECK_STR(label_of(t, 1, &v), "io-bound");
}

static void a_pool_parent_waits_on_its_workers(void)
{
	struct thread_window t[3] = { th(0.01, 0, 0, 1.99, 0, 0, 0, 0, 0, 0), th(0.05, 0.01, 0, 0, 0, 0, 0, 0, 0, 0),
				      th(0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0) };
	struct verdict v;

	t[1].sec[IPC] = 1.94;
	t[1].peer_pid = 101;
	t[1].npeers = 2;
	t[1].peers[0] = 101;
	t[1].peers[1] = 102;
	CHECK_STR(label_of(t, 3, &v), "idle");
	CHECK_INT(v.tot.roles[ROLE_PEER], 1);
	CHECK_INT(v.npeers, 2);
	CHECK(has_reason(&v, "wait on 2 other processes"), "reason");
	CHECK(has_advice(&v, "waits on others"), "advice");
	/* Before: the pipe wait counted as unexplained work. */
	CHECK(v.tot.work < 0.2, "work %g", v.tot.work);
}

/*
 * On a loaded host the same parent's threads wait long in the run queue after
 * each wakeup, for CPUs other processes hold: that is not its demand (idle,
 * cpu-starved). A thread preempted while it runs wants the CPU: its run-queue
 * time stays demand however loaded the host is.
 */
static void run_queue_waits_for_other_processes_are_not_demand(void)
{
	struct thread_window t[3] = { th(0.01, 0, 0, 1.99, 0, 0, 0, 0, 0, 0), th(0.04, 0.6, 0, 0, 0, 0, 0, 0, 0, 0),
				      th(0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0) };
	struct window w = { .seconds = W, .n = 3, .t = t, .ncpus = 2, .host_busy = 2 * W };
	struct thread_window cpu[1] = { th(1.0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct verdict v;

	t[1].sec[IPC] = 1.36;
	t[1].rq_wake = 0.6;	/* every run-queue wait followed a wakeup */
	classify(&w, &v);
	CHECK_STR(v.label, "idle");
	CHECK(has_trait(&v, "cpu-starved"), "trait");
	CHECK(has_reason(&v, "waited 0.59 s for a CPU after waking"), "reason");
	CHECK(has_advice(&v, "busy with other processes"), "advice");
	CHECK_NEAR(v.tot.starved, 0.6 * (1 - 0.05 / 4), 1e-6);
	/* The host's load unknown: as before, all of it is demand. */
	w.host_busy = 0;
	classify(&w, &v);
	CHECK_STR(v.label, "cpu-bound-python");
	CHECK(!has_trait(&v, "cpu-starved"), "no trait without the host's numbers");
	/* Preempted, not woken: demand on a host as loaded. */
	w = (struct window){ .seconds = W, .n = 1, .t = cpu, .ncpus = 2, .host_busy = 2 * W };
	classify(&w, &v);
	CHECK_STR(v.label, "cpu-bound-python");
	CHECK_NEAR(v.utilization, 1.0, 1e-9);
	CHECK(!has_trait(&v, "cpu-starved"), "a preempted thread is not starved");
}

static void a_bursty_loop_is_not_cpu_bound(void)
{
	struct thread_window t[1] = { th(0.9, 0.05, 0, 0, 0, 0, 1.05, 0, 0, 0) };
	struct verdict v;

	samples(&t[0], 90, 0, 0);
	t[0].cnt[POLL] = 4;
	busy_period(&t[0].busy, 0.45, 2);
	busy_period(&t[0].loop, 0.45, 2);
	CHECK_STR(label_of(t, 1, &v), "bursty");
	CHECK_STR(v.pattern, "bursts");
	CHECK_NEAR(v.burst_seconds, 0.45, 0.01);
	CHECK_NEAR(v.burst_every, 0.45 / 0.475, 0.01);	/* mean burst / utilization */
	CHECK(has_advice(&v, "run_in_executor"), "loop advice");
	/* One burst only: too few to tell how often they come. */
	memset(&t[0].busy, 0, sizeof(t[0].busy));
	busy_period(&t[0].busy, 0.7, 1);
	t[0].sec[ON] = 0.7;
	t[0].sec[POLL] = 1.25;
	CHECK_STR(label_of(t, 1, &v), "bursty");
	CHECK(v.window_needed >= 3 * W, "window needed %g", v.window_needed);
	CHECK(has_reason(&v, "too few bursts"), "reason");
	CHECK(v.confidence < 0.7 && v.boundary, "confidence %g", v.confidence);
	/* The same CPU in short periods: steady, not bursty, a CPU label with lower confidence. */
	memset(&t[0].busy, 0, sizeof(t[0].busy));
	busy_period(&t[0].busy, 0.002, 450);
	t[0].sec[ON] = 0.9;
	t[0].sec[POLL] = 1.05;
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(has_reason(&v, "not saturated"), "reason");
	CHECK(v.confidence < 0.8, "confidence %g", v.confidence);
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
	CHECK(has_reason(&v, "deadlock"), "reason");
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
	struct thread_window t[1] = { th(1.8, 0, 0, 0, 0, 0, 0, 0.2, 0, 0) };
	struct verdict v;

	samples(&t[0], 5, 0, 0);
	CHECK_STR(label_of(t, 1, &v), "cpu-bound-python");
	CHECK(v.confidence < 0.7, "confidence %g", v.confidence);
}

static void gc_pauses_add_a_trait(void)
{
	struct thread_window t[1] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct window w = { .seconds = W, .n = 1, .t = t, .ncpus = 2 };
	struct verdict v;

	samples(&t[0], 190, 8, 0);
	w.gc.share = 0.12;
	w.gc.pause_seconds = 0.24;
	w.gc.all.collections = 300;
	classify(&w, &v);
	CHECK_STR(v.label, "cpu-bound-python");
	CHECK_INT(v.ntraits, 1);
	CHECK(has_trait(&v, "gc-pressure"), "trait");
	CHECK(has_advice(&v, "gc.freeze()"), "advice");
	w.gc.share = 0.01;
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
}

static void attribute_lookups_and_churn_add_traits(void)
{
	struct thread_window t[1] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct window w = { .seconds = W, .n = 1, .t = t, .ncpus = 2 };
	struct verdict v;

	samples(&t[0], 190, 8, 0);
	/* Not measured (no stacks, e.g. a watched window): no trait, whatever the numbers. */
	w.mix = (struct cpu_mix){ .measured = false, .samples = 198, .attr = 150, .churn = 150 };
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
	/* A loop-invariant lookup at 12%: caching pays, the trait fires. */
	w.mix = (struct cpu_mix){ .measured = true, .samples = 198, .attr = 24, .attr_spot_samples = 20,
				  .attr_line = 19, .attr_loop_line = 18, .attr_cache_pays = true };
	snprintf(w.mix.attr_name, sizeof(w.mix.attr_name), "method");
	snprintf(w.mix.attr_receiver, sizeof(w.mix.attr_receiver), "obj");
	snprintf(w.mix.attr_file, sizeof(w.mix.attr_file), "/srv/app.py");
	classify(&w, &v);
	CHECK(has_trait(&v, "attr-hot"), "attr-hot");
	CHECK(has_reason(&v, "obj.method at /srv/app.py:19"), "reason");
	CHECK(has_advice(&v, "before the loop"), "advice");
	/* The same share when caching would not pay (stores into new objects): not yet. */
	w.mix.attr_cache_pays = false;
	w.mix.attr = 50;
	classify(&w, &v);
	CHECK(!has_trait(&v, "attr-hot"), "attr-hot at 25%% without a cache to gain");
	w.mix.attr = 70;
	classify(&w, &v);
	CHECK(has_trait(&v, "attr-hot"), "attr-hot at 35%%");
}

static void churn_is_judged_by_type(void)
{
	struct thread_window t[1] = { th(1.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0) };
	struct window w = { .seconds = W, .n = 1, .t = t, .ncpus = 2 };
	struct verdict v;

	samples(&t[0], 290, 7, 0);
	/* Integer arithmetic: 45% churn, all ints and the allocator: no trait, NumPy advice. */
	w.mix = (struct cpu_mix){ .measured = true, .samples = 297, .churn = 135 };
	w.mix.churn_kind[CHURN_NUMBER] = 30;
	w.mix.churn_kind[CHURN_OTHER] = 105;
	classify(&w, &v);
	CHECK(!has_trait(&v, "alloc-churn"), "no alloc-churn for arithmetic");
	CHECK(has_advice(&v, "The hot loop is arithmetic"), "advice");
	/* Allocator samples alone (a stripped build that names no type): no trait either. */
	w.mix.churn_kind[CHURN_NUMBER] = 0;
	w.mix.churn_kind[CHURN_OTHER] = 135;
	classify(&w, &v);
	CHECK(!has_trait(&v, "alloc-churn"), "no alloc-churn for an untyped allocator");
	/* Tuples and dicts: the allocator's share goes to them, the trait fires, naming them. */
	w.mix.churn = 90;
	w.mix.churn_kind[CHURN_CONTAINER] = 30;
	w.mix.churn_kind[CHURN_INSTANCE] = 10;
	w.mix.churn_kind[CHURN_OTHER] = 50;
	snprintf(w.mix.churn_types, sizeof(w.mix.churn_types), "tuple 40%%, dict 20%%");
	snprintf(w.mix.churn_file, sizeof(w.mix.churn_file), "/srv/app.py");
	w.mix.churn_line = 7;
	classify(&w, &v);
	CHECK(has_trait(&v, "alloc-churn"), "alloc-churn");
	CHECK(has_reason(&v, "tuple 40%, dict 20%"), "reason names the types");
	CHECK(has_advice(&v, "tuples, lists or dicts"), "advice fits containers");
	CHECK(!has_advice(&v, "The hot loop is arithmetic"), "no arithmetic advice");
	/* The same loop's arithmetic (i + 1, a counter) over 20%, but less than the objects: still no NumPy advice. */
	w.mix.churn = 200;
	w.mix.churn_kind[CHURN_NUMBER] = 90;	/* 32% of the samples once the allocator's are shared out */
	w.mix.churn_kind[CHURN_CONTAINER] = 90;
	w.mix.churn_kind[CHURN_INSTANCE] = 10;
	w.mix.churn_kind[CHURN_OTHER] = 10;
	classify(&w, &v);
	CHECK(has_trait(&v, "alloc-churn"), "alloc-churn");
	CHECK(!has_advice(&v, "The hot loop is arithmetic"), "objects outweigh the arithmetic");
	/* Too few samples to judge. */
	w.mix = (struct cpu_mix){ .measured = true, .samples = 30, .attr = 20, .churn = 20 };
	classify(&w, &v);
	CHECK_INT(v.ntraits, 0);
}

static void syscall_names(void)
{
	CHECK_STR(syscall_name(35), "nanosleep");
	CHECK_STR(syscall_name(0), "read");
	CHECK(syscall_name(9999) == NULL, "unknown");
}

int main(void)
{
	RUN(single_thread_python_loop);
	RUN(roles_of_threads);
	RUN(four_threads_fighting_for_the_gil);
	RUN(a_cruncher_makes_io_threads_wait);
	RUN(a_holder_asleep_with_the_gil);
	RUN(native_threads_release_the_gil);
	RUN(cores_saturated_without_one_thread_saturated);
	RUN(threads_waiting_on_sockets);
	RUN(fsync_loop_kernel_time_is_io);
	RUN(sleeping_process_is_idle);
	RUN(sleeping_inside_request_handling_is_work);
	RUN(event_loops_by_what_they_wait_on);
	RUN(a_pool_parent_waits_on_its_workers);
	RUN(a_bursty_loop_is_not_cpu_bound);
	RUN(sleeping_helper_does_not_hide_a_busy_thread);
	RUN(everyone_blocked_on_locks_is_idle);
	RUN(no_dominant_cause_is_mixed);
	RUN(nothing_observed);
	RUN(few_samples_lower_confidence);
	RUN(gc_pauses_add_a_trait);
	RUN(attribute_lookups_and_churn_add_traits);
	RUN(churn_is_judged_by_type);
	RUN(syscall_names);
	RUN(run_queue_waits_for_other_processes_are_not_demand);
	return UNIT_EXIT();
}
