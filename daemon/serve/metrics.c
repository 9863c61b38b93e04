// SPDX-License-Identifier: MIT
/*
 * The small HTTP/1.x server of the Prometheus exposition (prom.c), rendered
 * when scraped, and of profiles in net/http/pprof's convention (scrape.c):
 * GET /debug/pprof/profile?pid=P&seconds=N opens a record window like a
 * control client's and answers when it ends, the event loop serving on
 * meanwhile. It answers one request per connection and closes it; it holds
 * at most MAX_CONNS connections, dropping the oldest for a new one (a
 * profile's last), and closes any older than CONN_TIMEOUT (a profile's when
 * its window is long overdue), so silent clients cannot keep it busy. At
 * most MAX_SCRAPES profiles are recorded at once: more get 429 with
 * Retry-After. A page is rendered at most once per CACHE_NS: scraping in a
 * loop costs little.
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
#include "array.h"
#include "evloop.h"
#include "loader.h"
#include "monitor.h"
#include "opts.h"
#include "ctl_server.h"
#include "listener.h"
#include "prom.h"
#include "registry.h"
#include "requests.h"
#include "scrape.h"
#include "session.h"
#include "metrics.h"

#define MAX_CONNS 16
#define MAX_REQUEST 8192
#define CONN_TIMEOUT_NS (10 * 1000000000ULL)
#define CACHE_NS 1000000000ULL
#define MAX_SCRAPES 4
/* A profile's connection lives this long past its window (attaching, finishing). */
#define SCRAPE_GRACE_NS (30 * 1000000000ULL)

