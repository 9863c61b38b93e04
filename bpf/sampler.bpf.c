// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Low-rate CPU sampler (perf cpu-clock, one event per CPU). For a sample that
 * lands on a target thread, decide whether the thread holds the GIL: the GIL is
 * locked and its last_holder's thread_id (pthread_self) equals this thread's fs
 * base. That separates Python execution from native code running with the GIL
 * released. Everything read from the target is untrusted; a failed read counts
 * as "unknown", never as a guess.
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

/* How to walk each target's Python frames (tgid -> struct pp_pystack_cfg). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct pp_pystack_cfg);
} pystacks SEC(".maps");

__u64 stat_stacks_lost = 0;

#define MAX_INTERPS 4
#define MAX_TSTATES 256

static __always_inline int uread(void *dst, __u32 size, __u64 addr)
{
	return bpf_probe_read_user(dst, size, (void *)addr);
}

/*
 * Which thread state belongs to this thread: thread_id is pthread_self, the
 * x86-64 fs base. The target's lists are untrusted: every walk is bounded
 * (bpf_loop keeps the verifier's work independent of the bounds).
 */
struct tstate_walk {
	const struct pp_pystack_cfg *pc;
	__u64 fsbase, interp, ts, found;
	__u32 interps;
};

static long tstate_step(__u32 i, void *data)
{
	struct tstate_walk *w = data;
	const struct pp_pystack_cfg *pc = w->pc;
	__u64 ident = 0;

	if (!w->ts) {
		/* Next interpreter (the first one was read by the caller). */
		if (++w->interps > MAX_INTERPS || uread(&w->interp, 8, w->interp + pc->interp_next) ||
		    !w->interp || uread(&w->ts, 8, w->interp + pc->interp_tstate_head))
			return 1;
		return 0;
	}
	if (uread(&ident, 8, w->ts + pc->tstate_thread_id))
		return 1;
	if (ident == w->fsbase) {
		w->found = w->ts;
		return 1;
	}
	if (uread(&w->ts, 8, w->ts + pc->tstate_next))
		return 1;
	return 0;
}

/* The thread's PyThreadState: the one remembered in its storage while its thread_id still matches. */
static __always_inline __u64 find_tstate(const struct pp_pystack_cfg *pc, struct pp_thread *th, __u64 fsbase)
{
	struct tstate_walk w = { .pc = pc, .fsbase = fsbase };
	__u64 ident = 0;

	if (th->tstate && !uread(&ident, 8, th->tstate + pc->tstate_thread_id) && ident == fsbase)
		return th->tstate;
	if (uread(&w.interp, 8, pc->interp_head_addr) || !w.interp ||
	    uread(&w.ts, 8, w.interp + pc->interp_tstate_head))
		return 0;
	w.interps = 1;
	bpf_loop(MAX_INTERPS * MAX_TSTATES, tstate_step, &w, 0);
	th->tstate = w.found;
	return w.found;
}

static __always_inline __u64 top_frame(const struct pp_pystack_cfg *pc, __u64 ts)
{
	__u64 f = 0, cf = 0;

	if (pc->tstate_current_frame != PP_OFF_NONE)
		uread(&f, 8, ts + pc->tstate_current_frame);
	else if (pc->tstate_cframe != PP_OFF_NONE) {
		if (!uread(&cf, 8, ts + pc->tstate_cframe) && cf)
			uread(&f, 8, cf + pc->cframe_current_frame);
	} else {
		uread(&f, 8, ts + pc->tstate_frame);
	}
	return f;
}

/*
 * From 3.11 frames live on the thread's data stack: a caller's frame sits just
 * below its callee's. One read of the PP_WALK_WIN bytes that end with a frame
 * then serves the frames beneath it too, where a read per frame costs a
 * helper call and a fault-handling setup each (~0.3 us on a virtualised
 * kernel). A frame outside the window (a generator's, on another chunk, or
 * near the chunk's start where the window would reach unmapped memory) is read
 * alone, as before 3.11.
 */
#define PP_WALK_WIN 2048

struct walk_win {
	__u8 data[PP_WALK_WIN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_win);
} walkwin SEC(".maps");

struct frame_walk {
	const struct pp_pystack_cfg *pc;
	struct pp_stack_event *ev;
	__u64 f;
	__u64 win_lo, win_hi;	/* user addresses the window holds */
	__u32 n;
	__u32 no_win;
};

