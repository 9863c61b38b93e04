// SPDX-License-Identifier: MIT
/*
 * The verdict: a pure function from a window of per-thread wall-time buckets,
 * busy periods, GIL charges and CPU samples to a label, a confidence, reasons
 * with the numbers behind them, and advice. Each thread gets a role first;
 * the process label comes from the roles of the threads that work, and how
 * saturated the busiest of them is. docs/classify.md states the rules with
 * their thresholds and how they were calibrated; keep the two together.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "classify.h"
#include "loopstats.h"

/* A thread must wait at least this share of the window for the GIL to count as a waiter. */
#define GIL_WAITER_SHARE 0.10
/* Less work than this share of one thread's window is an idle process. */
#define IDLE_WORK 0.20
/* cpu-starved: run-queue waits for CPUs other processes held, over one thread's window and over the work. */
#define STARVED_WINDOW 0.10
#define STARVED_SHARE 0.25
#define DOMINANT 0.50
#define GIL_CONTENDED 0.30
/* A thread on CPU, in the run queue or waiting for the GIL this share of the window is saturated. */
#define SATURATED 0.75
/* ... and the process's CPU demand over this share of its cores saturates them. */
#define CORES_SATURATED 0.80
/* Busy periods from this bucket up (>= 2^(PP_HIST_SHIFT+10) ns, 67 ms) are bursts... */
#define BURST_BUCKET 11
/* ... and a thread whose busy time is at least this share in bursts is bursty. */
#define BURSTY_SHARE 0.50
/* An event loop woken this often per second for short work (mean busy period below) serves I/O. */
#define LOOP_SERVING_WAKEUPS 20.0
#define LOOP_SERVING_BUSY 0.010
/* Wall samples of a thread's poll waits needed before what they watch decides. */
#define POLL_SEEN 3
/* Confidence below this names the boundary the label sits near. */
#define LOW_CONFIDENCE 0.70
#define FEW_SAMPLES 20
/* Collector pauses this share of wall time or more make the gc-pressure trait. */
#define GC_PRESSURE 0.05
/*
 * gil-held-blocking: waits charged to holders blocked in a system call are
 * this share of all GIL wait, or a holder was blocked with the GIL this share
 * of the window while others waited; and either way the waits are at least
 * HELD_BLOCKING_MIN of the window.
 */
#define HELD_BLOCKING_SHARE 0.20
#define HELD_BLOCKING_WINDOW 0.10
#define HELD_BLOCKING_MIN 0.02
/*
 * Shares of the window's CPU samples that make the attr-hot and
 * alloc-churn traits, and the fewest samples either is judged on
 * (calibration in docs/classify.md). Numbers (int and float results of
 * arithmetic) are the interpreter's normal cost: they need a share far above
 * what plain loops show before they are a trait.
 */
#define ATTR_HOT 0.10		/* ... when the hottest lookup is loop-invariant (caching it pays) */
#define ATTR_HOT_ANY 0.30	/* ... otherwise: an allocation-heavy loop's attribute stores reach 13-28% */
#define CHURN_OBJECTS 0.12
#define MIX_MIN_SAMPLES 40
/* Typed churn samples needed before the allocator's are shared out by type. */
#define CHURN_TYPED_MIN 10
#define CHURN_TYPED_SHARE 0.10
/* Boxing int/float results this share of the samples: say so under a CPU label. */
#define CHURN_NUMBERS 0.20

const char *const role_names[NROLES] = {
	[ROLE_CPU_PYTHON] = "cpu-python",   [ROLE_CPU_NATIVE] = "cpu-native", [ROLE_IO] = "io",
	[ROLE_GIL_STARVED] = "gil-starved", [ROLE_LOCK_WAIT] = "lock-wait",   [ROLE_PEER] = "waiting-on-process",
	[ROLE_IDLE] = "idle",		    [ROLE_OTHER] = "other",
};

const char *const holder_part_names[NHOLD] = {
	[HOLD_PYTHON] = "python",   [HOLD_NATIVE] = "native",	[HOLD_RUNQUEUE] = "runqueue",
	[HOLD_BLOCKED] = "blocked", [HOLD_HANDOVER] = "handover", [HOLD_UNKNOWN] = "unknown",
};

