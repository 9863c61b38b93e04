/* SPDX-License-Identifier: MIT */
/*
 * The ABI between the BPF programs and pyprobed: map keys and values and ring
 * buffer records. Includes no other header: BPF code includes vmlinux.h first,
 * user space <linux/types.h>. Only fixed-width fields, widest first, explicit
 * padding, and a size assertion on every struct so both builds agree.
 */
#ifndef PYPROBE_EVENTS_H
#define PYPROBE_EVENTS_H

/*
 * Where a thread's wall time goes. The order is the JSON order; names live in
 * pp_bucket_names (pyprobe/buckets.h). PP_B_NONE marks "no state yet".
 */
enum pp_bucket {
	PP_B_ONCPU = 0,
	PP_B_RUNQUEUE,
	PP_B_GIL_WAIT,
	PP_B_LOCK_WAIT,
	PP_B_NET_IO,
	PP_B_FILE_IO,
	PP_B_POLL_WAIT,
	PP_B_SLEEP,
	PP_B_CHILD_WAIT,
	PP_B_IPC_WAIT,		/* pipes, FIFOs, Unix-domain sockets: another process, or its own threads */
	PP_B_OTHER,
	PP_NBUCKETS,
	PP_B_NONE = 0xfe,
	PP_B_EXITED = 0xff,
};

/* Kind of GIL wait, when the bucket is PP_B_GIL_WAIT. */
enum pp_gil_kind {
	PP_GIL_ACQUIRE = 0,	/* waiting on gil.cond / gil.mutex: wants the GIL */
	PP_GIL_HANDOFF = 1,	/* waiting on switch_cond / switch_mutex: forced hand-off */
	PP_GIL_NKINDS,
};

/* Up to two address ranges per GIL wait kind (3.6 keeps cond and mutex apart). */
#define PP_GIL_RANGES 4

struct pp_range {
	__u64 lo;
	__u64 hi;	/* exclusive; lo == hi means unused */
};

/* Value of the targets map, keyed by tgid. Written by the daemon at attach. */
struct pp_target {
	struct pp_range gil[PP_GIL_RANGES];	/* [0,1] acquire, [2,3] hand-off */
	__u64 gil_locked_addr;		/* int: 1 held, 0 free, <0 not created */
	__u64 gil_holder_addr;		/* PyThreadState *last_holder */
	__u64 tstate_thread_id_off;	/* offset of thread_id (== pthread_self) */
	__u64 gc_collecting_addr;	/* int: 1 while a collection runs, 0 if unknown */
	__u64 gc_stats_addr;		/* generation_stats[0].collections, 0 if unknown */
	__u64 gc_stats_stride;		/* bytes between generations' entries */
	__u64 flags;			/* PP_TF_* */
	/*
	 * Code that counts as running Python when the sampled thread holds the
	 * GIL: the interpreter's text and libc's (which it calls for strings
	 * and memory). Elsewhere with the GIL held is native code (an
	 * extension) keeping the GIL. lo == hi: unused.
	 */
	struct pp_range python_text[2];
};

#define PP_TF_GIL_KNOWN 1ULL	/* gil_* fields are valid */
#define PP_TF_STACKS 2ULL	/* the sampler walks Python stacks (a profile is being taken) */

#define PP_OFF_NONE 0xffffffffu	/* field absent in this version */

/* Value of the sampler's pystacks map, keyed by tgid: how to walk the target's frames. */
struct pp_pystack_cfg {
	__u64 interp_head_addr;		/* address of the PyInterpreterState *head pointer */
	__u32 interp_next, interp_tstate_head, tstate_next, tstate_thread_id;
	__u32 tstate_frame;		/* <= 3.10 */
	__u32 tstate_cframe, cframe_current_frame;	/* 3.11, 3.12 */
	__u32 tstate_current_frame;	/* 3.13 */
	__u32 frame_back, frame_code, frame_lasti, frame_instr, frame_owner;
	__u32 minor;
	/*
	 * The part of a frame holding every field above, read in one go: its
	 * offset and length (at most PP_FRAME_READ). The fields' offsets are
	 * relative to the frame, not to this part.
	 */
	__u32 frame_read_off, frame_read_len;
};

