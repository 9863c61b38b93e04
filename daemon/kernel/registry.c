// SPDX-License-Identifier: MIT
/*
 * The session registry (registry.h): sessions made and dropped, their pidfds
 * on the loop, the ring buffer read and its records dispatched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "pyprobe/ctl.h"
#include "array.h"
#include "evloop.h"
#include "loader.h"
#include "log.h"
#include "opts.h"
#include "procfs.h"
#include "session.h"
#include "registry.h"

/*
 * Records handled in one pump, and how long it may run: past either the
 * callback stops the consume, so a flood (a hostile target's stacks cost
 * ~1 ms each, ten times that under ASan) cannot keep the loop from other
 * clients; the rest comes next turn, or is dropped by BPF when the buffer is
 * full (counted).
 */
#define RINGBUF_BUDGET 4096
#define RINGBUF_BUDGET_NS (20ULL * 1000 * 1000)
/* registry__pump reads on past the budget, up to this long (a full 1 MiB buffer takes ~20 ms). */
#define RINGBUF_DRAIN_NS (200ULL * 1000 * 1000)

struct registry {
	struct watch rb;	/* the ring buffer's epoll fd */
	struct evloop *ev;
	const struct opts *o;
	struct loader *ld;
	struct session *sessions;
	unsigned int nsessions;
	struct registry_listener *listeners;
	/*
	 * Exec events wait here until the ring buffer callback has returned:
	 * handling one ends sessions, which may consume the ring buffer again,
	 * and libbpf moves past a record only after its callback.
	 */
	uint32_t *execs;
	size_t nexecs, cap_execs;
	unsigned int consumed;
	bool cut;	/* the last consume stopped at its budget, records left */
	uint64_t pump_started;
};

struct session *registry__find(struct registry *r, pid_t pid)
{
	for (struct session *s = r->sessions; s; s = s->next)
		if (s->pid == pid)
			return s;
	return NULL;
}

static void drop(struct registry *r, struct session *s, const char *why)
{
	struct session **pp = &r->sessions;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	r->nsessions--;
	evloop__del(r->ev, &s->w);
	log_debug("detached from %d: %s", s->pid, why);
	session__free(s, r->ld);
}

/* Tell every listener, then drop s whatever its count of users. */
static void end(struct registry *r, struct session *s, const char *why, bool exited)
{
	s->ending = true;
	for (struct registry_listener *l = r->listeners; l; l = l->next)
		if (l->session_ending)
			l->session_ending(l->ctx, s, why, exited);
	drop(r, s, why);
}

void registry__end(struct registry *r, struct session *s, const char *why)
{
	end(r, s, why, false);
}

static void consume(struct registry *r)
{
	r->consumed = 0;
	r->cut = false;
	r->pump_started = now_ns();
	loader__ringbuf_consume(r->ld);
}

/* Consume until the buffer is empty, or for RINGBUF_DRAIN_NS. */
static void drain(struct registry *r)
{
	uint64_t t0 = now_ns();

	do
		consume(r);
	while (r->cut && now_ns() - t0 < RINGBUF_DRAIN_NS);
}

static void pump(struct registry *r, bool all)
{
	if (all)
		drain(r);
	else
		consume(r);
	/* Handling one may consume more events and queue more execs: take them from the front. */
	for (size_t i = 0; i < r->nexecs; i++) {
		uint32_t tgid = r->execs[i];
		struct session *s = registry__find(r, tgid);

		if (s) {
			/* The stacks still in the ring buffer belong to the windows ending here. */
			drain(r);
			end(r, s, "executed a new program", false);
		}
		for (struct registry_listener *l = r->listeners; l; l = l->next)
			if (l->exec)
				l->exec(l->ctx, tgid);
	}
	r->nexecs = 0;
}

void registry__pump(struct registry *r)
{
	pump(r, true);
}

static void session_event(struct watch *w, uint32_t events)
{
	struct session *s = (struct session *)w;
	struct registry *r = s->owner;

	/* What the ring buffer still holds of it belongs to the windows ending here. */
	drain(r);
	end(r, s, "exited", true);
	pump(r, false);
}

static void ringbuf_event(struct watch *w, uint32_t events)
{
	pump((struct registry *)w, false);	/* what is left makes the fd readable again */
}

static const char *pyi_code(enum pyinspect_err e)
{
	switch (e) {
	case PYI_NO_PROCESS:
		return PP_ERR_NO_PROCESS;
	case PYI_PERMISSION:
		return PP_ERR_PERMISSION;
	case PYI_NOT_PYTHON:
		return PP_ERR_NOT_PYTHON;
	case PYI_UNSUPPORTED:
		return PP_ERR_UNSUPPORTED;
	case PYI_UNREADABLE:
		return PP_ERR_UNREADABLE;
	default:
		return PP_ERR_INTERNAL;
	}
}

struct session *registry__acquire(struct registry *r, pid_t pid, const char **code, char *msg, size_t len)
{
	struct session *s = registry__find(r, pid);
	enum pyinspect_err err;

