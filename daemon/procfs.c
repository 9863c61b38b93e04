// SPDX-License-Identifier: MIT
/* Small readers of /proc: ownership, threads, and a thread's current state. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procfs.h"
#include "pyprobe/syscalls.h"

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

int procfs_for_each_task(pid_t pid, void (*fn)(void *ctx, pid_t tid), void *ctx)
{
	char fn_[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(fn_, sizeof(fn_), "/proc/%d/task", pid);
	d = opendir(fn_);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
			continue;
		fn(ctx, (pid_t)tid);
		n++;
	}
	closedir(d);
	return n;
}

void procfs_task_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char fn[64];
	FILE *f;

	buf[0] = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static int fd_kind(pid_t pid, unsigned long fd)
{
	char fn[64], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(fn, sizeof(fn), "/proc/%d/fd/%lu", pid, fd);
	n = readlink(fn, link, sizeof(link) - 1);
	if (n < 0)
		return PP_FD_UNKNOWN;
	link[n] = 0;
	if (strncmp(link, "socket:", 7) == 0)
		return PP_FD_SOCKET;
	if (strncmp(link, "pipe:", 5) == 0)
		return PP_FD_PIPE;
	if (strncmp(link, "anon_inode:", 11) == 0)
		return PP_FD_ANON;
	if (stat(fn, &st))
		return PP_FD_UNKNOWN;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return PP_FD_FILE;
	if (S_ISFIFO(st.st_mode))
		return PP_FD_PIPE;
	if (S_ISCHR(st.st_mode))
		return PP_FD_CHAR;
	return PP_FD_ANON;
}

static char task_state_char(pid_t pid, pid_t tid)
{
	char fn[64], buf[512], *p;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* comm may contain spaces and parentheses: the state follows the last ')'. */
	if (!p || !(p = strrchr(buf, ')')) || p[1] != ' ')
		return 0;
	return p[2];
}

int procfs_task_bucket(pid_t pid, pid_t tid, const struct pp_target *cfg, int *gil_kind)
{
	char fn[64], buf[256];
	long nr;
	unsigned long a0 = 0, a1 = 0;
	int cls, fdk = 0, gk = -1, n;
	char state = task_state_char(pid, tid);
	FILE *f;

	*gil_kind = -1;
	if (state == 'R')
		return PP_B_ONCPU;
	if (state == 'Z' || state == 'X' || state == 0)
		return PP_B_EXITED;
	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return PP_B_NONE;
	n = fgets(buf, sizeof(buf), f) ? sscanf(buf, "%ld %lx %lx", &nr, &a0, &a1) : 0;
	fclose(f);
	if (strncmp(buf, "running", 7) == 0)
		return PP_B_ONCPU;
	if (n < 1)
		return PP_B_NONE;
	if (nr < 0)
		return PP_B_OTHER;
	cls = pp_syscall_class(nr);
	if (cls == PP_SC_FD_IO) {
		fdk = fd_kind(pid, a0);
	} else if (cls == PP_SC_FUTEX && pp_futex_is_wait(a1)) {
		gk = pp_gil_kind(cfg, a0);
	}
	*gil_kind = gk;
	return pp_block_bucket(cls, nr, a0, a1, fdk, gk);
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
