// SPDX-License-Identifier: MIT
/*
 * The wall-clock sampler of blocked threads (blocksite.h). Target memory is
 * untrusted: frame walks are bounded and stop at the first bad read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "pyprobe/syscalls.h"
#include "pyinspect.h"
#include "array.h"
#include "pyoffsets.h"
#include "pythreads.h"
#include "tmem.h"
#include "blocksite.h"

#define MAX_PYTHREADS 1024
#define MAX_WALK 32
#define MAX_POLL_FDS 64

struct blocksite {
	pid_t pid;
	const struct pyinfo *py;
	unsigned int next;	/* round-robin start */
	size_t n, cap;
	struct blocksite_count *v;
};

struct blocksite *blocksite__new(pid_t pid, const struct pyinfo *py)
{
	struct blocksite *b = calloc(1, sizeof(*b));

	if (b) {
		b->pid = pid;
		b->py = py;
	}
	return b;
}

void blocksite__free(struct blocksite *b)
{
	if (!b)
		return;
	free(b->v);
	free(b);
}

const struct blocksite_count *blocksite__get(const struct blocksite *b, uint32_t tid)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (b->v[i].tid == tid)
			return &b->v[i];
	return NULL;
}

static struct blocksite_count *count_of(struct blocksite *b, uint32_t tid)
{
	struct blocksite_count *c = (struct blocksite_count *)blocksite__get(b, tid);

	if (c)
		return c;
	if (ARRAY_GROW(&b->v, &b->cap, b->n, 16, 0))
		return NULL;
	c = &b->v[b->n++];
	memset(c, 0, sizeof(*c));
	c->tid = tid;
	return c;
}

/* Library code: the standard library, installed packages, frozen modules. */
static bool is_library(const char *file)
{
	if (!file || !*file || file[0] == '<')
		return true;	/* <frozen ...>, <string>: not the application's own file */
	return strstr(file, "/site-packages/") || strstr(file, "/dist-packages/") || strstr(file, "/lib/python3.") ||
	       strstr(file, "/lib/python2.");
}

/* Frames that start threads and scripts: they call application code without being a framework. */
static bool is_bootstrap(const struct pyframe *f)
{
	const char *base = f->file ? strrchr(f->file, '/') : NULL;

	base = base ? base + 1 : f->file;
	return base && (!strcmp(base, "threading.py") || !strcmp(base, "runpy.py") ||
			!strncmp(base, "<frozen runpy", 13));
}

bool blocksite_in_work(const struct pyframe *frames, int n)
{
	if (n <= 0 || is_library(frames[0].file))
		return false;
	for (int i = 1; i < n; i++)
		if (is_library(frames[i].file) && !is_bootstrap(&frames[i]))
			return true;
	return false;
}

