// SPDX-License-Identifier: MIT
/*
 * The verdict: a pure function from a window of per-thread wall-time buckets
 * and CPU samples to a label, a confidence, reasons with the numbers behind
 * them, and advice. docs/classify.md states the rules; keep the two together.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "classify.h"

/* A thread must wait at least this share of the window for the GIL to count as a waiter. */
#define GIL_WAITER_SHARE 0.10
/* Event-loop waits count as I/O when the loop wakes this often per second. */
#define POLL_BUSY_WAKEUPS 20.0
/* Less work than this share of one thread's window is an idle process. */
#define IDLE_WORK 0.20
#define DOMINANT 0.50
#define GIL_CONTENDED 0.30
#define FEW_SAMPLES 20
/* Collector pauses this share of wall time or more make the gc-pressure trait. */
#define GC_PRESSURE 0.05
/*
 * Shares of the window's CPU samples that make the attr-hot and
 * alloc-churn traits, and the fewest samples either is judged on
 * (calibration in docs/classify.md).
 */
#define ATTR_HOT 0.10
#define ALLOC_CHURN 0.15
#define MIX_MIN_SAMPLES 40

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

static void advise(struct verdict *v, const char *s)
{
	if (v->nadvice < VERDICT_MAX_LINES)
		snprintf(v->advice[v->nadvice++], VERDICT_LINE, "%s", s);
}

static double pct(double x, double of)
{
	return of > 0 ? 100.0 * x / of : 0;
}

static void sum(const struct window *w, struct totals *t)
{
	double poll_sec = 0;
	uint64_t poll_wakeups = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *th = &w->t[i];
		double on = th->sec[PP_B_ONCPU];

		for (int b = 0; b < PP_NBUCKETS; b++) {
			t->sec[b] += th->sec[b];
			t->all += th->sec[b];
		}
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			t->gil_sec[k] += th->gil_sec[k];
			t->gil_cnt[k] += th->gil_cnt[k];
		}
		t->samples += th->samples;
		t->samples_gil += th->samples_gil;
		t->samples_nogil += th->samples_nogil;
		t->samples_unknown += th->samples_unknown;
		t->samples_kernel_io += th->samples_kernel_io;
		/* Split each thread's CPU time by its own samples; unsampled time counts as Python. */
		if (th->samples) {
			t->cpu_python += on * th->samples_gil / th->samples;
			t->cpu_io += on * th->samples_kernel_io / th->samples;
			t->cpu_native += on * (th->samples_nogil + th->samples_unknown) / th->samples;
		} else {
			t->cpu_python += on;
		}
		if (w->seconds > 0 && th->sec[PP_B_GIL_WAIT] >= GIL_WAITER_SHARE * w->seconds)
			t->gil_waiters++;
		poll_sec += th->sec[PP_B_POLL_WAIT];
		poll_wakeups += th->cnt[PP_B_POLL_WAIT];
		t->threads++;
	}
	if (t->cpu_python + t->cpu_native > 0)
		t->python_share = t->cpu_python / (t->cpu_python + t->cpu_native);
	t->poll_wakeups_per_sec = w->seconds > 0 ? poll_wakeups / w->seconds : 0;
	t->poll_is_io = poll_sec > 0 && t->poll_wakeups_per_sec >= POLL_BUSY_WAKEUPS;

	/* Run-queue time is CPU demand: the thread was ready and the cores were busy. */
	t->cpu = t->cpu_python + t->cpu_native + t->sec[PP_B_RUNQUEUE];
	t->gil = t->sec[PP_B_GIL_WAIT];
	t->io = t->sec[PP_B_NET_IO] + t->sec[PP_B_FILE_IO] + t->sec[PP_B_CHILD_WAIT] + t->cpu_io +
		(t->poll_is_io ? t->sec[PP_B_POLL_WAIT] : 0);
	t->idle = t->sec[PP_B_SLEEP] + (t->poll_is_io ? 0 : t->sec[PP_B_POLL_WAIT]);
	t->other = t->sec[PP_B_OTHER];
	/*
	 * Neither idle time nor lock waits explain slowness: a sleeping helper
	 * thread or a thread blocked in join() waits for the others, whose time
	 * says why. Shares are taken over the remaining work.
	 */
	t->lock = t->sec[PP_B_LOCK_WAIT];
	t->work = t->cpu + t->gil + t->io + t->other;
}