/*
 * Where the frame's bytes [addr, addr + len) start in the window, or -1 to
 * read them alone. A new window ends PP_FRAME_READ + 8 bytes past addr, so the
 * fields of the frame it was read for are inside it too; after a window read
 * fails (memory below the chunk unmapped) the rest of the walk reads alone.
 */
static __always_inline long in_window(struct frame_walk *w, struct walk_win *win, __u64 addr, __u32 len)
{
	if (addr >= w->win_lo && addr + len <= w->win_hi)
		return addr - w->win_lo;
	if (w->pc->minor < 11 || w->no_win || addr < PP_WALK_WIN)
		return -1;
	w->win_hi = addr + PP_FRAME_READ + 8;
	w->win_lo = w->win_hi - PP_WALK_WIN;
	if (uread(win->data, PP_WALK_WIN, w->win_lo)) {
		w->win_lo = w->win_hi = 0;
		w->no_win = 1;
		return -1;
	}
	return addr - w->win_lo;
}

/*
 * A field of the frame part read in one go: off is the field's offset in the
 * frame (PP_OFF_NONE: absent). The masks keep the verifier's view of the
 * index inside the buffer; the checks keep the value inside what was read.
 */
static __always_inline __u64 field(const __u8 *buf, const struct pp_pystack_cfg *pc, __u32 off, __u32 size)
{
	__u32 rel = off - pc->frame_read_off;
	__u64 v = 0;

	if (off == PP_OFF_NONE || rel + size > pc->frame_read_len)
		return 0;
	rel &= PP_FRAME_READ - 1;
	if (rel > PP_FRAME_READ - 8)
		return 0;
	__builtin_memcpy(&v, buf + rel, 8);
	return size == 8 ? v : size == 4 ? (__u64)(__s64)(__s32)v : (v & 0xff);
}

static long frame_step(__u32 i, void *data)
{
	struct frame_walk *w = data;
	const struct pp_pystack_cfg *pc = w->pc;
	__u64 code, instr, next, f = w->f;
	__u32 n = w->n, len = pc->frame_read_len, zero = 0;
	__u8 one[PP_FRAME_READ + 8] = {}, owner;
	struct walk_win *win = bpf_map_lookup_elem(&walkwin, &zero);
	const __u8 *buf = one;
	long rel;

	/* Every field the walk needs sits in frame_read_len bytes: from the window, or one read. */
	if (!f || !len || len > PP_FRAME_READ || !win)
		return 1;
	rel = in_window(w, win, f + pc->frame_read_off, len);
	if (rel >= 0 && rel <= PP_WALK_WIN - PP_FRAME_READ - 8)
		buf = win->data + (rel & (PP_WALK_WIN - 1));
	else if (uread(one, len, f + pc->frame_read_off))
		return 1;
	code = pp_frame_code(pc->minor, field(buf, pc, pc->frame_code, 8));
	next = field(buf, pc, pc->frame_back, 8);
	if (!code)
		return 1;
	if (pc->frame_instr != PP_OFF_NONE) {
		instr = field(buf, pc, pc->frame_instr, 8);
		owner = field(buf, pc, pc->frame_owner, 1);
	} else {
		instr = field(buf, pc, pc->frame_lasti, 4);
		owner = 0;
	}
	w->f = next == f ? 0 : next;	/* a frame pointing at itself ends the walk */
	if (pp_frame_is_shim(pc->minor, owner))
		return 0;
	if (n >= PP_MAX_FRAMES) {
		w->ev->truncated = 1;
		return 1;
	}
	w->ev->frames[n].code = code;
	w->ev->frames[n].instr = instr;
	w->n = n + 1;
	return 0;
}

static __always_inline void emit_stack(struct bpf_perf_event_data *ctx, struct task_struct *task,
				       struct pp_thread *th, __u32 tgid, __u32 tid, __u8 state, __u8 gc)
{
	struct pp_pystack_cfg *pc = bpf_map_lookup_elem(&pystacks, &tgid);
	struct frame_walk w = {};
	struct pp_stack_event *ev;
	struct pt_regs *uregs;
	__u64 ts;

