/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SNAPSHOT_H
#define PYPROBED_SNAPSHOT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "gcstats.h"

/* One thread's state as read from BPF at one instant. */
struct snap_thread {
	uint32_t tid;
	bool exited;
	struct pp_thread th;	/* in-progress interval already added */
};

/* GIL waits charged to one holder in one state (cumulative, from BPF). */
struct snap_gil {
	struct pp_gil_key k;
	struct pp_gil_charge c;
};

/* All threads of one target at one instant, sorted by tid. */
struct snapshot {
	uint64_t ts;		/* CLOCK_MONOTONIC ns */
	uint64_t host_busy;	/* CPU time the host spent busy since boot, ns (0 unknown) */
	struct gc_counts gc;	/* the interpreter's collection counters */
	size_t n, cap;
	struct snap_thread *v;
	size_t ngil, capgil;
	struct snap_gil *gil;
};

/* Add a thread; the caller sorts with snapshot__sort when done. */
int snapshot__add(struct snapshot *s, const struct snap_thread *t);
/* Add to the GIL charge of k (in-progress waits are added this way too). */
int snapshot__add_gil(struct snapshot *s, const struct pp_gil_key *k, uint64_t ns, uint64_t cnt);
void snapshot__sort(struct snapshot *s);
void snapshot__clear(struct snapshot *s);
/* The thread tid in a sorted snapshot, or NULL. */
const struct snap_thread *snapshot__find(const struct snapshot *s, uint32_t tid);

#endif