/* "72% of working thread time is I/O: network 60%, files 12%", naming only the parts present. */
static void io_reason(struct verdict *v, const struct totals *t, double a, double s_io)
{
	const struct {
		const char *name;
		double sec;
	} parts[] = {
		{ "network", t->sec[PP_B_NET_IO] },
		{ "files", t->sec[PP_B_FILE_IO] },
		{ "kernel I/O work on CPU", t->cpu_io },
		{ "busy event loop", t->poll_is_io ? t->sec[PP_B_POLL_WAIT] : 0 },
		{ "child processes", t->sec[PP_B_CHILD_WAIT] },
	};
	char buf[VERDICT_LINE];
	int n = snprintf(buf, sizeof(buf), "%.0f%% of working thread time is I/O:", 100 * s_io);
	const char *sep = " ";

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && n < (int)sizeof(buf); i++) {
		if (parts[i].sec < 0.005 * a)
			continue;
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s %.0f%%", sep, parts[i].name, pct(parts[i].sec, a));
		sep = ", ";
	}
	reason(v, "%s", buf);
}

static void advice_for(struct verdict *v)
{
	const char *l = v->label;

	if (!strcmp(l, "io-bound")) {
		advise(v, "The process mostly waits for I/O: more CPU will not help and it will not scale with cores.");
		advise(v, "Overlap the waits: asyncio (or a thread pool) for many concurrent requests; "
			  "run blocking calls in loop.run_in_executor from async code.");
		advise(v, "Batch or cache the slowest calls; check the latency of the services and disks it waits on.");
	} else if (!strcmp(l, "cpu-bound-python")) {
		advise(v, "Python bytecode holding the GIL is the bottleneck: threads will not add parallelism.");
		advise(v, "Use processes (multiprocessing, concurrent.futures.ProcessPoolExecutor) to use more cores.");
		advise(v, "Or move the hot loop to native code that releases the GIL (NumPy, C/Cython/Rust extension); "
			  "profile first to find it.");
	} else if (!strcmp(l, "cpu-bound-native")) {
		advise(v, "Time goes to native code running with the GIL released: threads already run in parallel.");
		advise(v, "Check the core count and that every core is used; more threads than cores only adds "
			  "run-queue wait.");
	} else if (!strcmp(l, "gil-contended")) {
		advise(v, "Several threads want to run Python at once and wait for the GIL: threads add no throughput here.");
		advise(v, "Use processes (multiprocessing / ProcessPoolExecutor) for the CPU-heavy work, or native code "
			  "that releases the GIL.");
		advise(v, "Keep threads for I/O; fewer Python threads means less switching.");
	} else if (!strcmp(l, "idle")) {
		advise(v, "Nothing to fix: the process is waiting for work (sleeping or in its event loop).");
	} else {
		advise(v, "No single cause dominates: see the per-thread split and tackle the largest bucket first.");
	}
}

static void mix_traits(const struct cpu_mix *m, struct verdict *v)
{
	double attr = m->samples ? (double)m->attr / m->samples : 0;
	double churn = m->samples ? (double)m->churn / m->samples : 0;

	if (!m->measured || m->samples < MIX_MIN_SAMPLES)
		return;
	if (attr >= ATTR_HOT) {
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
	if (churn >= ALLOC_CHURN) {
		v->traits[v->ntraits++] = "alloc-churn";
		reason(v, "allocating and freeing objects took %.0f%% of the CPU samples; most under %.100s:%d in "
			  "%.60s", 100 * churn, m->churn_file, m->churn_line, m->churn_func);
		advise(v, "Object churn: reuse objects instead of building temporaries in hot loops, use "
			  "generators and itertools instead of intermediate lists, and in-place operations "
			  "(pyprobe churn shows the lines).");
	}
}

/* Traits stand beside the label: a process can be CPU-bound and GC-bound at once. */
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
	mix_traits(&w->mix, v);
}