const char *syscall_name(unsigned int nr)
{
	static const struct {
		unsigned int nr;
		const char *name;
	} names[] = {
		{ 0, "read" },		{ 1, "write" },		{ 2, "open" },		  { 3, "close" },
		{ 7, "poll" },		{ 17, "pread64" },	{ 18, "pwrite64" },	  { 19, "readv" },
		{ 20, "writev" },	{ 23, "select" },	{ 34, "pause" },	  { 35, "nanosleep" },
		{ 42, "connect" },	{ 43, "accept" },	{ 44, "sendto" },	  { 45, "recvfrom" },
		{ 46, "sendmsg" },	{ 47, "recvmsg" },	{ 61, "wait4" },	  { 65, "semop" },
		{ 72, "fcntl" },	{ 73, "flock" },	{ 74, "fsync" },	  { 75, "fdatasync" },
		{ 202, "futex" },	{ 230, "clock_nanosleep" }, { 232, "epoll_wait" }, { 247, "waitid" },
		{ 257, "openat" },	{ 270, "pselect6" },	{ 271, "ppoll" },	  { 281, "epoll_pwait" },
		{ 288, "accept4" },	{ 299, "recvmmsg" },	{ 441, "epoll_pwait2" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

static void reason(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nreasons >= VERDICT_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(v->reasons[v->nreasons++], VERDICT_LINE, fmt, ap);
	va_end(ap);
}

static void advise(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void advise(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nadvice >= VERDICT_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(v->advice[v->nadvice++], VERDICT_LINE, fmt, ap);
	va_end(ap);
}

static double pct(double x, double of)
{
	return of > 0 ? 100.0 * x / of : 0;
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* The time-weighted median busy period: half the busy time is in periods at least this long. */
/*
 * Time-weighted median busy period: the length of the period in which half of
 * the busy time was reached. The period still open at the window's end counts
 * when it alone holds half the busy time (a thread that never stopped).
 */
static double busy_median(const struct busy_window *b)
{
	double half = (b->total + b->open) / 2, acc = 0;

	if (b->open > 0 && b->open >= half)
		return b->open;

	for (int i = 0; i < PP_HIST; i++) {
		acc += b->sec[i];
		if (b->cnt[i] && acc >= half)
			return b->sec[i] / b->cnt[i];
	}
	return 0;
}

/*
 * The process's part of the CPU time the host spent busy in the window (1
 * when the host's is unknown). Run-queue time after a preemption is demand:
 * the thread wanted to go on running. After a wakeup it is demand in this
 * measure only: the rest of it the thread waited for CPUs that other
 * processes held (a loaded host, its own pool's workers), which is latency
 * the process suffers, not work it wants done.
 */
static double own_cpu_share(const struct window *w)
{
	double own = 0;

	if (w->host_busy <= 0)
		return 1;
	for (size_t i = 0; i < w->n; i++)
		own += w->t[i].sec[PP_B_ONCPU];
	return clamp01(own / w->host_busy);
}

void classify_thread(const struct window *w, const struct thread_window *t, struct thread_role *r)
{
	double rq = t->sec[PP_B_RUNQUEUE], wake = t->rq_wake < rq ? t->rq_wake : rq;
	double on = t->sec[PP_B_ONCPU], py_share, biw = clamp01(t->blocked_in_work);
	double poll = t->sec[PP_B_POLL_WAIT], ipc = t->sec[PP_B_IPC_WAIT], wake_rate;
	double long_sec = 0, busy = t->busy.total + t->busy.open;
	unsigned int long_n = 0;
	bool poll_peer;

	memset(r, 0, sizeof(*r));
	for (int b = 0; b < PP_NBUCKETS; b++)
		r->observed += t->sec[b];
	r->starved = wake > 0 ? wake * (1 - own_cpu_share(w)) : 0;
	rq -= r->starved;
	/* On-CPU time split by the thread's own samples; unsampled time counts as Python. */
	if (t->samples) {
		r->cpu_python = on * t->samples_gil / t->samples;
		r->cpu_io = on * t->samples_kernel_io / t->samples;
		r->cpu_native = on * (t->samples_gil_native + t->samples_nogil + t->samples_unknown) / t->samples;
	} else {
		r->cpu_python = on;
	}
	/* Run-queue time is CPU demand, of the kind the thread runs. */
	py_share = r->cpu_python + r->cpu_native > 0 ? r->cpu_python / (r->cpu_python + r->cpu_native) : 1;
	r->part[ROLE_CPU_PYTHON] = r->cpu_python + rq * py_share;
	r->part[ROLE_CPU_NATIVE] = r->cpu_native + rq * (1 - py_share);
	r->part[ROLE_GIL_STARVED] = t->sec[PP_B_GIL_WAIT];
	r->part[ROLE_LOCK_WAIT] = t->sec[PP_B_LOCK_WAIT];
	r->part[ROLE_OTHER] = t->sec[PP_B_OTHER];

	/*
	 * An event loop serving requests wakes often and works briefly: its
	 * waits are for I/O, when what it waits on is the network (or unknown:
	 * no wall samples). A loop over the pipes of other processes (a pool's
	 * result and worker handlers) waits on those processes.
	 */
	r->loop = poll > 0 && t->cnt[PP_B_POLL_WAIT] > 0;
	wake_rate = w->seconds > 0 ? t->loop.n / w->seconds : 0;
	poll_peer = t->poll_samples >= POLL_SEEN && t->poll_ipc >= DOMINANT && t->poll_peer_pid;
	r->loop_serving = r->loop && !poll_peer && wake_rate >= LOOP_SERVING_WAKEUPS && t->loop.n &&
			  t->loop.total / t->loop.n < LOOP_SERVING_BUSY &&
			  (t->poll_samples < POLL_SEEN || t->poll_net >= DOMINANT);

	/* Waits inside request handling (seen by the wall sampler) are part of the work. */
	if (poll_peer) {
		r->part[ROLE_PEER] += poll;
		poll = 0;
	}
	r->part[ROLE_IO] = t->sec[PP_B_NET_IO] + t->sec[PP_B_FILE_IO] + r->cpu_io +
			   biw * (t->sec[PP_B_SLEEP] + (r->loop_serving ? 0 : poll)) + (r->loop_serving ? poll : 0);
	r->part[ROLE_IDLE] = (1 - biw) * (t->sec[PP_B_SLEEP] + (r->loop_serving ? 0 : poll));
	/* Pipes and Unix sockets: a wait on another process, or on its own threads (idle). */
	r->part[ROLE_PEER] += t->sec[PP_B_CHILD_WAIT] + (t->peer_pid ? ipc : 0);
	if (!t->peer_pid) {
		r->part[ROLE_IO] += biw * ipc;
		r->part[ROLE_IDLE] += (1 - biw) * ipc;
	}

	r->role = ROLE_IDLE;
	for (int k = 0; k < NROLES; k++)
		if (r->part[k] > r->part[r->role] + 1e-9)
			r->role = k;
	r->share = r->observed > 0 ? r->part[r->role] / r->observed : 0;
	r->util = w->seconds > 0 ? (on + rq + t->sec[PP_B_GIL_WAIT]) / w->seconds : 0;

	/* Bursts: busy periods of 67 ms and more (a period still open at the end counts). */
	for (int i = BURST_BUCKET; i < PP_HIST; i++) {
		long_sec += t->busy.sec[i];
		long_n += t->busy.cnt[i];
	}
	/* The mean is of bursts that ended in the window; one still open counts only when none did. */
	r->burst_mean = long_n ? long_sec / long_n : 0;
	if (t->busy.open >= (double)(1ULL << (PP_HIST_SHIFT + BURST_BUCKET - 1)) / 1e9) {
		long_sec += t->busy.open;
		if (!long_n)
			r->burst_mean = t->busy.open;
		long_n++;
	}
	r->nbursts = long_n;
	r->busy_p50 = busy_median(&t->busy);
	r->bursty = busy > 0 && long_sec >= BURSTY_SHARE * busy && r->util < SATURATED;
}

/* A working thread does more than idle, lock waits and waits on other processes. */
static bool working(const struct thread_role *r)
{
	return r->role != ROLE_IDLE && r->role != ROLE_LOCK_WAIT && r->role != ROLE_PEER;
}

static void add_peer(struct verdict *v, pid_t pid, const char *comm, double sec)
{
	int j;

	for (j = 0; j < v->npeers && v->peers[j].pid != pid; j++)
		;
	if (j == VERDICT_MAX_PEERS)
		return;
	if (j == v->npeers) {
		v->peers[j].pid = pid;
		memcpy(v->peers[j].comm, comm, sizeof(v->peers[j].comm));
		v->npeers++;
	}
	v->peers[j].sec += sec;
}

static void sum(const struct window *w, struct verdict *v, struct thread_role *best_cpu,
		const struct thread_window **best_cpu_t)
{
	struct totals *t = &v->tot;
	double best = -1;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *th = &w->t[i];
		struct thread_role r;

		classify_thread(w, th, &r);
		for (int b = 0; b < PP_NBUCKETS; b++) {
			t->sec[b] += th->sec[b];
			t->all += th->sec[b];
		}
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			t->gil_sec[k] += th->gil_sec[k];
			t->gil_cnt[k] += th->gil_cnt[k];
		}
		for (int k = 0; k < NROLES; k++)
			t->part[k] += r.part[k];
		t->samples += th->samples;
		t->samples_gil += th->samples_gil;
		t->samples_gil_native += th->samples_gil_native;
		t->samples_nogil += th->samples_nogil;
		t->samples_unknown += th->samples_unknown;
		t->samples_kernel_io += th->samples_kernel_io;
		t->cpu_python += r.cpu_python;
		t->cpu_native += r.cpu_native;
		t->cpu_io += r.cpu_io;
		t->starved += r.starved;
		if (w->seconds > 0 && th->sec[PP_B_GIL_WAIT] >= GIL_WAITER_SHARE * w->seconds)
			t->gil_waiters++;
		t->roles[r.role]++;
		t->threads++;
		if (working(&r))
			t->working++;
		/* The thread the CPU labels rest on: the most CPU demand. */
		if (r.part[ROLE_CPU_PYTHON] + r.part[ROLE_CPU_NATIVE] > best) {
			best = r.part[ROLE_CPU_PYTHON] + r.part[ROLE_CPU_NATIVE];
			*best_cpu = r;
			*best_cpu_t = th;
		}
		/* Processes at the other end of its waits: the time is shared among them. */
		if (th->npeers && r.part[ROLE_PEER] > th->sec[PP_B_CHILD_WAIT])
			for (unsigned int k = 0; k < th->npeers; k++)
				add_peer(v, th->peers[k], th->peer_comms[k],
					 (r.part[ROLE_PEER] - th->sec[PP_B_CHILD_WAIT]) / th->npeers);
	}
	if (t->cpu_python + t->cpu_native > 0)
		t->python_share = t->cpu_python / (t->cpu_python + t->cpu_native);
	t->cpu = t->part[ROLE_CPU_PYTHON] + t->part[ROLE_CPU_NATIVE];
	t->gil = t->part[ROLE_GIL_STARVED];
	t->io = t->part[ROLE_IO];
	t->idle = t->part[ROLE_IDLE];
	t->other = t->part[ROLE_OTHER];
	t->lock = t->part[ROLE_LOCK_WAIT];
	t->peer = t->part[ROLE_PEER];
	/*
	 * Idle time, lock waits and waits on other processes never explain
	 * slowness by themselves: a sleeping helper thread or a thread blocked
	 * in join() waits for the others, whose time says why. Shares are taken
	 * over the remaining work.
	 */
	t->work = t->cpu + t->gil + t->io + t->other;
	t->own_share = own_cpu_share(w);
	t->cpu_demand = w->seconds > 0 ? t->cpu / w->seconds : 0;
}

static const struct thread_window *find_thread(const struct window *w, uint32_t tid)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->t[i].tid == tid)
			return &w->t[i];
	return NULL;
}

#define MAX_WAITERS 64

/* GIL charges by holder: what each holder did while others waited. */
static void holders(const struct window *w, struct verdict *v)
{
	double nr_sec[VERDICT_MAX_HOLDERS][8] = {};
	uint16_t nrs[VERDICT_MAX_HOLDERS][8];
	/* Per holder and waiter: the time charged while the holder was blocked. */
	uint32_t waiter[VERDICT_MAX_HOLDERS][MAX_WAITERS];
	double wblocked[VERDICT_MAX_HOLDERS][MAX_WAITERS];

	for (size_t i = 0; i < w->ngil; i++) {
		const struct gil_holder_window *g = &w->gil[i];
		const struct thread_window *ht = find_thread(w, g->holder_tid);
		struct holder *h = NULL;
		int j;

		for (j = 0; j < v->nholders; j++)
			if (v->holders[j].tid == g->holder_tid)
				h = &v->holders[j];
		if (!h) {
			if (v->nholders == VERDICT_MAX_HOLDERS)
				continue;
			h = &v->holders[v->nholders++];
			memset(h, 0, sizeof(*h));
			h->tid = g->holder_tid;
			h->top_nr = PP_NR_NONE;
			if (ht) {
				memcpy(h->name, ht->name, sizeof(h->name));
				h->held_blocked = ht->held_blocked;
			}
			for (int k = 0; k < 8; k++)
				nrs[h - v->holders][k] = PP_NR_NONE;
		}
		h->sec += g->sec;
		h->waits += g->cnt;
		{
			size_t hi = h - v->holders;
			unsigned int k;

			for (k = 0; k < h->nwaiters && waiter[hi][k] != g->waiter_tid; k++)
				;
			if (k == h->nwaiters && k < MAX_WAITERS) {
				waiter[hi][k] = g->waiter_tid;
				wblocked[hi][k] = 0;
				h->nwaiters++;
			}
			if (k < MAX_WAITERS && g->holder_tid && g->state < PP_NBUCKETS && g->state != PP_B_ONCPU &&
			    g->state != PP_B_RUNQUEUE && g->state != PP_B_GIL_WAIT) {
				wblocked[hi][k] += g->sec;
				/* The holder's own count is exact; without it, the most any waiter waited. */
				if (!ht && wblocked[hi][k] > h->held_blocked)
					h->held_blocked = wblocked[hi][k];
			}
		}
		if (!g->holder_tid || g->state == PP_B_GIL_WAIT) {
			h->part[HOLD_HANDOVER] += g->sec;
		} else if (g->state == PP_B_ONCPU) {
			/* Python or an extension keeping the GIL: the holder's own samples say which. */
			uint64_t py = ht ? ht->samples_gil : 0, nat = ht ? ht->samples_gil_native : 0;
			double f = py + nat ? (double)nat / (py + nat) : 0;

			h->part[HOLD_NATIVE] += g->sec * f;
			h->part[HOLD_PYTHON] += g->sec * (1 - f);
		} else if (g->state == PP_B_RUNQUEUE) {
			h->part[HOLD_RUNQUEUE] += g->sec;
		} else if (g->state < PP_NBUCKETS) {
			size_t hi = h - v->holders;

			h->part[HOLD_BLOCKED] += g->sec;
			for (int k = 0; k < 8; k++) {
				if (nrs[hi][k] == g->nr || nrs[hi][k] == PP_NR_NONE) {
					nrs[hi][k] = g->nr;
					nr_sec[hi][k] += g->sec;
					if (nr_sec[hi][k] > h->top_nr_sec) {
						h->top_nr_sec = nr_sec[hi][k];
						h->top_nr = g->nr;
						h->top_bucket = pp_bucket_names[g->state];
					}
					break;
				}
			}
		} else {
			h->part[HOLD_UNKNOWN] += g->sec;
		}
	}
	/* Largest first. */
	for (int a = 1; a < v->nholders; a++)
		for (int b = a; b > 0 && v->holders[b].sec > v->holders[b - 1].sec; b--) {
			struct holder tmp = v->holders[b];

			v->holders[b] = v->holders[b - 1];
			v->holders[b - 1] = tmp;
		}
}

/* The holder that explains the GIL waits: the largest that is a thread. */
static const struct holder *top_holder(const struct verdict *v)
{
	for (int i = 0; i < v->nholders; i++)
		if (v->holders[i].tid)
			return &v->holders[i];
	return NULL;
}

static void holder_call(const struct holder *h, char *buf, size_t len)
{
	const char *name = h->top_nr != PP_NR_NONE ? syscall_name(h->top_nr) : NULL;

	if (name)
		snprintf(buf, len, "%s()", name);
	else if (h->top_nr != PP_NR_NONE)
		snprintf(buf, len, "system call %u", h->top_nr);
	else
		snprintf(buf, len, "a system call");
}

/* gil-held-blocking: others waited while the holder slept in a system call with the GIL. */
static void held_blocking(const struct window *w, struct verdict *v)
{
	const struct holder *h = NULL;
	double blocked = 0;
	char call[64];

	/* The holder that kept the GIL blocked the longest (not the one most waited on overall). */
	for (int i = 0; i < v->nholders; i++) {
		blocked += v->holders[i].part[HOLD_BLOCKED];
		if (v->holders[i].tid && v->holders[i].part[HOLD_BLOCKED] > 0 &&
		    (!h || v->holders[i].held_blocked > h->held_blocked))
			h = &v->holders[i];
	}
	if (!h || v->tot.gil <= 0 || blocked < HELD_BLOCKING_MIN * w->seconds ||
	    (blocked < HELD_BLOCKING_SHARE * v->tot.gil && h->held_blocked < HELD_BLOCKING_WINDOW * w->seconds))
		return;
	v->traits[v->ntraits++] = "gil-held-blocking";
	holder_call(h, call, sizeof(call));
	reason(v, "thread %u (%s) held the GIL while blocked in %s (%s) for %.2f s of the window; %u thread(s) "
		  "waited %.2f s for it meanwhile (%.0f%% of all GIL wait)", h->tid, h->name, call,
	       h->top_bucket ? h->top_bucket : "?", h->held_blocked, h->nwaiters, h->part[HOLD_BLOCKED],
	       pct(blocked, v->tot.gil));
	advise(v, "Release the GIL around blocking calls: Py_BEGIN_ALLOW_THREADS/Py_END_ALLOW_THREADS in C "
		  "extensions, ctypes.CDLL instead of ctypes.PyDLL, 'with nogil:' in Cython.");
	advise(v, "While thread %u sleeps holding the GIL no other thread runs Python: the wait is not "
		  "CPU contention, and more processes or cores will not fix it.", h->tid);
}

/*
 * Share of the CPU samples spent making and freeing objects of the kinds
 * given, with the allocator's own samples (type unknown) shared out in
 * proportion to the typed ones when there are enough of those to tell.
 */
static double churn_share(const struct cpu_mix *m, const int *kinds, int nk)
{
	uint64_t typed = 0, these = 0;

	for (int k = 0; k < CHURN_NKINDS; k++)
		typed += k == CHURN_OTHER ? 0 : m->churn_kind[k];
	for (int i = 0; i < nk; i++)
		these += m->churn_kind[kinds[i]];
	if (!m->samples)
		return 0;
	if (typed >= CHURN_TYPED_MIN && typed >= CHURN_TYPED_SHARE * m->churn)
		return (double)these / typed * m->churn / m->samples;
	return (double)these / m->samples;
}

static void churn_trait(const struct cpu_mix *m, struct verdict *v)
{
	static const int object_kinds[] = { CHURN_CONTAINER, CHURN_INSTANCE, CHURN_STRING };
	double objects = churn_share(m, object_kinds, 3);
	double all = (double)m->churn / m->samples;

	/*
	 * int and float results are what arithmetic costs in CPython: a plain
	 * loop spends 15-50% of its samples on them, so they are never the
	 * trait (label_cpu says what to do about them).
	 */
	if (objects < CHURN_OBJECTS)
		return;
	v->traits[v->ntraits++] = "alloc-churn";
	reason(v, "making and freeing containers, instances and strings took about %.0f%% of the CPU samples "
		  "(all churn %.0f%%: %s); most under %.100s:%d in %.60s", 100 * objects, 100 * all,
	       m->churn_types, m->churn_file, m->churn_line, m->churn_func);
	if (m->churn_kind[CHURN_CONTAINER] >= m->churn_kind[CHURN_INSTANCE] &&
	    m->churn_kind[CHURN_CONTAINER] >= m->churn_kind[CHURN_STRING])
		advise(v, "Object churn: the hot loop builds tuples, lists or dicts it throws away; reuse one, "
			  "unpack directly, use generators/itertools instead of intermediate lists (pyprobe churn "
			  "shows the lines).");
	else if (m->churn_kind[CHURN_INSTANCE] >= m->churn_kind[CHURN_STRING])
		advise(v, "Object churn: the hot loop creates and drops instances; keep long-lived objects, use "
			  "__slots__ or plain tuples for small records (pyprobe churn shows the lines).");
	else
		advise(v, "Object churn: strings or bytes are built per iteration; join once, use io.StringIO or "
			  "bytearray, avoid repeated slicing (pyprobe churn shows the lines).");
}

static void mix_traits(const struct cpu_mix *m, struct verdict *v)
{
	double attr = m->samples ? (double)m->attr / m->samples : 0;

	if (!m->measured || m->samples < MIX_MIN_SAMPLES)
		return;
	if ((attr >= ATTR_HOT && m->attr_cache_pays) || attr >= ATTR_HOT_ANY) {
		v->traits[v->ntraits++] = "attr-hot";
		if (*m->attr_file)
			reason(v, "attribute lookups took %.0f%% of the CPU samples; hottest: %s%s%.64s at %.100s:%d "
				  "(%.0f%%)", 100 * attr, m->attr_receiver, *m->attr_receiver ? "." : "", m->attr_name,
			       m->attr_file, m->attr_line, pct(m->attr_spot_samples, m->samples));
		else	/* a native lookup function with no Python frame under it */
			reason(v, "attribute lookups took %.0f%% of the CPU samples; hottest: %.64s in native code "
				  "(%.0f%%)", 100 * attr, m->attr_name, pct(m->attr_spot_samples, m->samples));
		if (m->attr_cache_pays)
			advise(v, "Attribute lookups: the hottest one is repeated on every iteration of a loop with "
				  "the same receiver; bind it to a local before the loop (m = obj.method) "
				  "and use the local inside (pyprobe attrs shows where).");
		else
			advise(v, "Attribute lookups: cache hot attributes and methods in locals in tight loops, "
				  "use __slots__ for small hot classes, avoid __getattr__/properties on hot paths "
				  "(pyprobe attrs shows where).");
	}
	churn_trait(m, v);
}

/* Traits stand beside the label: a process can be CPU-bound and GC-bound at once. */
/*
 * cpu-starved: after waking, the threads waited long for CPUs that other
 * processes held (the host is loaded). Not the process's own demand, so not
 * part of its label; latency its requests see all the same.
 */
static void starved_trait(const struct window *w, struct verdict *v)
{
	const struct totals *t = &v->tot;
	double cpus = w->ncpus && w->seconds > 0 ? w->ncpus * w->seconds : 0;

	if (t->starved < STARVED_WINDOW * w->seconds || t->starved < STARVED_SHARE * (t->work + t->starved))
		return;
	v->traits[v->ntraits++] = "cpu-starved";
	if (cpus > 0)
		reason(v, "its threads waited %.2f s for a CPU after waking while other processes held them: the "
			  "host's CPUs were %.0f%% busy, %.0f%% of that with this process", t->starved,
		       100 * w->host_busy / cpus, 100 * t->own_share);
	else
		reason(v, "its threads waited %.2f s for a CPU after waking while other processes held them "
			  "(%.0f%% of the host's busy CPU time was this process's)", t->starved, 100 * t->own_share);
	advise(v, "The host's CPUs are busy with other processes: each wakeup waits for a CPU, which requests "
		  "see as latency. Find what else runs (its own pool workers count), give the service CPUs of "
		  "its own (cpuset, cpu.weight, fewer neighbours) or more cores.");
}

/* Advice for a stall by what the loop was doing: the way out differs. */
static void loop_advice(const struct loop_summary *l, struct verdict *v)
{
	switch (l->cause) {
	case LOOP_CAUSE_PYTHON:
		advise(v, "Event loop: CPU work in a callback holds every other task. Move it off the loop "
			  "(loop.run_in_executor with a concurrent.futures.ProcessPoolExecutor), or split it into "
			  "smaller batches with 'await asyncio.sleep(0)' between them.");
		return;
	case LOOP_CAUSE_NATIVE:
		advise(v, "Event loop: native code runs long in a callback. Run it in an executor "
			  "(asyncio.to_thread if it releases the GIL, else a ProcessPoolExecutor).");
		return;
	default:
		break;
	}
	switch (l->blocked_state) {
	case PP_B_SLEEP:
		advise(v, "Event loop: a blocking sleep (time.sleep) stops the whole loop; use 'await asyncio.sleep()'.");
		break;
	case PP_B_FILE_IO:
		advise(v, "Event loop: file I/O blocks the loop; run it with asyncio.to_thread or "
			  "loop.run_in_executor (or an async file library).");
		break;
	case PP_B_NET_IO:
	case PP_B_IPC_WAIT:
		advise(v, "Event loop: a synchronous socket read or client (an HTTP or database library that "
			  "blocks) runs on the loop; use its async counterpart (aiohttp or httpx.AsyncClient, asyncpg, "
			  "redis.asyncio...) or wrap the call in asyncio.to_thread.");
		break;
	case PP_B_LOCK_WAIT:
		advise(v, "Event loop: it waits on a threading lock, queue or future; use asyncio.Lock/asyncio.Queue, "
			  "or await the blocking wait through asyncio.to_thread.");
		break;
	case PP_B_CHILD_WAIT:
		advise(v, "Event loop: it waits for a subprocess; use asyncio.create_subprocess_exec and await it.");
		break;
	case PP_B_GIL_WAIT:
		advise(v, "Event loop: it waits for the GIL that other threads of the process hold; move their CPU "
			  "work to processes.");
		break;
	default:
		advise(v, "Event loop: a blocking call runs on the loop; move it to asyncio.to_thread or "
			  "loop.run_in_executor.");
	}
}

/* loop-blocked: an event loop stalled; loop-saturated: one never got back to waiting. */
static void loop_traits(const struct window *w, struct verdict *v)
{
	const struct loop_summary *l = &w->loop;
	char what[160];

	if (l->stalls) {
		v->traits[v->ntraits++] = "loop-blocked";
		if (l->cause == LOOP_CAUSE_BLOCKING) {
			const char *call = l->blocked_nr != PP_NR_NONE ? syscall_name(l->blocked_nr) : NULL;

			snprintf(what, sizeof(what), "blocked in %s%s%s", l->blocked_state < PP_NBUCKETS ?
				 pp_bucket_names[l->blocked_state] : "?", call ? ", " : "", call ? call : "");
		} else {
			snprintf(what, sizeof(what), "%s on CPU", loop_cause_name(l->cause));
		}
		reason(v, "the event loop stalled %u time(s) over %.0f ms (worst %.0f ms, %.2f s in all); most of it "
			  "%s at %s%s%s%s (%u stall(s), %.2f s)", l->stalls, 1e3 * l->threshold, 1e3 * l->worst,
		       l->total, what, l->site[0] ? l->site : "an unsampled line", l->task[0] ? " in " : "",
		       l->task, l->task[0] ? "()" : "", l->site_count, l->site_seconds);
		loop_advice(l, v);
	}
	if (l->saturated_tid) {
		v->traits[v->ntraits++] = "loop-saturated";
		reason(v, "the event loop of thread %u never got back to waiting: busy %.0f%% of the window running "
			  "short callbacks back to back (saturated, not stalled)", l->saturated_tid,
		       100 * l->saturated_share);
		advise(v, "Event loop saturated: more work arrives than one loop can run. Spread it over more "
			  "processes (workers), cut the work per callback, or move CPU work to a process pool.");
	}
}

static void traits(const struct window *w, struct verdict *v)
{
	const struct gc_window *gc = &w->gc;

	if (gc->share >= GC_PRESSURE) {
		v->traits[v->ntraits++] = "gc-pressure";
		reason(v, "garbage collection paused the process %.0f%% of the window: %llu collections, %.3f s "
			  "(%s)", 100 * gc->share, (unsigned long long)gc->all.collections, gc->pause_seconds,
		       gc_method_name(gc->method));
		advise(v, "GC pauses: call gc.freeze() after start-up so long-lived objects stop being scanned.");
		advise(v, "GC pauses: raise the thresholds (gc.set_threshold) if most collections are generation 0 "
			  "and allocation-heavy; break reference cycles (weakref, explicit cleanup) so objects "
			  "die by reference counting.");
	}
	held_blocking(w, v);
	mix_traits(&w->mix, v);
	starved_trait(w, v);
	loop_traits(w, v);
}

/* "72% of working thread time is I/O: network 60%, files 12%", naming only the parts present. */
static void io_reason(struct verdict *v, const struct totals *t)
{
	double inwork = t->io - t->sec[PP_B_NET_IO] - t->sec[PP_B_FILE_IO] - t->cpu_io;
	const struct {
		const char *name;
		double sec;
	} parts[] = {
		{ "network", t->sec[PP_B_NET_IO] },
		{ "files", t->sec[PP_B_FILE_IO] },
		{ "kernel I/O work on CPU", t->cpu_io },
		{ "waits inside request handling or a serving event loop", inwork > 0 ? inwork : 0 },
	};
	char buf[VERDICT_LINE];
	int n = snprintf(buf, sizeof(buf), "%.0f%% of working thread time is I/O:", pct(t->io, t->work));
	const char *sep = " ";

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && n < (int)sizeof(buf); i++) {
		if (parts[i].sec < 0.005 * t->work)
			continue;
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s %.0f%%", sep, parts[i].name, pct(parts[i].sec, t->work));
		sep = ", ";
	}
	reason(v, "%s", buf);
}

