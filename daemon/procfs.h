/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROCFS_H
#define PYPROBED_PROCFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Real, effective and saved uid of a process must all equal uid (the ptrace rule). */
int procfs_owned_by(pid_t pid, uid_t uid);
/* A thread's cumulative run-queue wait in ns (schedstat field 2). */
int procfs_task_run_delay(pid_t pid, pid_t tid, uint64_t *ns);
/* Process start time in clock ticks since boot (field 22 of stat), 0 on error. */
uint64_t procfs_start_time(pid_t pid);

#endif