struct mconn {
	struct watch w;
	struct metrics *mx;
	char in[MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	unsigned long seq;	/* age: the lowest goes first */
	uint64_t born;		/* CLOCK_MONOTONIC ns */
	uint64_t expires;	/* closed then, if still open */
	bool head;		/* a HEAD request: headers only */
	struct scrape sc;	/* a profile being recorded for it */
	struct client cl;	/* ... as a client of the requests (cl.deliver set while waiting) */
	struct mconn *next;
};

struct metrics {
	struct listener *lis;
	struct evloop *ev;
	const struct opts *o;
	struct monitor *mon;
	struct registry *reg;
	struct requests *req;
	const struct ctl_server *ctl;
	struct loader *ld;
	struct mconn *conns;
	unsigned int nconns;
	unsigned long seq, scrapes, profiles[2], refused;
	unsigned int recording;	/* connections waiting for a profile */
	struct watch timer;	/* 1 s ticks while there are connections */
	char *page;		/* the last rendering */
	size_t page_len;
	uint64_t page_ts;
};

static void add_view(void *p, const struct watched_view *v)
{
	prom__add(p, v);
}

/* The whole page (malloc'ed, *len bytes), or NULL. */
static char *render(struct metrics *mx, size_t *len)
{
	struct prom_daemon d = {
		.version = PYPROBE_VERSION,
		.sessions = registry__count(mx->reg),
		.watched = monitor__nwatched(mx->mon),
		.clients = ctl_server__nclients(mx->ctl),
		.scrapes = mx->scrapes,
		.profiles = { mx->profiles[0], mx->profiles[1] },
		.profiles_refused = mx->refused,
		.recording = mx->recording,
	};
	struct prom *p;

	requests__stats(mx->req, &d.req);
	loader__stats(mx->ld, &d.bpf);
	p = prom__new(&d, mx->o->metrics_threads);
	if (p)
		monitor__for_each(mx->mon, add_view, p);
	return prom__finish(p, len);
}

static void conn_free(struct mconn *c)
{
	struct metrics *mx = c->mx;
	struct mconn **pp = &mx->conns;

	/* A profile still being recorded: its window ends without a reply. */
	if (c->cl.deliver) {
		requests__client_closed(mx->req, &c->cl);
		mx->recording--;
	}
	scrape__free(&c->sc);

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
	listener__resume(mx->lis);	/* a descriptor is free again */
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
		if (now > c->expires)
			conn_free(c);
	}
	if (!mx->nconns)
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
	if (status == 429)
		fprintf(f, "Retry-After: %d\r\n", SCRAPE_DEFAULT_SECONDS);
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

static const char text[] = "text/plain; charset=utf-8";

static const char *reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void respond_text(struct mconn *c, int status, const char *msg)
{
	respond(c, status, reason_of(status), text, c->head ? NULL : msg, strlen(msg));
}

/* The profile's window ended: its reply line (taken) to pprof, or to the error. */
static void profile_done(struct client *cl, char *line)
{
	struct mconn *c = container_of(cl, struct mconn, cl);
	unsigned char *pb = NULL;
	char msg[1024];
	size_t n = 0;
	int status = 500;

	c->cl.deliver = NULL;
	c->mx->recording--;
	if (line)
		status = scrape__encode(&c->sc, line, &pb, &n, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "out of memory\n");
	free(line);
	scrape__free(&c->sc);
	if (status == 200)
		respond(c, 200, "OK", "application/octet-stream", c->head ? NULL : (const char *)pb, n);
	else
		respond_text(c, status, msg);
	free(pb);
	/* Never freed here (the requests side still holds cl): the loop writes it out, or the timer ends it. */
	c->expires = c->out ? now_ns() + CONN_TIMEOUT_NS : 0;
	if (c->out)
		evloop__mod(c->mx->ev, &c->w, EPOLLOUT);
}

/*
 * GET /debug/pprof/profile?pid=P&seconds=N (or /debug/pprof/wall): a record
 * window on watched processes, answered when it ends.
 */
static void profile_start(struct mconn *c, const char *query, bool wall)
{
	struct metrics *mx = c->mx;
	char msg[512];
	int status;

	if (mx->recording >= MAX_SCRAPES) {
		snprintf(msg, sizeof(msg), "%d profiles are being recorded already (the most at once): retry later\n",
			 MAX_SCRAPES);
		mx->refused++;
		respond_text(c, 429, msg);
		return;
	}
	status = scrape__parse(mx->mon, query, wall, &c->sc, msg, sizeof(msg));
	if (status) {
		respond_text(c, status, msg);
		return;
	}
	c->cl.deliver = profile_done;
	c->cl.busy = true;
	mx->recording++;
	mx->profiles[wall]++;
	c->expires = now_ns() + (uint64_t)(c->sc.r.seconds * 1e9) + SCRAPE_GRACE_NS;
	/* Its reply may come at once (an error), or when the window ends. */
	requests__window(mx->req, &c->cl, &c->sc.r);
}

static const char pprof_index[] =
	"<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\n"
	"<p>pyprobed: profiles of the watched processes, in pprof's format (gzip-compressed protobuf)</p>\n"
	"<table>\n"
	"<tr><td><a href=\"profile?seconds=30\">profile</a></td><td>CPU profile with Python stacks over "
	"<code>seconds</code> (default 30, at most 300); <code>pid=</code> one watched process, else every one, "
	"each sample labelled pid, rule, unit and comm</td></tr>\n"
	"<tr><td><a href=\"wall?seconds=30\">wall</a></td><td>wall-clock profile, the same way: every thread's "
	"time on and off CPU, off-CPU time under the Python stack it waited in and a leaf naming why "
	"([gil wait], [net io], [file io], [lock], [sleep], [poll], ...); sample types cpu, wall, gil_wait "
	"(nanoseconds)</td></tr>\n"
	"</table>\n"
	"<p>go tool pprof http://HOST:PORT/debug/pprof/profile?seconds=10 &middot; "
	"Parca, Grafana Alloy's pyroscope.scrape: docs/fleet.md</p>\n"
	"</body></html>\n";

static void handle_request(struct mconn *c)
{
	static const char prom[] = "text/plain; version=0.0.4; charset=utf-8";
	char method[16], target[512], *query;
	size_t len;
	char *body;

	if (sscanf(c->in, "%15s %511s HTTP/1.%*c", method, target) != 2) {
		respond(c, 400, "Bad Request", text, "bad request\n", 12);
		return;
	}
	c->head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !c->head) {
		respond(c, 405, "Method Not Allowed", text, "only GET\n", 9);
		return;
	}
	query = strchr(target, '?');
	if (query)
		*query++ = 0;
	if (!strcmp(target, "/debug/pprof/profile") || !strcmp(target, "/debug/pprof/wall")) {
		profile_start(c, query ? query : "", !strcmp(target, "/debug/pprof/wall"));
		return;
	}
	if (!strcmp(target, "/debug/pprof/") || !strcmp(target, "/debug/pprof")) {
		respond(c, 200, "OK", "text/html; charset=utf-8", c->head ? NULL : pprof_index, sizeof(pprof_index) - 1);
		return;
	}
	if (strcmp(target, "/metrics")) {
		if (!strcmp(target, "/")) {
			static const char idx[] = "pyprobed: metrics at /metrics, profiles at /debug/pprof/\n";

			respond_text(c, 200, idx);
			return;
		}
		respond_text(c, 404, "not found: try /metrics or /debug/pprof/\n");
		return;
	}
	c->mx->scrapes++;
	if (!c->mx->page || now_ns() - c->mx->page_ts > CACHE_NS) {
		body = render(c->mx, &len);
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
	respond(c, 200, "OK", prom, c->head ? NULL : c->mx->page, c->mx->page_len);
}

static void conn_event(struct watch *w, uint32_t events)
{
	struct mconn *c = container_of(w, struct mconn, w);
	ssize_t n;

	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_free(c);
		return;
	}
	if (c->cl.deliver) {
		/* Recording a profile for it: only its going away matters (the window ends with it). */
		char drop[512];

		n = read(w->fd, drop, sizeof(drop));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
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
			if (!c->cl.deliver)
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

static void accept_conn(void *ctx, int fd)
{
	struct metrics *mx = ctx;
	struct mconn *c, *oldest;

	if (mx->nconns >= MAX_CONNS) {
		/* The oldest that is not waiting for a profile (at most MAX_SCRAPES are). */
		oldest = NULL;
		for (struct mconn *o = mx->conns; o; o = o->next)
			if (!o->cl.deliver && (!oldest || o->seq < oldest->seq))
				oldest = o;
		if (oldest)
			conn_free(oldest);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w.fd = fd;
	c->w.fn = conn_event;
	c->mx = mx;
	c->seq = ++mx->seq;
	c->born = now_ns();
	c->expires = c->born + CONN_TIMEOUT_NS;
	if (evloop__add(mx->ev, &c->w, EPOLLIN | EPOLLRDHUP)) {
		close(fd);
		free(c);
		return;
	}
	c->next = mx->conns;
	mx->conns = c;
	if (mx->nconns++ == 0)
		tick(mx, true);
}

struct metrics *metrics__new(struct evloop *ev, const struct opts *o, const struct metrics_sources *src)
{
	struct metrics *mx = calloc(1, sizeof(*mx));
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char name[128];
	socklen_t slen;
	int one = 1, fd = -1, err = 0;

	if (!mx)
		return NULL;
	mx->ev = ev;
	mx->o = o;
	mx->mon = src->mon;
	mx->reg = src->reg;
	mx->req = src->req;
	mx->ctl = src->ctl;
	mx->ld = registry__loader(src->reg);
	mx->timer.fd = -1;
	if (inet_pton(AF_INET, o->metrics_addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(o->metrics_port);
		slen = sizeof(*in4);
		snprintf(name, sizeof(name), "http://%s:%u", o->metrics_addr, o->metrics_port);
	} else if (inet_pton(AF_INET6, o->metrics_addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(o->metrics_port);
		slen = sizeof(*in6);
		snprintf(name, sizeof(name), "http://[%s]:%u", o->metrics_addr, o->metrics_port);
	} else {
		err = -EINVAL;
		goto cleanup;
	}
	mx->timer.fn = timer_event;
	err = evloop__timer_add(ev, &mx->timer);
	if (err)
		goto cleanup;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) || listen(fd, 64)) {
		err = -errno;
		goto cleanup;
	}
	/* The listener owns fd from here, also when it fails. */
	mx->lis = listener__new(ev, fd, name, accept_conn, mx);
	fd = -1;
	if (!mx->lis)
		err = -errno;
cleanup:
	if (err) {
		if (fd >= 0)
			close(fd);
		evloop__timer_del(ev, &mx->timer);
		free(mx);
		mx = NULL;
		errno = -err;
	}
	return mx;
}

void metrics__free(struct metrics *mx)
{
	if (!mx)
		return;
	while (mx->conns)
		conn_free(mx->conns);
	listener__free(mx->lis);
	evloop__timer_del(mx->ev, &mx->timer);
	free(mx->page);
	free(mx);
}
