// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where target threads spend wall time, from the scheduler's point of view.
 * The switch hook runs on every context switch of the machine, so what it
 * does for a task that is not a target is two loads and a bit test (the
 * tgid bitmap below) before it returns. Target threads carry their state in
 * task-local storage: no hash lookup on the hot path.
 *
 * A thread's life is a sequence of states (enum pp_bucket). On switch-out we
 * close the on-CPU interval and open a blocked one whose reason comes from the
 * system call the task is sleeping in (its saved user registers), worked out
 * only then. On switch-in the off-CPU interval closes and is charged to that
 * reason. The part of it the task spent on the run queue after its wakeup is
 * known one step later: the scheduler adds it to sched_info.run_delay (at
 * migration and right after switch-in), so the next switch-out moves the
 * growth of run_delay since the previous switch-out from the blocked reason
 * to run-queue time. Not hooking sched_wakeup saves a third of the events on
 * switch-heavy targets.
 *
 * A wait for the GIL is charged to the thread that held it when the wait
 * began, with what that thread was doing (running, in the run queue, blocked
 * in which system call): CPython's waiters time out every switch interval
 * (5 ms) and wait again, so the holder is looked at anew at least that often.
 *
 * Nothing is sent to user space per switch; the daemon reads the storage
 * through a task iterator, and a thread's last state comes in one record
 * when it exits.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pyprobe/events.h"
#include "pyprobe/syscalls.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "shared.bpf.h"
#include "threads.bpf.h"

/* Thread storages made, against the loader's --max-threads. */
const volatile __u32 cfg_max_threads = 16384;
__u64 nthreads = 0;

/*
 * A bit per tgid hash, set by the loader for every target: a task whose bit
 * is clear is no target, known without a helper call. A set bit may be a
 * collision; the thread's storage then decides.
 */
__u64 tgid_bits[PP_TGID_BITS / 64] = {};

static __always_inline bool maybe_target(__u32 tgid)
{
	__u32 i = tgid & (PP_TGID_BITS - 1);

	return tgid_bits[i >> 6] & (1ULL << (i & 63));
}

/* pthread_self of each target thread -> its tid: who a GIL's last_holder is. */
struct pp_pthread_key {
	__u32 tgid;
	__u32 pad;
	__u64 pthread;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);	/* the loader sets --max-threads */
	__type(key, struct pp_pthread_key);
	__type(value, __u32);
} pthreads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pp_gil_key);
	__type(value, struct pp_gil_charge);
} gil_charges SEC(".maps");

__u64 stat_threads_full = 0;
__u64 stat_events_lost = 0;
/* Switches this program did not see: a thread came on a CPU it was already on (see switch_in). */
__u64 stat_switch_unseen = 0;
__u64 stat_gil_charges_full = 0;

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;

/* Holder lookups per waiting thread at most this often; waits in between keep the last answer. */
#define HOLDER_EVERY_NS 1000000ULL

/*
 * Clocks. bpf_ktime_get_ns costs ~100 ns on a paravirtual clock, as much as
 * the rest of a switch; the scheduler has just read its own clock
 * (update_rq_clock in __schedule), so the switch hook uses rq->clock. Times
 * in the storage are in that clock. Elsewhere (iterators, fork, exit) it is
 * ktime minus an offset that the switch hook measures per CPU now and then:
 * both clocks count nanoseconds from one paravirtual source, so the offset
 * only moves by NTP's slewing of CLOCK_MONOTONIC.
 */
struct pp_clock {
	__s64 off;	/* ktime - rq clock */
	__u64 at;	/* rq clock of the last measurement */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_clock);
} clocks SEC(".maps");

#define CLOCK_EVERY_NS (100ULL * 1000 * 1000)
/* The offset measured before any switch: ktime and the rq clock start close. */
__s64 clock_off = 0;

/*
 * The runqueue of the CPU switching, reached through a task on it (the
 * runqueues symbol is not in every kernel's kallsyms; cfs_rq->rq needs
 * CONFIG_FAIR_GROUP_SCHED, which distributions enable).
 */
