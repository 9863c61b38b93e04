// SPDX-License-Identifier: MIT
/*
 * The request side of the daemon: authorise, find or make the session, hold
 * the window open on the timer, then snapshot -> window -> verdict -> reply.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "pyprobe/ctl.h"
#include "access.h"
#include "blocksite.h"
#include "classify.h"
#include "ctl_server.h"
#include "loader.h"
#include "hotspots.h"
#include "log.h"
#include "monitor.h"
#include "opts.h"
#include "procfs.h"
#include "profile.h"
#include "protocol.h"
#include "pythreads.h"
#include "report.h"
#include "session.h"
#include "service.h"

struct pending {
	enum req_cmd cmd;
	struct profile *prof;	/* top, record */
	struct hotspots *hot;	/* attrs, churn, classify (when the stacks can be sampled) */
	struct blocksite *bs;	/* classify: where blocked threads wait */
	bool gc_exact;		/* holds one user of the session's exact GC probes */
	uint64_t next_tick;	/* ... sampled then */
	int limit;
	struct client *c;
	struct session *s;
	struct snapshot start;
	uint64_t deadline;
	uint64_t recheck;	/* next authorisation check (callers other than root) */
	double seconds;
	struct pending *next;
};

/*
 * A window stays authorised only while its caller may still read the target:
 * a change of credentials or of the dumpable flag sends no event, so it is
 * checked again this often (from the access cache, which notices the change).
 */
#define RECHECK_NS (1000ULL * 1000 * 1000)
/* The block-site sampler's period and the threads it reads per tick. */
#define BLOCKSITE_NS (100ULL * 1000 * 1000)
#define BLOCKSITE_THREADS 16

struct service {
	struct evloop *ev;
	const struct opts *o;
	struct loader *ld;
	struct monitor *mon;
	struct access *acc;
	struct watch timer;
	struct session *sessions;
	unsigned int nsessions;
	struct pending *pending;
	uint64_t started;
	unsigned long requests;
	unsigned int (*nclients)(void *);
	void *nclients_ctx;
	/*
	 * Exec events wait here until the ring buffer callback has returned:
	 * handling one ends sessions and windows, which may consume the ring
	 * buffer again, and libbpf moves past a record only after its callback.
	 */
	uint32_t *execs;
	size_t nexecs, cap_execs;
	/*
	 * Records handled in this pump, and when it began: past RINGBUF_BUDGET
	 * records or RINGBUF_BUDGET_NS of work the callback stops the consume,
	 * so a flood (a hostile target's stacks cost ~1 ms each, ten times that
	 * under ASan) cannot keep the loop from other clients; the rest comes
	 * next turn, or is dropped by BPF when the buffer is full (counted).
	 */
	unsigned int consumed;
	uint64_t pump_started;
};

#define RINGBUF_BUDGET 4096
#define RINGBUF_BUDGET_NS (20ULL * 1000 * 1000)

static void reply_error(struct client *c, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct client *c, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_server__reply(c, protocol_error(code, msg));
}

static void arm_timer(struct service *svc)
{
	uint64_t next = UINT64_MAX, poll = now_ns() + PP_STACK_POLL_MS * 1000000ULL;

	for (struct pending *p = svc->pending; p; p = p->next) {
		if (p->deadline < next)
			next = p->deadline;
		if (p->c->who.uid != 0 && p->recheck < next)
			next = p->recheck;
		if (p->bs && p->next_tick < next)
			next = p->next_tick;
		/* Stack records do not wake us (sampler.bpf.c): read them now and then. */
		if ((p->prof || p->hot) && poll < next)
			next = poll;
	}
	evloop__timer_set(&svc->timer, next == UINT64_MAX ? 0 : next, 0);
}

static struct session *find_session(struct service *svc, pid_t pid)
{
	for (struct session *s = svc->sessions; s; s = s->next)
		if (s->pid == pid)
			return s;
	return NULL;
}

static void session_event(struct watch *w, uint32_t events);

static void drop_session(struct service *svc, struct session *s, const char *why, bool exited)
{
	struct session **pp = &svc->sessions;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	svc->nsessions--;
	evloop__del(svc->ev, &s->w);
	if (svc->mon)
		monitor__session_gone(svc->mon, s, why, exited);
	log_debug("detached from %d: %s", s->pid, why);
	session__free(s, svc->ld);
}

