// SPDX-License-Identifier: MIT
/*
 * Prometheus text exposition (format 0.0.4) and the small HTTP/1.x server
 * that serves it. Values are cumulative since the daemon attached to each
 * watched process, read when scraped; the verdict is the last full window's.
 * The server answers one request per connection and closes it; it holds at
 * most MAX_CONNS connections, dropping the oldest for a new one, and closes
 * any older than CONN_TIMEOUT, so silent clients cannot keep it busy. A page
 * is rendered at most once per CACHE_NS: scraping in a loop costs little.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "pyprobe/buckets.h"
#include "array.h"
#include "evloop.h"
#include "loader.h"
#include "log.h"
#include "monitor.h"
#include "opts.h"
#include "ctl_server.h"
#include "registry.h"
#include "requests.h"
#include "session.h"
#include "utf8.h"
#include "metrics.h"

#define MAX_CONNS 16
#define MAX_REQUEST 8192
#define MAX_THREAD_SERIES 256	/* per process */
#define CONN_TIMEOUT_NS (10 * 1000000000ULL)
#define CACHE_NS 1000000000ULL

struct mconn {
	struct watch w;
	struct metrics *mx;
	char in[MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	unsigned long seq;	/* age: the lowest goes first */
	uint64_t born;		/* CLOCK_MONOTONIC ns */
	struct mconn *next;
};

struct metrics {
	struct watch w;		/* the listener; first */
	struct evloop *ev;
	const struct opts *o;
	struct monitor *mon;
	struct registry *reg;
	struct requests *req;
	const struct ctl_server *ctl;
	struct loader *ld;
	struct mconn *conns;
	unsigned int nconns;
	unsigned long seq, scrapes;
	struct watch timer;	/* 1 s ticks while there are connections or accept is paused */
	bool paused;		/* out of file descriptors: the listener rests a tick */
	char *page;		/* the last rendering */
	size_t page_len;
	uint64_t page_ts;
};

/*
 * Label values: backslash, double quote and newline escaped; bytes that are
 * not UTF-8 (thread names and paths are the target's to choose) become U+FFFD,
 * or one bad value would make the whole page unreadable.
 */
static void put_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int n = utf8_seq_len(s);

