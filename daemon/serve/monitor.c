// SPDX-License-Identifier: MIT
/*
 * Watched processes: discovery by rules, a session each, rolling windows, the
 * current label. Entries move PROBING -> ACTIVE, or to IGNORED when a process
 * matches but cannot be observed (not Python, other errors) so it is not
 * retried on every scan; an exec gives a process a new chance.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "pyprobe/ctl.h"
#include "evloop.h"
#include "gcstats.h"
#include "loader.h"
#include "log.h"
#include "opts.h"
#include "procfs.h"
#include "registry.h"
#include "session.h"
#include "utf8.h"
#include "monitor.h"

#define PROBE_TRIES 6
#define NAME_LEN 300

enum wstate { W_PROBING, W_ACTIVE, W_IGNORED };

struct watched {
	pid_t pid;
	uint64_t start_time;	/* /proc start time: a reused PID is another process */
	enum wstate state;
	char rule[NAME_LEN];
	int tries;
	bool limit_warned;	/* max-sessions was reached when it matched */
	uint64_t next_ts;	/* PROBING: next attempt; ACTIVE: end of the window */
	struct session *s;
	bool gc_exact;		/* holds one user of the session's exact GC probes */
	struct snapshot prev;	/* ACTIVE: start of the current window */
	bool has_verdict;
	struct verdict last;
	double last_seconds;
	uint64_t label_ts;	/* when the current label was first seen */
	unsigned long windows, label_changes;
	struct watched *next;
};

struct monitor {
	struct watch timer;	/* first: the timer callback finds the monitor */
	struct evloop *ev;
	struct registry *reg;
	struct registry_listener listener;
	struct loader *ld;
	const struct opts *o;
	struct rules rules;
	struct watched *list;
	uint64_t next_scan;
	uint64_t next_sweep;	/* forget ignored processes that are gone, rescans or not */
	unsigned int kinds;	/* RULE_KIND_BIT of every rule: what /proc reads are needed */
};

#define SWEEP_NS (30 * 1000000000ULL)

static uint64_t ms(uint64_t n)
{
	return n * 1000000ULL;
}

static struct watched *find_pid(struct monitor *m, pid_t pid)
{
	for (struct watched *e = m->list; e; e = e->next)
		if (e->pid == pid)
			return e;
	return NULL;
}

static void arm(struct monitor *m)
{
	uint64_t next = m->rules.n && m->o->rescan ? m->next_scan : UINT64_MAX;

	for (struct watched *e = m->list; e; e = e->next) {
		if (e->state != W_IGNORED && e->next_ts < next)
			next = e->next_ts;
		if (e->state == W_IGNORED && m->next_sweep < next)
			next = m->next_sweep;
	}
	/* Due now is 1 ns after boot, in the past: 0 would disarm. */
	evloop__timer_set(&m->timer, next == UINT64_MAX ? 0 : next ? next : 1, 0);
}

static void unlink_entry(struct monitor *m, struct watched *e)
{
	struct watched **pp = &m->list;

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	snapshot__clear(&e->prev);
	free(e);
}

/* e lets go of its session (returned): no window, no GC probe user of its own any more. */
static struct session *forget_session(struct watched *e, bool *gc_exact)
{
	struct session *s = e->s;

	e->s = NULL;
	*gc_exact = e->gc_exact;
	e->gc_exact = false;
	snapshot__clear(&e->prev);
	return s;
}

/* Stop observing e's process; its session goes when nobody else uses it. */
static void release(struct monitor *m, struct watched *e)
{
	bool gc_exact;
	/* Forgotten first: a session that ends now is not ours to hear about any more. */
	struct session *s = forget_session(e, &gc_exact);

	if (!s)
		return;
	if (gc_exact)
		session__gc_exact(s, m->ld, false);
	registry__release(m->reg, s);
}

static void ignore(struct watched *e, const char *why)
{
	e->state = W_IGNORED;
	log_debug("process %d matches %s but is not observed: %s", e->pid, e->rule, why);
}

static void activate(struct monitor *m, struct watched *e, struct session *s)
{
	e->s = s;
	e->state = W_ACTIVE;
	e->gc_exact = loader__gc_exact(m->ld, m->o);
	if (e->gc_exact)
		session__gc_exact(s, m->ld, true);
	if (session__snapshot(s, m->ld, &e->prev))
		snapshot__clear(&e->prev);	/* the first window starts at attach */
	if (!e->prev.ts)
		e->prev.ts = s->attached_ts;
	e->next_ts = e->prev.ts + (uint64_t)m->o->window * 1000000000ULL;
	log_info("watching process %d (CPython %s, %s) matched by %s", e->pid, s->py.version, s->py.exe, e->rule);
}