static __always_inline __u64 switch_clock(struct task_struct *t)
{
	struct rq *rq = t->se.cfs_rq->rq;
	__u64 now = rq ? rq->clock : 0;
	struct pp_clock *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&clocks, &zero);
	if (!now)
		return bpf_ktime_get_ns() - clock_off;
	if (c && now - c->at > CLOCK_EVERY_NS) {
		c->off = bpf_ktime_get_ns() - now;
		c->at = now;
		clock_off = c->off;
	}
	return now;
}

/* The switch hook's clock, outside the switch hook. */
static __always_inline __u64 sched_now(void)
{
	return bpf_ktime_get_ns() - clock_off;
}
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

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
#define PP_AF_UNIX 1

/* task_struct::state was renamed __state in 5.14 (commit 2f064a59a11f). */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * Make the compiler forget what it knows about x, so that the bounds check that
 * follows is done on the register the array index uses (otherwise clang folds
 * it into an earlier, differently shaped check the verifier cannot connect).
 */
#define forget(x) asm volatile("" : "+r"(x))
#define PP_FORGET(x) forget(x)
#include "pyprobe/runqueue.h"

/* The kind of file behind fd, and for pipes and Unix sockets the inodes of both ends. */
static __always_inline int fd_kind(struct task_struct *t, __u64 fd, __u64 *ino, __u64 *peer)
{
	struct fdtable *fdt = t->files->fdt;
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;
	umode_t mode;

	if (!fdt || fd >= fdt->max_fds)
		return PP_FD_UNKNOWN;
	fds = fdt->fd;
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return PP_FD_UNKNOWN;
	mode = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;
	switch (mode) {
	case S_IFSOCK:
		sock = BPF_CORE_READ(f, private_data);
		sk = BPF_CORE_READ(sock, sk);
		if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != PP_AF_UNIX)
			return PP_FD_SOCKET;
		*ino = BPF_CORE_READ(f, f_inode, i_ino);
		*peer = BPF_CORE_READ((struct unix_sock *)sk, peer, sk_socket, file, f_inode, i_ino);
		return PP_FD_UNIX;
	case S_IFREG:
	case S_IFBLK:
		return PP_FD_FILE;
	case S_IFIFO:
		*ino = *peer = BPF_CORE_READ(f, f_inode, i_ino);
		return PP_FD_PIPE;
	case S_IFCHR:
		return PP_FD_CHAR;
	default:
		return PP_FD_ANON;
	}
}

/* Add a completed period of length d to h. */
static __always_inline void hist_add(struct pp_hist *h, __u64 d)
{
	__u64 v = d >> PP_HIST_SHIFT;
	__u32 b = 0;

	/* b = bit length of v, capped: a branch-free-ish log2 the verifier can bound. */
	if (v >= 1ULL << 16) {
		v >>= 16;
		b += 16;
	}
	if (v >= 1ULL << 8) {
		v >>= 8;
		b += 8;
	}
	if (v >= 1ULL << 4) {
		v >>= 4;
		b += 4;
	}
	if (v >= 1ULL << 2) {
		v >>= 2;
		b += 2;
	}
	if (v >= 2) {
		v >>= 1;
		b += 1;
	}
	b += v;
	if (b >= PP_HIST)
		b = PP_HIST - 1;
	forget(b);
	if (b >= PP_HIST)
		return;
	h->ns[b] += d;
	h->cnt[b]++;
	if (d > h->max_ns)
		h->max_ns = d;
}

static __always_inline void hist_close(struct pp_hist *h, __u64 now)
{
	if (h->start && now > h->start)
		hist_add(h, now - h->start);
	h->start = 0;
}