		if (!n) {
			fputs("\xef\xbf\xbd", f);
			s++;
			continue;
		}
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{pid="1",rule="..."[,extra]} value */
static void proc_sample(FILE *f, const char *name, const struct watched_view *v, const char *extra, double value)
{
	fprintf(f, "%s{pid=\"%d\",rule=\"", name, v->s->pid);
	put_escaped(f, v->rule);
	fprintf(f, "\"%s%s} %.15g\n", extra ? "," : "", extra ? extra : "", value);
}

struct render {
	FILE *f;
	struct metrics *mx;
	int pass;	/* which family proc_pass writes now */
};

enum {
	P_INFO, P_OBSERVED, P_THREADS, P_SECONDS, P_GIL_SEC, P_GIL_WAITS, P_SAMPLES, P_GC_COLL, P_GC_COLLECTED,
	P_GC_UNCOLL, P_GC_PAUSE, P_LABEL, P_CONFIDENCE, P_SHARE, P_WINDOWS, P_CHANGES, P_THREAD_SECONDS, P_NPASSES
};

static const struct {
	const char *name, *type, *help;
} fam[P_NPASSES] = {
	[P_INFO] = { "pyprobe_process_info", "gauge", "A watched CPython process: its interpreter and executable." },
	[P_OBSERVED] = { "pyprobe_process_observed_seconds_total", "counter", "Time since pyprobed attached." },
	[P_THREADS] = { "pyprobe_process_threads", "gauge", "Threads seen doing anything since attach." },
	[P_SECONDS] = { "pyprobe_thread_seconds_total", "counter",
			"Thread-seconds by scheduler state, summed over the process's threads (exact)." },
	[P_GIL_SEC] = { "pyprobe_gil_wait_seconds_total", "counter",
			"Time threads waited for the GIL: acquire or forced hand-off (exact)." },
	[P_GIL_WAITS] = { "pyprobe_gil_waits_total", "counter", "Blocking waits for the GIL." },
	[P_SAMPLES] = { "pyprobe_cpu_samples_total", "counter",
			"CPU samples of the process's threads by what they were doing (sampled)." },
	[P_GC_COLL] = { "pyprobe_gc_collections_total", "counter",
			"Collections per generation, from the interpreter's own counters since it started; "
			"generation 0's rate follows object churn." },
	[P_GC_COLLECTED] = { "pyprobe_gc_collected_objects_total", "counter", "Objects the collector freed." },
	[P_GC_UNCOLL] = { "pyprobe_gc_uncollectable_objects_total", "counter",
			  "Objects the collector found uncollectable." },
	[P_GC_PAUSE] = { "pyprobe_gc_pause_seconds", "histogram",
			 "Timed collections (gc-timing exact, or while a pyprobe gc window is open)." },
	[P_LABEL] = { "pyprobe_verdict", "gauge", "The label of the last full window (1 for the current label)." },
	[P_CONFIDENCE] = { "pyprobe_verdict_confidence", "gauge", "Confidence of the last full window's label." },
	[P_SHARE] = { "pyprobe_work_share", "gauge",
		      "Share of the last full window's work (cpu, gil, io, other) the verdict is based on." },
	[P_WINDOWS] = { "pyprobe_windows_total", "counter", "Rolling windows classified." },
	[P_CHANGES] = { "pyprobe_label_changes_total", "counter", "Times the label changed between windows." },
	[P_THREAD_SECONDS] = { "pyprobe_thread_state_seconds_total", "counter",
			       "Per thread: seconds by scheduler state (exact)." },
};

static void thread_series(FILE *f, const struct watched_view *v)
{
	size_t n = v->total->n < MAX_THREAD_SERIES ? v->total->n : MAX_THREAD_SERIES;

	for (size_t i = 0; i < n; i++) {
		const struct thread_window *t = &v->total->t[i];

		if (t->exited)
			continue;	/* its time stays in the process totals */
		for (int b = 0; b < PP_NBUCKETS; b++) {
			fprintf(f, "%s{pid=\"%d\",rule=\"", fam[P_THREAD_SECONDS].name, v->s->pid);
			put_escaped(f, v->rule);
			fprintf(f, "\",tid=\"%u\",thread=\"", t->tid);
			put_escaped(f, t->name);
			fprintf(f, "\",state=\"%s\"} %.15g\n", pp_bucket_names[b], t->sec[b]);
		}
	}
}

static void proc_pass(struct render *r, const struct watched_view *v)
{
	const struct window *w = v->total;
	const struct session *s = v->s;
	const struct gc_counts *gc = &v->now->gc;
	FILE *f = r->f;
	char extra[128];
	double sec[PP_NBUCKETS] = {}, gil[PP_GIL_NKINDS] = {};
	uint64_t gcnt[PP_GIL_NKINDS] = {}, smp[6] = {};

	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *t = &w->t[i];

		for (int b = 0; b < PP_NBUCKETS; b++)
			sec[b] += t->sec[b];
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			gil[k] += t->gil_sec[k];
			gcnt[k] += t->gil_cnt[k];
		}
		smp[0] += t->samples_gil;
		smp[1] += t->samples_nogil;
		smp[2] += t->samples_unknown;
		smp[3] += t->samples_kernel_io;
		smp[4] += t->samples_gc;
	}
	switch (r->pass) {
	case P_INFO:
		fprintf(f, "%s{pid=\"%d\",rule=\"", fam[P_INFO].name, s->pid);
		put_escaped(f, v->rule);
		fputs("\",python_version=\"", f);
		put_escaped(f, s->py.version);
		fputs("\",exe=\"", f);
		put_escaped(f, s->py.exe);
		fputs("\"} 1\n", f);
		break;
	case P_OBSERVED:
		proc_sample(f, fam[r->pass].name, v, NULL, w->seconds);
		break;
	case P_THREADS:
		proc_sample(f, fam[r->pass].name, v, NULL, (double)w->n);
		break;
	case P_SECONDS:
		for (int b = 0; b < PP_NBUCKETS; b++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"", pp_bucket_names[b]);
			proc_sample(f, fam[r->pass].name, v, extra, sec[b]);
		}
		break;
	case P_GIL_SEC:
	case P_GIL_WAITS:
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			snprintf(extra, sizeof(extra), "kind=\"%s\"", k == PP_GIL_ACQUIRE ? "acquire" : "handoff");
			proc_sample(f, fam[r->pass].name, v, extra, r->pass == P_GIL_SEC ? gil[k] : (double)gcnt[k]);
		}
		break;
	case P_SAMPLES: {
		static const char *const kinds[] = { "python_gil", "native_nogil", "unknown", "kernel_io", "gc" };

		for (int k = 0; k < 5; k++) {
			snprintf(extra, sizeof(extra), "kind=\"%s\"", kinds[k]);
			proc_sample(f, fam[r->pass].name, v, extra, (double)smp[k]);
		}
		break;
	}
	case P_GC_COLL:
	case P_GC_COLLECTED:
	case P_GC_UNCOLL:
		if (!gc->valid)
			break;
		for (int g = 0; g < GC_GENS; g++) {
			const uint64_t *val = r->pass == P_GC_COLL ? gc->collections :
					      r->pass == P_GC_COLLECTED ? gc->collected : gc->uncollectable;

			snprintf(extra, sizeof(extra), "generation=\"%d\"", g);
			proc_sample(f, fam[r->pass].name, v, extra, (double)val[g]);
		}
		break;
	case P_GC_PAUSE: {
		uint64_t cum = 0;
		char name[64];

		snprintf(name, sizeof(name), "%s_bucket", fam[P_GC_PAUSE].name);
		for (int b = 0; b < GC_HIST_BUCKETS - 1; b++) {
			cum += s->gc_hist[b];
			snprintf(extra, sizeof(extra), "le=\"%g\"", (double)(2ULL << b) / 1e6);
			proc_sample(f, name, v, extra, (double)cum);
		}
		proc_sample(f, name, v, "le=\"+Inf\"", (double)s->gc_timed);
		snprintf(name, sizeof(name), "%s_sum", fam[P_GC_PAUSE].name);
		proc_sample(f, name, v, NULL, s->gc_pause_sum);
		snprintf(name, sizeof(name), "%s_count", fam[P_GC_PAUSE].name);
		proc_sample(f, name, v, NULL, (double)s->gc_timed);
		break;
	}
	case P_LABEL:
		if (v->has_verdict) {
			snprintf(extra, sizeof(extra), "label=\"%s\"", v->last->label);
			proc_sample(f, fam[r->pass].name, v, extra, 1);
		}
		break;
	case P_CONFIDENCE:
		if (v->has_verdict)
			proc_sample(f, fam[r->pass].name, v, NULL, v->last->confidence);
		break;
	case P_SHARE:
		if (v->has_verdict) {
			const struct totals *t = &v->last->tot;
			const double parts[] = { t->cpu, t->gil, t->io, t->other };
			static const char *const names[] = { "cpu", "gil", "io", "other" };

			for (int i = 0; i < 4; i++) {
				snprintf(extra, sizeof(extra), "part=\"%s\"", names[i]);
				proc_sample(f, fam[r->pass].name, v, extra, t->work > 0 ? parts[i] / t->work : 0);
			}
		}
		break;
	case P_WINDOWS:
		proc_sample(f, fam[r->pass].name, v, NULL, (double)v->windows);
		break;
	case P_CHANGES:
		proc_sample(f, fam[r->pass].name, v, NULL, (double)v->label_changes);
		break;
	case P_THREAD_SECONDS:
		thread_series(f, v);
		break;
	}
}