	if (s && s->start_time == procfs_start_time(pid)) {
		s->refs++;
		return s;
	}
	if (s) {
		/* The PID was reused; the pidfd will report the old one's exit. */
		*code = PP_ERR_EXITED;
		snprintf(msg, len, "process %d was replaced by a new process; try again", pid);
		return NULL;
	}
	if (r->nsessions >= r->o->max_sessions) {
		*code = PP_ERR_LIMIT;
		snprintf(msg, len, "already observing %u processes (max-sessions)", r->nsessions);
		return NULL;
	}
	s = session__new(r->ld, pid, &err, msg, len);
	if (!s) {
		*code = pyi_code(err);
		return NULL;
	}
	s->w.fn = session_event;
	s->owner = r;
	if (evloop__add(r->ev, &s->w, EPOLLIN)) {
		session__free(s, r->ld);
		*code = PP_ERR_INTERNAL;
		snprintf(msg, len, "cannot watch process %d", pid);
		return NULL;
	}
	s->next = r->sessions;
	r->sessions = s;
	r->nsessions++;
	s->refs = 1;
	log_info("attached to %d (CPython %s, %s) in %.1f ms", pid, s->py.version, s->py.build, s->attach_ms);
	return s;
}

void registry__release(struct registry *r, struct session *s)
{
	/* While it ends, the listeners let go of it: it is dropped right after. */
	if (--s->refs == 0 && !s->ending)
		drop(r, s, "no window open");
}

static void queue_exec(struct registry *r, uint32_t tgid)
{
	/* Beyond 65536, a missed exec is caught by the next rescan. */
	if (ARRAY_GROW(&r->execs, &r->cap_execs, r->nexecs, 64, 65536))
		return;
	r->execs[r->nexecs++] = tgid;
}

static void handle(struct registry *r, const void *data, size_t size)
{
	const struct pp_event *ev = data;
	struct session *s;

	if (size < sizeof(*ev))
		return;
	if (ev->type == PP_EV_EXEC) {
		queue_exec(r, ev->tgid);
		return;
	}
	if (ev->type == PP_EV_FORK) {
		for (struct registry_listener *l = r->listeners; l; l = l->next)
			if (l->fork)
				l->fork(l->ctx, ev->tgid);
		return;
	}
	s = registry__find(r, ev->tgid);
	if (!s)
		return;
	switch (ev->type) {
	case PP_EV_THREAD_FINAL:
		if (size >= sizeof(struct pp_thread_final))
			session__thread_exited(s, &((const struct pp_thread_final *)data)->th);
		break;
	case PP_EV_GC:
		if (size >= sizeof(struct pp_gc_event)) {
			const struct pp_gc_event *g = data;
			struct gc_pause p = { g->start_ns, g->duration_ns, g->generation, g->collected };

			session__gc_pause(s, &p);
		}
		break;
	case PP_EV_GC_RATE:
		session__gc_rate_exceeded(s);
		break;
	case PP_EV_LOOP:
		if (size >= sizeof(struct pp_loop_event)) {
			const struct pp_loop_event *e = data;
			struct loop_iter it = { .tid = e->tid, .max_nr = e->max_nr, .max_state = e->max_state,
						.start_ns = e->start_ns, .end_ns = e->end_ns, .max_off_ns = e->max_off_ns };

			memcpy(it.ns, e->ns, sizeof(it.ns));
			session__loop_iter(s, &it, r->o->loop_threshold * 1000000ULL);
		}
		break;
	case PP_EV_STACK:
		if (size >= sizeof(struct pp_stack_event))
			for (struct registry_listener *l = r->listeners; l; l = l->next)
				if (l->stack)
					l->stack(l->ctx, s, data);
		break;
	}
}

static int record(void *ctx, void *data, size_t size)
{
	struct registry *r = ctx;

	handle(r, data, size);
	/* libbpf has consumed it either way; a negative return stops after it. */
	if (++r->consumed >= RINGBUF_BUDGET || now_ns() - r->pump_started > RINGBUF_BUDGET_NS) {
		r->cut = true;
		return -EAGAIN;
	}
	return 0;
}

struct registry *registry__new(struct evloop *ev, const struct opts *o)
{
	struct registry *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->ev = ev;
	r->o = o;
	r->ld = loader__new(o, record, r);
	if (!r->ld) {
		err = errno;
		free(r);
		errno = err;
		return NULL;
	}
	r->rb.fd = loader__ringbuf_fd(r->ld);
	r->rb.fn = ringbuf_event;
	if (evloop__add(ev, &r->rb, EPOLLIN)) {
		err = errno;
		loader__free(r->ld);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

void registry__free(struct registry *r)
{
	if (!r)
		return;
	while (r->sessions)
		end(r, r->sessions, "shutting down", false);
	evloop__del(r->ev, &r->rb);
	loader__free(r->ld);
	free(r->execs);
	free(r);
}

void registry__listen(struct registry *r, struct registry_listener *l)
{
	struct registry_listener **pp = &r->listeners;

	while (*pp)
		pp = &(*pp)->next;
	l->next = NULL;
	*pp = l;
}

void registry__unlisten(struct registry *r, struct registry_listener *l)
{
	struct registry_listener **pp = &r->listeners;

	while (*pp && *pp != l)
		pp = &(*pp)->next;
	if (*pp)
		*pp = l->next;
}

struct loader *registry__loader(struct registry *r)
{
	return r->ld;
}

unsigned int registry__count(const struct registry *r)
{
	return r->nsessions;
}

void registry__for_each(struct registry *r, void (*fn)(void *ctx, struct session *s), void *ctx)
{
	for (struct session *s = r->sessions; s; s = s->next)
		fn(ctx, s);
}

json_t *registry__describe(struct registry *r, const struct session *s)
{
	json_t *o = json_object();

	for (struct registry_listener *l = r->listeners; l && o; l = l->next) {
		json_t *d = l->describe ? l->describe(l->ctx, s) : NULL;

		if (json_is_object(d))
			json_object_update(o, d);
		json_decref(d);
	}
	return o;
}