static void peers_reason(struct verdict *v)
{
	char buf[VERDICT_LINE];
	int n;

	if (!v->npeers)
		return;
	n = snprintf(buf, sizeof(buf), "its threads wait on %d other process%s:", v->npeers, v->npeers == 1 ? "" : "es");
	for (int i = 0; i < v->npeers && n < (int)sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s %d (%.15s, %.1f s)", i ? "," : "", v->peers[i].pid,
			      v->peers[i].comm, v->peers[i].sec);
	reason(v, "%s", buf);
}

static void set_confidence(struct verdict *v, double c, const char *boundary)
{
	v->confidence = clamp01(c);
	if (v->confidence < LOW_CONFIDENCE && boundary) {
		v->boundary = boundary;
		reason(v, "low confidence: the numbers are close to the %s", boundary);
	}
}

static void label_idle(const struct window *w, struct verdict *v)
{
	const struct totals *t = &v->tot;
	double busy = t->work / w->seconds;

	v->label = "idle";
	v->pattern = "idle";
	reason(v, "all threads together worked %.2f s in the %.1f s window (%.0f%% of one thread)", t->work,
	       w->seconds, 100 * busy);
	reason(v, "waiting: sleep or event loop %.0f%%, locks/queues/joins %.0f%%, other processes %.0f%% of "
		  "thread time", pct(t->idle, t->all), pct(t->lock, t->all), pct(t->peer, t->all));
	peers_reason(v);
	if (t->lock > 0.9 * t->all)
		reason(v, "threads wait for each other: waiting for work, or a deadlock if it never changes");
	set_confidence(v, 1 - 0.5 * busy / IDLE_WORK, "idle boundary (work below 20% of one thread)");
	if (v->npeers) {
		advise(v, "This process waits on others: its own part is idle. Classify the processes it waits "
			  "on (pyprobe classify PID) to see why they are slow.");
	} else {
		advise(v, "Nothing to fix: the process is waiting for work (sleeping or in its event loop).");
	}
}

