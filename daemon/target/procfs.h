/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROCFS_H
#define PYPROBED_PROCFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A thread's cumulative run-queue wait in ns (schedstat field 2). */
int procfs_task_run_delay(pid_t pid, pid_t tid, uint64_t *ns);
/* Start of the program's code and stack (stat fields 26 and 28): an exec changes them. */
int procfs_image(pid_t pid, uint64_t *code_start, uint64_t *stack_start);
/* CPU time the whole host spent busy since boot, all CPUs (/proc/stat: not idle, not iowait), ns. */
int procfs_host_busy(uint64_t *ns);
/* Process start time in clock ticks since boot (field 22 of stat), 0 on error. */
uint64_t procfs_start_time(pid_t pid);

/*
 * Thread tid of process pid as its innermost PID namespace numbers it (the
 * last NSpid field of its status): the host's own tid outside any namespace.
 * 0 or -errno.
 */
int procfs_ns_tid(pid_t pid, pid_t tid, pid_t *ns_tid);
/* Is the process's root directory another than the daemon's (chroot, container)? 1, 0 or -errno. */
int procfs_own_root(pid_t pid);

/*
 * Process trees (a thread's children list, CONFIG_PROC_CHILDREN): pid's
 * children, from every one of its threads; how many were put in out.
 */
size_t procfs_children(pid_t pid, pid_t *out, size_t max);
/* root then its descendants, breadth first, at most max; how many were put in out (max: maybe more exist). */
size_t procfs_descendants(pid_t root, pid_t *out, size_t max);
/* The parent's PID, 0 on error. */
pid_t procfs_parent(pid_t pid);
/* The command name (stat's second field, any bytes), 0 or -errno. */
int procfs_comm(pid_t pid, char *comm, size_t len);

#endif
