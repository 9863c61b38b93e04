// SPDX-License-Identifier: MIT
/* Small readers of /proc: ownership and identity of a process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procfs.h"

int procfs_owned_by(pid_t pid, uid_t uid)
{
	char fn[64], line[256];
	unsigned int r, e, s;
	int ret = -ESRCH;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u %u", &r, &e, &s) == 3) {
			ret = (r == uid && e == uid && s == uid) ? 0 : -EPERM;
			break;
		}
	}
	fclose(f);
	return ret;
}

uint64_t procfs_start_time(pid_t pid)
{
	char fn[64], buf[1024], *p;
	unsigned long long st = 0;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", pid);
	f = fopen(fn, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	/* Fields after ")": state(3) ... starttime is field 22, i.e. the 20th after state. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &st) != 1)
		return 0;
	return st;
}

int procfs_task_run_delay(pid_t pid, pid_t tid, uint64_t *ns)
{
	char fn[64];
	unsigned long long oncpu, delay;
	int n;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/schedstat", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &oncpu, &delay);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	*ns = delay;
	return 0;
}
