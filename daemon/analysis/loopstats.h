/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_LOOPSTATS_H
#define PYPROBED_LOOPSTATS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pyprobe/buckets.h"
#include "pysym.h"
#include "window.h"

/*
 * Event-loop busy periods and stalls (pyprobe loop, the loop-blocked trait;
 * docs/classify.md "Event loops"). A busy period runs from the loop's thread
 * waking from a blocking poll/epoll/select wait to its next blocking wait;
 * BPF counts every one in a histogram per thread and records those of 10 ms
 * or more with where their time went. A wait that returns at once does not
 * block, so a loop that never gets back to waiting has one long period of
 * many short callbacks (saturated) where a stalled loop has one callback
 * running long: the stack samples in the period tell them apart. A stall
 * is a period over the threshold that is not saturation. Pure logic: the
 * caller gives the records, the samples taken in the window and the window.
 */

/* A long iteration, as BPF recorded it. */
struct loop_iter {
	uint32_t tid;
	uint16_t max_nr;	/* system call of its longest blocked interval (PP_NR_NONE) */
	uint8_t max_state;	/* that interval's bucket (PP_B_NONE: it never blocked) */
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t max_off_ns;
	uint64_t ns[PP_NBUCKETS];	/* where its time went */
};

/* Long iterations as they arrive, oldest first; past LOOP_LOG_MAX the oldest quarter goes. */
struct loop_log {
	struct loop_iter *v;
	size_t n, cap;
	uint64_t dropped;
};
int loopstats__log_add(struct loop_log *log, const struct loop_iter *it);
void loopstats__log_free(struct loop_log *log);

/* A stack sample of the window, reduced to what a stall needs. */
struct loop_sample {
	uint32_t tid;
	uint64_t ts;		/* CLOCK_MONOTONIC */
	bool python;		/* on CPU running Python (else native code) */
	bool blocked;		/* a wall sample of the thread blocked (not a CPU sample) */
	bool in_loop;		/* the innermost Python frame is the event loop's own machinery */
	uint8_t bucket;		/* blocked: why (enum pp_bucket, from /proc), else PP_B_NONE */
	uint16_t nr;		/* blocked: in which system call (PP_NR_NONE: none) */
	const char *site;	/* "function (file:line)" of the innermost Python frame, NULL if none */
	const char *task;	/* the coroutine or callback the event loop was running, NULL if not seen */
};

/* The samples of a window, with their site and task strings (interned: few distinct ones). */
struct loop_samples {
	struct loop_sample *v;
	size_t n, cap;
	char **strs;
	size_t nstrs, capstrs;
};
#define LOOP_MAX_SAMPLES 100000
/* Add a copy of *s (its site and task copied too); past LOOP_MAX_SAMPLES samples are not kept. */
int loopstats__sample(struct loop_samples *ls, const struct loop_sample *s);
void loopstats__samples_free(struct loop_samples *ls);
/*
 * A sampled stack (innermost frame first) as a stall sees it: site, the
 * innermost frame ("handler (app.py:42)"); task, the coroutine or callback
 * asyncio's machinery was running (the frame its Task or Handle called), ""
 * when none shows. Returns whether the innermost frame is an event loop's
 * own machinery (asyncio, selectors, tornado, twisted, gevent).
 */
bool loopstats__describe(const struct pyframe *f, int n, char *site, size_t sitelen, char *task, size_t tasklen);

enum loop_cause { LOOP_CAUSE_PYTHON, LOOP_CAUSE_NATIVE, LOOP_CAUSE_BLOCKING, LOOP_CAUSE_UNKNOWN,
		  LOOP_CAUSE_SATURATED };
const char *loop_cause_name(enum loop_cause c);

struct loop_stall {
	uint32_t tid;
	double start;		/* seconds into the window */
	double seconds;
	enum loop_cause cause;
	double oncpu_share;	/* of the stall */
	uint8_t blocked_state;	/* blocking: the bucket of its longest blocked interval */
	uint16_t blocked_nr;	/* and the system call */
	double blocked_seconds;
	const char *site;	/* the innermost Python frame sampled most in it (blocking: the last one), or NULL */
	const char *task;
	unsigned int samples;	/* stack samples taken in it */
	bool ongoing;		/* still running at the window's end (its length so far) */
};

/* What a loop thread did: healthy, saturated (never back to waiting, every iteration short), stalled. */
struct loop_thread {
	uint32_t tid;
	char name[16];
	uint64_t iterations;	/* busy periods completed in the window */
	double busy_seconds;	/* in them, and in the one under way at its end */
	double saturated_seconds;	/* in periods of many short callbacks over the threshold */
	double p50, p99, max;	/* iteration lengths (s), from the histogram (bucket means; max exact) */
	const struct busy_window *hist;
	unsigned int nstalls;
	double stall_seconds;
	const char *state;	/* idle, healthy, saturated, stalled */
};

#define LOOP_MAX_THREADS 16
#define LOOP_MAX_STALLS 256
#define LOOP_MAX_SITES 16

struct loop_site {
	const char *site;	/* NULL: not seen */
	enum loop_cause cause;
	uint8_t blocked_state;
	uint16_t blocked_nr;
	unsigned int count;
	double seconds, max;
};

struct loop_report {
	double threshold;	/* seconds */
	int nthreads;
	struct loop_thread threads[LOOP_MAX_THREADS];
	int nstalls;		/* in the report (at most LOOP_MAX_STALLS, the longest kept) */
	unsigned int stalls_total;
	struct loop_stall stalls[LOOP_MAX_STALLS];	/* in time order */
	int nsites;
	struct loop_site sites[LOOP_MAX_SITES];	/* by total stall time */
	double worst;		/* the longest stall (s) */
};

/*
 * The loops of window w: threads that waited in poll/epoll/select (their
 * iteration histograms), the records of log in the window over threshold
 * (s) with their causes from samples (any order), and the sites.
 */
void loopstats__report(const struct window *w, uint64_t t0, uint64_t t1, const struct loop_log *log, double threshold,
		       const struct loop_sample *samples, size_t nsamples, struct loop_report *r);

/* What the verdict needs of a report: the stalls and their worst site, a saturated loop. */
void loopstats__summary(const struct loop_report *r, double window_seconds, struct loop_summary *s);

#endif
