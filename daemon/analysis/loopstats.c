// SPDX-License-Identifier: MIT
/* Event-loop iterations and stalls from BPF's records and the window's samples (loopstats.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "loopstats.h"

#define LOOP_LOG_MAX 65536
/* A thread is an event loop when it completed this many busy periods in the window ... */
#define LOOP_MIN_ITERATIONS 2
/* ... or sat in poll/epoll/select this share of it. */
#define LOOP_MIN_POLL_SHARE 0.5
/* A loop busy this share of the window without a stall is saturated; below the other, idle. */
#define SATURATED_SHARE 0.9
#define IDLE_SHARE 0.05

int loopstats__log_add(struct loop_log *log, const struct loop_iter *it)
{
	return ARRAY_LOG_PUSH(&log->v, &log->cap, &log->n, LOOP_LOG_MAX, it, &log->dropped);
}

void loopstats__log_free(struct loop_log *log)
{
	free(log->v);
	memset(log, 0, sizeof(*log));
}

static const char *intern(struct loop_samples *ls, const char *s)
{
	char *copy;

	if (!s)
		return NULL;
	for (size_t i = ls->nstrs; i-- > 0;)
		if (!strcmp(ls->strs[i], s))
			return ls->strs[i];
	if (ls->nstrs == ls->capstrs) {
		size_t cap = ls->capstrs ? 2 * ls->capstrs : 32;
		char **v = realloc(ls->strs, cap * sizeof(*v));

		if (!v)
			return NULL;
		ls->strs = v;
		ls->capstrs = cap;
	}
	copy = strdup(s);
	if (copy)
		ls->strs[ls->nstrs++] = copy;
	return copy;
}

int loopstats__sample(struct loop_samples *ls, const struct loop_sample *s)
{
	if (ls->n >= LOOP_MAX_SAMPLES)
		return 0;
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? 2 * ls->cap : 256;
		struct loop_sample *v = realloc(ls->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n] = *s;
	ls->v[ls->n].site = intern(ls, s->site);
	ls->v[ls->n].task = intern(ls, s->task);
	ls->n++;
	return 0;
}

void loopstats__samples_free(struct loop_samples *ls)
{
	for (size_t i = 0; i < ls->nstrs; i++)
		free(ls->strs[i]);
	free(ls->strs);
	free(ls->v);
	memset(ls, 0, sizeof(*ls));
}

static bool in_asyncio(const struct pyframe *f)
{
	return f->file && (strstr(f->file, "/asyncio/") || !strncmp(f->file, "asyncio/", 8));
}

static bool machinery(const struct pyframe *f)
{
	static const char *const dirs[] = { "/asyncio/", "/selectors.py", "/tornado/", "/twisted/internet/",
					     "/gevent/", "/uvloop/" };

	for (size_t i = 0; f->file && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strstr(f->file, dirs[i]))
			return true;
	return false;
}

bool loopstats__describe(const struct pyframe *f, int n, char *site, size_t sitelen, char *task, size_t tasklen)
{
	const char *file;

	site[0] = task[0] = '\0';
	if (n <= 0)
		return false;
	file = f[0].file ? strrchr(f[0].file, '/') : NULL;
	file = file ? file + 1 : f[0].file ? f[0].file : "?";
	if (f[0].line > 0)
		snprintf(site, sitelen, "%s (%s:%d)", f[0].func ? f[0].func : "?", file, f[0].line);
	else
		snprintf(site, sitelen, "%s (%s)", f[0].func ? f[0].func : "?", file);
	for (int i = 0; i + 1 < n; i++)
		if (!machinery(&f[i]) && in_asyncio(&f[i + 1])) {
			snprintf(task, tasklen, "%s", f[i].func ? f[i].func : "?");
			break;
		}
	return machinery(&f[0]);
}