static void unref_session(struct service *svc, struct session *s)
{
	if (--s->refs == 0)
		drop_session(svc, s, "no window open", false);
}

static void remove_pending(struct service *svc, struct pending *p)
{
	struct pending **pp = &svc->pending;

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->prof || p->hot)
		session__stacks(p->s, svc->ld, false);
	profile__free(p->prof);
	hotspots__free(p->hot);
	blocksite__free(p->bs);
	if (p->gc_exact)
		session__gc_exact(p->s, svc->ld, false);
	snapshot__clear(&p->start);
	free(p);
}

/* Finish p with an error (the session stays the caller's business). */
static void fail_pending(struct service *svc, struct pending *p, const char *code, const char *msg)
{
	ctl_server__reply(p->c, protocol_error(code, msg));
	remove_pending(svc, p);
}

/* A recording ends with whatever it has, also when the process exits early. */
static void finish_record(struct service *svc, struct pending *p, bool partial)
{
	double observed = (now_ns() - p->start.ts) / 1e9;
	json_t *body = json_pack("{s:i, s:f, s:f, s:b, s:o, s:i, s:o}", "pid", (int)p->s->pid, "window_seconds",
				 observed, "requested_seconds", p->seconds, "partial", partial, "python",
				 report_python(&p->s->py), "sample_hz", (int)svc->o->sample_hz, "profile",
				 profile__stacks(p->prof));

	ctl_server__reply(p->c, protocol_ok(body));
	remove_pending(svc, p);
}

#define ATTRS_METHOD                                                                                   \
	"perf cpu-clock samples; the innermost Python frame's instruction decoded from the target's "   \
	"bytecode (LOAD_ATTR, LOAD_METHOD, STORE_ATTR, DELETE_ATTR, LOAD_GLOBAL, LOAD_SUPER_ATTR and "    \
	"their specialised forms), plus samples whose native leaf is an attribute-lookup function (sampled)"
#define CHURN_METHOD                                                                                   \
	"perf cpu-clock samples whose native leaf is an allocation, deallocation or GC-link function, "  \
	"found by symbol or through the built-in types' tp_alloc/tp_dealloc/tp_free slots (sampled; a "  \
	"lower bound where an optimised build inlined the allocator into its callers)"

static void finish_pending(struct service *svc, struct pending *p)
{
	static struct pythread pyt[1024];
	struct report_ctx rc = { p->s->pid, p->seconds, p->s->attach_ms, svc->o->sample_hz, svc->o->gc_max_rate,
				 &p->s->py, pyt, 0, p->s->gc_attach };
	uint64_t gc_samples = 0;
	struct snapshot end;
	struct window w;
	struct verdict v;
	json_t *body;

	if (p->cmd == REQ_RECORD) {
		finish_record(svc, p, false);
		return;
	}
	if (session__snapshot(p->s, svc->ld, &end) || window__diff(&w, &p->start, &end)) {
		snapshot__clear(&end);
		fail_pending(svc, p, PP_ERR_INTERNAL, "out of memory building the window");
		return;
	}
	for (size_t i = 0; i < w.n; i++)
		gc_samples += w.t[i].samples_gc;
	if (gc_window__build(&w.gc, &p->start.gc, &end.gc, &p->s->gc_log, p->start.ts, end.ts, p->s->gc_method,
			     p->s->gc_rate_guard, (double)gc_samples / svc->o->sample_hz)) {
		window__free(&w);
		snapshot__clear(&end);
		fail_pending(svc, p, PP_ERR_INTERNAL, "out of memory building the window");
		return;
	}
	if (p->cmd == REQ_TOP) {
		/* CPU samples cannot see a thread waiting for the GIL: the scheduler data can. */
		double all = 0, gil = 0;

		for (size_t i = 0; i < w.n; i++) {
			gil += w.t[i].sec[PP_B_GIL_WAIT];
			for (int b = 0; b < PP_NBUCKETS; b++)
				all += w.t[i].sec[b];
		}
		body = json_pack("{s:i, s:f, s:f, s:o, s:i, s:o, s:{s:f, s:f, s:s}, s:s}", "pid", (int)rc.pid,
				 "window_seconds", w.seconds, "requested_seconds", rc.requested_seconds, "python",
				 report_python(&p->s->py), "sample_hz", (int)svc->o->sample_hz, "profile",
				 profile__top(p->prof, p->limit), "gil_wait", "seconds", gil, "share_of_thread_time",
				 all > 0 ? gil / all : 0.0, "method", "futex waits inside the GIL, from sched_switch (exact)",
				 "method", "perf cpu-clock samples of on-CPU threads; Python frames walked in BPF, "
					   "code objects resolved from target memory (sampled)");
	} else if (p->cmd == REQ_GC) {
		body = json_pack("{s:i, s:f, s:f, s:o, s:o}", "pid", (int)rc.pid, "window_seconds", w.seconds,
				 "requested_seconds", rc.requested_seconds, "python", report_python(&p->s->py), "gc",
				 report_gc(&rc, &w));
	} else if (p->cmd == REQ_ATTRS || p->cmd == REQ_CHURN) {
		body = json_pack("{s:i, s:f, s:f, s:o, s:i, s:o}", "pid", (int)rc.pid, "window_seconds", w.seconds,
				 "requested_seconds", rc.requested_seconds, "python", report_python(&p->s->py),
				 "sample_hz", (int)svc->o->sample_hz, p->cmd == REQ_ATTRS ? "attrs" : "churn",
				 p->cmd == REQ_ATTRS ? hotspots__attrs(p->hot, p->limit) :
						       hotspots__churn(p->hot, p->limit));
		if (body)
			json_object_set_new(body, "method", json_string(p->cmd == REQ_ATTRS ? ATTRS_METHOD : CHURN_METHOD));
	} else {
		if (p->hot)
			hotspots__mix(p->hot, &w.mix);
		session__annotate(p->s, &w, p->bs);
		classify(&w, &v);
		rc.npythreads = pythreads_read(p->s->pid, &p->s->py, pyt, sizeof(pyt) / sizeof(pyt[0]));
		body = report_classify(&rc, &w, &v);
	}
	ctl_server__reply(p->c, protocol_ok(body));
	window__free(&w);
	snapshot__clear(&end);
	remove_pending(svc, p);
}

