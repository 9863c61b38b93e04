// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Garbage-collector pauses, exact: a start and an end per collection, from the
 * interpreter's USDT probes (python:gc__start / gc__done) where it has them,
 * else a uprobe and uretprobe on the collector function. Links are made per
 * target PID by the daemon, never system-wide.
 *
 * Rate guard: a collection costs two probe hits (~13 us here) and allocation-
 * heavy code can run 20k collections/s. Past cfg_gc_max_rate collections in a
 * second the program stops reporting for that process and asks the daemon
 * (PP_EV_GC_RATE) to remove its links; the CPU sampler's reading of the
 * collector's "collecting" flag is the estimate from then on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "pyprobe/events.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 cfg_gc_max_rate = 1000;	/* collections per second per process */

struct gc_start {
	__u64 ts;
	__u64 collections[3];	/* generation_stats[i].collections at entry */
	__s32 generation;
	__u32 pad;
};

struct gc_rate {
	__u64 second;		/* ktime / 1e9 of the current bucket */
	__u32 count;
	__u32 tripped;
};

/* Collections in progress, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gc_start);
} gc_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct gc_rate);
} gc_rates SEC(".maps");

__u64 stat_gc_events_lost = 0;

/* The interpreter's per-generation collection counters (untrusted memory: 0 on failure). */
static __always_inline void read_collections(const struct pp_target *cfg, __u64 out[3])
{
	for (int i = 0; i < 3; i++) {
		out[i] = 0;
		if (cfg && cfg->gc_stats_addr)
			bpf_probe_read_user(&out[i], sizeof(out[i]), (void *)(cfg->gc_stats_addr + i * cfg->gc_stats_stride));
	}
}

static __always_inline void gc_begin(__s32 generation)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct gc_start st = { .generation = generation };

	/* Where the probe cannot tell (3.13 automatic collections), the counter that moves will. */
	if (generation < 0)
		read_collections(bpf_map_lookup_elem(&targets, &tgid), st.collections);
	st.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&gc_inflight, &tid, &st, BPF_ANY);
}

/* Count a collection; false once the process is over the rate. */
static __always_inline bool rate_ok(__u32 tgid, __u32 tid, __u64 now)
{
	struct gc_rate *r = bpf_map_lookup_elem(&gc_rates, &tgid), zero = {};
	__u64 sec = now / 1000000000ULL;

	if (!r) {
		bpf_map_update_elem(&gc_rates, &tgid, &zero, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&gc_rates, &tgid);
		if (!r)
			return true;
	}
	if (r->tripped)
		return false;
	if (r->second != sec) {
		r->second = sec;
		r->count = 0;
	}
	if (++r->count <= cfg_gc_max_rate)
		return true;
	r->tripped = 1;
	emit_event(PP_EV_GC_RATE, tgid, tid);
	return false;
}

static __always_inline void gc_end(__s64 collected)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct gc_start *st = bpf_map_lookup_elem(&gc_inflight, &tid);
	struct pp_gc_event *ev;

	if (!st)
		return;	/* attached mid-collection */
	if (rate_ok(tgid, tid, now)) {
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (ev) {
			ev->type = PP_EV_GC;
			ev->tgid = tgid;
			ev->tid = tid;
			ev->generation = st->generation;
			if (st->generation < 0) {
				__u64 now_c[3];

				read_collections(bpf_map_lookup_elem(&targets, &tgid), now_c);
				for (int i = 2; i >= 0; i--)
					if (now_c[i] == st->collections[i] + 1)
						ev->generation = i;
			}
			ev->start_ns = st->ts;
			ev->duration_ns = now - st->ts;
			ev->collected = collected;
			/*
			 * No wakeup per collection: on this VM a ring-buffer wakeup
			 * (irq_work) made this program 19 us a run instead of 1. The
			 * daemon reads the buffer before it closes a window or renders
			 * a scrape, and is woken when it fills.
			 */
			bpf_ringbuf_submit(ev, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
						       PP_STACK_WAKE_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
		} else {
			__sync_fetch_and_add(&stat_gc_events_lost, 1);
		}
	}
	bpf_map_delete_elem(&gc_inflight, &tid);
}

