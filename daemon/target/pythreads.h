/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PYTHREADS_H
#define PYPROBED_PYTHREADS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pyinfo;

/* A PyThreadState found in the target. */
struct pythread {
	uint64_t ident;		/* tstate->thread_id: pthread_self, threading.get_ident() */
	uint32_t native_id;	/* tstate->native_thread_id (3.11+), else 0 */
	uint32_t interp;	/* position of its interpreter in the list, 0 = newest */
	uint64_t tstate;	/* its PyThreadState in the target */
};

/*
 * Walk the interpreters' thread-state lists of pid (target memory: bounded and
 * checked). Returns the number of entries stored in out (at most max), or a
 * negative errno when the list head cannot be read.
 */
int pythreads_read(pid_t pid, const struct pyinfo *py, struct pythread *out, size_t max);

#endif
