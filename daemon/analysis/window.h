/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_WINDOW_H
#define PYPROBED_WINDOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "pyprobe/buckets.h"
#include "gcstats.h"
#include "snapshot.h"

_Static_assert(sizeof(pp_bucket_names) / sizeof(pp_bucket_names[0]) == PP_NBUCKETS, "a name per bucket");

/* Busy periods completed in a window (struct pp_hist differences), and one in progress at its end. */
struct busy_window {
	double sec[PP_HIST];	/* time in periods of each length bucket */
	uint64_t cnt[PP_HIST];
	double max;		/* longest period that ended in the window (s; may have begun before it) */
	double open;		/* the period in progress at the window's end, so far (s), 0 if none */
	double total;		/* sum of sec[] */
	uint64_t n;		/* sum of cnt[] */
};

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
	uint64_t samples, samples_gil, samples_gil_native, samples_nogil, samples_unknown, samples_kernel_io,
		samples_gc;
	struct busy_window busy, loop;
	uint64_t ipc_ino, ipc_peer_ino;	/* the pipe or Unix socket it last waited on */
	uint8_t end_state;	/* enum pp_bucket it was in at the window's end */
	uint16_t end_nr;	/* the system call it was blocked in then (PP_NR_NONE) */
	double held_blocked;	/* blocked in system calls holding the GIL while others waited (s) */
	double rq_wake;		/* the part of sec[PP_B_RUNQUEUE] spent waking up, not preempted (s) */
	/* Filled by the caller (not from BPF): see struct thread_extra users. */
	pid_t ns_tid;		/* its tid in the process's PID namespace, 0 if not read */
	double blocked_in_work;	/* share of its blocked time spent inside request handling (0..1) */
	uint32_t blocked_samples;	/* wall samples behind that share */
	pid_t peer_pid;		/* a process at the other end of ipc_ino, 0 if none or its own */
	char peer_comm[16];
	unsigned int npeers;	/* processes at the other end of ipc_ino or poll_pipe_ino */
	pid_t peers[8];
	char peer_comms[8][16];
	/* Its poll/select/epoll waits, as sampled: over network sockets, or over pipes to another process. */
	uint32_t poll_samples;
	double poll_net;	/* share of those with a network socket in the set */
	double poll_ipc;	/* share with only pipes and Unix sockets */
	uint64_t poll_pipe_ino;
	pid_t poll_peer_pid;	/* the process behind poll_pipe_ino, 0 if none */
	char poll_peer_comm[16];
};

/* GIL waits of other threads charged to one holder in one state during a window. */
struct gil_holder_window {
	uint32_t waiter_tid;
	uint32_t holder_tid;	/* 0: the GIL was free (a hand-over) or the holder unknown */
	uint8_t state;		/* enum pp_bucket of the holder, PP_B_NONE unknown */
	uint16_t nr;		/* system call it was blocked in, PP_NR_NONE */
	double sec;
	uint64_t cnt;
};

/* What churned objects are, from the allocating or freeing function. */
enum churn_kind {
	CHURN_NUMBER,		/* int, float, complex: results of arithmetic */
	CHURN_CONTAINER,	/* tuple, list, dict, set, and their iterators */
	CHURN_INSTANCE,		/* instances of Python classes */
	CHURN_STRING,		/* str, bytes */
	CHURN_CALL,		/* frames, bound methods, cells: the cost of calling Python functions */
	CHURN_OTHER,		/* the allocator itself, or a type not told apart */
	CHURN_NKINDS,
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
	uint64_t churn_kind[CHURN_NKINDS];	/* churn samples by what was churned */
	char churn_types[96];	/* the commonest types, "tuple 40%, dict 22%" */
	/* The line with the most churn samples, when churn > 0. */
	char churn_file[160], churn_func[64];
	int churn_line;
	uint64_t churn_line_samples;
};

/* The event loops' stalls in a window, for the verdict (filled by the caller: loopstats__summary). */
struct loop_summary {
	unsigned int stalls;	/* busy periods over the threshold that were not saturation */
	double threshold, worst, total;	/* seconds */
	/* The stall site with the most stall time: */
	int cause;		/* enum loop_cause */
	uint8_t blocked_state;	/* blocking: the bucket and system call */
	uint16_t blocked_nr;
	unsigned int site_count;
	double site_seconds, site_max;
	char site[192];		/* "" when no sample showed it */
	char task[96];
	/* A loop that never got back to waiting, many short callbacks at a time: */
	uint32_t saturated_tid;	/* 0 if none */
	double saturated_share;	/* of the window */
};

struct window {
	double seconds;		/* wall time between the two snapshots */
	size_t ngil;
	struct gil_holder_window *gil;	/* by holder and state, largest first */
	unsigned int ncpus;	/* online CPUs, filled by the caller */
	double host_busy;	/* CPU-seconds the whole host was busy in the window, 0 unknown */
	struct gc_window gc;	/* filled by the caller (gcstats__window) */
	struct cpu_mix mix;	/* filled by the caller (hotspots__mix) */
	struct loop_summary loop;	/* filled by the caller (loopstats__summary) */
	size_t n;
	struct thread_window *t;
};

/* w = end - start, per thread. Returns 0 or -ENOMEM. Free with window__free. */
int window__diff(struct window *w, const struct snapshot *start, const struct snapshot *end);
void window__free(struct window *w);

#endif