/* Attach to a matching process, or decide to retry or to leave it. */
static void probe(struct monitor *m, struct watched *e, uint64_t now)
{
	static const unsigned int backoff_ms[PROBE_TRIES] = { 250, 500, 1000, 2000, 4000, 8000 };
	struct procinfo pi;
	struct session *s;
	const char *code;
	char msg[512];
	int r;

	if (rules__procinfo(e->pid, &pi, m->kinds) || procfs_start_time(e->pid) != e->start_time) {
		unlink_entry(m, e);	/* gone */
		return;
	}
	r = rules__match(&m->rules, &pi);
	if (r < 0) {
		unlink_entry(m, e);	/* changed its command line or cgroup since */
		return;
	}
	rule__name(&m->rules.v[r], e->rule, sizeof(e->rule));
	s = registry__acquire(m->reg, e->pid, &code, msg, sizeof(msg));
	if (s) {
		activate(m, e, s);
		return;
	}
	if (!strcmp(code, PP_ERR_NO_PROCESS)) {
		unlink_entry(m, e);
		return;
	}
	/* The PID's previous process still has a session, about to be dropped. */
	if (!strcmp(code, PP_ERR_EXITED)) {
		e->next_ts = now + ms(1000);
		return;
	}
	/* A process that just executed Python has not mapped libpython yet: try again. */
	if (!strcmp(code, PP_ERR_NOT_PYTHON) && e->tries < PROBE_TRIES) {
		e->next_ts = now + ms(backoff_ms[e->tries++]);
		return;
	}
	/* Full: try again later, when a session may have ended. */
	if (!strcmp(code, PP_ERR_LIMIT)) {
		if (!e->limit_warned)
			log_warn("process %d matches %s but cannot be watched yet: %s", e->pid, e->rule, msg);
		e->limit_warned = true;
		e->next_ts = now + ms(10000);
		return;
	}
	if (!strcmp(code, PP_ERR_INTERNAL) || !strcmp(code, PP_ERR_PERMISSION) || !strcmp(code, PP_ERR_UNSUPPORTED))
		log_warn("process %d matches %s but cannot be watched: %s", e->pid, e->rule, msg);
	ignore(e, msg);
}

/* A process a rule may match: probe it at now + delay unless it is known. */
static void consider(struct monitor *m, pid_t pid, uint64_t delay)
{
	struct watched *e = find_pid(m, pid);
	uint64_t st = procfs_start_time(pid);

	if (!m->rules.n || pid == getpid() || !st)
		return;
	if (e && e->start_time == st)
		return;
	if (e) {	/* the PID now belongs to another process */
		release(m, e);
		unlink_entry(m, e);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->pid = pid;
	e->start_time = st;
	e->state = W_PROBING;
	e->next_ts = now_ns() + delay;
	e->next = m->list;
	m->list = e;
}

static void scan(struct monitor *m)
{
	struct procinfo pi;
	struct dirent *d;
	DIR *dir;

	if (!m->rules.n)
		return;
	dir = opendir("/proc");
	if (!dir) {
		log_warn("cannot scan /proc: %s", strerror(errno));
		return;
	}
	while ((d = readdir(dir))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 0 || find_pid(m, pid))
			continue;
		if (rules__procinfo(pid, &pi, m->kinds) == 0 && rules__match(&m->rules, &pi) >= 0)
			consider(m, pid, 0);
	}
	closedir(dir);
}

/* Forget ignored processes that are gone. */
static void sweep(struct monitor *m)
{
	for (struct watched *e = m->list, *next; e; e = next) {
		next = e->next;
		if (e->state == W_IGNORED && procfs_start_time(e->pid) != e->start_time)
			unlink_entry(m, e);
	}
	m->next_sweep = now_ns() + SWEEP_NS;
}

static void log_label(struct watched *e, const struct verdict *v)
{
	const char *was = e->has_verdict ? e->last.label : NULL;

	if (was && !strcmp(was, v->label))
		return;
	if (was)
		log_msg(LOG_NOTICE, "process %d (%s): label changed from %s to %s (confidence %.2f): %s", e->pid,
			e->rule, was, v->label, v->confidence, v->nreasons ? v->reasons[0] : "");
	else
		log_msg(LOG_NOTICE, "process %d (%s): label %s (confidence %.2f): %s", e->pid, e->rule, v->label,
			v->confidence, v->nreasons ? v->reasons[0] : "");
}

