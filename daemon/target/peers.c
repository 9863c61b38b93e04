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

/* pid's children, from every thread's children list; returns how many were added to out. */
static size_t children(pid_t pid, pid_t *out, size_t max)
{
	char dir[64], fn[512], buf[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		ssize_t k;
		char *p;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fn, sizeof(fn), "%s/%s/children", dir, de->d_name);
		fd = open(fn, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = 0;
		for (p = buf; *p && n < max;) {
			char *end;
			long c = strtol(p, &end, 10);

			if (end == p)
				break;
			out[n++] = (pid_t)c;
			p = end;
		}
	}
	closedir(d);
	return n;
}

static pid_t parent_of(pid_t pid)
{
	char fn[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", pid);
	f = fopen(fn, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p && (p = strrchr(buf, ')')) && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = 0;
	return ppid;
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
	nd = children(pid, desc, MAX_DESCENDANTS);
	for (size_t i = 0; i < nd && open; i++) {
		budget += scan(desc[i], pid, q, n, &open);
		nd += children(desc[i], desc + nd, MAX_DESCENDANTS - nd);
	}
	ppid = parent_of(pid);
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