SEC("usdt")
int BPF_USDT(handle_gc_usdt_start, int generation)
{
	gc_begin(generation);
	return 0;
}

SEC("usdt")
int BPF_USDT(handle_gc_usdt_done, long collected)
{
	gc_end(collected);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(handle_gc_entry)
{
	__u64 where = bpf_get_attach_cookie(ctx);
	__s32 gen = -1;

	switch (where) {
	case 1:
		gen = (__s32)PT_REGS_PARM1(ctx);
		break;
	case 2:
		gen = (__s32)PT_REGS_PARM2(ctx);
		break;
	case 3:
		gen = (__s32)PT_REGS_PARM3(ctx);
		break;
	default:
		if (where >= PP_GC_GEN_CONST && where < PP_GC_GEN_CONST + 3)
			gen = where - PP_GC_GEN_CONST;
	}
	if (gen < 0 || gen > 2)
		gen = -1;	/* never trust a register for an index */
	gc_begin(gen);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(handle_gc_return, long ret)
{
	gc_end(ret);
	return 0;
}

/*
 * The same probes through uprobe_multi links (Linux 6.6+): made with a PID
 * filter and no perf event, so they cost nothing per context switch of the
 * target (task-bound perf-event uprobes cost tens of µs per switch here).
 * The loader sets their expected attach type. One program starts a
 * collection, one ends it; the cookie says where the value is: the
 * collector's argument (PP_GC_GEN_*), its return value (PP_GC_RET), or a USDT
 * argument's location (PP_USDT_*).
 */
static __always_inline __s64 usdt_arg(struct pt_regs *ctx, __u64 c)
{
	__u64 v = 0;
	__u32 size = PP_USDT_SIZE(c);

	switch (PP_USDT_KIND(c)) {
	case PP_USDT_CONST:
		v = (__u64)(__s64)PP_USDT_VAL(c);
		break;
	case PP_USDT_REG:
		bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + PP_USDT_REGOFF(c));
		break;
	case PP_USDT_DEREF: {
		__u64 base = 0;

		bpf_probe_read_kernel(&base, sizeof(base), (void *)ctx + PP_USDT_REGOFF(c));
		if (size > 8)
			size = 8;
		bpf_probe_read_user(&v, size, (void *)(base + PP_USDT_VAL(c)));
		break;
	}
	default:
		return -1;
	}
	/* Keep the argument's own width, sign-extended where it is signed. */
	if (size < 8) {
		__u32 shift = 64 - 8 * size;

		v <<= shift;
		v = PP_USDT_SIGNED(c) ? (__u64)((__s64)v >> shift) : v >> shift;
	}
	return (__s64)v;
}

SEC("uprobe")
int handle_gc_multi_begin(struct pt_regs *ctx)
{
	__u64 c = bpf_get_attach_cookie(ctx);
	__s64 gen = -1;

	if (c & PP_USDT_COOKIE)
		gen = usdt_arg(ctx, c);
	else if (c == 1)
		gen = (__s32)PT_REGS_PARM1(ctx);
	else if (c == 2)
		gen = (__s32)PT_REGS_PARM2(ctx);
	else if (c == 3)
		gen = (__s32)PT_REGS_PARM3(ctx);
	else if (c >= PP_GC_GEN_CONST && c < PP_GC_GEN_CONST + 3)
		gen = c - PP_GC_GEN_CONST;
	if (gen < 0 || gen > 2)
		gen = -1;	/* never trust a register for an index */
	gc_begin(gen);
	return 0;
}

SEC("uprobe")
int handle_gc_multi_end(struct pt_regs *ctx)
{
	__u64 c = bpf_get_attach_cookie(ctx);

	gc_end(c & PP_USDT_COOKIE ? usdt_arg(ctx, c) : (long)PT_REGS_RC(ctx));
	return 0;
}