/* The tid of a thread by its pthread_self, from the window's start (for interpreters without native ids). */
static uint32_t tid_of(void *ctx, uint64_t ident)
{
	const struct snapshot *snap = ctx;

	for (size_t i = 0; i < snap->n; i++)
		if (snap->v[i].th.fsbase == ident)
			return snap->v[i].tid;
	return 0;
}

/* Re-authorise an open window; false when it was ended (and p freed). */
static bool still_allowed(struct service *svc, struct pending *p)
{
	struct session *s = p->s;
	char why[256], msg[512];
	int rc = access__check(svc->acc, &p->c->who, s->pid, why, sizeof(why));

	if (rc != -EPERM)
		return true;	/* an exit is the pidfd's to report */
	snprintf(msg, sizeof(msg), "%s; the window ended after %.2f s of %.2f s", why, (now_ns() - p->start.ts) / 1e9,
		 p->seconds);
	log_info("window on %d for uid %u ended: %s", s->pid, (unsigned)p->c->who.uid, why);
	fail_pending(svc, p, PP_ERR_PERMISSION, msg);
	unref_session(svc, s);
	return false;
}

static void timer_event(struct watch *w, uint32_t events)
{
	struct service *svc = (struct service *)((char *)w - offsetof(struct service, timer));
	uint64_t now = now_ns();
	struct pending *p, *next;

	evloop__timer_ack(w);
	/* Events already in the ring buffer belong to the windows ending now. */
	service__pump(svc);
	for (p = svc->pending; p; p = next) {
		struct session *s = p->s;

		next = p->next;
		if (p->deadline > now) {
			if (p->c->who.uid != 0 && p->recheck <= now) {
				if (!still_allowed(svc, p))
					continue;
				p->recheck = now + RECHECK_NS;
			}
			if (p->bs && p->next_tick <= now) {
				blocksite__tick(p->bs, s->sym, tid_of, &p->start, BLOCKSITE_THREADS);
				p->next_tick = now + BLOCKSITE_NS;
			}
			continue;
		}
		finish_pending(svc, p);
		unref_session(svc, s);
	}
	arm_timer(svc);
}

/*
 * The target exited or executed another program: every window on it ends
 * with an error naming how much was seen (a recording keeps what it has).
 */
