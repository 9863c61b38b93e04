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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pp_samples);
} samples SEC(".maps");

__u64 stat_samples_full = 0;

SEC("perf_event")
int handle_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct pp_target *cfg = bpf_map_lookup_elem(&targets, &tgid);
	struct pp_samples *s, zero = {};
	struct task_struct *task;
	__u64 holder = 0, holder_tid = 0, fsbase;
	int locked = 0;

	if (!cfg)
		return 0;
	s = bpf_map_lookup_elem(&samples, &tid);
	if (!s) {
		bpf_map_update_elem(&samples, &tid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&samples, &tid);
		if (!s) {
			__sync_fetch_and_add(&stat_samples_full, 1);
			return 0;
		}
	}
	s->total++;
	if (cfg->gc_collecting_addr) {
		int collecting = 0;

		if (!bpf_probe_read_user(&collecting, sizeof(collecting), (void *)cfg->gc_collecting_addr) &&
		    collecting == 1)
			s->gc++;
	}
	task = bpf_get_current_task_btf();
	/*
	 * Kernel time inside read/write/send/fsync... is the kernel doing the
	 * thread's I/O (copies, file system, network stack): I/O work, not CPU.
	 */
	if ((long)ctx->regs.ip < 0) {	/* x86-64: kernel addresses have the top bit set */
		struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(task);
		long nr = BPF_CORE_READ(uregs, orig_ax);
		int cls = nr >= 0 ? pp_syscall_class(nr) : PP_SC_OTHER;

		if (cls == PP_SC_FD_IO || cls == PP_SC_NET || cls == PP_SC_FILE) {
			s->kernel_io++;
			return 0;
		}
	}
	if (!(cfg->flags & PP_TF_GIL_KNOWN) ||
	    bpf_probe_read_user(&locked, sizeof(locked), (void *)cfg->gil_locked_addr)) {
		s->unknown++;
		return 0;
	}
	if (locked < 0) {
		/* 3.6 creates the GIL with the second thread: alone, it runs Python. */
		s->gil++;
		return 0;
	}
	if (locked == 0) {
		s->nogil++;
		return 0;
	}
	if (bpf_probe_read_user(&holder, sizeof(holder), (void *)cfg->gil_holder_addr) || !holder ||
	    bpf_probe_read_user(&holder_tid, sizeof(holder_tid),
				(void *)(holder + cfg->tstate_thread_id_off))) {
		s->unknown++;
		return 0;
	}
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	if (holder_tid == fsbase)
		s->gil++;
	else
		s->nogil++;
	return 0;
}
