// SPDX-License-Identifier: MIT
/* A session: attach to one process, seed its threads, snapshot its counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "loader.h"
#include "procfs.h"
#include "session.h"

#define MAX_EXITED_KEPT 4096

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock bpf_ktime_get_ns uses */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct session *session__new(struct loader *ld, pid_t pid, enum pyinspect_err *err, char *msg, size_t len)
{
	uint64_t t0 = now_ns();
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		*err = PYI_INTERNAL;
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	s->pid = pid;
	/* The pidfd first: from here on a reused PID cannot be mistaken for the target. */
	s->w.fd = syscall(SYS_pidfd_open, pid, 0);
	if (s->w.fd < 0) {
		*err = errno == ESRCH ? PYI_NO_PROCESS : PYI_INTERNAL;
		snprintf(msg, len, errno == ESRCH ? "no such process: %d" : "pidfd_open(%d): %s", pid, strerror(errno));
		free(s);
		return NULL;
	}
	s->start_time = procfs_start_time(pid);
	*err = pyinspect(pid, &s->py, msg, len);
	if (*err != PYI_OK)
		goto fail;
	rc = loader__add_target(ld, pid, &s->py.bpf);
	if (rc) {
		*err = PYI_INTERNAL;
		snprintf(msg, len, "cannot attach to process %d: %s", pid, strerror(-rc));
		goto fail;
	}
	rc = loader__seed(ld, pid);
	if (rc) {
		loader__remove_target(ld, pid);
		*err = PYI_INTERNAL;
		snprintf(msg, len, "cannot read the threads of process %d: %s", pid, strerror(-rc));
		goto fail;
	}
	s->attached_ts = now_ns();
	s->attach_ms = (s->attached_ts - t0) / 1e6;
	return s;
fail:
	close(s->w.fd);
	free(s);
	return NULL;
}

void session__free(struct session *s, struct loader *ld)
{
	if (!s)
		return;
	loader__remove_target(ld, s->pid);
	if (s->w.fd >= 0)
		close(s->w.fd);
	snapshot__clear(&s->exited);
	free(s);
}

struct snap_ctx {
	struct snapshot *out;
	uint64_t now;
	int err;
};

static void snap_one(void *ctx, uint32_t tid, const struct pp_thread *th, const struct pp_samples *smp)
{
	struct snap_ctx *sc = ctx;
	struct snap_thread t = { .tid = tid, .th = *th };

	if (smp)
		t.smp = *smp;
	/* Close the running interval at now, the way BPF would at the next event. */
	if (th->state < PP_NBUCKETS && th->state_ts && sc->now > th->state_ts) {
		uint64_t d = sc->now - th->state_ts;

		t.th.ns[th->state] += d;
		if (th->state == PP_B_GIL_WAIT && th->gil_kind < PP_GIL_NKINDS)
			t.th.gil_ns[th->gil_kind] += d;
	}
	if (snapshot__add(sc->out, &t))
		sc->err = -ENOMEM;
}

int session__snapshot(struct session *s, struct loader *ld, struct snapshot *out)
{
	struct snap_ctx sc = { out, 0, 0 };

	memset(out, 0, sizeof(*out));
	sc.now = out->ts = now_ns();
	loader__for_each_thread(ld, s->pid, snap_one, &sc);
	for (size_t i = 0; i < s->exited.n && !sc.err; i++)
		sc.err = snapshot__add(out, &s->exited.v[i]);
	snapshot__sort(out);
	return sc.err;
}

void session__thread_exited(struct session *s, struct loader *ld, uint32_t tid)
{
	struct snap_thread t = { .tid = tid };
	struct pp_samples smp;

	if (tid == (uint32_t)s->pid)
		return;	/* the main thread's exit is the process's: the pidfd reports it */
	if (s->exited.n >= MAX_EXITED_KEPT)
		return;	/* keep the entry in the map instead: it is still counted */
	if (loader__lookup_thread(ld, tid, &t.th))
		return;
	if (loader__thread_samples(ld, tid, &smp) == 0)
		t.smp = smp;
	t.exited = true;
	if (snapshot__add(&s->exited, &t) == 0)
		loader__delete_thread(ld, tid);
}