static void label_gil(const struct window *w, struct verdict *v)
{
	const struct totals *t = &v->tot;
	const struct holder *h = top_holder(v);
	double s_gil = t->gil / t->work, s_cpu = t->cpu / t->work;

	v->label = "gil-contended";
	reason(v, "%.0f%% of working thread time waits for the GIL (acquire %.0f%%, forced hand-off %.0f%%)",
	       100 * s_gil, pct(t->gil_sec[PP_GIL_ACQUIRE], t->work), pct(t->gil_sec[PP_GIL_HANDOFF], t->work));
	reason(v, "%u thread(s) waited for the GIL more than %.0f%% of the window", t->gil_waiters,
	       100 * GIL_WAITER_SHARE);
	if (h) {
		const struct thread_window *ht = find_thread(w, h->tid);
		enum holder_part most = HOLD_PYTHON;
		static const char *const doing[NHOLD] = {
			[HOLD_PYTHON] = "running Python", [HOLD_NATIVE] = "in native code that kept the GIL",
			[HOLD_RUNQUEUE] = "preempted, waiting for a CPU", [HOLD_BLOCKED] = "blocked in a system call",
			[HOLD_HANDOVER] = "handing it over", [HOLD_UNKNOWN] = "doing what could not be seen",
		};
		unsigned int sharing = 0;

		/* What the holder itself did: a hand-over (it had let go and the waiter was still on its
		 * way) follows from the contention, so it decides only when nothing else was seen. */
		for (int k = 0; k < NHOLD; k++)
			if (k != HOLD_HANDOVER && k != HOLD_UNKNOWN && h->part[k] > h->part[most])
				most = k;
		if (h->part[most] <= 0)
			for (int k = 0; k < NHOLD; k++)
				if (h->part[k] > h->part[most])
					most = k;
		for (int i = 0; i < v->nholders; i++)
			sharing += v->holders[i].tid && v->holders[i].sec >= 0.15 * t->gil;
		if (ht) {
			struct thread_role hr;

			classify_thread(w, ht, &hr);
			v->utilization = hr.util;
		}
		v->deciding_tid = h->tid;
		v->pattern = "steady";
		if (sharing >= 2 && h->sec < 0.5 * t->gil) {
			reason(v, "the GIL passes among %u threads that all want it (the top holder, thread %u (%s), "
				  "held it for %.0f%% of the waiting, %.0f%% of that time %s)", sharing, h->tid, h->name,
			       pct(h->sec, t->gil), pct(h->part[most], h->sec), doing[most]);
			advise(v, "Use processes (multiprocessing / ProcessPoolExecutor) for the CPU-heavy work, or "
				  "native code that releases the GIL.");
		} else {
			char extra[64] = "";

			if (most != HOLD_HANDOVER && h->part[HOLD_HANDOVER] >= 0.2 * h->sec)
				snprintf(extra, sizeof(extra), ", %.0f%% handing it over",
					 pct(h->part[HOLD_HANDOVER], h->sec));
			reason(v, "the GIL was held by thread %u (%s) for %.2f s of the others' waiting (%.0f%% of it), "
				  "%.0f%% of that time %s%s", h->tid, h->name, h->sec, pct(h->sec, t->gil),
			       pct(h->part[most], h->sec), doing[most], extra);
			if (most == HOLD_PYTHON || most == HOLD_RUNQUEUE)
				advise(v, "Thread %u (%s) computes in Python holding the GIL and makes the other "
					  "threads wait after every wake-up: move that work to a process "
					  "(multiprocessing, ProcessPoolExecutor) or to native code that releases "
					  "the GIL.", h->tid, h->name);
			else if (most == HOLD_NATIVE)
				advise(v, "Thread %u (%s) runs native code that keeps the GIL: use a build or an API "
					  "of that library that releases it, or run it in a process.", h->tid, h->name);
		}
		if (h->part[HOLD_RUNQUEUE] > 0.3 * h->sec)
			reason(v, "holders were preempted with the GIL %.0f%% of the time: more runnable threads "
				  "than CPUs (%.1f wanted, %u online)", pct(h->part[HOLD_RUNQUEUE], h->sec),
			       t->cpu_demand + t->gil / w->seconds, w->ncpus);
	}
	reason(v, "%.0f%% of working time on CPU, %.0f%% of it running Python", 100 * s_cpu, 100 * t->python_share);
	set_confidence(v, 0.5 + 0.5 * clamp01((s_gil - GIL_CONTENDED) / GIL_CONTENDED),
		       "gil-contended boundary (GIL wait 30% of work)");
	if (!h || h->part[HOLD_BLOCKED] < 0.5 * h->sec) {
		advise(v, "Several threads want to run Python at once and wait for the GIL: threads add no "
			  "throughput here.");
		advise(v, "Keep threads for I/O; fewer Python threads means less switching.");
	}
}