static void daemon_metrics(FILE *f, struct metrics *mx)
{
	struct requests_stats ss;
	struct loader_stats ls;

	requests__stats(mx->req, &ss);
	loader__stats(mx->ld, &ls);
	family(f, "pyprobe_build_info", "gauge", "The pyprobed version.");
	fprintf(f, "pyprobe_build_info{version=\"%s\"} 1\n", PYPROBE_VERSION);
	family(f, "pyprobe_uptime_seconds", "gauge", "Seconds since pyprobed started.");
	fprintf(f, "pyprobe_uptime_seconds %.3f\n", ss.uptime);
	family(f, "pyprobe_sessions", "gauge", "Processes observed now (watched or on request).");
	fprintf(f, "pyprobe_sessions %u\n", registry__count(mx->reg));
	family(f, "pyprobe_watched_processes", "gauge", "Processes watched by the config file's rules.");
	fprintf(f, "pyprobe_watched_processes %u\n", monitor__nwatched(mx->mon));
	family(f, "pyprobe_pending_windows", "gauge", "Request windows open now.");
	fprintf(f, "pyprobe_pending_windows %u\n", ss.pending);
	family(f, "pyprobe_clients", "gauge", "Control-socket clients connected.");
	fprintf(f, "pyprobe_clients %u\n", ctl_server__nclients(mx->ctl));
	family(f, "pyprobe_requests_total", "counter", "Control-socket requests served.");
	fprintf(f, "pyprobe_requests_total %lu\n", ss.requests);
	family(f, "pyprobe_scrapes_total", "counter", "Metrics scrapes served.");
	fprintf(f, "pyprobe_scrapes_total %lu\n", mx->scrapes);
	family(f, "pyprobe_bpf_events_lost_total", "counter", "Ring-buffer records lost because it was full.");
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"sched\"} %llu\n", (unsigned long long)ls.events_lost);
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"gc\"} %llu\n", (unsigned long long)ls.gc_events_lost);
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"procs\"} %llu\n",
		(unsigned long long)ls.proc_events_lost);
	family(f, "pyprobe_bpf_map_full_total", "counter", "Threads not tracked past max-threads, and GIL charges lost because their map was full.");
	fprintf(f, "pyprobe_bpf_map_full_total{map=\"threads\"} %llu\n", (unsigned long long)ls.threads_full);
	fprintf(f, "pyprobe_bpf_map_full_total{map=\"gil_charges\"} %llu\n", (unsigned long long)ls.gil_charges_full);
}