/* Move the thread's pending GIL charge into the map (keyed by its holder and state). */
static __always_inline void flush_charge(struct pp_thread *th)
{
	struct pp_gil_key k = { .tgid = th->tgid, .waiter_tid = th->tid, .holder_tid = th->pend_holder,
				.holder_nr = th->pend_nr,
				.holder_state = th->pend_state };
	struct pp_gil_charge *c;

	if (!th->pend.cnt)
		return;
	c = bpf_map_lookup_elem(&gil_charges, &k);
	if (!c) {
		struct pp_gil_charge zero = {};

		bpf_map_update_elem(&gil_charges, &k, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&gil_charges, &k);
	}
	if (c) {
		__sync_fetch_and_add(&c->ns, th->pend.ns);
		__sync_fetch_and_add(&c->cnt, th->pend.cnt);
	} else {
		__sync_fetch_and_add(&stat_gil_charges_full, 1);
	}
	th->pend.ns = 0;
	th->pend.cnt = 0;
}

/*
 * A GIL wait of d ns ended: charge it to the holder seen when it began. Waits
 * on the same holder in the same state add up in the thread's storage; the
 * map is written only when that changes (the daemon adds what is pending).
 */
static __always_inline void charge_holder(struct pp_thread *th, __u64 d)
{
	if (th->gil_kind != PP_GIL_ACQUIRE)
		return;
	if (th->pend.cnt && (th->pend_holder != th->holder_tid || th->pend_nr != th->holder_nr ||
			     th->pend_state != th->holder_state))
		flush_charge(th);
	th->pend_holder = th->holder_tid;
	th->pend_nr = th->holder_nr;
	th->pend_state = th->holder_state;
	th->pend.ns += d;
	th->pend.cnt++;
}

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
			charge_holder(th, d > th->gil_split ? d - th->gil_split : 0);
			th->gil_split = 0;
		}
	}
	th->state = new_state;
	th->gil_kind = kind;
	th->state_ts = now;
}


/*
 * The thread is starting to wait for the GIL, and this is its process
 * (current): read who holds it and what that thread is doing now.
 */
static __always_inline void find_holder(struct pp_thread *th, __u64 now)
{
	struct pp_pthread_key pk = { .tgid = th->tgid };
	struct task_struct *ht;
	struct pp_thread *h;
	__u64 holder = 0;
	__u32 *tid;
	int locked = 0;

	if (now - th->holder_ts < HOLDER_EVERY_NS)
		return;
	th->holder_ts = now;
	th->holder_tid = 0;
	th->holder_state = PP_B_NONE;
	th->holder_nr = PP_NR_NONE;
	if (bpf_probe_read_user(&locked, sizeof(locked), (void *)th->gil_locked_addr) || locked <= 0 ||
	    bpf_probe_read_user(&holder, sizeof(holder), (void *)th->gil_holder_addr) || !holder ||
	    bpf_probe_read_user(&pk.pthread, sizeof(pk.pthread), (void *)(holder + th->tstate_thread_id_off)))
		return;
	tid = bpf_map_lookup_elem(&pthreads, &pk);
	if (!tid || *tid == th->tid)
		return;
	th->holder_tid = *tid;
	if (!bpf_task_from_pid)
		return;
	ht = bpf_task_from_pid(*tid);
	if (!ht)
		return;
	h = bpf_task_storage_get(&threads, ht, 0, 0);
	if (h) {
		__u8 hs = h->state;

		th->holder_state = hs;
		th->holder_nr = h->blk_nr;
		/* Blocked with the GIL: mark its interval, from now (or when it began, if later). */
		if (hs > PP_B_GIL_WAIT && hs < PP_NBUCKETS && h->held_state_ts != h->state_ts) {
			h->held_state_ts = h->state_ts;
			h->held_from = now > h->state_ts ? now : h->state_ts;
		}
	}
	bpf_task_release(ht);
}

/*
 * Why t waits (or waited, when it is coming back on a CPU): from the system
 * call its saved user registers show and that call's first arguments.
 * cur_mm: t is current, so its memory (the GIL) can be read.
 */
