// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where target threads spend wall time, from the scheduler's point of view.
 * Cost is paid per context switch of any task (one hash lookup to filter on
 * tgid) and per target-thread transition (a few more loads), so it can stay on.
 *
 * A thread's life is a sequence of states (enum pp_bucket). On switch-out we
 * close the on-CPU interval and open a blocked one whose reason comes from the
 * system call the task is sleeping in (its saved user registers). On switch-in
 * the off-CPU interval closes and is charged to that reason. The part of it
 * the task spent on the run queue after its wakeup is known one step later:
 * the scheduler adds it to sched_info.run_delay (at migration and right after
 * switch-in), so the next switch-out moves the growth of run_delay since the
 * previous switch-out from the blocked reason to run-queue time.
 * Not hooking sched_wakeup saves a third of the events on switch-heavy targets.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pyprobe/events.h"
#include "pyprobe/syscalls.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "shared.bpf.h"

/* max_entries is set by the loader from --max-threads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pp_thread);
} threads SEC(".maps");


__u64 stat_threads_full = 0;
__u64 stat_events_lost = 0;
/* The process handle_task_iter seeds; set by the loader before each run. */
__u32 seed_tgid = 0;


#define TASK_RUNNING_STATE 0
#define TASK_DEAD_BIT 0x80
#define EXIT_ZOMBIE_BIT 0x20
#define EXIT_DEAD_BIT 0x10

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFIFO 0010000
#define S_IFCHR 0020000

/* task_struct::state was renamed __state in 5.14 (commit 2f064a59a11f). */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline int fd_kind(struct task_struct *t, __u64 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds, *f = NULL;
	unsigned int max_fds;
	umode_t mode;

	if (!fdt)
		return PP_FD_UNKNOWN;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	if (fd >= max_fds)
		return PP_FD_UNKNOWN;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return PP_FD_UNKNOWN;
	mode = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;
	switch (mode) {
	case S_IFSOCK:
		return PP_FD_SOCKET;
	case S_IFREG:
	case S_IFBLK:
		return PP_FD_FILE;
	case S_IFIFO:
		return PP_FD_PIPE;
	case S_IFCHR:
		return PP_FD_CHAR;
	default:
		return PP_FD_ANON;
	}
}