static void end_session(struct service *svc, struct session *s, const char *what, bool exited)
{
	uint64_t now = now_ns();
	char msg[256];

	/*
	 * The stacks still in the ring buffer belong to the recordings ending
	 * here; exec events it holds are only queued (service__pump runs them).
	 */
	svc->consumed = 0;
	svc->pump_started = now_ns();
	loader__ringbuf_consume(svc->ld);

	for (struct pending *p = svc->pending, *next; p; p = next) {
		next = p->next;
		if (p->s != s)
			continue;
		if (p->cmd == REQ_RECORD) {
			/* A profile of the part that ran is still a valid profile. */
			finish_record(svc, p, true);
			continue;
		}
		snprintf(msg, sizeof(msg), "process %d %s during the window: observed %.2f s of %.2f s", s->pid,
			 what, (now - p->start.ts) / 1e9, p->seconds);
		fail_pending(svc, p, PP_ERR_EXITED, msg);
	}
	drop_session(svc, s, what, exited);
	arm_timer(svc);
}

static void session_event(struct watch *w, uint32_t events)
{
	struct session *s = (struct session *)w;
	struct service *svc = s->owner;

	end_session(svc, s, "exited", true);
	service__pump(svc);
}

void service__pump(struct service *svc)
{
	svc->consumed = 0;
	svc->pump_started = now_ns();
	loader__ringbuf_consume(svc->ld);
	/* Handling one may consume more events and queue more execs: take them from the front. */
	for (size_t i = 0; i < svc->nexecs; i++) {
		uint32_t tgid = svc->execs[i];
		struct session *s = find_session(svc, tgid);

		access__forget(svc->acc, tgid);
		if (s)
			end_session(svc, s, "executed a new program", false);
		if (svc->mon)
			monitor__exec(svc->mon, tgid);
	}
	svc->nexecs = 0;
}

static void queue_exec(struct service *svc, uint32_t tgid)
{
	if (svc->nexecs == svc->cap_execs) {
		size_t cap = svc->cap_execs ? svc->cap_execs * 2 : 64;
		uint32_t *v;

		/* Beyond that, a missed exec is caught by the next rescan. */
		if (cap > 65536 || !(v = realloc(svc->execs, cap * sizeof(*v))))
			return;
		svc->execs = v;
		svc->cap_execs = cap;
	}
	svc->execs[svc->nexecs++] = tgid;
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
	default:
		return PP_ERR_INTERNAL;
	}
}

/* Root may observe anything; others what the kernel would let them read (access.c). */
static int authorise(struct service *svc, struct client *c, pid_t pid)
{
	char why[256];
	int rc;

	if (kill(pid, 0) && errno == ESRCH) {
		reply_error(c, PP_ERR_NO_PROCESS, "no such process: %d", pid);
		return -1;
	}
	rc = access__check(svc->acc, &c->who, pid, why, sizeof(why));
	if (rc == -ESRCH) {
		reply_error(c, PP_ERR_NO_PROCESS, "no such process: %d", pid);
		return -1;
	}
	if (rc) {
		reply_error(c, PP_ERR_PERMISSION, "%s", why);
		return -1;
	}
	return 0;
}

/* The session on pid, made if there is none. NULL with an error code and message. */
static struct session *open_session(struct service *svc, pid_t pid, const char **code, char *msg, size_t len)
{
	struct session *s = find_session(svc, pid);
	enum pyinspect_err err;

	if (s && s->start_time == procfs_start_time(pid))
		return s;
	if (s) {
		/* The PID was reused; the pidfd will report the old one's exit. */
		*code = PP_ERR_EXITED;
		snprintf(msg, len, "process %d was replaced by a new process; try again", pid);
		return NULL;
	}
	if (svc->nsessions >= svc->o->max_sessions) {
		*code = PP_ERR_LIMIT;
		snprintf(msg, len, "already observing %u processes (max-sessions)", svc->nsessions);
		return NULL;
	}
	s = session__new(svc->ld, pid, &err, msg, len);
	if (!s) {
		*code = pyi_code(err);
		return NULL;
	}
	s->w.fn = session_event;
	s->owner = svc;
	if (evloop__add(svc->ev, &s->w, EPOLLIN)) {
		session__free(s, svc->ld);
		*code = PP_ERR_INTERNAL;
		snprintf(msg, len, "cannot watch process %d", pid);
		return NULL;
	}
	s->next = svc->sessions;
	svc->sessions = s;
	svc->nsessions++;
	log_info("attached to %d (CPython %s, %s) in %.1f ms", pid, s->py.version, s->py.build, s->attach_ms);
	return s;
}

