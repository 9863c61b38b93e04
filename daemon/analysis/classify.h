/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_CLASSIFY_H
#define PYPROBED_CLASSIFY_H
#include "window.h"

#define VERDICT_MAX_LINES 14
#define VERDICT_LINE 256
#define VERDICT_MAX_HOLDERS 8
#define VERDICT_MAX_PEERS 8

/* What a thread's time goes to; its role is the largest part. */
enum role {
	ROLE_CPU_PYTHON,	/* on CPU (or ready to be) running Python */
	ROLE_CPU_NATIVE,	/* on CPU in native code (GIL released, or kept by an extension) */
	ROLE_IO,		/* network, files, kernel I/O work, waits inside request handling, a serving loop */
	ROLE_GIL_STARVED,	/* waiting for the GIL */
	ROLE_LOCK_WAIT,		/* locks, queues, joins */
	ROLE_PEER,		/* waiting on another process: a pipe/Unix socket peer, a child */
	ROLE_IDLE,		/* sleeping, or waiting for work */
	ROLE_OTHER,		/* page faults, unclassified waits */
	NROLES,
};

extern const char *const role_names[NROLES];

/* One thread's role (a pure function of its window, classify_thread). */
struct thread_role {
	enum role role;
	double share;		/* of the thread's observed time */
	double part[NROLES];	/* seconds */
	double observed;	/* seconds the thread was seen in the window */
	double util;		/* on CPU + run queue (its own demand) + GIL wait, over the window */
	double starved;		/* run queue after wakeups while other processes held the CPUs (s) */
	double cpu_python, cpu_native, cpu_io;	/* on-CPU split by its own samples */
	bool loop;		/* it waits in poll/epoll/select: an event loop */
	bool loop_serving;	/* ... woken often for short work: its waits are for I/O */
	bool bursty;		/* its busy time comes in long periods (bursts) */
	unsigned int nbursts;	/* long busy periods seen (an open one at the end counts) */
	double burst_mean;	/* seconds */
	double busy_p50;	/* median busy period, time-weighted (s) */
};

/* GIL waits of others charged to one holder, and what it was doing meanwhile. */
enum holder_part {
	HOLD_PYTHON,		/* on CPU running Python */
	HOLD_NATIVE,		/* on CPU in native code that kept the GIL */
	HOLD_RUNQUEUE,		/* ready, waiting for a CPU */
	HOLD_BLOCKED,		/* blocked in a system call with the GIL held */
	HOLD_HANDOVER,		/* it had let go (waiting for the GIL itself) or the GIL was free */
	HOLD_UNKNOWN,
	NHOLD,
};

extern const char *const holder_part_names[NHOLD];

struct holder {
	uint32_t tid;		/* 0: nobody (hand-over) or unknown */
	char name[16];
	double sec;		/* others' GIL waits charged to it */
	uint64_t waits;
	double part[NHOLD];	/* seconds of sec by what it did */
	/*
	 * How long it was blocked in system calls holding the GIL while others
	 * waited, in wall time: the most any one waiter was charged for it
	 * (the waits of several threads overlap).
	 */
	double held_blocked;
	unsigned int nwaiters;	/* threads that waited on it */
	uint16_t top_nr;	/* the system call it was most often blocked in, PP_NR_NONE */
	double top_nr_sec;
	const char *top_bucket;	/* that call's bucket name (sleep, net_io, ...) */
};

/* A process at the other end of waits (pipes, Unix sockets). */
struct peer {
	pid_t pid;
	char comm[16];
	double sec;		/* thread-seconds waited on it */
};

/* Process-wide sums the verdict is based on, in thread-seconds. */
struct totals {
	double sec[PP_NBUCKETS];
	double gil_sec[PP_GIL_NKINDS];
	uint64_t gil_cnt[PP_GIL_NKINDS];
	uint64_t samples, samples_gil, samples_gil_native, samples_nogil, samples_unknown, samples_kernel_io;
	double part[NROLES];	/* the threads' parts summed */
	double all;		/* every bucket */
	double work;		/* cpu + gil + io + other: the denominator of the shares */
	double cpu;		/* on CPU in user space or ready to run (run queue) */
	double cpu_python, cpu_native, cpu_io;	/* on-CPU split by samples */
	double gil, io, idle, other, lock, peer;
	double starved;		/* run queue after wakeups, the CPUs held by other processes */
	double own_share;	/* the process's part of the host's busy CPU time (1: unknown) */
	double python_share;	/* cpu_python / (cpu_python + cpu_native) */
	double cpu_demand;	/* cpu over the window: cores' worth */
	unsigned int threads, working, gil_waiters;
	unsigned int roles[NROLES];	/* threads per role */
};

struct verdict {
	/* io-bound, cpu-bound-python, cpu-bound-native, gil-contended, bursty, idle, mixed */
	const char *label;
	double confidence;	/* 0..1 */
	int nreasons, nadvice;
	char reasons[VERDICT_MAX_LINES][VERDICT_LINE];
	char advice[VERDICT_MAX_LINES][VERDICT_LINE];
	/* gc-pressure, gil-held-blocking, attr-hot, alloc-churn, cpu-starved, loop-blocked, loop-saturated */
	const char *traits[8];
	int ntraits;
	uint32_t deciding_tid;	/* the thread the label rests on, 0 when none does alone */
	double utilization;	/* of the deciding thread (or the process's CPU demand over its cores) */
	const char *pattern;	/* steady, bursts, idle */
	double burst_seconds, burst_every;	/* bursts: their mean length and spacing (0 unknown) */
	double window_needed;	/* bursts too few to judge: a window this long would do (s) */
	const char *boundary;	/* the rule the label sits near, when confidence is low */
	int nholders;
	struct holder holders[VERDICT_MAX_HOLDERS];	/* largest first */
	int npeers;
	struct peer peers[VERDICT_MAX_PEERS];
	struct totals tot;
};

/* Pure function of the window: no I/O, no BPF. docs/classify.md is the reference. */
void classify(const struct window *w, struct verdict *v);
/* One thread's role in window w. */
void classify_thread(const struct window *w, const struct thread_window *t, struct thread_role *r);
/* A system call's name (x86-64), or NULL. */
const char *syscall_name(unsigned int nr);

#endif