/* Families are written into a stream each, so one snapshot per process serves them all. */
struct streams {
	struct metrics *mx;
	FILE *f[P_NPASSES];
	char *buf[P_NPASSES];
	size_t len[P_NPASSES];
};

static void proc_all(void *ctx, const struct watched_view *v)
{
	struct streams *st = ctx;

	for (int p = 0; p < P_NPASSES; p++) {
		struct render r = { st->f[p], st->mx, p };

		if (r.f)
			proc_pass(&r, v);
	}
}

char *metrics__render(struct metrics *mx, size_t *len)
{
	struct streams st = { .mx = mx };
	char *buf = NULL;
	bool ok = true;
	FILE *f;

	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	daemon_metrics(f, mx);
	for (int p = 0; p < P_NPASSES; p++) {
		if (p == P_THREAD_SECONDS && !mx->o->metrics_threads)
			continue;
		st.f[p] = open_memstream(&st.buf[p], &st.len[p]);
		ok &= st.f[p] != NULL;
	}
	if (ok)
		monitor__for_each(mx->mon, proc_all, &st);
	for (int p = 0; p < P_NPASSES; p++) {
		if (!st.f[p])
			continue;
		ok &= fclose(st.f[p]) == 0;
		family(f, fam[p].name, fam[p].type, fam[p].help);
		if (st.buf[p])
			fwrite(st.buf[p], 1, st.len[p], f);
		free(st.buf[p]);
	}
	if (fclose(f) || !ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void conn_free(struct mconn *c)
{
	struct metrics *mx = c->mx;
	struct mconn **pp = &mx->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	mx->nconns--;
	evloop__del(mx->ev, &c->w);
	/*
	 * Closing with unread input makes the kernel send a reset, which can cut
	 * the response short at the client: say we are done, drop what came in.
	 */
	shutdown(c->w.fd, SHUT_WR);
	for (int i = 0; i < 16 && read(c->w.fd, c->in, sizeof(c->in)) > 0; i++)
		;
	close(c->w.fd);
	free(c->out);
	free(c);
}

static void tick(struct metrics *mx, bool on)
{
	evloop__timer_set(&mx->timer, on ? now_ns() + 1000000000ULL : 0, 1000000000ULL);
}

static void timer_event(struct watch *w, uint32_t events)
{
	struct metrics *mx = container_of(w, struct metrics, timer);
	uint64_t now = now_ns();

	evloop__timer_ack(w);
	for (struct mconn *c = mx->conns, *next; c; c = next) {
		next = c->next;
		if (now - c->born > CONN_TIMEOUT_NS)
			conn_free(c);
	}
	if (mx->paused && evloop__mod(mx->ev, &mx->w, EPOLLIN) == 0)
		mx->paused = false;
	if (!mx->nconns && !mx->paused)
		tick(mx, false);
}

static void respond(struct mconn *c, int status, const char *reason, const char *type, const char *body,
		    size_t blen)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return;
	fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n", status,
		reason, type, blen);
	if (status == 405)
		fputs("Allow: GET, HEAD\r\n", f);
	fputs("\r\n", f);
	if (body)
		fwrite(body, 1, blen, f);
	if (fclose(f)) {
		free(out);
		return;
	}
	c->out = out;
	c->outlen = len;
	c->outoff = 0;
}