static struct session *get_session(struct service *svc, struct client *c, pid_t pid)
{
	const char *code = PP_ERR_INTERNAL;
	struct session *s;
	char msg[512];

	s = open_session(svc, pid, &code, msg, sizeof(msg));
	if (!s)
		ctl_server__reply(c, protocol_error(code, msg));
	return s;
}

struct session *service__acquire(struct service *svc, pid_t pid, const char **code, char *msg, size_t len)
{
	struct session *s = open_session(svc, pid, code, msg, len);

	if (s)
		s->refs++;
	return s;
}

void service__release(struct service *svc, struct session *s)
{
	unref_session(svc, s);
}

static void do_classify(struct service *svc, struct client *c, const struct request *r)
{
	struct pending *p;
	struct session *s;
	int err = -ENOMEM;

	if (authorise(svc, c, r->pid))
		return;
	s = get_session(svc, c, r->pid);
	if (!s)
		return;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->cmd = r->cmd;
	p->limit = r->limit;
	p->s = s;
	/*
	 * Probes first, then the start snapshot: the window sees everything it
	 * counts. classify times collections exactly too where the probes cost
	 * nothing per context switch (gc-timing).
	 */
	p->gc_exact = r->cmd == REQ_GC || (r->cmd == REQ_CLASSIFY && loader__gc_exact(svc->ld, svc->o));
	if (p->gc_exact)
		session__gc_exact(s, svc->ld, true);
	if (r->cmd != REQ_GC) {
		bool need = r->cmd != REQ_CLASSIFY;

		/* classify goes without the attribute and churn traits where stacks cannot be sampled. */
		err = session__stacks(s, svc->ld, true);
		if (err && need)
			goto fail_probes;
		if (!err) {
			if (r->cmd == REQ_TOP || r->cmd == REQ_RECORD)
				p->prof = profile__new();
			else
				p->hot = hotspots__new(s->py.minor);
			if (!p->prof && !p->hot) {
				err = -ENOMEM;
				session__stacks(s, svc->ld, false);
				goto fail_probes;
			}
		}
		err = 0;
	}
	if (session__snapshot(s, svc->ld, &p->start)) {
		err = -ENOMEM;
		if (p->prof || p->hot)
			session__stacks(s, svc->ld, false);
		profile__free(p->prof);
		hotspots__free(p->hot);
		goto fail_probes;
	}
	/* Where blocked threads wait (needs the code-object resolver that stack sampling made). */
	if (r->cmd == REQ_CLASSIFY && s->sym) {
		p->bs = blocksite__new(s->pid, &s->py);
		p->next_tick = p->start.ts;
	}
	s->refs++;
	p->c = c;
	p->seconds = r->seconds;
	p->deadline = p->start.ts + (uint64_t)(r->seconds * 1e9);
	p->recheck = p->start.ts + RECHECK_NS;
	p->next = svc->pending;
	svc->pending = p;
	arm_timer(svc);
	return;
fail_probes:
	if (p->gc_exact)
		session__gc_exact(s, svc->ld, false);
	snapshot__clear(&p->start);
	free(p);
fail:
	if (s->refs == 0)
		drop_session(svc, s, "no window open", false);
	if (err == -ENOTSUP)
		reply_error(c, PP_ERR_UNSUPPORTED, "cannot sample the Python stacks of process %d", r->pid);
	else
		reply_error(c, PP_ERR_INTERNAL, "cannot start the window on process %d: %s", r->pid, strerror(-err));
}

static void do_detach(struct service *svc, struct client *c, const struct request *r)
{
	struct session *s;
	char msg[128];

	if (authorise(svc, c, r->pid))
		return;
	s = find_session(svc, r->pid);
	if (!s) {
		reply_error(c, PP_ERR_NOT_ATTACHED, "not attached to process %d", r->pid);
		return;
	}
	snprintf(msg, sizeof(msg), "detached from process %d on request", r->pid);
	for (struct pending *p = svc->pending, *next; p; p = next) {
		next = p->next;
		if (p->s == s)
			fail_pending(svc, p, PP_ERR_DETACHED, msg);
	}
	drop_session(svc, s, "detached on request", false);
	arm_timer(svc);
	ctl_server__reply(c, protocol_ok(json_pack("{s:i}", "pid", (int)r->pid)));
}