/* How busy the deciding thread was and in what pattern. */
static void pattern(const struct window *w, struct verdict *v, const struct thread_role *r, uint32_t tid,
		    const char *name)
{
	v->deciding_tid = tid;
	v->utilization = r->util;
	if (r->bursty) {
		v->pattern = "bursts";
		v->burst_seconds = r->burst_mean;
		if (r->nbursts >= 2) {
			/* A thread busy only in bursts is busy one burst per period. */
			v->burst_every = r->util > 0 ? r->burst_mean / r->util : w->seconds / r->nbursts;
			reason(v, "thread %u (%s) was busy %.0f%% of the window in %u bursts of %.0f ms, one every "
				  "%.0f ms", tid, name, 100 * r->util, r->nbursts, 1e3 * r->burst_mean,
			       1e3 * v->burst_every);
		} else {
			/* For a thread busy only in bursts, its utilization is one burst per period. */
			double period = r->util > 0 ? r->burst_mean / r->util : w->seconds;

			v->window_needed = 3 * (period > w->seconds ? period : w->seconds);
			reason(v, "thread %u (%s) was busy %.0f%% of the window, in one burst of %.0f ms: too few "
				  "bursts to tell how often they come; a window of %.0f s would show three "
				  "(--seconds %.0f)", tid, name, 100 * r->util, 1e3 * r->burst_mean, v->window_needed,
			       v->window_needed);
		}
	} else {
		v->pattern = "steady";
		if (r->busy_p50 >= 0.9 * w->seconds)
			reason(v, "thread %u (%s) was busy (on CPU, in the run queue or waiting for the GIL) %.0f%% "
				  "of the window, steadily: without a break", tid, name, 100 * r->util);
		else
			reason(v, "thread %u (%s) was busy (on CPU, in the run queue or waiting for the GIL) %.0f%% "
				  "of the window, steadily: half its busy time in periods up to %.1f ms", tid, name,
			       100 * r->util, 1e3 * r->busy_p50);
	}
}

