/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_WINDOW_H
#define PYPROBED_WINDOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "pyprobe/buckets.h"
#include "gcstats.h"

_Static_assert(sizeof(pp_bucket_names) / sizeof(pp_bucket_names[0]) == PP_NBUCKETS, "a name per bucket");

/* One thread's state as read from the BPF maps at one instant. */
struct snap_thread {
	uint32_t tid;
	bool exited;
	struct pp_thread th;	/* in-progress interval already added */
	struct pp_samples smp;
};

/* All threads of one target at one instant, sorted by tid. */
struct snapshot {
	uint64_t ts;		/* CLOCK_MONOTONIC ns */
	struct gc_counts gc;	/* the interpreter's collection counters */
	size_t n, cap;
	struct snap_thread *v;
};

/* Add a thread; the caller sorts with snapshot__sort when done. */
int snapshot__add(struct snapshot *s, const struct snap_thread *t);
void snapshot__sort(struct snapshot *s);
void snapshot__clear(struct snapshot *s);

/* What one thread did during a window. */
struct thread_window {
	uint32_t tid;
	char name[16];
	bool exited;
	uint64_t fsbase;	/* pthread_self of the thread, 0 if it was never switched out */
	double sec[PP_NBUCKETS];
	uint64_t cnt[PP_NBUCKETS];
	double gil_sec[PP_GIL_NKINDS];
	uint64_t gil_cnt[PP_GIL_NKINDS];
	uint64_t samples, samples_gil, samples_nogil, samples_unknown, samples_kernel_io, samples_gc;
};

/*
 * What the window's CPU samples were doing, from their stacks (hotspots.c).
 * Filled by the caller; measured is false when no stacks were sampled.
 */
struct cpu_mix {
	bool measured;
	uint64_t samples;	/* CPU samples of the window */
	uint64_t attr;		/* ... in attribute lookups */
	uint64_t churn;		/* ... allocating, freeing or GC-linking objects */
	/* The hottest attribute spot, when attr > 0. */
	char attr_name[64], attr_receiver[64], attr_file[160];
	int attr_line, attr_loop_line;
	uint64_t attr_spot_samples;
	bool attr_cache_pays;	/* in a loop, receiver not rebound there */
	/* The line with the most churn samples, when churn > 0. */
	char churn_file[160], churn_func[64];
	int churn_line;
	uint64_t churn_line_samples;
};

struct window {
	double seconds;		/* wall time between the two snapshots */
	struct gc_window gc;	/* filled by the caller (gc_window__build) */
	struct cpu_mix mix;	/* filled by the caller (hotspots__mix) */
	size_t n;
	struct thread_window *t;
};

/* w = end - start, per thread. Returns 0 or -ENOMEM. Free with window__free. */
int window__diff(struct window *w, const struct snapshot *start, const struct snapshot *end);
void window__free(struct window *w);

#endif
