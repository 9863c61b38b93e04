/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PEERS_H
#define PYPROBED_PEERS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Which process is at the other end of a pipe or a Unix socket a thread waits
 * on: the kernel side gives the inode of the pipe (both ends share it) or of
 * the peer socket; here, the processes holding a descriptor on it are found
 * through /proc/PID/fd. The target's descendants are looked at first (pool
 * workers, subprocesses), then its parent, then every process, within a
 * budget of descriptors read.
 */
#define PEERS_MAX 8

struct peer_query {
	uint64_t ino;		/* in */
	int n;			/* out: processes other than the target holding it (at most PEERS_MAX) */
	pid_t pid[PEERS_MAX];
	char comm[PEERS_MAX][16];
};

/* Resolve every query for target pid. Returns 0, or -errno when /proc cannot be read. */
int peers_resolve(pid_t pid, struct peer_query *q, size_t n);

#endif
