// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Process lifecycle for the daemon: a target that executes a new program is no
 * longer the interpreter it inspected, and processes that start or fork may
 * match a watch rule. Both events are rare next to context switches, and the
 * programs are attached only while there are targets or watch rules.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pyprobe/events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "shared.bpf.h"

/* Set by the loader while watch rules exist: report every exec. */
__u32 watch_all = 0;
__u64 stat_proc_events_lost = 0;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!watch_all && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (!emit_event(PP_EV_EXEC, tgid, tgid))
		__sync_fetch_and_add(&stat_proc_events_lost, 1);
	return 0;
}

/* A new process (not a thread) forked by a target: a worker of a watched server. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 tgid = BPF_CORE_READ(child, tgid);

	if (!watch_all || tgid == ptgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;
	if (!emit_event(PP_EV_FORK, tgid, ptgid))
		__sync_fetch_and_add(&stat_proc_events_lost, 1);
	return 0;
}