static __always_inline __u8 call_state(struct task_struct *t, struct pp_thread *th, __u8 *kind, __u64 now,
				       bool cur_mm)
{
	struct pt_regs *regs;
	__u64 a0, a1, ino = 0, peer = 0;
	int cls, fdk = 0, gk = -1, b;
	long nr;

	*kind = 0;
	th->blk_nr = PP_NR_NONE;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	nr = regs->orig_ax;
	if (nr < 0)
		return PP_B_OTHER;	/* page fault, stopped, not in a system call */
	th->blk_nr = nr;
	a0 = regs->di;
	a1 = regs->si;
	cls = pp_syscall_class(nr);
	if (cls == PP_SC_FD_IO || cls == PP_SC_NET)
		fdk = fd_kind(t, a0, &ino, &peer);
	else if (cls == PP_SC_FUTEX && pp_futex_is_wait(a1)) {
		gk = pp_gil_kind(th->gil, a0);
		if (gk == PP_GIL_ACQUIRE && cur_mm)
			find_holder(th, now);
	}
	b = pp_block_bucket(cls, nr, a0, a1, fdk, gk);
	if (gk >= 0)
		*kind = gk;
	if (b == PP_B_IPC_WAIT) {
		th->ipc_ino = ino;
		th->ipc_peer_ino = peer;
	}
	return b;
}

/* The state of a task that is not running: in the run queue, exited, or blocked in a call. */
static __always_inline __u8 blocked_state(struct task_struct *t, struct pp_thread *th, __u8 *kind, __u64 now,
					  bool cur_mm)
{
	__u32 st = task_state(t);

	*kind = 0;
	th->blk_nr = PP_NR_NONE;
	if (st == TASK_RUNNING_STATE)
		return PP_B_RUNQUEUE;
	if (st & (TASK_DEAD_BIT | EXIT_ZOMBIE_BIT | EXIT_DEAD_BIT))
		return PP_B_EXITED;
	return call_state(t, th, kind, now, cur_mm);
}

/* Storage for a target thread t, or NULL past --max-threads. */
static __always_inline struct pp_thread *new_thread(struct task_struct *t)
{
	__u32 tgid = t->tgid;
	struct pp_target *cfg = bpf_map_lookup_elem(&targets, &tgid);
	struct pp_thread *th;

	if (!cfg)
		return NULL;
	if (nthreads >= cfg_max_threads) {
		__sync_fetch_and_add(&stat_threads_full, 1);
		return NULL;
	}
	th = bpf_task_storage_get(&threads, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!th) {
		__sync_fetch_and_add(&stat_threads_full, 1);
		return NULL;
	}
	__sync_fetch_and_add(&nthreads, 1);
	th->tid = t->pid;
	th->tgid = t->tgid;
	th->state = PP_B_NONE;
	th->off_state = PP_B_NONE;
	th->holder_nr = PP_NR_NONE;
	th->blk_nr = PP_NR_NONE;
	bpf_probe_read_kernel_str(th->comm, sizeof(th->comm), t->comm);
	if (cfg->flags & PP_TF_GIL_KNOWN) {
		for (int i = 0; i < PP_GIL_RANGES; i++)
			th->gil[i] = cfg->gil[i];
		th->gil_locked_addr = cfg->gil_locked_addr;
		th->gil_holder_addr = cfg->gil_holder_addr;
		th->tstate_thread_id_off = cfg->tstate_thread_id_off;
	}
	return th;
}

static __always_inline void drop_thread(struct task_struct *t)
{
	if (!bpf_task_storage_delete(&threads, t))
		__sync_fetch_and_sub(&nthreads, 1);
}

/* A thread seen for the first time: remember its pthread_self for GIL holder lookups. */
static __always_inline void learn_pthread(struct pp_thread *th, __u64 fsbase)
{
	struct pp_pthread_key pk = { .tgid = th->tgid, .pthread = fsbase };
	__u32 tid = th->tid;

	th->fsbase = fsbase;
	if (fsbase)
		bpf_map_update_elem(&pthreads, &pk, &tid, BPF_ANY);
}

/*
 * A GIL wait ends: if its holder changed what it was doing since the wait
 * began (it ran Python, then went to sleep holding the GIL), charge the part
 * before the change to the old state and let the rest go to the new one.
 */