static __always_inline struct pp_thread *get_thread(struct task_struct *t, __u32 tid)
{
	struct pp_thread *th = bpf_map_lookup_elem(&threads, &tid);
	struct pp_thread zero = {};

	if (th)
		return th;
	zero.tgid = BPF_CORE_READ(t, tgid);
	zero.state = PP_B_NONE;
	zero.off_state = PP_B_NONE;
	BPF_CORE_READ_STR_INTO(&zero.comm, t, comm);
	if (bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST) && bpf_map_lookup_elem(&threads, &tid) == NULL) {
		__sync_fetch_and_add(&stat_threads_full, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

/*
 * Make the compiler forget what it knows about x, so that the bounds check that
 * follows is done on the register the array index uses (otherwise clang folds
 * it into an earlier, differently shaped check the verifier cannot connect).
 */
#define forget(x) asm volatile("" : "+r"(x))
#define PP_FORGET(x) forget(x)
#include "pyprobe/runqueue.h"

/* Close the interval of the current state at now, open new_state. */
static __always_inline void transition(struct pp_thread *th, __u64 now, __u8 new_state, __u8 kind)
{
	__u64 st = th->state;

	forget(st);
	if (st < PP_NBUCKETS && th->state_ts && now > th->state_ts) {
		__u64 d = now - th->state_ts;

		th->ns[st] += d;
		th->cnt[st]++;
		if (st == PP_B_GIL_WAIT && th->gil_kind < PP_GIL_NKINDS) {
			th->gil_ns[th->gil_kind] += d;
			th->gil_cnt[th->gil_kind]++;
		}
	}
	th->state = new_state;
	th->gil_kind = kind;
	th->state_ts = now;
}

/*
 * The state of a task that is not running: why it is blocked, from the system
 * call its saved user registers show and that call's first arguments.
 */
static __always_inline __u8 blocked_state(struct task_struct *t, const struct pp_target *cfg, __u8 *kind)
{
	__u32 st = task_state(t);
	struct pt_regs *regs;
	long nr;
	__u64 a0, a1;
	int cls, fdk = 0, gk = -1, b;

	*kind = 0;
	if (st == TASK_RUNNING_STATE)
		return PP_B_RUNQUEUE;
	if (st & (TASK_DEAD_BIT | EXIT_ZOMBIE_BIT | EXIT_DEAD_BIT))
		return PP_B_EXITED;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr < 0)
		return PP_B_OTHER;	/* page fault, stopped, not in a system call */
	a0 = BPF_CORE_READ(regs, di);
	a1 = BPF_CORE_READ(regs, si);
	cls = pp_syscall_class(nr);
	if (cls == PP_SC_FD_IO)
		fdk = fd_kind(t, a0);
	else if (cls == PP_SC_FUTEX && pp_futex_is_wait(a1))
		gk = pp_gil_kind(cfg, a0);
	b = pp_block_bucket(cls, nr, a0, a1, fdk, gk);
	if (gk >= 0)
		*kind = gk;
	return b;
}

/* next is about to run: close its off-CPU interval, remember what it was. */
static __always_inline void switch_in(struct task_struct *next, struct pp_thread *th, __u64 now)
{
	__u8 st = th->state;

	if (st >= PP_B_GIL_WAIT && st < PP_NBUCKETS && th->state_ts && now > th->state_ts) {
		th->off_state = st;
		th->off_kind = th->gil_kind;
		th->off_ns = now - th->state_ts;
	} else {
		th->off_state = PP_B_NONE;
	}
	transition(th, now, PP_B_ONCPU, 0);
}

static __always_inline void switch_out(struct task_struct *prev, const struct pp_target *cfg, __u64 now)
{
	__u32 tid = BPF_CORE_READ(prev, pid);
	struct pp_thread *th = get_thread(prev, tid);
	__u8 bucket, kind;

	if (!th)
		return;
	th->fsbase = BPF_CORE_READ(prev, thread.fsbase);
	/* Threads name themselves after they start (prctl, pthread_setname_np): look again now and then. */
	if ((th->cnt[PP_B_ONCPU] & 63) == 1)
		BPF_CORE_READ_STR_INTO(&th->comm, prev, comm);
	pp_settle_run_delay(th, BPF_CORE_READ(prev, sched_info.run_delay));
	bucket = blocked_state(prev, cfg, &kind);
	transition(th, now, bucket, kind);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), next_tgid = BPF_CORE_READ(next, tgid);
	struct pp_target *cfg;
	__u64 now = 0;

	cfg = bpf_map_lookup_elem(&targets, &prev_tgid);
	if (cfg) {
		now = bpf_ktime_get_ns();
		switch_out(prev, cfg, now);
	}
	if (bpf_map_lookup_elem(&targets, &next_tgid)) {
		__u32 tid = BPF_CORE_READ(next, pid);
		struct pp_thread *th = get_thread(next, tid);

		if (th) {
			if (!now)
				now = bpf_ktime_get_ns();
			switch_in(next, th, now);
		}
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_sched_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), tid;
	struct pp_thread *th;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	tid = BPF_CORE_READ(p, pid);
	th = bpf_map_lookup_elem(&threads, &tid);
	if (th)
		transition(th, bpf_ktime_get_ns(), PP_B_EXITED, 0);
	if (!emit_event(PP_EV_THREAD_EXIT, tgid, tid))
		__sync_fetch_and_add(&stat_events_lost, 1);
	return 0;
}

/*
 * Run once per attach over every task: threads of the new target that are
 * already blocked would stay invisible until they wake, so give each the state
 * it is in now, the way switch_out would. Entries BPF already made are kept.
 */
SEC("iter/task")
int handle_task_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pp_target *cfg;
	struct pp_thread *th;
	__u32 tgid, tid;
	__u8 state, kind = 0;

	if (!t)
		return 0;
	tgid = t->tgid;
	if (tgid != seed_tgid || !(cfg = bpf_map_lookup_elem(&targets, &tgid)))
		return 0;
	tid = t->pid;
	th = bpf_map_lookup_elem(&threads, &tid);
	if (th) {
		if (!th->fsbase)
			th->fsbase = t->thread.fsbase;
		return 0;
	}
	if (task_state(t) == TASK_RUNNING_STATE)
		state = BPF_CORE_READ(t, on_cpu) ? PP_B_ONCPU : PP_B_RUNQUEUE;
	else
		state = blocked_state(t, cfg, &kind);
	th = get_thread(t, tid);
	if (!th)
		return 0;
	th->fsbase = t->thread.fsbase;
	if (th->state == PP_B_NONE) {	/* not raced by a scheduler event */
		th->run_delay = BPF_CORE_READ(t, sched_info.run_delay);
		transition(th, bpf_ktime_get_ns(), state, kind);
	}
	return 0;
}
