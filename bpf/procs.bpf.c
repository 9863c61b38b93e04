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

/*
 * The dumpable bits of a process's mm (SUID_DUMP_*), for the daemon's access
 * check: /proc shows them only through file ownership, which cannot tell a
 * non-dumpable process from one running as root. Attached per query with the
 * iterator's pid filter, so it visits that process's threads only. Linux 6.18
 * made mm->flags a bitmap (mm_flags_t); both layouts keep the bits in the
 * first word.
 */
struct mm_struct___word {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct mm_flags___bitmap {
	unsigned long __mm_flags[1];
} __attribute__((preserve_access_index));

struct mm_struct___bitmap {
	struct mm_flags___bitmap flags;
} __attribute__((preserve_access_index));

SEC("iter/task")
int handle_dumpable_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	unsigned long flags = 0;
	struct mm_struct *mm;
	__u64 out;

	if (!t || t->pid != t->tgid)
		return 0;
	mm = t->mm;
	if (!mm)
		return 0;
	if (bpf_core_field_exists(((struct mm_struct___bitmap *)0)->flags))
		flags = BPF_CORE_READ((struct mm_struct___bitmap *)mm, flags.__mm_flags[0]);
	else
		flags = BPF_CORE_READ((struct mm_struct___word *)mm, flags);
	out = flags & 3;	/* MMF_DUMPABLE_BITS */
	bpf_seq_write(ctx->meta->seq, &out, sizeof(out));
	return 0;
}
