// SPDX-License-Identifier: MIT
/* The other end of a pipe or Unix socket (peers.h), from /proc. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "peers.h"
#include "procfs.h"

#define MAX_DESCENDANTS 512
/* Descriptors read in the scan of every process, at most (a busy host has many). */
#define FD_BUDGET 200000

static void read_comm(pid_t pid, char comm[16])
{
	char fn[64];
	ssize_t n;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/comm", pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, comm, 15) : -1;
	if (fd >= 0)
		close(fd);
	comm[n > 0 ? n : 0] = 0;
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
}

/* "pipe:[123]" or "socket:[123]" -> 123, else 0. */
static uint64_t link_ino(const char *l)
{
	const char *p = strchr(l, '[');

	if (!p || (strncmp(l, "pipe:", 5) && strncmp(l, "socket:", 7)))
		return 0;
	return strtoull(p + 1, NULL, 10);
}

/* Match pid's descriptors against the queries; returns descriptors read. */
static size_t scan(pid_t pid, pid_t target, struct peer_query *q, size_t n, size_t *open)
{
	bool *hit = calloc(n, sizeof(*hit));
	char dir[64], fn[320], l[64];
	struct dirent *de;
	size_t read_fds = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = hit && pid != target ? opendir(dir) : NULL;
	if (!d) {
		free(hit);
		return 0;
	}
	while ((de = readdir(d)) && *open) {
		ssize_t k;
		uint64_t ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fn, sizeof(fn), "%s/%s", dir, de->d_name);
		k = readlink(fn, l, sizeof(l) - 1);
		read_fds++;
		if (k <= 0)
			continue;
		l[k] = 0;
		ino = link_ino(l);
		if (!ino)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (hit[i] || q[i].n == PEERS_MAX || q[i].ino != ino)
				continue;
			hit[i] = true;	/* one process counts once, however many descriptors it has */
			q[i].pid[q[i].n] = pid;
			read_comm(pid, q[i].comm[q[i].n]);
			if (++q[i].n == PEERS_MAX)
				(*open)--;
		}
	}
	closedir(d);
	free(hit);
	return read_fds;
}

int peers_resolve(pid_t pid, struct peer_query *q, size_t n)
{
	pid_t *desc = malloc(MAX_DESCENDANTS * sizeof(*desc));
	size_t nd = 0, open = 0, budget = 0;
	struct dirent *de;
	pid_t ppid;
	DIR *d;

	for (size_t i = 0; i < n; i++) {
		q[i].n = 0;
		open += q[i].ino != 0;
	}
	if (!desc)
		return -ENOMEM;
	/* Descendants, breadth first. */
	nd = procfs_children(pid, desc, MAX_DESCENDANTS);
	for (size_t i = 0; i < nd && open; i++) {
		budget += scan(desc[i], pid, q, n, &open);
		nd += procfs_children(desc[i], desc + nd, MAX_DESCENDANTS - nd);
	}
	ppid = procfs_parent(pid);
	if (open && ppid > 1)
		budget += scan(ppid, pid, q, n, &open);
	free(desc);
	/* Found among its relatives: enough (the full scan is for peers elsewhere). */
	for (size_t i = 0; i < n; i++)
		if (q[i].ino && !q[i].n)
			goto scan_all;
	return 0;
scan_all:
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && open && budget < FD_BUDGET) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		budget += scan(atoi(de->d_name), pid, q, n, &open);
	}
	closedir(d);
	return 0;
}
