// SPDX-License-Identifier: MIT
/* The daemon's single epoll loop. Callbacks may add and remove watches. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "evloop.h"

struct evloop {
	int epfd;
	bool stop;
	/* Watches deleted while dispatching a batch must not be called again. */
	struct watch **deleted;
	int ndeleted, cap;
	bool dispatching;
};

struct evloop *evloop__new(void)
{
	struct evloop *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd < 0) {
		int err = errno;

		free(ev);
		errno = err;
		return NULL;
	}
	return ev;
}

void evloop__free(struct evloop *ev)
{
	if (!ev)
		return;
	close(ev->epfd);
	free(ev->deleted);
	free(ev);
}

int evloop__add(struct evloop *ev, struct watch *w, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = w };

	return epoll_ctl(ev->epfd, EPOLL_CTL_ADD, w->fd, &e) ? -errno : 0;
}

int evloop__timer_add(struct evloop *ev, struct watch *w)
{
	int err;

	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	err = evloop__add(ev, w, EPOLLIN);
	if (err) {
		close(w->fd);
		w->fd = -1;
	}
	return err;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };
}

void evloop__timer_set(struct watch *w, uint64_t abs_ns, uint64_t period_ns)
{
	struct itimerspec its = { .it_value = ts_of(abs_ns), .it_interval = ts_of(period_ns) };

	timerfd_settime(w->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void evloop__timer_ack(struct watch *w)
{
	uint64_t expirations;
	/* Clears readiness; EAGAIN (nothing expired yet) needs nothing done either. */
	ssize_t n = read(w->fd, &expirations, sizeof(expirations));

	(void)n;
}

void evloop__timer_del(struct evloop *ev, struct watch *w)
{
	if (w->fd < 0)
		return;
	evloop__del(ev, w);
	close(w->fd);
	w->fd = -1;
}

int evloop__mod(struct evloop *ev, struct watch *w, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = w };

	return epoll_ctl(ev->epfd, EPOLL_CTL_MOD, w->fd, &e) ? -errno : 0;
}

void evloop__del(struct evloop *ev, struct watch *w)
{
	epoll_ctl(ev->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (!ev->dispatching)
		return;
	if (ev->ndeleted == ev->cap) {
		int cap = ev->cap ? ev->cap * 2 : 16;
		struct watch **d = realloc(ev->deleted, cap * sizeof(*d));

		if (!d)
			abort();	/* cannot track it: a stale callback would be a use after free */
		ev->deleted = d;
		ev->cap = cap;
	}
	ev->deleted[ev->ndeleted++] = w;
}

static bool was_deleted(struct evloop *ev, struct watch *w)
{
	for (int i = 0; i < ev->ndeleted; i++)
		if (ev->deleted[i] == w)
			return true;
	return false;
}

int evloop__run(struct evloop *ev)
{
	struct epoll_event evs[32];

	while (!ev->stop) {
		int n = epoll_wait(ev->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ev->dispatching = true;
		ev->ndeleted = 0;
		for (int i = 0; i < n && !ev->stop; i++) {
			struct watch *w = evs[i].data.ptr;

			if (!was_deleted(ev, w))
				w->fn(w, evs[i].events);
		}
		ev->dispatching = false;
	}
	return 0;
}

void evloop__stop(struct evloop *ev)
{
	ev->stop = true;
}
