// SPDX-License-Identifier: MIT
/*
 * The request side of the daemon: authorise, take the session from the
 * registry, hold the window open on the timer, then snapshot -> window ->
 * verdict -> reply. A listener of the registry: it hears of stacks, execs and
 * sessions ending; it knows nothing of the monitor.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "pyprobe/ctl.h"
#include "array.h"
#include "access.h"
#include "blocksite.h"
#include "bytecode.h"
#include "classify.h"
#include "ctl_server.h"
#include "loader.h"
#include "hotspots.h"
#include "log.h"
#include "opts.h"
#include "procfs.h"
#include "profile.h"
#include "protocol.h"
#include "pythreads.h"
#include "report.h"
#include "session.h"
#include "registry.h"
#include "requests.h"
#include "tree.h"
#include "rules.h"
#include "loopstats.h"

struct pending {
	enum req_cmd cmd;
	struct profile *prof;	/* top, record */
	struct hotspots *hot;	/* attrs, churn, classify (when the stacks can be sampled) */
	struct blocksite *bs;	/* classify: where blocked threads wait */
	struct loop_samples *lsamp;	/* loop: the window's samples, for the stalls' sites */
	double threshold;	/* loop: stall threshold (s) */
	bool wall;		/* record --wall: blocked threads' stacks every WALL_NS too */
	uint64_t wall_prev, wall_now;	/* ... the last such look, and this one */
	bool stacks;		/* holds one user of the session's stack sampling */
	bool gc_exact;		/* holds one user of the session's exact GC probes */
	uint64_t next_tick;	/* ... sampled then */
	int limit;
	struct client *c;
	struct session *s;
	struct snapshot start;
	uint64_t deadline;
	uint64_t recheck;	/* next authorisation check (callers other than root) */
	double seconds;
	struct tree *tree;	/* a member's window of classify --tree: results go there, not to c */
	struct snapshot end;	/* taken ahead of finishing (tree members all end at once) */
	bool ended;
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
/* loop: blocked threads' stacks this often, for where blocking stalls waited. */
#define LOOP_WALL_NS (20ULL * 1000 * 1000)
/* record --wall: blocked threads' stacks this often (each stands for the time since the last look), at most this many. */
#define WALL_NS (20ULL * 1000 * 1000)
#define WALL_THREADS 256

struct requests {
	struct evloop *ev;
	const struct opts *o;
	struct registry *reg;
	struct loader *ld;
	struct access *acc;
	struct watch timer;
	struct registry_listener listener;
	struct pending *pending;
	struct tree *trees;	/* classify --tree windows open */
	struct watch reaper;	/* ends what the timer's windows put off */
	bool deferring;
	struct pending *done;
	struct session **unrefs;
	size_t nunrefs, cap_unrefs;
	uint64_t started;
	unsigned long requests;
};

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

static void arm_timer(struct requests *svc)
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
		if (p->stacks && poll < next)
			next = poll;
	}
	for (struct tree *t = svc->trees; t; t = t->next)
		if (t->next_scan < t->deadline && t->next_scan < next)
			next = t->next_scan;
	evloop__timer_set(&svc->timer, next == UINT64_MAX ? 0 : next, 0);
}

/*
 * Ending a window detaches probes the session no longer needs, and the
 * session itself when no window is left; closing a uprobe link waits for
 * the kernel's RCU grace periods (tens of ms here). Windows that end on the
 * timer put that off (svc->deferring) until their replies have gone out:
 * the reaper runs a moment later, or at once before a session ends or the
 * next request is handled.
 */
#define REAP_DELAY_NS (2ULL * 1000 * 1000)

static void unref_session(struct requests *svc, struct session *s)
{
	if (svc->deferring && !ARRAY_GROW(&svc->unrefs, &svc->cap_unrefs, svc->nunrefs, 16, SIZE_MAX / 2)) {
		svc->unrefs[svc->nunrefs++] = s;
		return;
	}
	registry__release(svc->reg, s);
}

static void release_pending(struct requests *svc, struct pending *p)
{
	if (p->stacks)
		session__stacks(p->s, svc->ld, false);
	if (p->lsamp)
		loopstats__samples_free(p->lsamp);
	free(p->lsamp);
	profile__free(p->prof);
	hotspots__free(p->hot);
	blocksite__free(p->bs);
	if (p->gc_exact)
		session__gc_exact(p->s, svc->ld, false);
	snapshot__clear(&p->start);
	snapshot__clear(&p->end);
	free(p);
}

static void remove_pending(struct requests *svc, struct pending *p)
{
	struct pending **pp = &svc->pending;

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (svc->deferring) {
		p->next = svc->done;
		svc->done = p;
		return;
	}
	release_pending(svc, p);
}

