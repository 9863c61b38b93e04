// SPDX-License-Identifier: MIT
/*
 * The accept loop of every listening socket. The event loop is
 * level-triggered: a connection that cannot be accepted for lack of
 * descriptors stays queued and keeps the socket readable, so polling it then
 * would spin. The listener stops polling instead, and resumes when a
 * descriptor is freed or after RETRY_NS (another process may have freed one,
 * or ENFILE passed). A shortage is logged once: not at every retry, nor each
 * time a freed descriptor lets one more waiting client in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include "array.h"
#include "evloop.h"
#include "log.h"
#include "listener.h"

/* Out of descriptors: how long accepting pauses when the owner frees none first. */
#define RETRY_NS (200 * 1000 * 1000)

struct listener {
	struct watch w;		/* the listening socket */
	struct watch retry;	/* timer: accept again after running out of descriptors */
	struct evloop *ev;
	listener_fn fn;
	void *ctx;
	bool paused;		/* the socket is not polled: accept failed for lack of descriptors */
	bool warned;		/* this shortage was logged */
	char name[128];
};

static bool out_of_fds(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void accept_pause(struct listener *l, int err)
{
	struct itimerspec its = { .it_value.tv_nsec = RETRY_NS };

	if (!l->warned)
		log_warn("accept on %s: %s; new clients wait", l->name, strerror(err));
	l->warned = true;
	l->paused = true;
	evloop__mod(l->ev, &l->w, 0);
	timerfd_settime(l->retry.fd, 0, &its, NULL);
}

void listener__resume(struct listener *l)
{
	if (!l || !l->paused)
		return;
	l->paused = false;
	evloop__timer_set(&l->retry, 0, 0);
	evloop__mod(l->ev, &l->w, EPOLLIN);
}

static void accept_event(struct watch *w, uint32_t events)
{
	struct listener *l = container_of(w, struct listener, w);

	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int err = fd < 0 ? errno : 0;

		if (fd < 0) {
			if (out_of_fds(err))
				accept_pause(l, err);
			else if (err == EAGAIN)
				l->warned = false;	/* every waiting client is in: the shortage is over */
			else if (err != EINTR && err != ECONNABORTED)
				log_warn("accept on %s: %s", l->name, strerror(err));
			return;
		}
		l->fn(l->ctx, fd);
	}
}

static void retry_event(struct watch *w, uint32_t events)
{
	evloop__timer_ack(w);
	listener__resume(container_of(w, struct listener, retry));
}

struct listener *listener__new(struct evloop *ev, int listen_fd, const char *name, listener_fn fn,
			       void *ctx)
{
	struct listener *l = calloc(1, sizeof(*l));
	int err = l ? 0 : -ENOMEM;

	if (err)
		goto cleanup;
	l->ev = ev;
	l->fn = fn;
	l->ctx = ctx;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->w.fd = listen_fd;
	l->w.fn = accept_event;
	l->retry.fn = retry_event;
	err = evloop__timer_add(ev, &l->retry);
	if (err)
		goto cleanup;
	err = evloop__add(ev, &l->w, EPOLLIN);
	if (err)
		evloop__timer_del(ev, &l->retry);
cleanup:
	if (err) {
		close(listen_fd);
		free(l);
		l = NULL;
		errno = -err;
	}
	return l;
}

void listener__free(struct listener *l)
{
	if (!l)
		return;
	evloop__del(l->ev, &l->w);
	close(l->w.fd);
	evloop__timer_del(l->ev, &l->retry);
	free(l);
}
