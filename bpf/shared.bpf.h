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

#endif