#define PP_FRAME_READ 128

/*
 * Frames that run no Python function of their own: the entry frames
 * between C and Python, owner 3 from 3.12 on (FRAME_OWNED_BY_CSTACK in
 * 3.12/3.13, FRAME_OWNED_BY_INTERPRETER in 3.14/3.15), and 3.14's
 * FRAME_OWNED_BY_CSTACK (4).
 */
static inline int pp_frame_is_shim(unsigned int minor, unsigned int owner)
{
	return minor >= 12 && owner >= 3;
}

/* The code object of a frame: from 3.14 f_executable is a _PyStackRef, tag bits in its low two. */
static inline __u64 pp_frame_code(unsigned int minor, __u64 executable)
{
	return minor >= 14 ? executable & ~3ULL : executable;
}

/* Sample counts of one thread (part of struct pp_thread). */
struct pp_samples {
	__u64 total;		/* CPU samples taken on this thread */
	__u64 gil;		/* ... while it held the GIL, running Python */
	__u64 gil_native;	/* ... while it held the GIL in native code outside the interpreter */
	__u64 nogil;		/* ... while it did not (native code, syscalls) */
	__u64 unknown;		/* ... where the GIL state could not be read */
	__u64 kernel_io;	/* ... in kernel mode inside an I/O system call (not GIL-checked) */
	__u64 gc;		/* ... while the garbage collector was running (any thread's) */
};

/*
 * Busy periods: a thread's busy period runs from the moment it wakes to the
 * moment it blocks again for something other than the GIL (preemption and
 * GIL waits are part of it); an event loop's runs from its poll/epoll/select
 * wait returning to the next one. Lengths are counted in buckets by powers of
 * two: bucket 0 holds periods under 2^PP_HIST_SHIFT ns (~65 us), bucket i
 * those in [2^(PP_HIST_SHIFT+i-1), 2^(PP_HIST_SHIFT+i)), the last one the rest.
 */
#define PP_HIST 20
#define PP_HIST_SHIFT 16

struct pp_hist {
	__u64 ns[PP_HIST];	/* time spent in periods of each length */
	__u64 cnt[PP_HIST];	/* periods of each length */
	__u64 max_ns;		/* longest completed period */
	__u64 start;		/* ktime the current period began, 0 outside one */
};

/*
 * GIL waits charged to the thread that held the GIL when each began, and to
 * what it was doing then (hash map, BPF adds, the daemon reads).
 */
struct pp_gil_key {
	__u32 tgid;
	__u32 waiter_tid;	/* the thread that waited */
	__u32 holder_tid;	/* 0: the GIL was free or its holder unknown */
	__u16 holder_nr;	/* system call the holder was blocked in, PP_NR_NONE */
	__u8 holder_state;	/* enum pp_bucket (PP_B_ONCPU: running; PP_B_NONE: unknown) */
	__u8 pad;
};

struct pp_gil_charge {
	__u64 ns;
	__u64 cnt;
};

/*
 * Per-thread state: task-local storage of each target thread (BPF writes, the
 * daemon reads it through a task iterator and gets the final copy in a
 * PP_EV_THREAD_FINAL record when the thread exits).
 */
