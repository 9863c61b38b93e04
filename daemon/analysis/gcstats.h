/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_GCSTATS_H
#define PYPROBED_GCSTATS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GC_GENS 3
#define GC_HIST_BUCKETS 16	/* pause histogram: [2^i, 2^(i+1)) microseconds, last open-ended */

/* The interpreter's own cumulative counters (gc.get_stats()), read from target memory. */
struct gc_counts {
	bool valid;
	uint64_t collections[GC_GENS], collected[GC_GENS], uncollectable[GC_GENS];
};

/* One timed collection. */
struct gc_pause {
	uint64_t start_ns, duration_ns;	/* CLOCK_MONOTONIC */
	int32_t generation;		/* -1 unknown */
	int64_t collected;		/* -1 unknown */
};

/* Pauses as they arrive from BPF, oldest first. */
struct gc_log {
	struct gc_pause *v;
	size_t n, cap;
	uint64_t dropped;	/* over the cap */
};

/* Past GC_LOG_MAX pauses the oldest quarter is dropped (counted in dropped). */
int gcstats__log_add(struct gc_log *log, const struct gc_pause *p);
/* Histogram bucket of a pause: i covers [2^i, 2^(i+1)) us, 0 also below 1 us, the last is open. */
int gc_hist_bucket(uint64_t ns);
void gcstats__log_free(struct gc_log *log);

enum gc_method { GC_METHOD_NONE, GC_METHOD_USDT, GC_METHOD_UPROBE, GC_METHOD_SAMPLED };
const char *gc_method_name(enum gc_method m);

struct gc_gen_window {
	uint64_t collections;	/* exact, from the interpreter's counters (or timed count without them) */
	uint64_t timed;		/* collections with a measured pause */
	uint64_t collected, uncollectable;
	double total, p50, p95, p99, max;	/* seconds, over the timed pauses */
};

struct gc_window {
	enum gc_method method;
	bool counts_exact;	/* collections come from the interpreter's counters */
	bool rate_guard;	/* exact timing was stopped for too many collections/s */
	struct gc_gen_window gen[GC_GENS];
	struct gc_gen_window all;
	double pause_seconds;	/* timed total, or the sampled estimate */
	double share;		/* pause_seconds / window */
	double sampled_seconds;	/* CPU samples taken while collecting / sample rate */
	uint64_t hist[GC_HIST_BUCKETS];
};

/*
 * The GC part of a window [t0, t1]: counters a (start) and b (end), the
 * pauses in log that ran wholly inside the window, the sampled estimate.
 * Returns 0 or -ENOMEM.
 */
int gcstats__window(struct gc_window *gw, const struct gc_counts *a, const struct gc_counts *b,
		     const struct gc_log *log, uint64_t t0, uint64_t t1, enum gc_method method, bool rate_guard,
		     double sampled_seconds);

#endif
