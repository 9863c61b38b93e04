/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_BLOCKSITE_H
#define PYPROBED_BLOCKSITE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "pysym.h"

struct pyinfo;
struct pysym;

/*
 * Where blocked threads wait: inside work, or for work. A wall-clock sampler
 * run by the daemon during a window (no probe, nothing in the target): every
 * tick it reads which of the target's Python threads are blocked
 * (/proc/PID/task/TID/stat) and, for those, their Python stack from target
 * memory. A thread blocked with application code innermost, called by a
 * library or framework (a request handler sleeping, say), waits inside work;
 * blocked in library code (the server's accept/select loop, queue.get), or
 * in its own top-level loop, it waits for work. A thread blocked in
 * poll/select/epoll also has the descriptors it waits on looked at (from its
 * system call's arguments, /proc/PID/task/TID/syscall, and target memory or
 * /proc/PID/fdinfo for epoll): an event loop over network sockets is not a
 * loop over the pipes of its worker processes.
 */
struct blocksite;

/* Counts per thread: blocked samples, and how many of them were inside work. */
struct blocksite_count {
	uint32_t tid;
	uint32_t blocked, in_work;
	char site[160];		/* the innermost frame of the latest sample inside work: "func (file:line)" */
	/*
	 * Samples blocked in poll/select/epoll, and what the descriptors it
	 * waited on were: any network socket, or only pipes and Unix sockets
	 * (then the inode of the first pipe, for finding the process behind it).
	 */
	uint32_t polls, poll_net, poll_ipc;
	uint64_t poll_pipe_ino;
};

struct blocksite *blocksite__new(pid_t pid, const struct pyinfo *py);
void blocksite__free(struct blocksite *b);
/* A blocked thread's Python stack (innermost first): 0 to go on, or -errno to stop with it. */
typedef int blocksite_fn(void *arg, uint32_t tid, const struct pyframe *frames, int n);
/*
 * One tick: sample up to max_threads blocked Python threads (round robin),
 * counting them, and hand each stack to also (if not NULL) with arg.
 * tid_of maps a thread's pthread_self to its tid when the interpreter does
 * not record native ids (ctx is passed back). Returns 0 or -errno.
 */
int blocksite__tick(struct blocksite *b, struct pysym *sym, uint32_t (*tid_of)(void *ctx, uint64_t ident),
		    void *ctx, unsigned int max_threads, blocksite_fn *also, void *arg);
/* The same walk without counting: each blocked thread's stack to fn. */
int blocksite__each_blocked(struct blocksite *b, struct pysym *sym, uint32_t (*tid_of)(void *ctx, uint64_t ident),
			    void *ctx, unsigned int max_threads, blocksite_fn *fn, void *arg);
/*
 * Why blocked thread tid of pid waits: a PP_B_* bucket, decided from its
 * system call (/proc/PID/task/TID/syscall) the way the scheduler hook
 * decides it (pyprobe/syscalls.h), the descriptor's kind from /proc/PID/fd;
 * *nr (when not NULL) the system call's number, -1 when in none.
 */
int blocksite__why(pid_t pid, uint32_t tid, const struct pyinfo *py, long *nr);
/* The counts so far; NULL when tid was never seen blocked. */
const struct blocksite_count *blocksite__get(const struct blocksite *b, uint32_t tid);

/*
 * Pure: is a stack (innermost first) blocked inside work? frames[i].file may
 * be NULL. Exposed for the unit tests.
 */
bool blocksite_in_work(const struct pyframe *frames, int n);

#endif
