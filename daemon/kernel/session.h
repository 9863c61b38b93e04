/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SESSION_H
#define PYPROBED_SESSION_H
#include <stdint.h>
#include "evloop.h"
#include "gcstats.h"
#include "loopstats.h"
#include "pyinspect.h"
#include "pysym.h"
#include "nativesym.h"
#include "window.h"

struct loader;

/* One observed process: its pidfd, what inspection found, its BPF map entries. */
struct session {
	struct watch w;		/* the pidfd: readable when the process exits */
	pid_t pid;
	uint64_t start_time;	/* /proc start time: tells a reused PID apart */
	struct pyinfo py;
	uint64_t attached_ts;	/* CLOCK_MONOTONIC ns */
	double attach_ms;	/* request to probes live */
	unsigned int refs;	/* users: request windows, the monitor */
	bool ending;		/* the registry is ending it: its users let go, it is freed after */
	struct snapshot exited;	/* final records of threads that exited */
	void *owner;		/* the service holding it */
	/* Garbage collector: per-target probe links and the pauses they report. */
	struct bpf_link *gc_links[2 * 4];
	int ngc_links;
	int gc_multi_fds[2];	/* uprobe_multi links (begin, end), -1 when none */
	const char *gc_attach;	/* "uprobe_multi", "perf_event" or "none": how the probes are attached */
	enum gc_method gc_method;
	bool gc_rate_guard;	/* exact timing stopped: too many collections/s */
	unsigned int ngc_users;	/* open gc windows: the exact probes exist while > 0 */
	struct gc_log gc_log;
	struct loop_log loop_log;	/* event-loop busy periods of 10 ms or more */
	uint64_t loop_long;		/* ... of loop-threshold or more, since attach */
	/* Every timed pause since attach, for the metrics histogram. */
	uint64_t gc_hist[GC_HIST_BUCKETS];
	uint64_t gc_timed;
	double gc_pause_sum;
	/* CPU profiles: stack walking is on while nstack_users > 0. */
	unsigned int nstack_users;
	struct pysym *sym;
	struct nativesym *nsym;
	struct session *next;
};

uint64_t now_ns(void);

/*
 * Inspect pid and attach to it. On failure returns NULL and sets *err and a
 * message for the user. The caller adds s->w to the event loop.
 */
struct session *session__new(struct loader *ld, pid_t pid, enum pyinspect_err *err, char *msg, size_t len);
/* Remove the BPF state and close the pidfd; the caller removed s->w from the loop. */
void session__free(struct session *s, struct loader *ld);
/* All threads now, in-progress intervals included. */
int session__snapshot(struct session *s, struct loader *ld, struct snapshot *out);
struct blocksite;
/*
 * What the kernel side cannot say, added to a window of s: the CPUs online,
 * the processes at the other end of its threads' pipe and Unix-socket waits,
 * and (bs, may be NULL) how much of each thread's blocked time was inside work.
 */
void session__annotate(struct session *s, struct window *w, const struct blocksite *bs);
/* A thread of s exited: keep its final record. */
void session__thread_exited(struct session *s, const struct pp_thread *th);
/* Start (on) or stop one user of Python stack sampling. Returns 0 or -errno. */
int session__stacks(struct session *s, struct loader *ld, bool on);
/*
 * Resolve a sampled stack into frames (innermost first, at most max).
 * Unresolvable frames are left out. Returns the number of frames.
 */
int session__resolve_stack(struct session *s, const struct pp_stack_event *ev, struct pyframe *out, int max);
/* The sampled native address: object and function. */
void session__resolve_native(struct session *s, uint64_t ip, struct nativeloc *out);
/*
 * The attribute lookup the innermost Python frame of a sampled stack is
 * executing: 0 with out filled, -ENOENT when it is not one (pysym__attr).
 */
int session__resolve_attr(struct session *s, const struct pp_stack_event *ev, struct pyattr *out);
/*
 * Start (on) or stop one user of exact GC timing. The probes are task-bound
 * perf events, which cost every context switch of the target, so they exist
 * only while a gc window is open.
 */
int session__gc_exact(struct session *s, struct loader *ld, bool on);
/* A collection was timed. */
void session__gc_pause(struct session *s, const struct gc_pause *p);
/* A long event-loop busy period of one of its threads; counted in loop_long past threshold_ns. */
void session__loop_iter(struct session *s, const struct loop_iter *it, uint64_t threshold_ns);
/* The rate guard tripped: drop the exact GC probes, estimate from samples. */
void session__gc_rate_exceeded(struct session *s);

#endif