const char *loop_cause_name(enum loop_cause c)
{
	switch (c) {
	case LOOP_CAUSE_PYTHON:
		return "python";
	case LOOP_CAUSE_NATIVE:
		return "native";
	case LOOP_CAUSE_BLOCKING:
		return "blocking";
	case LOOP_CAUSE_SATURATED:
		return "saturated";
	default:
		return "unknown";
	}
}

/* The q-quantile of iteration lengths, by count, from the histogram (a bucket's mean). */
static double quantile(const struct busy_window *h, double q)
{
	uint64_t want = (uint64_t)(q * h->n + 0.5), acc = 0;

	if (!h->n)
		return 0;
	if (want < 1)
		want = 1;
	for (int i = 0; i < PP_HIST; i++) {
		acc += h->cnt[i];
		if (h->cnt[i] && acc >= want)
			return h->sec[i] / h->cnt[i];
	}
	return h->max;
}

static struct loop_thread *thread_of(struct loop_report *r, uint32_t tid)
{
	for (int i = 0; i < r->nthreads; i++)
		if (r->threads[i].tid == tid)
			return &r->threads[i];
	return NULL;
}

/* The site most samples of kind (blocked or on CPU) of tid in [from, to] show; counts them and the Python ones. */
static const char *most_common(struct loop_stall *st, const struct loop_sample *s, size_t n, uint64_t from,
			       uint64_t to, bool blocked, unsigned int *count, unsigned int *python, const char **last,
			       unsigned int *top, unsigned int *in_loop)
{
	const char *sites[64];
	unsigned int counts[64], nsites = 0, best = 0;

	*count = *python = *in_loop = 0;
	*last = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned int k;

		if (s[i].tid != st->tid || s[i].ts < from || s[i].ts > to || s[i].blocked != blocked)
			continue;
		(*count)++;
		*python += s[i].python;
		*in_loop += s[i].in_loop;
		if (!s[i].site)
			continue;
		*last = s[i].site;
		for (k = 0; k < nsites && sites[k] != s[i].site && strcmp(sites[k], s[i].site); k++)
			;
		if (k == nsites) {
			if (nsites == 64)
				continue;
			sites[nsites] = s[i].site;
			counts[nsites++] = 0;
		}
		counts[k]++;
	}
	for (unsigned int k = 1; k < nsites; k++)
		if (counts[k] > counts[best])
			best = k;
	*top = nsites ? counts[best] : 0;
	/* The coroutine: from the samples at that site (one taken as the loop moved on may show another). */
	for (size_t i = 0; i < n && !st->task; i++)
		if (s[i].tid == st->tid && s[i].ts >= from && s[i].ts <= to && s[i].blocked == blocked && s[i].task &&
		    (!nsites || (s[i].site && !strcmp(s[i].site, sites[best]))))
			st->task = s[i].task;
	return nsites ? sites[best] : NULL;
}

/*
 * A long period on CPU with this many samples, this share of them in the
 * loop's own machinery (scheduling, selecting, running callbacks): many short
 * callbacks, saturation. One long callback keeps the samples inside it.
 */
#define SATURATION_SAMPLES 4
#define SATURATION_MACHINERY 0.2

/* The call most of tid's blocked samples in [from, to] show it waiting in (bucket PP_B_NONE: none). */
static void looked_call(uint32_t tid, const struct loop_sample *s, size_t n, uint64_t from, uint64_t to,
			uint8_t *bucket, uint16_t *nr)
{
	unsigned int count[PP_NBUCKETS] = { 0 }, best = 0;

	*bucket = PP_B_NONE;
	*nr = PP_NR_NONE;
	for (size_t i = 0; i < n; i++) {
		if (s[i].tid != tid || s[i].ts < from || s[i].ts > to || !s[i].blocked || s[i].bucket >= PP_NBUCKETS)
			continue;
		if (++count[s[i].bucket] > best) {
			best = count[s[i].bucket];
			*bucket = s[i].bucket;
			*nr = s[i].nr;
		}
	}
}