struct pp_thread {
	__u64 ns[PP_NBUCKETS];		/* accumulated time per bucket */
	__u64 cnt[PP_NBUCKETS];		/* completed intervals per bucket */
	__u64 gil_ns[PP_GIL_NKINDS];	/* gil_wait split by kind */
	__u64 gil_cnt[PP_GIL_NKINDS];
	struct pp_samples smp;
	struct pp_hist busy;		/* the thread's busy periods */
	struct pp_hist loop;		/* its event loop's busy periods (threads that poll) */
	__u64 state_ts;			/* ktime (CLOCK_MONOTONIC) the current state began */
	__u64 fsbase;			/* x86-64 fs base == pthread_self */
	__u64 run_delay;		/* task's sched_info.run_delay at its last switch-out */
	__u64 wake_rq_ns;		/* the part of ns[PP_B_RUNQUEUE] after wakeups (not preemptions) */
	__u64 off_ns;			/* length of the last blocked interval */
	__u64 exec_in;			/* its se.sum_exec_runtime when it last came on a CPU */
	__u64 ipc_ino;			/* inode of the pipe or Unix socket last waited on */
	__u64 ipc_peer_ino;		/* the other end: the pipe itself, or the socket's peer */
	/* The process's GIL, copied from struct pp_target when the storage is made (no lookup per switch). */
	struct pp_range gil[PP_GIL_RANGES];
	__u64 gil_locked_addr, gil_holder_addr, tstate_thread_id_off;
	__u64 holder_ts;		/* when the GIL's holder was last looked up for this thread */
	__u64 tstate;			/* its PyThreadState as the sampler found it (checked before each use) */
	__u64 gil_split;		/* part of the current GIL wait already charged (the holder changed state) */
	/*
	 * As a holder: time blocked in system calls with the GIL held while
	 * others waited for it. A waiter marks the holder's current blocked
	 * interval (held_from: when the first waiter came; held_state_ts: which
	 * interval); the holder adds it up when it wakes.
	 */
	__u64 held_blocked_ns, held_from, held_state_ts;
	/* GIL waits not yet added to the gil_charges map: all charged to pend_key's holder and state. */
	struct pp_gil_charge pend;
	__u32 pend_holder;
	__u16 pend_nr;
	__u8 pend_state;
	__u8 busy_cut;			/* the busy period under way began before the attach: not recorded */
	__u32 tid;
	__u32 tgid;
	/* A GIL wait in progress: who held the GIL when it began (0: nobody known). */
	__u32 holder_tid;
	__u16 holder_nr;		/* the system call the holder was blocked in (PP_NR_NONE) */
	__u8 holder_state;		/* enum pp_bucket of the holder then */
	__u8 pad0;
	__u16 blk_nr;			/* system call this thread is blocked in (PP_NR_NONE) */
	__u8 state;			/* enum pp_bucket the thread is in now */
	__u8 gil_kind;			/* enum pp_gil_kind when state is GIL wait */
	__u8 off_state;			/* bucket of the last blocked interval, PP_B_NONE once settled */
	__u8 off_kind;
	__u8 pad1[2];
	char comm[16];
	/*
	 * The event loop's busy period under way (loop.start set): ns[] when it
	 * began, and its longest blocked interval so far (other than the GIL).
	 */
	__u64 it_ns0[PP_NBUCKETS];
	__u64 it_max_off;
	__u16 it_max_nr;		/* that interval's system call (PP_NR_NONE) */
	__u8 it_max_state;		/* and bucket (PP_B_NONE: none yet) */
	__u8 pad2[5];
};

#define PP_NR_NONE 0xffff

/* Size of sched.bpf.c's tgid filter (tgid_bits, a bit per tgid & (PP_TGID_BITS - 1)). */
#define PP_TGID_BITS 65536

/*
 * First record of a snapshot: the storage's clock (sched_ns) at the moment the
 * kernel's CLOCK_MONOTONIC read ktime_ns. Times in struct pp_thread are in
 * the scheduler's clock (sched.bpf.c).
 */
#define PP_SNAP_MAGIC 0x70797072626e6170ULL
struct pp_snap_hdr {
	__u64 magic;
	__u64 ktime_ns;
	__u64 sched_ns;
};