static __always_inline void split_holder(struct pp_thread *th, __u64 now)
{
	struct task_struct *ht;
	struct pp_thread *h;

	if (now - th->holder_ts < HOLDER_EVERY_NS || !bpf_task_from_pid)
		return;
	th->holder_ts = now;
	ht = bpf_task_from_pid(th->holder_tid);
	if (!ht)
		return;
	h = bpf_task_storage_get(&threads, ht, 0, 0);
	if (h && (h->state != th->holder_state || h->blk_nr != th->holder_nr) && h->state_ts > th->state_ts &&
	    h->state_ts < now) {
		__u64 part = h->state_ts - th->state_ts;

		charge_holder(th, part);
		th->gil_split = part;
		th->holder_state = h->state;
		th->holder_nr = h->blk_nr;
		/* It went to sleep holding the GIL while this thread was already waiting. */
		if (h->state > PP_B_GIL_WAIT && h->state < PP_NBUCKETS && h->held_state_ts != h->state_ts) {
			h->held_state_ts = h->state_ts;
			h->held_from = h->state_ts;
		}
	}
	bpf_task_release(ht);
}

/*
 * An event loop's busy period of PP_LOOP_RECORD_NS or more ends (the thread
 * blocks in poll/epoll/select again): record it, with where its time went.
 * The thread is on CPU until now, in the interval that began at state_ts.
 */
