/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_LISTENER_H
#define PYPROBED_LISTENER_H

struct evloop;

/*
 * A listening socket on the event loop (the control socket, the metrics
 * endpoint): accepts every queued connection, non-blocking and close-on-exec,
 * and hands each to a callback. Out of file descriptors it stops polling the
 * socket, logs that once, and accepts again when its owner frees one
 * (listener__resume) or after a moment, whichever comes first.
 */
struct listener;

/* A new connection: fd is the callback's to close. It must not free the listener. */
typedef void (*listener_fn)(void *ctx, int fd);

/*
 * Accept on listen_fd (bound, listening, O_NONBLOCK) through ev. The listener
 * owns listen_fd from now on and closes it, also when this fails. name says
 * which socket in log messages (copied). NULL and errno on error.
 */
struct listener *listener__new(struct evloop *ev, int listen_fd, const char *name, listener_fn fn,
			       void *ctx);
/* Stop accepting and close the socket; connections handed out stay the owner's. NULL is fine. */
void listener__free(struct listener *l);
/* The owner closed a connection: if accepting waits for a free descriptor, it resumes now. */
void listener__resume(struct listener *l);

#endif
