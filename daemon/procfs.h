/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROCFS_H
#define PYPROBED_PROCFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pyprobe/events.h"

/* Real, effective and saved uid of a process must all equal uid (the ptrace rule). */
int procfs_owned_by(pid_t pid, uid_t uid);
/* Call fn for each thread of pid; returns the number of threads or -errno. */
int procfs_for_each_task(pid_t pid, void (*fn)(void *ctx, pid_t tid), void *ctx);
/* Thread name (comm). */
void procfs_task_comm(pid_t pid, pid_t tid, char *buf, size_t len);
/*
 * The bucket a thread is in right now, from /proc/PID/task/TID/{stat,syscall}:
 * the same decision sched.bpf.c makes at switch-out. gil_kind is set for GIL waits.
 */
int procfs_task_bucket(pid_t pid, pid_t tid, const struct pp_target *cfg, int *gil_kind);
/* Process start time in clock ticks since boot (field 22 of stat), 0 on error. */
uint64_t procfs_start_time(pid_t pid);

#endif