static void prog_stat(void *ctx, const char *name, uint64_t cnt, uint64_t ns)
{
	json_object_set_new(ctx, name, json_pack("{s:I, s:I, s:f}", "run_cnt", (json_int_t)cnt, "run_time_ns",
						 (json_int_t)ns, "ns_per_run", cnt ? (double)ns / cnt : 0.0));
}

/* Per-program costs when the administrator has the kernel count them (never switched on here). */
static json_t *prog_stats(struct service *svc)
{
	json_t *a;
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	if (!on)
		return json_pack("{s:b, s:s}", "enabled", false, "how",
				 "sysctl -w kernel.bpf_stats_enabled=1 makes the kernel time every BPF program "
				 "(it costs a clock read per run); pyprobed never switches it on");
	a = json_object();
	loader__prog_stats(svc->ld, prog_stat, a);
	return json_pack("{s:b, s:o}", "enabled", true, "programs", a);
}

static void do_status(struct service *svc, struct client *c)
{
	struct loader_stats st;
	unsigned int pending = 0;
	json_t *body;

	loader__stats(svc->ld, &st);
	for (struct pending *p = svc->pending; p; p = p->next)
		pending++;
	body = json_pack(
		"{s:s, s:i, s:f, s:i, s:i, s:i, s:i, s:I, s:{s:b, s:i, s:i, s:I, s:I, s:I}}",
		"version", PYPROBE_VERSION, "pid", (int)getpid(), "uptime_seconds", (now_ns() - svc->started) / 1e9,
		"sessions", (int)svc->nsessions, "watched", (int)monitor__nwatched(svc->mon), "pending", (int)pending,
		"clients", svc->nclients ? (int)svc->nclients(svc->nclients_ctx) : 0,
		"requests", (json_int_t)svc->requests,
		"bpf", "attached", st.attached, "sample_hz", (int)st.sample_hz, "cpus_sampled", (int)st.ncpus_sampled,
		"threads_map_full", (json_int_t)st.threads_full, "gil_charges_map_full", (json_int_t)st.gil_charges_full,
		"events_lost", (json_int_t)st.events_lost);
	if (body)
		json_object_set_new(json_object_get(body, "bpf"), "stats", prog_stats(svc));
	ctl_server__reply(c, protocol_ok(body));
}

static void do_list(struct service *svc, struct client *c)
{
	json_t *a = json_array();
	uint64_t now = now_ns();

	for (struct session *s = svc->sessions; s; s = s->next) {
		if (access__check(svc->acc, &c->who, s->pid, NULL, 0))
			continue;	/* what they may not read is not theirs to know about */
		json_t *w = svc->mon ? monitor__describe(svc->mon, s) : NULL;

		/* The monitor's own reference is not a request. */
		json_array_append_new(a, json_pack("{s:i, s:o, s:f, s:i, s:o}", "pid", (int)s->pid, "python",
						   report_python(&s->py), "attached_seconds",
						   (now - s->attached_ts) / 1e9, "requests", (int)s->refs - (w != NULL),
						   "watch", w ? w : json_null()));
	}
	ctl_server__reply(c, protocol_ok(json_pack("{s:o}", "sessions", a)));
}

void service__request(void *ctx, struct client *c, const char *line, size_t len)
{
	struct service *svc = ctx;
	struct request r;
	const char *code;
	char msg[256];

	svc->requests++;
	if (protocol_parse(line, len, &r, &code, msg, sizeof(msg))) {
		ctl_server__reply(c, protocol_error(code, msg));
		return;
	}
	switch (r.cmd) {
	case REQ_CLASSIFY:
	case REQ_GC:
	case REQ_TOP:
	case REQ_RECORD:
	case REQ_ATTRS:
	case REQ_CHURN:
		do_classify(svc, c, &r);
		break;
	case REQ_DETACH:
		do_detach(svc, c, &r);
		break;
	case REQ_STATUS:
		do_status(svc, c);
		break;
	case REQ_LIST:
		do_list(svc, c);
		break;
	}
}

void service__client_closed(void *ctx, struct client *c)
{
	struct service *svc = ctx;

	for (struct pending *p = svc->pending, *next; p; p = next) {
		struct session *s = p->s;

		next = p->next;
		if (p->c != c)
			continue;
		remove_pending(svc, p);
		unref_session(svc, s);
	}
	arm_timer(svc);
}

