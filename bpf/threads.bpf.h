/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Per-thread state of target threads (struct pp_thread) in task-local
 * storage: sched.bpf.c makes, updates and drops it, the sampler counts its
 * samples in it. The loader makes the sampler use sched's instance.
 */
#ifndef PYPROBE_THREADS_BPF_H
#define PYPROBE_THREADS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pp_thread);
} threads SEC(".maps");

#endif
