// SPDX-License-Identifier: MIT
/*
 * The control socket: accept clients, frame newline-delimited requests, queue
 * replies. Non-blocking throughout; a slow or silent client holds only its own
 * buffers, never the loop, and those are bounded: a client that does not read
 * its replies gets no further requests read until it does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "pyprobe/ctl.h"
#include "array.h"
#include "evloop.h"
#include "listener.h"
#include "protocol.h"
#include "ctl_server.h"

/* Unsent reply bytes above which a client's next requests wait in its socket. */
#define CONN_OUT_HIGH (64 * 1024)
/* Clients past max-clients kept open until their request comes, so they can read why. */
#define REFUSED_MAX 16

struct conn {
	struct client c;	/* what the handlers see */
	struct watch w;
	struct ctl_server *srv;
	char in[PP_CTL_MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool close_after_flush;
	bool rdhup;		/* peer shut down its write side (what it sent may still be unread) */
	bool eof;		/* ... and all of it has been read: reply, then close */
	bool refused;		/* past max-clients: told so; its request is read and dropped */
	struct conn *prev, *next;
};

struct ctl_server {
	struct listener *lis;
	struct evloop *ev;
	struct ctl_handlers h;
	char path[108];
	unsigned int max_clients, nclients, nrefused;
	unsigned long next_id;
	bool activated;		/* the socket came from systemd: leave its file alone */
	struct conn *conns;
};

static void conn_close(struct conn *cn)
{
	struct ctl_server *srv = cn->srv;

	srv->h.closed(srv->h.ctx, &cn->c);
	evloop__del(srv->ev, &cn->w);
	close(cn->w.fd);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		srv->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	if (cn->refused)
		srv->nrefused--;
	else
		srv->nclients--;
	free(cn->out);
	free(cn->c.who.groups);
	free(cn);
	listener__resume(srv->lis);	/* a descriptor is free again */
}

static bool conn_backlogged(const struct conn *cn)
{
	return cn->outlen - cn->outoff > CONN_OUT_HIGH;
}

static void conn_update_events(struct conn *cn)
{
	uint32_t ev = 0;

	/* Level-triggered: stop asking for what we will not act on. */
	if (!cn->rdhup)
		ev |= EPOLLRDHUP;
	if (!cn->c.busy && !cn->close_after_flush && !cn->eof && cn->inlen < sizeof(cn->in) &&
	    !conn_backlogged(cn))
		ev |= EPOLLIN;
	if (cn->outoff < cn->outlen)
		ev |= EPOLLOUT;
	evloop__mod(cn->srv->ev, &cn->w, ev);
}

/* Returns -1 when the connection was closed. */
static int conn_flush(struct conn *cn)
{
	while (cn->outoff < cn->outlen) {
		ssize_t n = send(cn->w.fd, cn->out + cn->outoff, cn->outlen - cn->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(cn);
			return -1;
		}
		cn->outoff += n;
	}
	if (cn->outoff == cn->outlen) {
		free(cn->out);
		cn->out = NULL;
		cn->outlen = cn->outoff = 0;
		if (cn->close_after_flush) {
			conn_close(cn);
			return -1;
		}
	}
	conn_update_events(cn);
	return 0;
}

static void conn_queue(struct conn *cn, char *line)
{
	size_t n = line ? strlen(line) : 0;
	char *out = line ? realloc(cn->out, cn->outlen + n) : NULL;

	if (!out) {
		free(line);
		cn->close_after_flush = true;
		return;
	}
	memcpy(out + cn->outlen, line, n);
	cn->out = out;
	cn->outlen += n;
	free(line);
}

void ctl_server__reply(struct client *c, char *line)
{
	struct conn *cn = container_of(c, struct conn, c);

	if (c->deliver) {
		c->busy = false;
		c->deliver(c, line);
		return;
	}
	c->busy = false;
	if (!line)
		line = protocol_error(PP_ERR_INTERNAL, "out of memory");
	if (line)
		conn_queue(cn, line);
	else
		cn->close_after_flush = true;
	/* Flushed from the loop, so a handler never sees its client freed under it. */
	conn_update_events(cn);
}

/* Handle complete lines in the input buffer while the client is not busy and reads its replies. */
static void conn_process(struct conn *cn)
{
	while (!cn->c.busy && !cn->close_after_flush && !conn_backlogged(cn)) {
		char line[PP_CTL_MAX_REQUEST];
		char *nl = memchr(cn->in, '\n', cn->inlen);
		size_t len;

		if (!nl) {
			if (cn->inlen == sizeof(cn->in)) {
				conn_queue(cn, protocol_error(PP_ERR_TOO_LARGE, "request line longer than 4095 bytes"));
				cn->close_after_flush = true;
				cn->inlen = 0;
			} else if (cn->eof) {
				/* No more requests can come; leave once replies are out. */
				cn->close_after_flush = true;
			}
			return;
		}
		len = nl - cn->in;
		memcpy(line, cn->in, len);
		line[len] = 0;
		memmove(cn->in, nl + 1, cn->inlen - len - 1);
		cn->inlen -= len + 1;
		if (len && line[len - 1] == '\r')
			line[--len] = 0;
		cn->c.busy = true;
		cn->srv->h.request(cn->srv->h.ctx, &cn->c, line, len);
	}
}

static void conn_event(struct watch *w, uint32_t events)
{
	struct conn *cn = container_of(w, struct conn, w);

	if (events & (EPOLLHUP | EPOLLERR)) {
		/* Gone both ways: nobody to reply to. */
		conn_close(cn);
		return;
	}
	if (cn->refused) {
		/* Its first line, or its leaving, ends it; nothing it sends is kept. */
		if (events & (EPOLLIN | EPOLLRDHUP)) {
			char drop[1024];
			ssize_t n = recv(cn->w.fd, drop, sizeof(drop), MSG_DONTWAIT);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || (n > 0 && memchr(drop, '\n', n)))
				cn->close_after_flush = true;
		}
		conn_flush(cn);	/* may close cn */
		return;
	}
	if (events & EPOLLRDHUP)
		cn->rdhup = true;	/* keep reading: requests sent before it still count */
	if ((events & EPOLLIN) && !cn->eof && cn->inlen < sizeof(cn->in)) {
		ssize_t n = recv(cn->w.fd, cn->in + cn->inlen, sizeof(cn->in) - cn->inlen, MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(cn);
			return;
		}
		if (n == 0)
			cn->eof = true;
		if (n > 0)
			cn->inlen += n;
	}
	/* Replies out first: draining them lets the requests queued behind them run. */
	if ((events & EPOLLOUT) && cn->outoff < cn->outlen && conn_flush(cn))
		return;
	conn_process(cn);
	if (cn->outoff < cn->outlen || cn->close_after_flush) {
		conn_flush(cn);	/* may close cn */
		return;
	}
	if (cn->eof && !cn->c.busy) {
		conn_close(cn);
		return;
	}
	conn_update_events(cn);
}