static __always_inline void loop_record(struct pp_thread *th, __u64 now)
{
	struct pp_loop_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		__sync_fetch_and_add(&stat_events_lost, 1);
		return;
	}
	ev->type = PP_EV_LOOP;
	ev->tgid = th->tgid;
	ev->tid = th->tid;
	ev->max_nr = th->it_max_nr;
	ev->max_state = th->it_max_state;
	ev->pad = 0;
	/* In CLOCK_MONOTONIC, as stack samples are. */
	ev->start_ns = th->loop.start + clock_off;
	ev->end_ns = now + clock_off;
	ev->max_off_ns = th->it_max_off;
	for (int i = 0; i < PP_NBUCKETS; i++)
		ev->ns[i] = th->ns[i] > th->it_ns0[i] ? th->ns[i] - th->it_ns0[i] : 0;
	if (th->state == PP_B_ONCPU && now > th->state_ts)
		ev->ns[PP_B_ONCPU] += now - th->state_ts;
	/* No wakeup: the daemon reads the buffer before it closes a window (see gc.bpf.c). */
	bpf_ringbuf_submit(ev, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > PP_STACK_WAKE_BYTES ?
				       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* The thread stops running at now to wait in bucket: its busy period and its loop's end there. */
static __always_inline void leave_cpu(struct pp_thread *th, __u8 bucket, __u8 kind, __u64 now)
{
	/* A busy period ends when the thread waits for something other than the GIL or a page. */
	if (bucket != PP_B_RUNQUEUE && bucket != PP_B_GIL_WAIT && bucket != PP_B_OTHER) {
		/* One under way at the attach is of unknown length: a short "burst" it is not. */
		if (th->busy_cut)
			th->busy.start = 0;
		th->busy_cut = 0;
		hist_close(&th->busy, now);
	}
	if (bucket == PP_B_POLL_WAIT) {
		if (th->loop.start && now > th->loop.start && now - th->loop.start >= PP_LOOP_RECORD_NS)
			loop_record(th, now);
		hist_close(&th->loop, now);
	}
	transition(th, now, bucket, kind);
}

/* next is about to run: close its off-CPU interval, remember what it was. */
static __always_inline void switch_in(struct task_struct *next, struct pp_thread *th, __u64 now)
{
	__u64 exec = next->se.sum_exec_runtime;
	__u8 st = th->state;

	/*
	 * Already on CPU: its last switch-out went unseen (the program did not
	 * run for it, or the thread was seeded as running just as it left the
	 * CPU). The scheduler's own count says how much of the interval it ran;
	 * the rest it waited in the system call it is coming back from (its
	 * saved registers still name it), or, in none, on a page or a signal.
	 */
	if (st == PP_B_ONCPU && th->state_ts && now > th->state_ts) {
		__u64 ran = exec > th->exec_in ? exec - th->exec_in : 0;
		__u8 kind = 0;

		__sync_fetch_and_add(&stat_switch_unseen, 1);
		if (th->exec_in && ran < now - th->state_ts) {
			th->holder_tid = 0;	/* a GIL wait's holder was not looked up */
			st = call_state(next, th, &kind, 0, false);
			leave_cpu(th, st, kind, th->state_ts + ran);
		}
	}
	th->exec_in = exec;

	/* Inside an event loop's busy period: its longest blocked interval, and in which call. */
	if (th->loop.start && st > PP_B_GIL_WAIT && st < PP_NBUCKETS && now > th->state_ts &&
	    now - th->state_ts > th->it_max_off) {
		th->it_max_off = now - th->state_ts;
		th->it_max_nr = th->blk_nr;
		th->it_max_state = st;
	}

	if (st == PP_B_GIL_WAIT && th->gil_kind == PP_GIL_ACQUIRE && th->holder_tid)
		split_holder(th, now);
	/* It held the GIL through this blocked interval while others waited. */
	if (th->held_from && th->held_state_ts == th->state_ts && now > th->held_from)
		th->held_blocked_ns += now - th->held_from;
	th->held_from = 0;

	if (st >= PP_B_GIL_WAIT && st < PP_NBUCKETS && th->state_ts && now > th->state_ts) {
		th->off_state = st;
		th->off_kind = th->gil_kind;
		th->off_ns = now - th->state_ts;
	} else {
		th->off_state = PP_B_NONE;
	}
	if (!th->busy.start)
		th->busy.start = now;
	if (st == PP_B_POLL_WAIT)
		th->loop.start = now;
	th->blk_nr = PP_NR_NONE;
	transition(th, now, PP_B_ONCPU, 0);
	if (st == PP_B_POLL_WAIT) {
		/* Where the busy period's time goes is told against this, the wait just closed included. */
		for (int i = 0; i < PP_NBUCKETS; i++)
			th->it_ns0[i] = th->ns[i];
		th->it_max_off = 0;
		th->it_max_nr = PP_NR_NONE;
		th->it_max_state = PP_B_NONE;
	}
}

static __always_inline void switch_out(struct task_struct *prev, struct pp_thread *th, bool preempt, __u64 now)
{
	__u8 bucket, kind = 0;

	if (!th->fsbase)
		learn_pthread(th, prev->thread.fsbase);
	/* Threads name themselves after they start (prctl, pthread_setname_np): look again now and then. */
	if ((th->cnt[PP_B_ONCPU] & 63) == 1)
		bpf_probe_read_kernel_str(th->comm, sizeof(th->comm), prev->comm);
	pp_settle_run_delay(th, prev->sched_info.run_delay);
	if (preempt) {
		transition(th, now, PP_B_RUNQUEUE, 0);
		return;
	}
	bucket = blocked_state(prev, th, &kind, now, true);
	leave_cpu(th, bucket, kind, now);
}

/*
 * Whether the task has task-local storage of any map: a target's threads
 * have ours. Two loads from task_structs the switch already holds, cheaper
 * than the bitmap, whose page is one more for the switch to touch (measured
 * on switches of no target: 81-82 ns a run against 100-107; an empty program
 * takes 70-86 on that host). A task with some other tool's storage goes on to
 * the bitmap.
 */
static __always_inline bool has_storage(struct task_struct *t)
{
	bool has = t->bpf_storage != 0;

	asm volatile("" : "+r"(has));	/* a scalar from here: the verifier refuses ORing two pointers */
	return has;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	bool p = has_storage(prev), n = has_storage(next);
	struct pp_thread *th;
	__u64 now = 0;

	/* Most of the host's switches end here, before the bitmap's page is touched. */
	if (!p && !n)
		return 0;
	p = p && maybe_target(prev->tgid);
	n = n && maybe_target(next->tgid);
	if (p && (th = bpf_task_storage_get(&threads, prev, 0, 0))) {
		now = switch_clock(prev);
		switch_out(prev, th, preempt, now);
	}
	if (n && (th = bpf_task_storage_get(&threads, next, 0, 0))) {
		if (!now)
			now = switch_clock(next);
		switch_in(next, th, now);
	}
	return 0;
}

/* A new thread of a target: give it storage before its first switch. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_thread_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pp_thread *th;

	if (child->tgid != parent->tgid || !maybe_target(child->tgid) ||
	    !bpf_task_storage_get(&threads, parent, 0, 0))
		return 0;
	th = new_thread(child);
	if (th) {
		/* Born runnable: it waits for its first CPU. */
		th->run_delay = child->sched_info.run_delay;
		transition(th, sched_now(), PP_B_RUNQUEUE, 0);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_sched_exit, struct task_struct *p)
{
	struct pp_pthread_key pk = { .tgid = p->tgid };
	struct pp_thread_final *rec;
	struct pp_thread *th;

	if (!maybe_target(p->tgid))
		return 0;
	th = bpf_task_storage_get(&threads, p, 0, 0);
	if (!th)
		return 0;
	transition(th, sched_now(), PP_B_EXITED, 0);
	flush_charge(th);
	pk.pthread = th->fsbase;
	bpf_map_delete_elem(&pthreads, &pk);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (rec) {
		rec->type = PP_EV_THREAD_FINAL;
		rec->tgid = th->tgid;
		rec->tid = th->tid;
		rec->pad = 0;
		bpf_probe_read_kernel(&rec->th, sizeof(rec->th), th);
		bpf_ringbuf_submit(rec, 0);
	} else {
		__sync_fetch_and_add(&stat_events_lost, 1);
	}
	drop_thread(p);
	return 0;
}

