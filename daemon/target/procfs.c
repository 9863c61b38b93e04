// SPDX-License-Identifier: MIT
/* Small readers of /proc: ownership and identity of a process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procfs.h"

/* The fields of /proc/PID/stat after the command's ")", or NULL. */
static char *stat_fields(pid_t pid, char *buf, size_t len)
{
	char fn[64], *p;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", pid);
	f = fopen(fn, "re");
	if (!f)
		return NULL;
	p = fgets(buf, len, f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')) || !p[1])
		return NULL;
	return p + 2;
}

uint64_t procfs_start_time(pid_t pid)
{
	char buf[1024], *p = stat_fields(pid, buf, sizeof(buf));
	unsigned long long st = 0;

	/* Fields after ")": state(3) ... starttime is field 22, i.e. the 20th after state. */
	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &st) != 1)
		return 0;
	return st;
}

int procfs_image(pid_t pid, uint64_t *code_start, uint64_t *stack_start)
{
	char buf[1024], *p = stat_fields(pid, buf, sizeof(buf));
	unsigned long long code, stack;

	*code_start = *stack_start = 0;
	/* startcode is field 26, startstack 28 (state is 3). */
	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %*u %*u %*d "
			 "%*u %*u %llu %*u %llu", &code, &stack) != 2)
		return -EINVAL;
	*code_start = code;
	*stack_start = stack;
	return 0;
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

int procfs_host_busy(uint64_t *ns)
{
	unsigned long long v[8] = {};
	char buf[512];
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	*ns = 0;
	if (!f)
		return -errno;
	n = fgets(buf, sizeof(buf), f) ? sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
						&v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) : 0;
	fclose(f);
	if (n < 4 || hz <= 0)
		return -EINVAL;
	/* user nice system idle iowait irq softirq steal: the hypervisor's steal is not ours to use either */
	*ns = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (1000000000ULL / (unsigned long long)hz);
	return 0;
}

int procfs_ns_tid(pid_t pid, pid_t tid, pid_t *ns_tid)
{
	char fn[96], line[256];
	int err = -ENOENT;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		long v = -1;

		if (strncmp(line, "NSpid:", 6))
			continue;
		/* "NSpid:\t4242\t17\t1": the host's, then each namespace's down to the innermost. */
		for (p = line + 6; *p;) {
			long x = strtol(p, &end, 10);

			if (end == p)
				break;
			v = x;
			p = end;
		}
		if (v > 0) {
			*ns_tid = (pid_t)v;
			err = 0;
		}
		break;
	}
	fclose(f);
	return err;
}

int procfs_own_root(pid_t pid)
{
	char fn[64];
	struct stat a, b;

	snprintf(fn, sizeof(fn), "/proc/%d/root", pid);
	if (stat(fn, &a))
		return -errno;
	if (stat("/", &b))
		return -errno;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

size_t procfs_children(pid_t pid, pid_t *out, size_t max)
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
			if (c > 0)
				out[n++] = (pid_t)c;
			p = end;
		}
	}
	closedir(d);
	return n;
}

size_t procfs_descendants(pid_t root, pid_t *out, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	out[n++] = root;
	for (size_t i = 0; i < n && n < max; i++)
		n += procfs_children(out[i], out + n, max - n);
	return n;
}

pid_t procfs_parent(pid_t pid)
{
	char buf[1024], *p = stat_fields(pid, buf, sizeof(buf));
	int ppid = 0;

	if (!p || sscanf(p, "%*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

int procfs_comm(pid_t pid, char *comm, size_t len)
{
	char fn[64], buf[1024], *a, *b;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	a = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!a || !(a = strchr(buf, '(')) || !(b = strrchr(buf, ')')) || b < a)
		return -EINVAL;
	*b = 0;
	snprintf(comm, len, "%s", a + 1);
	return 0;
}