/*
 * One user that is not root may hold at most half of max-clients, so silent
 * connections of one account cannot lock everyone else (root included) out.
 */
static bool over_user_share(const struct ctl_server *srv, uid_t uid)
{
	unsigned int n = 0, cap = srv->max_clients / 2 ? srv->max_clients / 2 : 1;

	if (uid == 0)
		return false;
	for (const struct conn *c = srv->conns; c; c = c->next)
		if (!c->refused && c->c.who.uid == uid)
			n++;
	return n > cap;	/* the new connection is already on the list */
}

/* The peer's supplementary groups (SO_PEERGROUPS), for allow-group and the access helper. */
static int peer_groups(int fd, struct caller *who)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (int tries = 0; tries < 3; tries++) {
		gid_t *g = malloc(len ? len : sizeof(gid_t));

		if (!g)
			return -ENOMEM;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
			who->groups = g;
			who->ngroups = len / sizeof(gid_t);
			return 0;
		}
		free(g);
		/* ERANGE: len now says how much is needed (it may grow meanwhile). */
		if (errno != ERANGE)
			return -errno;
	}
	return -ERANGE;
}

static void accept_client(void *ctx, int fd)
{
	struct ctl_server *srv = ctx;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *cn = NULL;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		goto drop;
	cn = calloc(1, sizeof(*cn));
	if (!cn)
		goto drop;
	cn->c.srv = srv;
	cn->c.who.uid = cred.uid;
	cn->c.who.gid = cred.gid;
	cn->c.pid = cred.pid;
	if (peer_groups(fd, &cn->c.who))
		goto drop;
	cn->c.id = ++srv->next_id;
	cn->srv = srv;
	cn->w.fd = fd;
	cn->w.fn = conn_event;
	if (evloop__add(srv->ev, &cn->w, EPOLLIN | EPOLLRDHUP))
		goto drop;
	cn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = cn;
	srv->conns = cn;
	if ((srv->nclients >= srv->max_clients || over_user_share(srv, cred.uid)) && srv->nrefused < REFUSED_MAX) {
		/* Closed now, a client that has not written yet would get EPIPE, not the reason. */
		cn->refused = true;
		srv->nrefused++;
		conn_queue(cn, protocol_error(PP_ERR_LIMIT, srv->nclients >= srv->max_clients ?
					      "too many clients connected; try again later" :
					      "this user holds half of max-clients connections already; "
					      "try again later"));
		conn_flush(cn);
		return;
	}
	srv->nclients++;
	if (srv->nclients > srv->max_clients || over_user_share(srv, cred.uid)) {
		conn_queue(cn, protocol_error(PP_ERR_LIMIT, "too many clients connected; try again later"));
		cn->close_after_flush = true;
		conn_flush(cn);
	}
	return;
drop:
	close(fd);
	if (cn)
		free(cn->c.who.groups);
	free(cn);
}