/* Blocked: sleeping (S) or in uninterruptible wait (D), per /proc/PID/task/TID/stat. */
static int thread_blocked(pid_t pid, uint32_t tid)
{
	char fn[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%u/stat", pid, tid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EIO;
	return p[2] == 'S' || p[2] == 'D';
}

/* The system call a blocked thread is in and its arguments; -1 when it is in none. */
static long thread_syscall(pid_t pid, uint32_t tid, unsigned long long a[6])
{
	char fn[64], buf[256];
	long nr = -1;
	ssize_t n;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%u/syscall", pid, tid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) != 7)
		return -1;
	return nr;
}

/* The descriptors a poll/select/epoll wait watches (at most max); -1 when nr is none of them. */
static int poll_fds(pid_t pid, long nr, const unsigned long long a[6], int *fds, int max)
{
	int n = 0;

	if (nr == 7 || nr == 271) {	/* poll, ppoll: struct pollfd fds[nfds] */
		struct {
			int fd;
			short events, revents;
		} pfd[MAX_POLL_FDS];
		size_t k = a[1] < MAX_POLL_FDS ? a[1] : MAX_POLL_FDS;

		if (k && tmem_read(pid, a[0], pfd, k * sizeof(pfd[0])) == 0)
			for (size_t i = 0; i < k && n < max; i++)
				if (pfd[i].fd >= 0)
					fds[n++] = pfd[i].fd;
		return n;
	}
	if (nr == 23 || nr == 270) {	/* select, pselect6: nfds, readfds */
		uint8_t set[128];
		size_t bits = a[0] < 1024 ? a[0] : 1024;

		if (a[1] && bits && tmem_read(pid, a[1], set, (bits + 7) / 8) == 0)
			for (size_t i = 0; i < bits && n < max; i++)
				if (set[i / 8] & (1 << (i % 8)))
					fds[n++] = (int)i;
		return n;
	}
	if (nr == 232 || nr == 281 || nr == 441) {	/* epoll_wait family: the set is in fdinfo */
		char fn[64], line[256];
		FILE *f;

		snprintf(fn, sizeof(fn), "/proc/%d/fdinfo/%d", pid, (int)a[0]);
		f = fopen(fn, "re");
		if (!f)
			return 0;
		while (fgets(line, sizeof(line), f) && n < max)
			if (sscanf(line, "tfd: %d", &fds[n]) == 1)
				n++;
		fclose(f);
		return n;
	}
	return -1;
}

/* Is inode ino a Unix-domain socket of pid's network namespace? */
static bool unix_socket(pid_t pid, uint64_t ino)
{
	char fn[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/net/unix", pid);
	f = fopen(fn, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long i;

		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %llu", &i) == 1 && i == ino)
			found = true;
	}
	fclose(f);
	return found;
}

/* The kind of file descriptor fd of pid, from what /proc/PID/fd/FD links to; *ino its inode for a socket or pipe. */
static int fd_kind(pid_t pid, long fd, uint64_t *ino)
{
	char fn[64], l[256];
	ssize_t k;

	snprintf(fn, sizeof(fn), "/proc/%d/fd/%ld", pid, fd);
	k = readlink(fn, l, sizeof(l) - 1);
	if (k <= 0)
		return PP_FD_UNKNOWN;
	l[k] = 0;
	if (!strncmp(l, "socket:[", 8)) {
		*ino = strtoull(l + 8, NULL, 10);
		return unix_socket(pid, *ino) ? PP_FD_UNIX : PP_FD_SOCKET;
	}
	if (!strncmp(l, "pipe:[", 6)) {
		*ino = strtoull(l + 6, NULL, 10);
		return PP_FD_PIPE;
	}
	if (!strncmp(l, "anon_inode:", 11))
		return PP_FD_ANON;
	if (!strncmp(l, "/dev/", 5))
		return PP_FD_CHAR;
	return l[0] == '/' ? PP_FD_FILE : PP_FD_UNKNOWN;
}

/* What a blocked poll waits on: network sockets, or pipes and Unix sockets only. */
static void poll_kind(pid_t pid, uint32_t tid, struct blocksite_count *c)
{
	unsigned long long a[6];
	int fds[MAX_POLL_FDS], n;
	long nr = thread_syscall(pid, tid, a);
	bool net = false, ipc = false;

	n = nr >= 0 ? poll_fds(pid, nr, a, fds, MAX_POLL_FDS) : -1;
	if (n < 0)
		return;
	c->polls++;
	for (int i = 0; i < n && !net; i++) {
		uint64_t ino = 0;

		switch (fd_kind(pid, fds[i], &ino)) {
		case PP_FD_PIPE:
			ipc = true;
			if (!c->poll_pipe_ino)
				c->poll_pipe_ino = ino;
			break;
		case PP_FD_UNIX:
			ipc = true;
			break;
		case PP_FD_SOCKET:
			net = true;
			break;
		}
	}
	if (net)
		c->poll_net++;
	else if (ipc)
		c->poll_ipc++;
}

int blocksite__why(pid_t pid, uint32_t tid, const struct pyinfo *py, long *nr)
{
	unsigned long long a[6];
	long call = thread_syscall(pid, tid, a);
	int cls, fdk = PP_FD_UNKNOWN, gk = -1;
	uint64_t ino;

	if (nr)
		*nr = call < 0 ? -1 : call;
	if (call < 0)
		return PP_B_OTHER;
	cls = pp_syscall_class(call);
	if (cls == PP_SC_FD_IO || cls == PP_SC_NET)
		fdk = fd_kind(pid, (long)a[0], &ino);
	else if (cls == PP_SC_FUTEX && pp_futex_is_wait(a[1]))
		gk = pp_gil_kind(py->bpf.gil, a[0]);
	return pp_block_bucket(cls, call, a[0], a[1], fdk, gk);
}

/* The thread's innermost frame, as the sampler finds it (bpf/sampler.bpf.c). */
static uint64_t top_frame(pid_t pid, const struct py_offsets *o, uint64_t ts)
{
	uint64_t f = 0, cf = 0;

	if (o->tstate_current_frame >= 0)
		tmem_read_u64(pid, ts + o->tstate_current_frame, &f);
	else if (o->tstate_cframe >= 0) {
		if (!tmem_read_u64(pid, ts + o->tstate_cframe, &cf) && cf)
			tmem_read_u64(pid, cf + o->cframe_current_frame, &f);
	} else if (o->tstate_frame >= 0) {
		tmem_read_u64(pid, ts + o->tstate_frame, &f);
	}
	return f;
}

static int walk(struct blocksite *b, struct pysym *sym, uint64_t ts, struct pyframe *out, int max)
{
	const struct py_offsets *o = b->py->off;
	uint64_t f = top_frame(b->pid, o, ts);
	int n = 0;

	for (int i = 0; f && i < 2 * max && n < max; i++) {
		uint64_t code = 0, next = 0, instr = 0;
		uint8_t owner = 0;
		int lasti = 0;

		if (tmem_read_u64(b->pid, f + o->frame_code, &code) || tmem_read_u64(b->pid, f + o->frame_back, &next))
			break;
		code = pp_frame_code(b->py->minor, code);
		if (o->frame_instr >= 0) {
			tmem_read_u64(b->pid, f + o->frame_instr, &instr);
			if (o->frame_owner >= 0)
				tmem_read(b->pid, f + o->frame_owner, &owner, 1);
		} else if (o->frame_lasti >= 0 && !tmem_read(b->pid, f + o->frame_lasti, &lasti, sizeof(lasti))) {
			instr = (uint64_t)(int64_t)lasti;
		}
		if (!pp_frame_is_shim(b->py->minor, owner) && pysym__resolve(sym, code, instr, &out[n]) == 0)
			n++;
		f = next == f ? 0 : next;
	}
	return n;
}

int blocksite__each_blocked(struct blocksite *b, struct pysym *sym, uint32_t (*tid_of)(void *ctx, uint64_t ident),
			    void *ctx, unsigned int max_threads, blocksite_fn *fn, void *arg)
{
	static struct pythread pt[MAX_PYTHREADS];
	struct pyframe frames[MAX_WALK];
	const struct py_offsets *o = b->py->off;
	unsigned int sampled = 0;
	int n;

	if (!sym || !o || o->frame_back < 0 || o->frame_code < 0)
		return -ENOTSUP;
	n = pythreads_read(b->pid, b->py, pt, MAX_PYTHREADS);
	if (n <= 0)
		return n < 0 ? n : 0;
	for (int k = 0; k < n && sampled < max_threads; k++) {
		const struct pythread *t = &pt[(b->next + k) % n];
		uint32_t tid = t->native_id ? t->native_id : tid_of ? tid_of(ctx, t->ident) : 0;
		int nf, err;

		if (!tid || thread_blocked(b->pid, tid) <= 0)
			continue;
		sampled++;
		nf = walk(b, sym, t->tstate, frames, MAX_WALK);
		if ((err = fn(arg, tid, frames, nf)))
			return err;
	}
	b->next += sampled ? sampled : 1;
	return 0;
}

/* A blocked thread's sample, counted: blocked, inside work or not, in which poll set. */
static int count_one(void *arg, uint32_t tid, const struct pyframe *frames, int nf)
{
	struct blocksite *b = arg;
	struct blocksite_count *c = count_of(b, tid);

	if (!c)
		return -ENOMEM;
	c->blocked++;
	poll_kind(b->pid, tid, c);
	if (blocksite_in_work(frames, nf)) {
		c->in_work++;
		snprintf(c->site, sizeof(c->site), "%s (%s:%d)", frames[0].func ? frames[0].func : "?",
			 frames[0].file ? frames[0].file : "?", frames[0].line);
	}
	return 0;
}

struct tick {
	struct blocksite *b;
	blocksite_fn *also;
	void *arg;
};

static int count_and(void *arg, uint32_t tid, const struct pyframe *frames, int nf)
{
	struct tick *t = arg;
	int err = count_one(t->b, tid, frames, nf);

	return err ? err : t->also ? t->also(t->arg, tid, frames, nf) : 0;
}

int blocksite__tick(struct blocksite *b, struct pysym *sym, uint32_t (*tid_of)(void *ctx, uint64_t ident),
		    void *ctx, unsigned int max_threads, blocksite_fn *also, void *arg)
{
	struct tick t = { b, also, arg };

	return blocksite__each_blocked(b, sym, tid_of, ctx, max_threads, count_and, &t);
}