	if (!pc)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&stat_stacks_lost, 1);
		return;
	}
	ev->type = PP_EV_STACK;
	ev->tgid = tgid;
	ev->tid = tid;
	ev->ts = bpf_ktime_get_ns();
	uregs = (struct pt_regs *)bpf_task_pt_regs(task);
	ev->ip = (long)ctx->regs.ip < 0 ? BPF_CORE_READ(uregs, ip) : ctx->regs.ip;
	ev->state = state;
	ev->gc = gc;
	ev->truncated = 0;
	ev->pad = 0;
	ts = find_tstate(pc, th, task->thread.fsbase);
	ev->no_tstate = !ts;
	w.pc = pc;
	w.ev = ev;
	w.f = ts ? top_frame(pc, ts) : 0;
	if (w.f)
		bpf_loop(PP_MAX_FRAMES * 2, frame_step, &w, 0);
	ev->nframes = w.n;
	/*
	 * Stacks are the bulk of the ring buffer and the daemon needs them by the
	 * end of a window: it polls every PP_STACK_POLL_MS while a profile is
	 * open, so wake it only when the buffer fills up. A wakeup per sample is
	 * a context switch of the daemon per sample, on the target's CPUs.
	 */
	bpf_ringbuf_submit(ev, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > PP_STACK_WAKE_BYTES ?
				       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline bool in_range(const struct pp_range *r, __u64 ip)
{
	return ip >= r->lo && ip < r->hi;
}

/*
 * Where the sampled thread is: holding the GIL, native without it, in kernel
 * I/O. *native: it holds the GIL outside the interpreter's and libc's code
 * (an extension keeping the GIL).
 */
static __always_inline __u8 cpu_state(struct bpf_perf_event_data *ctx, const struct pp_target *cfg,
				      struct task_struct *task, bool *native)
{
	__u64 holder = 0, holder_tid = 0;
	int locked = 0;

	/*
	 * Kernel time inside read/write/send/fsync... is the kernel doing the
	 * thread's I/O (copies, file system, network stack): I/O work, not CPU.
	 */
	if ((long)ctx->regs.ip < 0) {	/* x86-64: kernel addresses have the top bit set */
		struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(task);
		long nr = BPF_CORE_READ(uregs, orig_ax);
		int cls = nr >= 0 ? pp_syscall_class(nr) : PP_SC_OTHER;

		if (cls == PP_SC_FD_IO || cls == PP_SC_NET || cls == PP_SC_FILE)
			return PP_CPU_KERNEL_IO;
	}
	if (!(cfg->flags & PP_TF_GIL_KNOWN) || uread(&locked, sizeof(locked), cfg->gil_locked_addr))
		return PP_CPU_UNKNOWN;
	if (locked < 0)
		return PP_CPU_GIL;	/* 3.6 creates the GIL with the second thread: alone, it runs Python */
	if (locked == 0)
		return PP_CPU_NOGIL;
	if (uread(&holder, sizeof(holder), cfg->gil_holder_addr) || !holder ||
	    uread(&holder_tid, sizeof(holder_tid), holder + cfg->tstate_thread_id_off))
		return PP_CPU_UNKNOWN;
	if (holder_tid != task->thread.fsbase)
		return PP_CPU_NOGIL;
	if ((long)ctx->regs.ip >= 0 && cfg->python_text[0].hi > cfg->python_text[0].lo &&
	    !in_range(&cfg->python_text[0], ctx->regs.ip) && !in_range(&cfg->python_text[1], ctx->regs.ip))
		*native = true;
	return PP_CPU_GIL;
}

SEC("perf_event")
int handle_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid, tid = task->pid;
	struct pp_target *cfg;
	struct pp_thread *th;
	struct pp_samples *s;
	bool native = false;
	int collecting = 0;
	__u8 state;

	/* Target threads have storage (sched.bpf.c): everything else costs one lookup. */
	th = bpf_task_storage_get(&threads, task, 0, 0);
	if (!th)
		return 0;
	cfg = bpf_map_lookup_elem(&targets, &tgid);
	if (!cfg)
		return 0;
	s = &th->smp;
	s->total++;
	if (cfg->gc_collecting_addr && !uread(&collecting, sizeof(collecting), cfg->gc_collecting_addr) &&
	    collecting == 1)
		s->gc++;
	state = cpu_state(ctx, cfg, task, &native);
	switch (state) {
	case PP_CPU_GIL:
		if (native)
			s->gil_native++;
		else
			s->gil++;
		break;
	case PP_CPU_NOGIL:
		s->nogil++;
		break;
	case PP_CPU_KERNEL_IO:
		s->kernel_io++;
		break;
	default:
		s->unknown++;
	}
	if (cfg->flags & PP_TF_STACKS)
		emit_stack(ctx, task, th, tgid, tid, state, collecting == 1);
	return 0;
}