/* Ring buffer record of a thread that exited: its final counters. */
struct pp_thread_final {
	__u32 type;		/* PP_EV_THREAD_FINAL */
	__u32 tgid;
	__u32 tid;
	__u32 pad;
	struct pp_thread th;
};

#define PP_MAX_FRAMES 64

/* A sampled Python stack, innermost frame first. */
struct pp_stack_event {
	__u32 type;		/* PP_EV_STACK */
	__u32 tgid;
	__u32 tid;
	__u32 nframes;
	__u64 ts;
	__u64 ip;		/* user-space instruction pointer of the thread */
	__u8 state;		/* enum pp_cpu_state */
	__u8 gc;		/* the collector was running */
	__u8 truncated;		/* more than PP_MAX_FRAMES frames */
	__u8 no_tstate;		/* the thread has no Python thread state */
	__u32 pad;
	struct {
		__u64 code;	/* code object (3.13: f_executable, may not be code) */
		__u64 instr;	/* f_lasti (<= 3.10) or the instruction pointer (3.11+) */
	} frames[PP_MAX_FRAMES];
};

enum pp_cpu_state {
	PP_CPU_GIL = 0,		/* running Python, holding the GIL */
	PP_CPU_NOGIL,		/* native code with the GIL released */
	PP_CPU_UNKNOWN,		/* GIL state unreadable */
	PP_CPU_KERNEL_IO,	/* in the kernel inside an I/O system call */
};

/*
 * Stack and GC records wake the daemon only past this much unread data: it
 * reads the ring buffer anyway before it closes a window, rolls a watched
 * process's window or renders a scrape, and every PP_STACK_POLL_MS while a
 * profile is open.
 */
#define PP_STACK_WAKE_BYTES (256 * 1024)
#define PP_STACK_POLL_MS 200

/* Ring buffer records. */
enum pp_event_type {
	PP_EV_THREAD_FINAL = 1,	/* struct pp_thread_final: a target thread exited */
	PP_EV_GC = 2,		/* struct pp_gc_event: one collection */
	PP_EV_GC_RATE = 3,	/* struct pp_event: too many collections/s, exact tracing stopped */
	PP_EV_STACK = 4,	/* struct pp_stack_event */
	PP_EV_EXEC = 5,		/* struct pp_event: tgid executed a new program */
	PP_EV_FORK = 6,		/* struct pp_event: tgid forked by target tid (its tgid) */
	PP_EV_LOOP = 7,		/* struct pp_loop_event: a long event-loop iteration */
};

/*
 * An event loop's busy periods (struct pp_thread's loop: from a blocking
 * poll/epoll/select wait returning to the next one) this long or longer are
 * recorded one by one: the daemon keeps stalls.
 */
#define PP_LOOP_RECORD_NS (10ULL * 1000 * 1000)

struct pp_loop_event {
	__u32 type;		/* PP_EV_LOOP */
	__u32 tgid;
	__u32 tid;
	__u16 max_nr;		/* system call of its longest blocked interval (PP_NR_NONE) */
	__u8 max_state;		/* that interval's bucket (PP_B_NONE: it never blocked) */
	__u8 pad;
	__u64 start_ns;		/* CLOCK_MONOTONIC: the thread woke from its wait */
	__u64 end_ns;		/* it blocked in the next one */
	__u64 max_off_ns;	/* the longest blocked interval's length */
	__u64 ns[PP_NBUCKETS];	/* where the thread's time went meanwhile, by bucket */
};

/* Every record starts with type, tgid, tid. */
struct pp_event {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__u32 pad;
};

struct pp_gc_event {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__s32 generation;	/* -1 when the probe cannot tell */
	__u64 start_ns;		/* CLOCK_MONOTONIC */
	__u64 duration_ns;
	__s64 collected;	/* collected + uncollectable, -1 when unknown */
};

/*
 * bpf_cookie of a GC entry uprobe: where the generation argument is. Below
 * PP_GC_GEN_CONST it is the 1-based argument register (PT_REGS_PARMn); at or
 * above, the clone has it constant-folded to cookie - PP_GC_GEN_CONST.
 */