/* A sampled stack: resolve it once, add it to every profile and hotspot table open on its process. */
static void stack_event(struct service *svc, struct session *s, const struct pp_stack_event *ev)
{
	static struct pyframe frames[PP_MAX_FRAMES];
	struct nativeloc leaf = {};
	struct pyattr attr;
	struct hot_sample hs = { .frames = frames, .leaf = &leaf, .state = ev->state, .gc = ev->gc };
	int n = -1, attr_err = 1;

	for (struct pending *p = svc->pending; p; p = p->next) {
		if (p->s != s || (!p->prof && !p->hot) || ev->ts < p->start.ts)
			continue;
		if (n < 0) {
			n = session__resolve_stack(s, ev, frames, PP_MAX_FRAMES);
			session__resolve_native(s, ev->ip, &leaf);
		}
		if (p->prof) {
			profile__add(p->prof, frames, n, ev->state, ev->gc);
			profile__add_native(p->prof, leaf.symbol, leaf.object, leaf.kind);
			continue;
		}
		if (attr_err > 0) {
			attr_err = session__resolve_attr(s, ev, &attr);
			hs.n = n;
			hs.attr = attr_err == 0 ? &attr : NULL;
			hs.undecoded = attr_err && attr_err != -ENOENT && n > 0;
		}
		hotspots__add(p->hot, &hs);
	}
}

int service__ringbuf_event(void *ctx, void *data, size_t size)
{
	struct service *svc = ctx;
	const struct pp_event *ev = data;
	struct session *s;

	if (size < sizeof(*ev))
		return 0;
	/* This record is consumed either way; a negative return stops after it. */
	if (++svc->consumed > RINGBUF_BUDGET ||
	    now_ns() - svc->pump_started > RINGBUF_BUDGET_NS)
		return -EAGAIN;
	s = find_session(svc, ev->tgid);
	if (ev->type == PP_EV_EXEC) {
		queue_exec(svc, ev->tgid);
		return 0;
	}
	if (ev->type == PP_EV_FORK) {
		if (svc->mon)
			monitor__fork(svc->mon, ev->tgid);
		return 0;
	}
	if (!s)
		return 0;
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
	case PP_EV_STACK:
		if (size >= sizeof(struct pp_stack_event))
			stack_event(svc, s, data);
		break;
	}
	return 0;
}

struct service *service__new(struct evloop *ev, const struct opts *o)
{
	struct service *svc = calloc(1, sizeof(*svc));
	int err;

	if (!svc)
		return NULL;
	svc->ev = ev;
	svc->o = o;
	svc->started = now_ns();
	svc->timer.fn = timer_event;
	svc->acc = access__new(&o->access);
	if (!svc->acc) {
		free(svc);
		errno = ENOMEM;
		return NULL;
	}
	err = evloop__timer_add(ev, &svc->timer);
	if (err) {
		access__free(svc->acc);
		free(svc);
		errno = -err;
		return NULL;
	}
	return svc;
}

static int task_dumpable(void *ctx, pid_t pid)
{
	return loader__dumpable(ctx, pid);
}

void service__set_loader(struct service *svc, struct loader *ld)
{
	svc->ld = ld;
	access__set_dumpable_fn(svc->acc, ld ? task_dumpable : NULL, ld);
}

void service__policy_changed(struct service *svc)
{
	access__forget(svc->acc, 0);
}

void service__set_monitor(struct service *svc, struct monitor *m)
{
	svc->mon = m;
}

void service__stats(struct service *svc, struct service_stats *st)
{
	st->sessions = svc->nsessions;
	st->pending = 0;
	for (struct pending *p = svc->pending; p; p = p->next)
		st->pending++;
	st->clients = svc->nclients ? svc->nclients(svc->nclients_ctx) : 0;
	st->requests = svc->requests;
	st->uptime = (now_ns() - svc->started) / 1e9;
}

void service__set_nclients_fn(struct service *svc, unsigned int (*fn)(void *), void *ctx)
{
	svc->nclients = fn;
	svc->nclients_ctx = ctx;
}

void service__free(struct service *svc)
{
	if (!svc)
		return;
	while (svc->pending)
		remove_pending(svc, svc->pending);
	while (svc->sessions)
		drop_session(svc, svc->sessions, "shutting down", false);
	evloop__timer_del(svc->ev, &svc->timer);
	access__free(svc->acc);
	free(svc->execs);
	free(svc);
}