static void handle_request(struct mconn *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	static const char prom[] = "text/plain; version=0.0.4; charset=utf-8";
	char method[16], target[256];
	size_t len;
	char *body;
	bool head;


	if (sscanf(c->in, "%15s %255s HTTP/1.%*c", method, target) != 2) {
		respond(c, 400, "Bad Request", text, "bad request\n", 12);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond(c, 405, "Method Not Allowed", text, "only GET\n", 9);
		return;
	}
	if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9)) {
		if (!strcmp(target, "/")) {
			static const char idx[] = "pyprobed: metrics at /metrics\n";

			respond(c, 200, "OK", text, idx, sizeof(idx) - 1);
			return;
		}
		respond(c, 404, "Not Found", text, "not found: try /metrics\n", 24);
		return;
	}
	c->mx->scrapes++;
	if (!c->mx->page || now_ns() - c->mx->page_ts > CACHE_NS) {
		body = metrics__render(c->mx, &len);
		if (!body) {
			respond(c, 500, "Internal Server Error", text, "out of memory\n", 14);
			return;
		}
		free(c->mx->page);
		c->mx->page = body;
		c->mx->page_len = len;
		c->mx->page_ts = now_ns();
	}
	/* HEAD: the headers name the length a GET would get, without the body. */
	respond(c, 200, "OK", prom, head ? NULL : c->mx->page, c->mx->page_len);
}

static void conn_event(struct watch *w, uint32_t events)
{
	struct mconn *c = (struct mconn *)w;
	ssize_t n;

	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_free(c);
		return;
	}
	if (!c->out && (events & EPOLLIN)) {
		n = read(w->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				conn_free(c);
			return;
		}
		c->inlen += n;
		c->in[c->inlen] = 0;
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n"))
			handle_request(c);
		else if (c->inlen >= sizeof(c->in) - 1)
			respond(c, 431, "Request Header Fields Too Large", "text/plain", "request too large\n", 18);
		else
			return;
		if (!c->out) {
			conn_free(c);
			return;
		}
		evloop__mod(c->mx->ev, &c->w, EPOLLOUT);
	}
	if (c->out) {
		while (c->outoff < c->outlen) {
			n = write(w->fd, c->out + c->outoff, c->outlen - c->outoff);
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				break;
			}
			c->outoff += n;
		}
		conn_free(c);
	}
}

static void accept_event(struct watch *w, uint32_t events)
{
	struct metrics *mx = (struct metrics *)w;
	struct mconn *c, *oldest;
	int fd;

	for (;;) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Level-triggered: out of fds, rest a tick instead of spinning. */
			if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
			    evloop__mod(mx->ev, &mx->w, 0) == 0) {
				mx->paused = true;
				tick(mx, true);
			}
			return;
		}
		if (mx->nconns >= MAX_CONNS) {
			oldest = mx->conns;
			for (struct mconn *o = mx->conns; o; o = o->next)
				if (o->seq < oldest->seq)
					oldest = o;
			conn_free(oldest);
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->w.fd = fd;
		c->w.fn = conn_event;
		c->mx = mx;
		c->seq = ++mx->seq;
		c->born = now_ns();
		if (evloop__add(mx->ev, &c->w, EPOLLIN | EPOLLRDHUP)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = mx->conns;
		mx->conns = c;
		if (mx->nconns++ == 0)
			tick(mx, true);
	}
}

struct metrics *metrics__new(struct evloop *ev, const struct opts *o, const struct metrics_sources *src)
{
	struct metrics *mx = calloc(1, sizeof(*mx));
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	int one = 1, err;

	if (!mx)
		return NULL;
	mx->ev = ev;
	mx->o = o;
	mx->mon = src->mon;
	mx->reg = src->reg;
	mx->req = src->req;
	mx->ctl = src->ctl;
	mx->ld = registry__loader(src->reg);
	if (inet_pton(AF_INET, o->metrics_addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(o->metrics_port);
		slen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, o->metrics_addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(o->metrics_port);
		slen = sizeof(*in6);
	} else {
		free(mx);
		errno = EINVAL;
		return NULL;
	}
	mx->timer.fn = timer_event;
	err = evloop__timer_add(ev, &mx->timer);
	if (err) {
		free(mx);
		errno = -err;
		return NULL;
	}
	mx->w.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mx->w.fn = accept_event;
	if (mx->w.fd < 0)
		goto fail;
	setsockopt(mx->w.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(mx->w.fd, (struct sockaddr *)&ss, slen) || listen(mx->w.fd, 64) || evloop__add(ev, &mx->w, EPOLLIN))
		goto fail;
	return mx;
fail:
	err = errno;
	if (mx->w.fd >= 0)
		close(mx->w.fd);
	evloop__timer_del(ev, &mx->timer);
	free(mx);
	errno = err;
	return NULL;
}

void metrics__free(struct metrics *mx)
{
	if (!mx)
		return;
	while (mx->conns)
		conn_free(mx->conns);
	evloop__del(mx->ev, &mx->w);
	close(mx->w.fd);
	evloop__timer_del(mx->ev, &mx->timer);
	free(mx->page);
	free(mx);
}