/* What a period was: on CPU (Python or native), many short callbacks, or waiting (in which call). */
static void stall_cause(struct loop_stall *st, const uint64_t *ns, uint8_t max_state, uint16_t max_nr,
			uint64_t max_off, const struct loop_sample *s, size_t n, uint64_t from, uint64_t to)
{
	double dur = st->seconds, blocked = 0, oncpu = ns[PP_B_ONCPU] / 1e9;
	unsigned int cpu_n, python, wall_n, unused, top, in_loop;
	const char *cpu_site, *wall_site, *last_cpu, *last_wall;
	bool on_cpu;

	for (int b = PP_B_GIL_WAIT + 1; b < PP_NBUCKETS; b++)
		blocked += ns[b] / 1e9;
	/* The hook counts the period as mostly on CPU. */
	on_cpu = oncpu >= blocked && oncpu >= ns[PP_B_GIL_WAIT] / 1e9 && oncpu >= ns[PP_B_RUNQUEUE] / 1e9;
	cpu_site = most_common(st, s, n, from, to, false, &cpu_n, &python, &last_cpu, &top, &in_loop);
	wall_site = most_common(st, s, n, from, to, true, &wall_n, &unused, &last_wall, &unused, &unused);
	st->samples = cpu_n + wall_n;
	st->oncpu_share = dur > 0 ? oncpu / dur : 0;
	if (st->oncpu_share > 1)
		st->oncpu_share = 1;
	/*
	 * The hook's count says on CPU, yet not one CPU sample fell in the
	 * period and the daemon's looks found the thread blocked: the hook did
	 * not see it leave the CPU (docs/protocol.md, status: switches_unseen).
	 * The looks tell where and in which call it waited.
	 */
	if (on_cpu && !cpu_n && wall_n) {
		st->cause = LOOP_CAUSE_BLOCKING;
		st->site = wall_site;
		looked_call(st->tid, s, n, from, to, &st->blocked_state, &st->blocked_nr);
		st->blocked_seconds = 0;	/* not measured */
		st->oncpu_share = -1;		/* not known */
		return;
	}
	if (on_cpu) {
		st->site = cpu_site;
		if (cpu_n >= SATURATION_SAMPLES && in_loop >= SATURATION_MACHINERY * cpu_n)
			st->cause = LOOP_CAUSE_SATURATED;
		else
			st->cause = cpu_n && 2 * python < cpu_n ? LOOP_CAUSE_NATIVE : LOOP_CAUSE_PYTHON;
		return;
	}
	st->cause = LOOP_CAUSE_BLOCKING;
	/* Where it blocked: the stack the wall samples saw, else the last Python line that ran before. */
	st->site = wall_site ? wall_site : last_cpu;
	if (blocked >= ns[PP_B_GIL_WAIT] / 1e9 && blocked >= ns[PP_B_RUNQUEUE] / 1e9 && max_state != PP_B_NONE) {
		st->blocked_state = max_state;
		st->blocked_nr = max_nr;
		st->blocked_seconds = max_off / 1e9;
	} else {
		st->blocked_state = ns[PP_B_GIL_WAIT] >= ns[PP_B_RUNQUEUE] ? PP_B_GIL_WAIT : PP_B_RUNQUEUE;
		st->blocked_nr = PP_NR_NONE;
		st->blocked_seconds = ns[st->blocked_state] / 1e9;
	}
}