/* Close the window of an active process and classify it. */
static void roll(struct monitor *m, struct watched *e, uint64_t now)
{
	struct session *s = e->s;
	struct snapshot cur;
	uint64_t gc_samples = 0;
	struct window w;
	struct verdict v;

	e->next_ts = now + (uint64_t)m->o->window * 1000000000ULL;
	if (session__snapshot(s, m->ld, &cur)) {
		snapshot__clear(&cur);
		return;
	}
	if (window__diff(&w, &e->prev, &cur)) {
		snapshot__clear(&cur);
		return;
	}
	for (size_t i = 0; i < w.n; i++)
		gc_samples += w.t[i].samples_gc;
	if (gcstats__window(&w.gc, &e->prev.gc, &cur.gc, &s->gc_log, e->prev.ts, cur.ts, s->gc_method,
			     s->gc_rate_guard, (double)gc_samples / m->o->sample_hz) == 0) {
		session__annotate(s, &w, NULL);
		classify(&w, &v);
		log_label(e, &v);
		if (!e->has_verdict || strcmp(e->last.label, v.label)) {
			if (e->has_verdict)
				e->label_changes++;
			e->label_ts = now;
		}
		e->last = v;
		e->has_verdict = true;
		e->last_seconds = w.seconds;
		e->windows++;
	}
	window__free(&w);
	snapshot__clear(&e->prev);
	e->prev = cur;
}

static void timer_event(struct watch *w, uint32_t events)
{
	struct monitor *m = (struct monitor *)w;
	uint64_t now = now_ns();

	evloop__timer_ack(w);
	/* GC records do not wake the daemon: the windows rolled here need them. */
	registry__pump(m->reg);
	if (m->rules.n && m->o->rescan && now >= m->next_scan) {
		scan(m);
		m->next_scan = now + (uint64_t)m->o->rescan * 1000000000ULL;
	}
	if (now >= m->next_sweep)
		sweep(m);
	for (struct watched *e = m->list, *next; e; e = next) {
		next = e->next;	/* probe may free e */
		if (e->next_ts > now)
			continue;
		if (e->state == W_PROBING)
			probe(m, e, now);
		else if (e->state == W_ACTIVE)
			roll(m, e, now);
	}
	arm(m);
}

static void exec_event(void *ctx, pid_t pid);
static void fork_event(void *ctx, pid_t pid);
static void session_ending(void *ctx, struct session *s, const char *why, bool exited);
static json_t *describe(void *ctx, const struct session *s);

struct monitor *monitor__new(struct evloop *ev, struct registry *reg, const struct opts *o)
{
	struct monitor *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->ev = ev;
	m->reg = reg;
	m->ld = registry__loader(reg);
	m->o = o;
	m->timer.fn = timer_event;
	err = evloop__timer_add(ev, &m->timer);
	if (err) {
		free(m);
		errno = -err;
		return NULL;
	}
	m->listener = (struct registry_listener){ .session_ending = session_ending, .exec = exec_event,
						  .fork = fork_event, .describe = describe, .ctx = m };
	registry__listen(reg, &m->listener);
	return m;
}

void monitor__free(struct monitor *m)
{
	if (!m)
		return;
	registry__unlisten(m->reg, &m->listener);
	while (m->list) {
		release(m, m->list);
		unlink_entry(m, m->list);
	}
	rules__free(&m->rules);
	evloop__timer_del(m->ev, &m->timer);
	free(m);
}

void monitor__set_rules(struct monitor *m, struct rules *rules)
{
	struct procinfo pi;
	char name[NAME_LEN];
	int r;

	rules__free(&m->rules);
	m->rules = *rules;
	memset(rules, 0, sizeof(*rules));
	m->kinds = 0;
	for (size_t i = 0; i < m->rules.n; i++)
		m->kinds |= RULE_KIND_BIT(m->rules.v[i].kind);
	for (struct watched *e = m->list, *next; e; e = next) {
		next = e->next;
		if (e->state == W_ACTIVE && rules__procinfo(e->pid, &pi, m->kinds) == 0 &&
		    (r = rules__match(&m->rules, &pi)) >= 0) {
			rule__name(&m->rules.v[r], name, sizeof(name));
			if (strcmp(name, e->rule))
				log_info("process %d is now matched by %s", e->pid, name);
			memcpy(e->rule, name, sizeof(e->rule));
			continue;
		}
		if (e->state == W_ACTIVE)
			log_info("process %d (%s): no rule matches it any more, stopped watching", e->pid, e->rule);
		release(m, e);
		unlink_entry(m, e);	/* ignored ones get another chance under the new rules */
	}
	loader__watch_procs(m->ld, m->rules.n > 0);
	scan(m);
	sweep(m);
	m->next_scan = now_ns() + (uint64_t)m->o->rescan * 1000000000ULL;
	arm(m);
}

