/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The targets map (tgid -> struct pp_target), filled by the daemon at attach.
 * Every BPF object that filters on targets includes this; the loader makes
 * them all share sched.bpf.c's instance (bpf_map__reuse_fd).
 */
#ifndef PYPROBE_TARGETS_BPF_H
#define PYPROBE_TARGETS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);	/* the loader sets --max-sessions */
	__type(key, __u32);
	__type(value, struct pp_target);
} targets SEC(".maps");

#endif