static void add_stall(struct loop_report *r, const struct loop_stall *st)
{
	struct loop_thread *t = thread_of(r, st->tid);
	int k;

	if (st->cause == LOOP_CAUSE_SATURATED) {
		if (t)
			t->saturated_seconds += st->seconds;
		return;
	}
	r->stalls_total++;
	if (st->seconds > r->worst)
		r->worst = st->seconds;
	if (t) {
		t->nstalls++;
		t->stall_seconds += st->seconds;
	}
	if (r->nstalls < LOOP_MAX_STALLS) {
		r->stalls[r->nstalls++] = *st;
	} else {
		/* Keep the longest: replace the shortest kept when this one is longer. */
		int min = 0;

		for (int i = 1; i < r->nstalls; i++)
			if (r->stalls[i].seconds < r->stalls[min].seconds)
				min = i;
		if (st->seconds > r->stalls[min].seconds)
			r->stalls[min] = *st;
	}
	for (k = 0; k < r->nsites; k++) {
		struct loop_site *s = &r->sites[k];

		if (s->cause == st->cause && s->blocked_state == st->blocked_state && s->blocked_nr == st->blocked_nr &&
		    (s->site == st->site || (s->site && st->site && !strcmp(s->site, st->site))))
			break;
	}
	if (k == r->nsites) {
		if (k == LOOP_MAX_SITES)
			return;
		r->sites[r->nsites++] = (struct loop_site){ .site = st->site, .cause = st->cause,
							      .blocked_state = st->blocked_state,
							      .blocked_nr = st->blocked_nr };
	}
	r->sites[k].count++;
	r->sites[k].seconds += st->seconds;
	if (st->seconds > r->sites[k].max)
		r->sites[k].max = st->seconds;
}

static int by_start(const void *a, const void *b)
{
	double x = ((const struct loop_stall *)a)->start, y = ((const struct loop_stall *)b)->start;

	return x < y ? -1 : x > y;
}

static int by_seconds(const void *a, const void *b)
{
	double x = ((const struct loop_site *)a)->seconds, y = ((const struct loop_site *)b)->seconds;

	return x > y ? -1 : x < y;
}

/* Does tid run an event loop by its CPU samples (some in the loop's machinery)? */
static bool machinery_samples(uint32_t tid, const struct loop_sample *s, size_t n)
{
	unsigned int cpu = 0, in_loop = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i].tid == tid && !s[i].blocked) {
			cpu++;
			in_loop += s[i].in_loop;
		}
	return cpu >= SATURATION_SAMPLES && in_loop >= SATURATION_MACHINERY * cpu;
}

/* Busy for the whole window without one wait that blocked: its period is the window (and before). */
static double open_period(const struct window *w, const struct thread_window *t)
{
	if (t->loop.open > 0 || t->loop.n || w->seconds <= 0)
		return t->loop.open;
	return t->sec[PP_B_ONCPU] + t->sec[PP_B_RUNQUEUE] + t->sec[PP_B_GIL_WAIT] >= 0.9 * w->seconds ? w->seconds : 0;
}