#define PP_GC_GEN_CONST 0x100
#define PP_GC_GEN_UNKNOWN 0x200
/* bpf_cookie of a GC return probe (uprobe_multi): the result is the return value. */
#define PP_GC_RET 0x300

/*
 * bpf_cookie of a USDT site attached through uprobe_multi: the argument's
 * location, decoded from its note ("-4@%esi", "8@-24(%rbp)", "4@$1") by the
 * daemon (usdtarg.c). No map: the cookie is the spec.
 *   bits  0-31  displacement (deref) or constant, signed
 *   bits 32-39  pt_regs offset / 8 of the register
 *   bits 40-43  size in bytes (1, 2, 4, 8)
 *   bit  44     signed
 *   bits 45-46  kind: PP_USDT_CONST, PP_USDT_REG, PP_USDT_DEREF
 *   bit  62     set: this is a USDT argument cookie
 */
#define PP_USDT_CONST 0
#define PP_USDT_REG 1
#define PP_USDT_DEREF 2
#define PP_USDT_COOKIE (1ULL << 62)
#define PP_USDT_MAKE(kind, reg_off, size, sgn, val)                                                        \
	(PP_USDT_COOKIE | ((__u64)(kind) << 45) | ((__u64)((sgn) ? 1 : 0) << 44) | ((__u64)(size) << 40) |   \
	 ((__u64)((reg_off) / 8) << 32) | (__u64)(__u32)(val))
#define PP_USDT_KIND(c) (((c) >> 45) & 3)
#define PP_USDT_SIGNED(c) (((c) >> 44) & 1)
#define PP_USDT_SIZE(c) (((c) >> 40) & 15)
#define PP_USDT_REGOFF(c) ((((c) >> 32) & 0xff) * 8)
#define PP_USDT_VAL(c) ((__s32)(__u32)(c))

#ifndef __cplusplus
_Static_assert(sizeof(struct pp_range) == 16, "pp_range ABI");
_Static_assert(sizeof(struct pp_target) == 16 * 4 + 56 + 32, "pp_target ABI");
_Static_assert(sizeof(struct pp_samples) == 56, "pp_samples ABI");
_Static_assert(sizeof(struct pp_hist) == 8 * (2 * PP_HIST + 2), "pp_hist ABI");
_Static_assert(sizeof(struct pp_thread) ==
		       8 * (2 * PP_NBUCKETS + 4 + 8) + 56 + 2 * sizeof(struct pp_hist) + 16 * PP_GIL_RANGES + 8 * 9 +
			       16 + 8 + 8 + 8 + 8 + 16 + 8 * (PP_NBUCKETS + 2),
	       "pp_thread ABI");
_Static_assert(sizeof(struct pp_loop_event) == 16 + 24 + 8 * PP_NBUCKETS, "pp_loop_event ABI");
_Static_assert(sizeof(struct pp_gil_key) == 16, "pp_gil_key ABI");
_Static_assert(sizeof(struct pp_snap_hdr) == 24, "pp_snap_hdr ABI");
_Static_assert(sizeof(struct pp_gil_charge) == 16, "pp_gil_charge ABI");
_Static_assert(sizeof(struct pp_thread_final) == 16 + sizeof(struct pp_thread), "pp_thread_final ABI");
_Static_assert(sizeof(struct pp_event) == 16, "pp_event ABI");
_Static_assert(sizeof(struct pp_gc_event) == 40, "pp_gc_event ABI");
_Static_assert(sizeof(struct pp_stack_event) == 40 + 16 * PP_MAX_FRAMES, "pp_stack_event ABI");
_Static_assert(sizeof(struct pp_pystack_cfg) == 8 + 4 * 16, "pp_pystack_cfg ABI");
#endif

#endif /* PYPROBE_EVENTS_H */