static void label_cpu(const struct window *w, struct verdict *v, const struct thread_role *r,
		      const struct thread_window *th)
{
	const struct totals *t = &v->tot;
	bool py = t->python_share >= 0.5;
	double share = py ? t->python_share : 1 - t->python_share, s_cpu = t->cpu / t->work;
	uint64_t n = t->samples_gil + t->samples_gil_native + t->samples_nogil + t->samples_unknown;
	unsigned int ncpus = w->ncpus ? w->ncpus : 1;
	bool cores = t->cpu_demand >= CORES_SATURATED * ncpus;
	bool saturated = r->util >= SATURATED || cores;
	double c;

	pattern(w, v, r, th->tid, th->name);
	if (!saturated && r->bursty) {
		v->label = "bursty";
		reason(v, "not CPU-bound: the process has headroom, but each burst keeps thread %u busy %.0f ms "
			  "(%.0f%% of it %s)", th->tid, 1e3 * r->burst_mean, 100 * share,
		       py ? "running Python" : "in native code");
		c = (r->nbursts >= 2 ? 1.0 : 0.6) * (1 - r->util / SATURATED * 0.5);
		set_confidence(v, c, "saturation boundary (a thread busy 75% of the window)");
		if (r->loop)
			advise(v, "Thread %u runs an event loop: while a burst runs, no other callback or request "
				  "is served. Move the computation off the loop (loop.run_in_executor with a "
				  "ProcessPoolExecutor for Python code), or split it into chunks with "
				  "'await asyncio.sleep(0)' between them.", th->tid);
		else
			advise(v, "Each burst delays whatever waits for thread %u: run the bursts in a worker "
				  "process or pool, or make them smaller.", th->tid);
		advise(v, "More cores or processes add no speed to a single burst; profile it (pyprobe top "
			  "--seconds %.0f) to shorten it.", w->seconds > 2 ? w->seconds : 5.0);
		return;
	}
	v->label = py ? "cpu-bound-python" : "cpu-bound-native";
	reason(v, "%.0f%% of working thread time is on CPU or ready to run (run queue %.0f%%)", 100 * s_cpu,
	       pct(t->sec[PP_B_RUNQUEUE], t->work));
	reason(v, "%.0f%% of the CPU time ran %s (%llu samples)", 100 * share,
	       py ? "Python (the thread held the GIL)" : "native code", (unsigned long long)n);
	if (cores)
		reason(v, "the threads together want %.1f of %u CPUs", t->cpu_demand, ncpus);
	c = s_cpu * share;
	if (n < FEW_SAMPLES)
		c *= 0.6;	/* few samples make the Python/native split uncertain */
	if (!saturated) {
		reason(v, "not saturated: the busiest thread was busy %.0f%% of the window; requests wait for "
			  "its CPU time, not for a queue", 100 * r->util);
		c *= r->util / SATURATED;
	}
	set_confidence(v, c, saturated ? "python/native split" : "saturation boundary (a thread busy 75% of the window)");
	if (py && w->mix.measured && w->mix.samples >= MIX_MIN_SAMPLES) {
		static const int number_kinds[] = { CHURN_NUMBER };
		static const int object_kinds[] = { CHURN_CONTAINER, CHURN_INSTANCE, CHURN_STRING };
		double numbers = churn_share(&w->mix, number_kinds, 1);

		/* Arithmetic is the hot loop's cost only when its results outweigh the objects it builds. */
		if (numbers >= CHURN_NUMBERS && numbers > churn_share(&w->mix, object_kinds, 3)) {
			reason(v, "about %.0f%% of the CPU samples box int and float results: arithmetic done in "
				  "Python, one object per operation", 100 * numbers);
			advise(v, "The hot loop is arithmetic: NumPy (vectorised) or native code (Cython, Numba, "
				  "a C extension) does it without an object per result.");
		}
	}
	if (py) {
		advise(v, "Python bytecode holding the GIL is the bottleneck: threads will not add parallelism.");
		advise(v, "Use processes (multiprocessing, concurrent.futures.ProcessPoolExecutor) to use more cores.");
		advise(v, "Or move the hot loop to native code that releases the GIL (NumPy, C/Cython/Rust "
			  "extension); profile first to find it.");
	} else {
		advise(v, "Time goes to native code: with the GIL released threads already run in parallel; "
			  "check the core count and that every core is used.");
		if (t->samples_gil_native > t->samples_nogil)
			advise(v, "Most of that native code keeps the GIL: other threads cannot run Python "
				  "meanwhile; look for an API of the library that releases it.");
		else
			advise(v, "More threads than cores only adds run-queue wait.");
	}
}