void loopstats__report(const struct window *w, uint64_t t0, uint64_t t1, const struct loop_log *log, double threshold,
		       const struct loop_sample *samples, size_t nsamples, struct loop_report *r)
{
	memset(r, 0, sizeof(*r));
	r->threshold = threshold;
	for (size_t i = 0; i < w->n && r->nthreads < LOOP_MAX_THREADS; i++) {
		const struct thread_window *t = &w->t[i];
		struct loop_thread *lt;
		bool recorded = false;

		for (size_t k = 0; k < log->n && !recorded; k++)
			recorded = log->v[k].tid == t->tid && log->v[k].end_ns > t0 && log->v[k].end_ns <= t1;
		if (t->loop.n < LOOP_MIN_ITERATIONS && !recorded &&
		    !(w->seconds > 0 && t->sec[PP_B_POLL_WAIT] >= LOOP_MIN_POLL_SHARE * w->seconds) &&
		    !machinery_samples(t->tid, samples, nsamples))
			continue;
		lt = &r->threads[r->nthreads++];
		lt->tid = t->tid;
		memcpy(lt->name, t->name, sizeof(lt->name));
		lt->iterations = t->loop.n;
		lt->busy_seconds = t->loop.total + open_period(w, t);
		lt->p50 = quantile(&t->loop, 0.5);
		lt->p99 = quantile(&t->loop, 0.99);
		lt->max = t->loop.max > open_period(w, t) ? t->loop.max : open_period(w, t);
		lt->hist = &t->loop;
	}
	for (size_t k = 0; k < log->n; k++) {
		const struct loop_iter *it = &log->v[k];
		struct loop_stall st = { .tid = it->tid };

		if (it->end_ns <= t0 || it->end_ns > t1 || it->end_ns - it->start_ns < threshold * 1e9 ||
		    !thread_of(r, it->tid))
			continue;
		st.start = ((double)it->start_ns - (double)t0) / 1e9;
		st.seconds = (it->end_ns - it->start_ns) / 1e9;
		stall_cause(&st, it->ns, it->max_state, it->max_nr, it->max_off_ns, samples, nsamples, it->start_ns,
			    it->end_ns);
		add_stall(r, &st);
	}
	/* A period under way at the end: no record yet; judged from its samples (on CPU, or none: blocked). */
	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *t = &w->t[i];
		uint64_t ns[PP_NBUCKETS] = { 0 };
		struct loop_stall st = { .tid = t->tid, .ongoing = true };

		double open = open_period(w, t);

		if (open < threshold || !thread_of(r, t->tid))
			continue;
		st.seconds = open;
		st.start = w->seconds - open;
		/* Blocked at the end (not in its wait): that call; else on CPU. The split is not known. */
		if (t->end_state > PP_B_GIL_WAIT && t->end_state < PP_NBUCKETS && t->end_state != PP_B_POLL_WAIT) {
			ns[t->end_state] = (uint64_t)(1e9 * open);
			stall_cause(&st, ns, t->end_state, t->end_nr, 0, samples, nsamples, t1 - (uint64_t)(1e9 * open),
				    t1);
			st.blocked_seconds = 0;
		} else {
			ns[PP_B_ONCPU] = (uint64_t)(1e9 * open);
			stall_cause(&st, ns, PP_B_NONE, PP_NR_NONE, 0, samples, nsamples, t1 - (uint64_t)(1e9 * open),
				    t1);
			if (!st.samples)
				st.cause = LOOP_CAUSE_UNKNOWN;
		}
		st.oncpu_share = -1;	/* not known for a period under way */
		add_stall(r, &st);
	}
	qsort(r->stalls, r->nstalls, sizeof(r->stalls[0]), by_start);
	qsort(r->sites, r->nsites, sizeof(r->sites[0]), by_seconds);
	for (int i = 0; i < r->nthreads; i++) {
		struct loop_thread *t = &r->threads[i];
		double share = w->seconds > 0 ? t->busy_seconds / w->seconds : 0;

		t->state = t->nstalls ? "stalled" :
			   share >= SATURATED_SHARE || t->saturated_seconds >= 0.5 * w->seconds ? "saturated" :
			   share < IDLE_SHARE ? "idle" : "healthy";
	}
}

void loopstats__summary(const struct loop_report *r, double window_seconds, struct loop_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->threshold = r->threshold;
	s->stalls = r->stalls_total;
	s->worst = r->worst;
	for (int i = 0; i < r->nthreads; i++) {
		const struct loop_thread *t = &r->threads[i];

		s->total += t->stall_seconds;
		if (!strcmp(t->state, "saturated") && window_seconds > 0 &&
		    t->busy_seconds / window_seconds > s->saturated_share) {
			s->saturated_tid = t->tid;
			s->saturated_share = t->busy_seconds / window_seconds;
		}
	}
	if (r->nsites) {
		const struct loop_site *site = &r->sites[0];

		s->cause = site->cause;
		s->blocked_state = site->blocked_state;
		s->blocked_nr = site->blocked_nr;
		s->site_count = site->count;
		s->site_seconds = site->seconds;
		s->site_max = site->max;
		snprintf(s->site, sizeof(s->site), "%s", site->site ? site->site : "");
		for (int i = 0; i < r->nstalls; i++)
			if (r->stalls[i].task && r->stalls[i].site == site->site) {
				snprintf(s->task, sizeof(s->task), "%s", r->stalls[i].task);
				break;
			}
	}
}
