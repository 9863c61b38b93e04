/* SPDX-License-Identifier: MIT */
/*
 * Settling a thread's run-queue time, shared by sched.bpf.c (at switch-out)
 * and the daemon (for a thread that is running when a snapshot is taken).
 * Include events.h first. BPF defines PP_FORGET as a compiler barrier so the
 * verifier sees the bounds check on the register the array index uses.
 */
#ifndef PYPROBE_RUNQUEUE_H
#define PYPROBE_RUNQUEUE_H

#ifndef PP_FORGET
#define PP_FORGET(x) ((void)0)
#endif

/*
 * run_delay is the thread's sched_info.run_delay now. Its growth since the
 * thread's previous switch-out is the run-queue part of the off-CPU interval
 * in between (the scheduler adds it at migration and right after switch-in),
 * which was charged whole to the blocked reason: move it to PP_B_RUNQUEUE.
 */
static inline void pp_settle_run_delay(struct pp_thread *th, __u64 run_delay)
{
	__u64 d = run_delay - th->run_delay;
	__u64 st = th->off_state;

	th->run_delay = run_delay;
	th->off_state = PP_B_NONE;
	if (st < PP_B_GIL_WAIT || st >= PP_NBUCKETS)
		return;
	PP_FORGET(st);
	if (st >= PP_NBUCKETS)	/* again, on the register the index uses */
		return;
	if ((__s64)d <= 0)
		return;
	if (d > th->off_ns)
		d = th->off_ns;
	if (d > th->ns[st])
		d = th->ns[st];
	th->ns[st] -= d;
	th->ns[PP_B_RUNQUEUE] += d;
	th->wake_rq_ns += d;
	if (st == PP_B_GIL_WAIT && th->off_kind < PP_GIL_NKINDS && th->gil_ns[th->off_kind] >= d)
		th->gil_ns[th->off_kind] -= d;
}

#endif /* PYPROBE_RUNQUEUE_H */