/* What the timer's windows put off: their probes and sessions. */
static void reap(struct requests *svc)
{
	while (svc->done) {
		struct pending *p = svc->done;

		svc->done = p->next;
		release_pending(svc, p);
	}
	for (size_t i = 0; i < svc->nunrefs; i++)
		registry__release(svc->reg, svc->unrefs[i]);
	svc->nunrefs = 0;
}

static void reaper_event(struct watch *w, uint32_t events)
{
	struct requests *svc = container_of(w, struct requests, reaper);

	evloop__timer_ack(w);
	reap(svc);
}

static void tree_check(struct requests *svc, struct tree *t);

/* Finish p with an error (the session stays the caller's business). */
static void fail_pending(struct requests *svc, struct pending *p, const char *code, const char *msg)
{
	struct tree *t = p->tree;

	if (t)
		tree__refused(t, p->s->pid, code, msg);
	else
		ctl_server__reply(p->c, protocol_error(code, msg));
	remove_pending(svc, p);
	if (t)
		tree_check(svc, t);
}

static void tree_scan(struct requests *svc, struct tree *t, uint64_t now);

/* A recording ends with whatever it has, also when the process exits early. */
static void finish_record(struct requests *svc, struct pending *p, bool partial)
{
	double observed = (now_ns() - p->start.ts) / 1e9;
	json_t *body = json_pack("{s:i, s:f, s:f, s:b, s:o, s:i, s:o}", "pid", (int)p->s->pid, "window_seconds",
				 observed, "requested_seconds", p->seconds, "partial", partial, "python",
				 report_python(&p->s->py), "sample_hz", (int)svc->o->sample_hz, "profile",
				 profile__stacks(p->prof));

	if (body)
		json_object_set_new(body, "placement", report_placement(p->s->pid, &p->s->py));
	if (p->tree) {
		struct tree *t = p->tree;

		if (body)
			tree__observed(t, p->s->pid, body, NULL, 0, 0, observed);
		else
			tree__refused(t, p->s->pid, PP_ERR_INTERNAL, "out of memory building the reply");
		remove_pending(svc, p);
		tree_check(svc, t);
		return;
	}
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

/* The event loops of p's window ending at t1 (malloc'ed), from the session's records and p's samples. */
static struct loop_report *loop_report(const struct pending *p, const struct window *w, uint64_t t1)
{
	struct loop_report *lr = malloc(sizeof(*lr));

	if (lr)
		loopstats__report(w, p->start.ts, t1, &p->s->loop_log, p->threshold, p->lsamp ? p->lsamp->v : NULL,
				  p->lsamp ? p->lsamp->n : 0, lr);
	return lr;
}

static void finish_pending(struct requests *svc, struct pending *p)
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
	if (p->ended) {
		end = p->end;
		memset(&p->end, 0, sizeof(p->end));
	} else if (session__snapshot(p->s, svc->ld, &end)) {
		snapshot__clear(&end);
		fail_pending(svc, p, PP_ERR_INTERNAL, "out of memory building the window");
		return;
	}
	if (window__diff(&w, &p->start, &end)) {
		snapshot__clear(&end);
		fail_pending(svc, p, PP_ERR_INTERNAL, "out of memory building the window");
		return;
	}
	for (size_t i = 0; i < w.n; i++)
		gc_samples += w.t[i].samples_gc;
	if (gcstats__window(&w.gc, &p->start.gc, &end.gc, &p->s->gc_log, p->start.ts, end.ts, p->s->gc_method,
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
		body = json_pack("{s:i, s:f, s:f, s:o, s:i, s:o, s:{s:f, s:f, s:f, s:s}, s:s}", "pid", (int)rc.pid,
				 "window_seconds", w.seconds, "requested_seconds", rc.requested_seconds, "python",
				 report_python(&p->s->py), "sample_hz", (int)svc->o->sample_hz, "profile",
				 profile__top(p->prof, p->limit), "gil_wait", "seconds", gil, "thread_seconds", all,
				 "share_of_thread_time", all > 0 ? gil / all : 0.0, "method", "futex waits inside the GIL, from sched_switch (exact)",
				 "method", "perf cpu-clock samples of on-CPU threads; Python frames walked in BPF, "
					   "code objects resolved from target memory (sampled)");
	} else if (p->cmd == REQ_GC) {
		body = json_pack("{s:i, s:f, s:f, s:o, s:o}", "pid", (int)rc.pid, "window_seconds", w.seconds,
				 "requested_seconds", rc.requested_seconds, "python", report_python(&p->s->py), "gc",
				 report_gc(&rc, &w));
	} else if (p->cmd == REQ_LOOP) {
		struct loop_report *lr = loop_report(p, &w, end.ts);

		body = NULL;
		if (lr) {
			body = json_pack("{s:i, s:f, s:f, s:f, s:o, s:b, s:o}", "pid", (int)rc.pid, "window_seconds",
					 w.seconds, "window_start_monotonic", p->start.ts / 1e9, "requested_seconds",
					 rc.requested_seconds, "python", report_python(&p->s->py), "stacks", p->stacks,
					 "loop", report_loop(lr, w.seconds));
			free(lr);
		}
	} else if (p->cmd == REQ_ATTRS || p->cmd == REQ_CHURN) {
		body = json_pack("{s:i, s:f, s:f, s:o, s:i, s:o}", "pid", (int)rc.pid, "window_seconds", w.seconds,
				 "requested_seconds", rc.requested_seconds, "python", report_python(&p->s->py),
				 "sample_hz", (int)svc->o->sample_hz, p->cmd == REQ_ATTRS ? "attrs" : "churn",
				 p->cmd == REQ_ATTRS ? hotspots__attrs(p->hot, p->limit) :
						       hotspots__churn(p->hot, p->limit));
		if (body)
			json_object_set_new(body, "method", json_string(p->cmd == REQ_ATTRS ? ATTRS_METHOD : CHURN_METHOD));
	} else {
		struct loop_report *lr;

		if (p->hot)
			hotspots__mix(p->hot, &w.mix);
		session__annotate(p->s, &w, p->bs);
		lr = loop_report(p, &w, end.ts);
		if (lr)
			loopstats__summary(lr, w.seconds, &w.loop);
		classify(&w, &v);
		rc.npythreads = pythreads_read(p->s->pid, &p->s->py, pyt, sizeof(pyt) / sizeof(pyt[0]));
		body = report_classify(&rc, &w, &v);
		if (body && lr)
			json_object_set_new(body, "loop", report_loop(lr, w.seconds));
		free(lr);
	}
	if (body && !json_object_get(body, "placement"))
		json_object_set_new(body, "placement", report_placement(p->s->pid, &p->s->py));
	if (p->tree && body) {
		double cpu = 0;
		struct tree *t = p->tree;

		for (size_t i = 0; i < w.n; i++)
			cpu += w.t[i].sec[PP_B_ONCPU];
		/* Only a classify window has a verdict for the service's. */
		tree__observed(t, p->s->pid, body, p->cmd == REQ_CLASSIFY ? v.label : NULL,
			       p->cmd == REQ_CLASSIFY ? v.confidence : 0, cpu, w.seconds);
		window__free(&w);
		snapshot__clear(&end);
		remove_pending(svc, p);
		tree_check(svc, t);
		return;
	}
	if (p->tree) {
		window__free(&w);
		snapshot__clear(&end);
		fail_pending(svc, p, PP_ERR_INTERNAL, "out of memory building the reply");
		return;
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

/* loop: a blocked thread's stack, kept with the window's samples (a blocking stall's site). */
static int wall_sample(void *arg, uint32_t tid, const struct pyframe *frames, int n)
{
	struct pending *p = arg;
	char site[256], task[128];
	struct loop_sample ls = { .tid = tid, .ts = now_ns(), .blocked = true, .site = site, .task = task };
	long nr;

	ls.in_loop = loopstats__describe(frames, n, site, sizeof(site), task, sizeof(task));
	ls.bucket = blocksite__why(p->s->pid, tid, &p->s->py, &nr);
	ls.nr = nr >= 0 && nr < PP_NR_NONE ? nr : PP_NR_NONE;
	if (!site[0])
		ls.site = NULL;
	if (!task[0])
		ls.task = NULL;
	return loopstats__sample(p->lsamp, &ls);
}

/* The leaf a wall profile gives a blocked thread's stack: why it waits (docs/protocol.md, "record"). */
static const char *wall_reason(int bucket)
{
	switch (bucket) {
	case PP_B_GIL_WAIT: return "[gil wait]";
	case PP_B_NET_IO: return "[net io]";
	case PP_B_FILE_IO: return "[file io]";
	case PP_B_LOCK_WAIT: return "[lock]";
	case PP_B_SLEEP: return "[sleep]";
	case PP_B_POLL_WAIT: return "[poll]";
	case PP_B_IPC_WAIT: return "[ipc]";
	case PP_B_CHILD_WAIT: return "[child wait]";
	default: return "[other wait]";
	}
}

/* record --wall: a blocked thread's stack stands for the time since the last look, under why it waits. */
static int wall_off(void *arg, uint32_t tid, const struct pyframe *frames, int n)
{
	struct pending *p = arg;
	int b = blocksite__why(p->s->pid, tid, &p->s->py, NULL);

	/* Every thread of one look stands for the same interval, however long the look takes. */
	return profile__add_off(p->prof, frames, n, wall_reason(b),
				p->wall_now > p->wall_prev ? p->wall_now - p->wall_prev : 0, b == PP_B_GIL_WAIT);
}

/* Re-authorise an open window; false when it was ended (and p freed). */
static bool still_allowed(struct requests *svc, struct pending *p)
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
	struct requests *svc = container_of(w, struct requests, timer);
	uint64_t now = now_ns();
	struct pending *p, *next;

	evloop__timer_ack(w);
	/* Events already in the ring buffer belong to the windows ending now. */
	registry__pump(svc->reg);
	/* A tree's windows end together: their end snapshots first, then the slower finishing. */
	for (p = svc->pending; p; p = p->next)
		if (p->tree && p->deadline <= now && !p->ended) {
			p->ended = !session__snapshot(p->s, svc->ld, &p->end);
			if (!p->ended)
				snapshot__clear(&p->end);
		}
	svc->deferring = true;
	for (p = svc->pending; p; p = next) {
		struct session *s = p->s;

		next = p->next;
		if (p->deadline > now) {
			if (p->c->who.uid != 0 && p->recheck <= now) {
				if (!still_allowed(svc, p))
					continue;
				p->recheck = now + RECHECK_NS;
			}
			if (p->bs && p->next_tick <= now && p->wall) {
				p->wall_now = now;
				blocksite__each_blocked(p->bs, s->sym, tid_of, &p->start, WALL_THREADS, wall_off, p);
				p->wall_prev = now;
				p->next_tick = now + WALL_NS;
			} else if (p->bs && p->next_tick <= now && p->cmd == REQ_LOOP) {
				blocksite__each_blocked(p->bs, s->sym, tid_of, &p->start, BLOCKSITE_THREADS, wall_sample, p);
				p->next_tick = now + LOOP_WALL_NS;
			} else if (p->bs && p->next_tick <= now) {
				/* classify: also where a stalled loop blocked, when its samples are kept */
				blocksite__tick(p->bs, s->sym, tid_of, &p->start, BLOCKSITE_THREADS,
						p->lsamp ? wall_sample : NULL, p);
				p->next_tick = now + BLOCKSITE_NS;
			}
			continue;
		}
		finish_pending(svc, p);
		unref_session(svc, s);
	}
	svc->deferring = false;
	if (svc->done || svc->nunrefs)
		evloop__timer_set(&svc->reaper, now_ns() + REAP_DELAY_NS, 0);
	for (struct tree *t = svc->trees, *tn; t; t = tn) {
		tn = t->next;
		if (t->next_scan <= now && now < t->deadline)
			tree_scan(svc, t, now);
	}
	arm_timer(svc);
}

/*
 * The registry ends session s (the process exited or executed another
 * program, or a detach): every window on it ends with an error naming how
 * much was seen (a recording keeps what it has).
 */
static void session_ending(void *ctx, struct session *s, const char *why, bool exited)
{
	struct requests *svc = ctx;
	uint64_t now = now_ns();
	char msg[256];

	reap(svc);	/* what was put off may hold s */
	for (struct pending *p = svc->pending, *next; p; p = next) {
		next = p->next;
		if (p->s != s)
			continue;
		if (p->cmd == REQ_RECORD && strcmp(why, "detached on request")) {
			/* A profile of the part that ran is still a valid profile. */
			finish_record(svc, p, true);
		} else if (!strcmp(why, "detached on request")) {
			snprintf(msg, sizeof(msg), "detached from process %d on request", s->pid);
			fail_pending(svc, p, PP_ERR_DETACHED, msg);
		} else {
			snprintf(msg, sizeof(msg), "process %d %s during the window: observed %.2f s of %.2f s",
				 s->pid, exited ? "exited" : why, (now - p->start.ts) / 1e9, p->seconds);
			fail_pending(svc, p, PP_ERR_EXITED, msg);
		}
		unref_session(svc, s);
	}
	arm_timer(svc);
}

/* A process executed a program: whatever was allowed of the old one is not of the new. */
static void exec_event(void *ctx, pid_t pid)
{
	struct requests *svc = ctx;

	access__forget(svc->acc, pid);
}

/* Root may observe anything; others what the kernel would let them read (access.c). */
static int authorise(struct requests *svc, struct client *c, pid_t pid)
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

/*
 * Open a window of r's command on pid for client c (authorised by the
 * caller): the session, its probes, the start snapshot. NULL with a code and
 * a message when it cannot.
 */
static struct pending *open_window(struct requests *svc, struct client *c, const struct request *r, pid_t pid,
				   double seconds, const char **code, char *msg, size_t msglen)
{
	struct pending *p;
	struct session *s;
	int err = -ENOMEM;

	*code = PP_ERR_INTERNAL;
	s = registry__acquire(svc->reg, pid, code, msg, msglen);
	if (!s)
		return NULL;
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
		bool need = r->cmd != REQ_CLASSIFY && r->cmd != REQ_LOOP;

		/*
		 * classify goes without the attribute and churn traits where stacks
		 * cannot be sampled, loop without the stalls' sites.
		 */
		err = session__stacks(s, svc->ld, true);
		if (err && need)
			goto fail_probes;
		if (!err) {
			p->stacks = true;
			if (r->cmd == REQ_TOP || r->cmd == REQ_RECORD)
				p->prof = profile__new();
			if (p->prof && r->wall)
				profile__set_wall(p->prof, 1000000000ULL / svc->o->sample_hz);
			if (r->cmd == REQ_LOOP || r->cmd == REQ_CLASSIFY)
				p->lsamp = calloc(1, sizeof(*p->lsamp));
			if (r->cmd != REQ_TOP && r->cmd != REQ_RECORD && r->cmd != REQ_LOOP)
				p->hot = hotspots__new(s->py.minor);
			if (!p->prof && !p->hot && !p->lsamp) {
				err = -ENOMEM;
				session__stacks(s, svc->ld, false);
				p->stacks = false;
				goto fail_probes;
			}
		}
		err = 0;
	}
	p->threshold = (r->threshold_ms ? r->threshold_ms : (int)svc->o->loop_threshold) / 1e3;
	if (session__snapshot(s, svc->ld, &p->start)) {
		err = -ENOMEM;
		if (p->stacks)
			session__stacks(s, svc->ld, false);
		free(p->lsamp);
		profile__free(p->prof);
		hotspots__free(p->hot);
		goto fail_probes;
	}
	/* Where blocked threads wait (needs the code-object resolver that stack sampling made). */
	if ((r->cmd == REQ_CLASSIFY || (r->cmd == REQ_LOOP && p->lsamp) || (r->wall && p->prof)) && s->sym) {
		p->bs = blocksite__new(s->pid, &s->py);
		p->next_tick = p->start.ts;
		p->wall = r->wall;
		p->wall_prev = p->start.ts;
	}
	p->c = c;
	p->seconds = seconds;
	p->deadline = p->start.ts + (uint64_t)(seconds * 1e9);
	p->recheck = p->start.ts + RECHECK_NS;
	p->next = svc->pending;
	svc->pending = p;
	arm_timer(svc);
	return p;
fail_probes:
	if (p->gc_exact)
		session__gc_exact(s, svc->ld, false);
	snapshot__clear(&p->start);
	free(p);
fail:
	registry__release(svc->reg, s);
	if (err == -ENOTSUP) {
		*code = PP_ERR_UNSUPPORTED;
		snprintf(msg, msglen, "cannot sample the Python stacks of process %d", pid);
	} else {
		*code = PP_ERR_INTERNAL;
		snprintf(msg, msglen, "cannot start the window on process %d: %s", pid, strerror(-err));
	}
	return NULL;
}

/* A member of tree t: observed in a window that ends with the tree's, or listed with why not. */
static void tree_join(struct requests *svc, struct tree *t, const struct request *r, pid_t pid, uint64_t now)
{
	struct tree_member *m = tree__add(t, pid, now);
	double left = t->deadline > now ? (t->deadline - now) / 1e9 : 0;
	const char *code;
	struct pending *p;
	char msg[512];
	int rc;

	if (!m)
		return;
	rc = access__check(svc->acc, &t->c->who, pid, msg, sizeof(msg));
	if (rc) {
		tree__refused(t, pid, rc == -ESRCH ? PP_ERR_NO_PROCESS : PP_ERR_PERMISSION,
			      rc == -ESRCH ? "the process exited" : msg);
		return;
	}
	if (left < PP_CTL_MIN_SECONDS) {
		tree__refused(t, pid, PP_ERR_EXITED, "joined too late in the window to be observed");
		return;
	}
	p = open_window(svc, t->c, r, pid, left, &code, msg, sizeof(msg));
	if (!p) {
		tree__refused(t, pid, code, msg);
		return;
	}
	/* Every member's window ends with the tree's, however long its attach took. */
	p->tree = t;
	p->deadline = t->deadline > p->start.ts ? t->deadline : p->start.ts;
	p->seconds = (p->deadline - p->start.ts) / 1e9;
}

/* Processes that appeared below the root since the last look join the window. */
#define TREE_SCAN_NS (250ULL * 1000 * 1000)

/* The processes matching a group's rule (every one /proc lists but the daemon), at most max. */
static size_t group_members(const struct rule *rule, pid_t *out, size_t max)
{
	struct rules rs = { (struct rule *)rule, 1 };
	struct procinfo *pi = malloc(sizeof(*pi));
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	while (pi && d && n < max && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (rules__procinfo((pid_t)pid, pi, RULE_KIND_BIT(rule->kind)) == 0 && rules__match(&rs, pi) == 0)
			out[n++] = (pid_t)pid;
	}
	if (d)
		closedir(d);
	free(pi);
	return n;
}

static void tree_scan(struct requests *svc, struct tree *t, uint64_t now)
{
	struct request r = { .cmd = t->cmd, .limit = t->limit, .wall = t->wall };
	size_t want = (size_t)t->max + 1, n;
	pid_t *pids = malloc(want * sizeof(*pids));

	t->next_scan = now + TREE_SCAN_NS;
	if (!pids)
		return;
	if (t->fixed) {
		n = t->nfixed < want ? t->nfixed : want;
		memcpy(pids, t->fixed, n * sizeof(*pids));
	} else {
		n = t->rule ? group_members(t->rule, pids, want) : procfs_descendants(t->root, pids, want);
	}
	for (size_t i = 0; i < n; i++)
		if (!tree__find(t, pids[i]))
			tree_join(svc, t, &r, pids[i], now);
	free(pids);
}

static void tree_unlink(struct requests *svc, struct tree *t)
{
	struct tree **pp = &svc->trees;

	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
}

/* Reply once every member's window has ended. */
static void tree_check(struct requests *svc, struct tree *t)
{
	if (!tree__complete(t))
		return;
	tree_unlink(svc, t);
	ctl_server__reply(t->c, protocol_ok(tree__reply(t, (int)sysconf(_SC_NPROCESSORS_ONLN))));
	tree__free(t);
}

static void do_tree(struct requests *svc, struct client *c, const struct request *r)
{
	int max = r->max_tree ? r->max_tree : (int)svc->o->max_tree;
	struct rule *rule = NULL;
	struct tree *t;
	char err[512];

	if (r->group[0]) {
		rule = calloc(1, sizeof(*rule));
		if (!rule) {
			reply_error(c, PP_ERR_INTERNAL, "out of memory");
			return;
		}
		if (rule__parse(rule, r->group, err, sizeof(err))) {
			free(rule);
			/* The rules' words, a request's fields: "watch unit" is "unit" here. */
			reply_error(c, PP_ERR_BAD_REQUEST, "%s", !strncmp(err, "watch ", 6) ? err + 6 : err);
			return;
		}
	}
	t = tree__new(r->cmd, r->limit, r->group[0] || r->pids ? 0 : r->pid, rule, c, r->seconds, max, now_ns());
	if (!t) {
		if (rule) {
			free(rule->arg);
			free(rule);
		}
		reply_error(c, PP_ERR_INTERNAL, "out of memory");
		return;
	}
	t->wall = r->wall;
	if (r->pids && tree__fix(t, r->pids, r->npids)) {
		tree__free(t);
		reply_error(c, PP_ERR_INTERNAL, "out of memory");
		return;
	}
	t->next = svc->trees;
	svc->trees = t;
	tree_scan(svc, t, t->start);
	arm_timer(svc);
	tree_check(svc, t);
}

/* A window of r's command on one process, or on a tree or a group of them. */
void requests__window(struct requests *svc, struct client *c, const struct request *r)
{
	const char *code;
	char msg[512];

	if (r->group[0] || r->pids) {
		do_tree(svc, c, r);
		return;
	}
	if (authorise(svc, c, r->pid))
		return;
	if (r->tree) {
		do_tree(svc, c, r);
		return;
	}
	if (!open_window(svc, c, r, r->pid, r->seconds, &code, msg, sizeof(msg)))
		ctl_server__reply(c, protocol_error(code, msg));
}

static void do_detach(struct requests *svc, struct client *c, const struct request *r)
{
	struct session *s;

	if (authorise(svc, c, r->pid))
		return;
	s = registry__find(svc->reg, r->pid);
	if (!s) {
		reply_error(c, PP_ERR_NOT_ATTACHED, "not attached to process %d", r->pid);
		return;
	}
	registry__end(svc->reg, s, "detached on request");
	ctl_server__reply(c, protocol_ok(json_pack("{s:i}", "pid", (int)r->pid)));
}

static void prog_stat(void *ctx, const char *name, uint64_t cnt, uint64_t ns)
{
	json_object_set_new(ctx, name, json_pack("{s:I, s:I, s:f}", "run_cnt", (json_int_t)cnt, "run_time_ns",
						 (json_int_t)ns, "ns_per_run", cnt ? (double)ns / cnt : 0.0));
}

/* Per-program costs when the administrator has the kernel count them (never switched on here). */
static json_t *prog_stats(struct requests *svc)
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

static void count_watched(void *ctx, struct session *s)
{
	struct requests *svc = ((void **)ctx)[0];
	unsigned int *n = ((void **)ctx)[1];
	json_t *d = registry__describe(svc->reg, s);

	*n += json_object_get(d, "watch") != NULL;
	json_decref(d);
}

/* Sessions the registry's other listeners describe as watched. */
static unsigned int watched(struct requests *svc)
{
	unsigned int n = 0;
	void *ctx[2] = { svc, &n };

	registry__for_each(svc->reg, count_watched, ctx);
	return n;
}

static void do_status(struct requests *svc, struct client *c)
{
	struct loader_stats st;
	unsigned int pending = 0;
	json_t *body;

	loader__stats(svc->ld, &st);
	for (struct pending *p = svc->pending; p; p = p->next)
		pending++;
	body = json_pack(
		"{s:s, s:i, s:f, s:i, s:i, s:i, s:i, s:I, s:{s:b, s:i, s:i, s:I, s:I, s:I, s:I}}",
		"version", PYPROBE_VERSION, "pid", (int)getpid(), "uptime_seconds", (now_ns() - svc->started) / 1e9,
		"sessions", (int)registry__count(svc->reg), "watched", (int)watched(svc), "pending", (int)pending,
		"clients", (int)ctl_server__nclients(c->srv),
		"requests", (json_int_t)svc->requests,
		"bpf", "attached", st.attached, "sample_hz", (int)st.sample_hz, "cpus_sampled", (int)st.ncpus_sampled,
		"threads_map_full", (json_int_t)st.threads_full, "gil_charges_map_full", (json_int_t)st.gil_charges_full,
		"events_lost", (json_int_t)st.events_lost, "switches_unseen", (json_int_t)st.switches_unseen);
	if (body)
		json_object_set_new(json_object_get(body, "bpf"), "stats", prog_stats(svc));
	ctl_server__reply(c, protocol_ok(body));
}

struct list_ctx {
	struct requests *svc;
	struct client *c;
	json_t *a;
	uint64_t now;
};

static void list_one(void *ctx, struct session *s)
{
	struct list_ctx *lc = ctx;
	json_t *d, *w;

	if (access__check(lc->svc->acc, &lc->c->who, s->pid, NULL, 0))
		return;	/* what they may not read is not theirs to know about */
	d = registry__describe(lc->svc->reg, s);
	w = json_object_get(d, "watch");
	/* The monitor's own reference is not a request. */
	json_array_append_new(lc->a, json_pack("{s:i, s:o, s:o, s:f, s:i, s:O}", "pid", (int)s->pid, "python",
						report_python(&s->py), "placement", report_placement(s->pid, &s->py),
						"attached_seconds", (lc->now - s->attached_ts) / 1e9,
						"requests", (int)s->refs - (w != NULL), "watch", w ? w : json_null()));
	json_decref(d);
}

static void do_list(struct requests *svc, struct client *c)
{
	struct list_ctx lc = { svc, c, json_array(), now_ns() };

	registry__for_each(svc->reg, list_one, &lc);
	ctl_server__reply(c, protocol_ok(json_pack("{s:o}", "sessions", lc.a)));
}

void requests__request(void *ctx, struct client *c, const char *line, size_t len)
{
	struct requests *svc = ctx;
	struct request r;
	const char *code;
	char msg[256];

	svc->requests++;
	reap(svc);	/* a request sees the sessions as the windows that ended left them */
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
	case REQ_LOOP:
		requests__window(svc, c, &r);
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

void requests__client_closed(void *ctx, struct client *c)
{
	struct requests *svc = ctx;

	for (struct pending *p = svc->pending, *next; p; p = next) {
		struct session *s = p->s;

		next = p->next;
		if (p->c != c)
			continue;
		remove_pending(svc, p);
		unref_session(svc, s);
	}
	for (struct tree *t = svc->trees, *tn; t; t = tn) {
		tn = t->next;
		if (t->c == c) {
			tree_unlink(svc, t);
			tree__free(t);
		}
	}
	arm_timer(svc);
}

/* A sampled stack: resolve it once, add it to every profile and hotspot table open on its process. */
static void stack_event(void *ctx, struct session *s, const struct pp_stack_event *ev)
{
	struct requests *svc = ctx;
	static struct pyframe frames[PP_MAX_FRAMES];
	struct nativeloc leaf = {};
	struct pyattr attr = {};
	struct hot_sample hs = { .frames = frames, .leaf = &leaf, .state = ev->state, .gc = ev->gc };
	int n = -1, attr_err = 1;

	for (struct pending *p = svc->pending; p; p = p->next) {
		if (p->s != s || !p->stacks || ev->ts < p->start.ts)
			continue;
		if (n < 0) {
			n = session__resolve_stack(s, ev, frames, PP_MAX_FRAMES);
			session__resolve_native(s, ev->ip, &leaf);
		}
		if (p->lsamp) {
			char site[256], task[128];
			struct loop_sample ls = { .tid = ev->tid, .ts = ev->ts, .python = ev->state == PP_CPU_GIL && n > 0,
						  .bucket = PP_B_NONE, .nr = PP_NR_NONE, .site = site, .task = task };

			ls.in_loop = loopstats__describe(frames, n, site, sizeof(site), task, sizeof(task));
			if (!site[0])
				ls.site = NULL;
			if (!task[0])
				ls.task = NULL;
			loopstats__sample(p->lsamp, &ls);
			if (!p->hot)
				continue;
		}
		if (p->prof) {
			profile__add(p->prof, frames, n, ev->state, ev->gc);
			profile__add_native(p->prof, leaf.symbol, leaf.object, leaf.kind);
			/* top --tree: the hottest functions of the whole too */
			if (p->tree && p->tree->prof) {
				profile__add(p->tree->prof, frames, n, ev->state, ev->gc);
				profile__add_native(p->tree->prof, leaf.symbol, leaf.object, leaf.kind);
			}
			continue;
		}
		if (attr_err > 0) {
			attr_err = session__resolve_attr(s, ev, &attr);
			hs.n = n;
			hs.attr = attr_err == 0 ? &attr : NULL;
			hs.makes = attr_err == 0 || attr_err == -ENOENT ? attr.makes : BCM_NOTHING;
			hs.undecoded = attr_err && attr_err != -ENOENT && n > 0;
		}
		hotspots__add(p->hot, &hs);
	}
}

static int task_dumpable(void *ctx, pid_t pid)
{
	return loader__dumpable(ctx, pid);
}

struct requests *requests__new(struct evloop *ev, const struct opts *o, struct registry *reg)
{
	struct requests *svc = calloc(1, sizeof(*svc));
	int err;

	if (!svc)
		return NULL;
	svc->ev = ev;
	svc->o = o;
	svc->reg = reg;
	svc->ld = registry__loader(reg);
	svc->started = now_ns();
	svc->timer.fn = timer_event;
	svc->acc = access__new(&o->access);
	if (!svc->acc) {
		free(svc);
		errno = ENOMEM;
		return NULL;
	}
	access__set_dumpable_fn(svc->acc, task_dumpable, svc->ld);
	svc->reaper.fn = reaper_event;
	err = evloop__timer_add(ev, &svc->timer);
	if (!err && (err = evloop__timer_add(ev, &svc->reaper)))
		evloop__timer_del(ev, &svc->timer);
	if (err) {
		access__free(svc->acc);
		free(svc);
		errno = -err;
		return NULL;
	}
	svc->listener = (struct registry_listener){ .session_ending = session_ending, .exec = exec_event,
						    .stack = stack_event, .ctx = svc };
	registry__listen(reg, &svc->listener);
	return svc;
}

void requests__policy_changed(struct requests *svc)
{
	access__forget(svc->acc, 0);
}

void requests__stats(const struct requests *svc, struct requests_stats *st)
{
	st->pending = 0;
	for (struct pending *p = svc->pending; p; p = p->next)
		st->pending++;
	st->requests = svc->requests;
	st->uptime = (now_ns() - svc->started) / 1e9;
}

void requests__free(struct requests *svc)
{
	if (!svc)
		return;
	registry__unlisten(svc->reg, &svc->listener);
	while (svc->pending) {
		struct session *s = svc->pending->s;

		remove_pending(svc, svc->pending);
		registry__release(svc->reg, s);
	}
	while (svc->trees) {
		struct tree *t = svc->trees;

		svc->trees = t->next;
		tree__free(t);
	}
	reap(svc);
	free(svc->unrefs);
	evloop__timer_del(svc->ev, &svc->timer);
	evloop__timer_del(svc->ev, &svc->reaper);
	access__free(svc->acc);
	free(svc);
}