static void label_io(const struct window *w, struct verdict *v)
{
	const struct totals *t = &v->tot;
	double s_io = t->io / t->work;

	v->label = "io-bound";
	io_reason(v, t);
	for (size_t i = 0; i < w->n; i++) {
		struct thread_role r;

		classify_thread(w, &w->t[i], &r);
		if (r.loop_serving) {
			reason(v, "thread %u (%s) runs an event loop woken %.0f times/s for short work (%.1f ms "
				  "each): its waits count as waiting for I/O", w->t[i].tid, w->t[i].name,
			       w->t[i].loop.n / w->seconds, 1e3 * w->t[i].loop.total / w->t[i].loop.n);
			break;
		}
		if (w->t[i].blocked_in_work >= 0.5 && r.part[ROLE_IO] > 0.5 * r.observed &&
		    w->t[i].sec[PP_B_NET_IO] + w->t[i].sec[PP_B_FILE_IO] < 0.5 * r.part[ROLE_IO]) {
			reason(v, "thread %u (%s) waits inside request handling %.0f%% of its time (it sleeps or "
				  "waits in application code, not in the server's loop): it is busy, not idle",
			       w->t[i].tid, w->t[i].name, pct(r.part[ROLE_IO], r.observed));
			break;
		}
	}
	set_confidence(v, s_io, "dominance boundary (50% of work)");
	advise(v, "The process mostly waits: more CPU will not help and it will not scale with cores.");
	advise(v, "Overlap the waits: asyncio (or a thread pool) for many concurrent requests; run blocking "
		  "calls in loop.run_in_executor from async code; more workers for a pre-fork server.");
	advise(v, "Batch or cache the slowest calls; check the latency of the services and disks it waits on.");
}