void monitor__settings_changed(struct monitor *m)
{
	uint64_t soon = now_ns() + (uint64_t)m->o->window * 1000000000ULL;

	for (struct watched *e = m->list; e; e = e->next) {
		if (e->state != W_ACTIVE || !e->s)
			continue;
		/* A shorter window applies to the one running now. */
		if (e->next_ts > soon)
			e->next_ts = soon;
		if (e->gc_exact == loader__gc_exact(m->ld, m->o))
			continue;
		e->gc_exact = loader__gc_exact(m->ld, m->o);
		session__gc_exact(e->s, m->ld, e->gc_exact);
	}
	m->next_scan = now_ns() + (uint64_t)m->o->rescan * 1000000000ULL;
	arm(m);
}

static void exec_event(void *ctx, pid_t pid)
{
	struct monitor *m = ctx;
	struct watched *e = find_pid(m, pid);
	struct procinfo pi;

	/* A new program: whatever was decided about the old one no longer holds. */
	if (e) {
		release(m, e);
		unlink_entry(m, e);
	}
	/* Every exec on the machine comes here: only matches are kept. */
	if (rules__procinfo(pid, &pi, m->kinds) || rules__match(&m->rules, &pi) < 0)
		return;
	/* Give the dynamic loader and the interpreter's start-up a moment. */
	consider(m, pid, ms(200));
	arm(m);
}

static void fork_event(void *ctx, pid_t pid)
{
	struct monitor *m = ctx;
	struct procinfo pi;

	/* A forked worker is the same interpreter, already initialised. */
	if (rules__procinfo(pid, &pi, m->kinds) == 0 && rules__match(&m->rules, &pi) >= 0) {
		consider(m, pid, ms(50));
		arm(m);
	}
}

static struct watched *find_session(const struct monitor *m, const struct session *s)
{
	for (struct watched *e = m->list; e; e = e->next)
		if (e->s == s)
			return e;
	return NULL;
}

static void session_ending(void *ctx, struct session *s, const char *why, bool exited)
{
	struct monitor *m = ctx;
	/* Entries without a session (probing, ignored) have e->s == NULL: never match those. */
	struct watched *e = s ? find_session(m, s) : NULL;
	bool gc_exact;	/* the session is going: its probes with it */

	if (!e)
		return;
	log_info("process %d (%s): stopped watching: %s", e->pid, e->rule, why);
	forget_session(e, &gc_exact);
	if (!exited && procfs_start_time(e->pid) == e->start_time)
		e->state = W_IGNORED;	/* detached on request: leave it alone */
	else
		unlink_entry(m, e);
}

/* For `list`: {"watch": the watch state of s}, or NULL when s is not watched. */
static json_t *describe(void *ctx, const struct session *s)
{
	const struct monitor *m = ctx;
	const struct watched *e = find_session(m, s);
	json_t *o;

	if (!e)
		return NULL;
	o = json_pack("{s:o, s:i, s:I, s:I}", "rule", utf8_json_string(e->rule), "window_seconds", (int)m->o->window, "windows",
		      (json_int_t)e->windows, "label_changes", (json_int_t)e->label_changes);
	if (!o)
		return NULL;
	if (e->has_verdict) {
		json_object_set_new(o, "label", json_string(e->last.label));
		json_object_set_new(o, "confidence", json_real(e->last.confidence));
		json_object_set_new(o, "label_seconds", json_real((now_ns() - e->label_ts) / 1e9));
	} else {
		json_object_set_new(o, "label", json_null());
	}
	return json_pack("{s:o}", "watch", o);
}

int monitor__for_each(struct monitor *m, monitor_view_fn fn, void *ctx)
{
	int n = 0;

	/* What the GC probes recorded since the last wakeup belongs in this view. */
	registry__pump(m->reg);
	for (struct watched *e = m->list; e; e = e->next) {
		struct snapshot now, since = {};
		struct window total;
		struct watched_view v;

		if (e->state != W_ACTIVE || !e->s)
			continue;
		if (session__snapshot(e->s, m->ld, &now)) {
			snapshot__clear(&now);
			continue;
		}
		since.ts = e->s->attached_ts;
		if (window__diff(&total, &since, &now) == 0) {
			v = (struct watched_view){ e->s, e->rule, &total, &now, e->has_verdict, &e->last, e->last_seconds,
						   e->windows, e->label_changes };
			fn(ctx, &v);
			window__free(&total);
			n++;
		}
		snapshot__clear(&now);
	}
	return n;
}

int monitor__each_watched(struct monitor *m, void (*fn)(void *ctx, const struct session *s, const char *rule),
			  void *ctx)
{
	int n = 0;

	for (struct watched *e = m->list; e; e = e->next)
		if (e->state == W_ACTIVE && e->s) {
			fn(ctx, e->s, e->rule);
			n++;
		}
	return n;
}

unsigned int monitor__nwatched(const struct monitor *m)
{
	unsigned int n = 0;

	for (const struct watched *e = m ? m->list : NULL; e; e = e->next)
		n += e->s != NULL;
	return n;
}