static void classify_label(const struct window *w, struct verdict *v)
{
	struct totals *t = &v->tot;
	double a, s_cpu, s_gil, s_io, s_other, best;

	sum(w, t);
	a = t->work;
	if (t->all <= 0 || w->seconds <= 0) {
		v->label = "idle";
		v->confidence = 0.3;
		reason(v, "no thread activity was observed in %.1f s", w->seconds);
		advice_for(v);
		return;
	}
	if (a < IDLE_WORK * w->seconds) {
		double busy = a / w->seconds;

		v->label = "idle";
		v->confidence = 1 - 0.5 * busy / IDLE_WORK;
		reason(v, "all threads together worked %.2f s in the %.1f s window (%.0f%% of one thread)", a,
		       w->seconds, 100 * busy);
		reason(v, "waiting: sleep %.0f%%, event loop %.0f%%, locks/queues/joins %.0f%% of thread time",
		       pct(t->sec[PP_B_SLEEP], t->all), pct(t->sec[PP_B_POLL_WAIT], t->all), pct(t->lock, t->all));
		if (t->lock > 0.9 * t->all)
			reason(v, "threads wait for each other: waiting for work, or a deadlock if it never changes");
		advice_for(v);
		return;
	}
	s_cpu = t->cpu / a;
	s_gil = t->gil / a;
	s_io = t->io / a;
	s_other = t->other / a;

	if (s_gil >= GIL_CONTENDED && t->gil_waiters >= 1) {
		v->label = "gil-contended";
		v->confidence = s_gil + s_cpu > 1 ? 1 : s_gil + s_cpu;
		reason(v, "%.0f%% of working thread time waits for the GIL (acquire %.0f%%, forced hand-off %.0f%%)",
		       100 * s_gil, pct(t->gil_sec[PP_GIL_ACQUIRE], a), pct(t->gil_sec[PP_GIL_HANDOFF], a));
		reason(v, "%u thread(s) waited for the GIL more than %.0f%% of the window", t->gil_waiters,
		       100 * GIL_WAITER_SHARE);
		reason(v, "%.0f%% of working time on CPU, %.0f%% of it running Python", 100 * s_cpu,
		       100 * t->python_share);
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
			v->confidence = 1 - best;
			reason(v, "no single cause: CPU %.0f%%, GIL wait %.0f%%, I/O %.0f%%, other (page faults, "
				  "unclassified waits) %.0f%% of working thread time", 100 * s_cpu, 100 * s_gil,
			       100 * s_io, 100 * s_other);
		} else if (!strcmp(v->label, "cpu")) {
			bool py = t->python_share >= 0.5;
			double share = py ? t->python_share : 1 - t->python_share;
			uint64_t n = t->samples_gil + t->samples_nogil + t->samples_unknown;

			v->label = py ? "cpu-bound-python" : "cpu-bound-native";
			v->confidence = best * share;
			reason(v, "%.0f%% of working thread time is on CPU or ready to run (run queue %.0f%%)",
			       100 * s_cpu, pct(t->sec[PP_B_RUNQUEUE], a));
			reason(v, "%.0f%% of the CPU time ran %s (%llu samples)", 100 * share,
			       py ? "Python (the thread held the GIL)" : "native code with the GIL released",
			       (unsigned long long)n);
			/* Few samples make the Python/native split uncertain. */
			if (n < FEW_SAMPLES)
				v->confidence *= 0.6;
		} else {
			v->confidence = best;
			io_reason(v, t, a, s_io);
			if (t->poll_is_io)
				reason(v, "the event loop wakes %.0f times/s, so its waits count as I/O",
				       t->poll_wakeups_per_sec);
		}
	}
	if (t->idle + t->lock > 0.05 * t->all)
		reason(v, "not counted above: sleeping/idle %.0f%%, locks/queues/joins %.0f%% of all thread time",
		       pct(t->idle, t->all), pct(t->lock, t->all));
	if (v->confidence > 1)
		v->confidence = 1;
	advice_for(v);
}

void classify(const struct window *w, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	classify_label(w, v);
	traits(w, v);
}