/*
 * The iterators run with a pid filter (the loader attaches them per call), so
 * they visit only the threads of one process.
 *
 * Seed: threads of a new target that are already blocked would stay
 * invisible until they wake, so give each storage and the state it is in
 * now, the way switch_out would (its memory is not current's here: no GIL
 * holder for a wait already under way).
 */
SEC("iter/task")
int handle_seed_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pp_thread *th;
	__u8 state, kind = 0;
	__u64 now;

	if (!t || bpf_task_storage_get(&threads, t, 0, 0))
		return 0;
	th = new_thread(t);
	if (!th)
		return 0;
	learn_pthread(th, t->thread.fsbase);
	th->exec_in = t->se.sum_exec_runtime;
	if (task_state(t) == TASK_RUNNING_STATE)
		state = t->on_cpu ? PP_B_ONCPU : PP_B_RUNQUEUE;
	else
		state = blocked_state(t, th, &kind, 0, false);
	th->run_delay = t->sched_info.run_delay;
	now = sched_now();
	if (state == PP_B_ONCPU || state == PP_B_RUNQUEUE) {
		th->busy.start = now;
		th->busy_cut = 1;
	}
	transition(th, now, state, kind);
	return 0;
}

/*
 * Snapshot: a struct pp_snap_hdr (the clocks now), then every thread's
 * storage as struct pp_thread records.
 */
SEC("iter/task")
int handle_snap_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pp_thread *th;

	if (ctx->meta->seq_num == 0) {
		struct pp_snap_hdr h = { PP_SNAP_MAGIC, bpf_ktime_get_ns() };

		h.sched_ns = h.ktime_ns - clock_off;
		bpf_seq_write(ctx->meta->seq, &h, sizeof(h));
	}
	if (!t)
		return 0;
	th = bpf_task_storage_get(&threads, t, 0, 0);
	if (th)
		bpf_seq_write(ctx->meta->seq, th, sizeof(*th));
	return 0;
}

/* The process is no longer a target: drop its threads' storage. */
SEC("iter/task")
int handle_drop_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pp_pthread_key pk = {};
	struct pp_thread *th;

	if (!t)
		return 0;
	th = bpf_task_storage_get(&threads, t, 0, 0);
	if (!th)
		return 0;
	pk.tgid = th->tgid;
	pk.pthread = th->fsbase;
	bpf_map_delete_elem(&pthreads, &pk);
	drop_thread(t);
	return 0;
}
