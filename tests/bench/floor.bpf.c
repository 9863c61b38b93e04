// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * make bench's floor: an empty program on the hook pyprobe's scheduler
 * program uses. Whatever attaching it costs a target (the kernel calling a
 * BPF program at every context switch, and what that call touches) no
 * program on this hook can avoid: the bench's "floor" mode sets pyprobe's
 * cost beside it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}