/*
 * Make room to bind path: a socket nobody listens on (a killed daemon's) is
 * removed; a live one is -EADDRINUSE; anything that is not a socket is not
 * ours to delete (-EEXIST).
 */
static int remove_stale(const struct sockaddr_un *sa, const char *path)
{
	struct stat st;
	int probe, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking: a live daemon with a full backlog answers EAGAIN instead of hanging us. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN)
		err = -EADDRINUSE;
	else
		err = errno == ECONNREFUSED ? 0 : -errno;
	close(probe);
	if (!err && unlink(path) && errno != ENOENT)
		err = -errno;
	return err;
}

struct ctl_server *ctl_server__new(struct evloop *ev, int listen_fd, const char *path, unsigned int max_clients,
				   const struct ctl_handlers *h)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, err;

	if (!srv)
		return NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	srv->ev = ev;
	srv->h = *h;
	srv->max_clients = max_clients;
	if (listen_fd >= 0) {
		/* systemd made, bound and owns the socket file. */
		fd = listen_fd;
		srv->activated = true;
		goto serve;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	err = remove_stale(&sa, path);
	if (err)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto fail;
	}
	/* Anyone may connect; every request is authorised by SO_PEERCRED. */
	if (chmod(path, 0666) || listen(fd, 128)) {
		err = -errno;
		goto fail;
	}
serve:
	/* The listener owns fd from here, also when it fails. */
	srv->lis = listener__new(ev, fd, srv->path, accept_client, srv);
	if (srv->lis)
		return srv;
	err = -errno;
	fd = -1;
fail:
	if (fd >= 0)
		close(fd);
	free(srv);
	errno = -err;
	return NULL;
}

void ctl_server__free(struct ctl_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_close(srv->conns);
	listener__free(srv->lis);
	if (!srv->activated)
		unlink(srv->path);
	free(srv);
}

unsigned int ctl_server__nclients(const struct ctl_server *srv)
{
	return srv->nclients;
}