static void classify_label(const struct window *w, struct verdict *v)
{
	struct totals *t = &v->tot;
	const struct thread_window *th = NULL;
	struct thread_role r = {};
	double s_cpu, s_gil, s_io, s_other, best;

	sum(w, v, &r, &th);
	holders(w, v);
	if (t->all <= 0 || w->seconds <= 0) {
		v->label = "idle";
		v->pattern = "idle";
		v->confidence = 0.3;
		reason(v, "no thread activity was observed in %.1f s", w->seconds);
		advise(v, "Nothing to fix: the process is waiting for work (sleeping or in its event loop).");
		return;
	}
	if (t->work < IDLE_WORK * w->seconds) {
		label_idle(w, v);
		return;
	}
	s_cpu = t->cpu / t->work;
	s_gil = t->gil / t->work;
	s_io = t->io / t->work;
	s_other = t->other / t->work;
	if (s_gil >= GIL_CONTENDED && t->gil_waiters >= 1) {
		label_gil(w, v);
	} else {
		best = s_cpu;
		v->label = "cpu";
		if (s_io > best) {
			best = s_io;
			v->label = "io-bound";
		}
		if (s_other > best) {
			best = s_other;
			v->label = "other";
		}
		if (best < DOMINANT || !strcmp(v->label, "other")) {
			v->label = "mixed";
			reason(v, "no single cause: CPU %.0f%%, GIL wait %.0f%%, I/O %.0f%%, other (page faults, "
				  "unclassified waits) %.0f%% of working thread time", 100 * s_cpu, 100 * s_gil,
			       100 * s_io, 100 * s_other);
			set_confidence(v, 1 - best, "dominance boundary (50% of work)");
			advise(v, "No single cause dominates: see the per-thread roles and tackle the largest "
				  "part first.");
		} else if (!strcmp(v->label, "cpu") && th) {
			label_cpu(w, v, &r, th);
		} else {
			label_io(w, v);
		}
	}
	if (t->idle + t->lock + t->peer + t->starved > 0.05 * t->all)
		reason(v, "not counted above: sleeping/idle %.0f%%, locks/queues/joins %.0f%%, waiting on other "
			  "processes %.0f%%, waiting for CPUs other processes held %.0f%% of all thread time",
		       pct(t->idle, t->all), pct(t->lock, t->all), pct(t->peer, t->all), pct(t->starved, t->all));
	if (strcmp(v->label, "idle"))
		peers_reason(v);
}

void classify(const struct window *w, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	classify_label(w, v);
	traits(w, v);
}
