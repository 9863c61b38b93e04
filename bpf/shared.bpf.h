/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Maps every BPF object shares: the targets map (tgid -> struct pp_target),
 * filled by the daemon at attach, and the events ring buffer. The loader makes
 * all objects use sched.bpf.c's instances (bpf_map__reuse_fd).
 */
#ifndef PYPROBE_SHARED_BPF_H
#define PYPROBE_SHARED_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);	/* the loader sets --max-sessions */
	__type(key, __u32);
	__type(value, struct pp_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);	/* stacks are ~1 KiB at 99 Hz per CPU */
} events SEC(".maps");

/* A small record for the daemon (struct pp_event); false when the ring buffer is full. */
static __always_inline bool emit_event(__u32 type, __u32 tgid, __u32 tid)
{
	struct pp_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev)
		return false;
	ev->type = type;
	ev->tgid = tgid;
	ev->tid = tid;
	ev->pad = 0;
	/*
	 * Always a wakeup: GC and stack records before it may have been sent
	 * without one, and the kernel's default wakes the reader only when it
	 * has read everything before this record.
	 */
	bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
	return true;
}

#endif
