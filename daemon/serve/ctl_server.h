/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_CTL_SERVER_H
#define PYPROBED_CTL_SERVER_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "access.h"

struct evloop;
struct ctl_server;

/* A connected client. Identity comes from SO_PEERCRED and SO_PEERGROUPS at accept time. */
struct client {
	struct caller who;	/* who.groups belongs to the server */
	const struct ctl_server *srv;	/* the server it came through */
	pid_t pid;
	unsigned long id;
	bool busy;		/* a request is in progress; no further lines are read */
	/*
	 * A client inside the daemon (the metrics listener's profile endpoint):
	 * its replies go here instead of to a socket; srv is NULL.
	 */
	void (*deliver)(struct client *c, char *line);
};

struct ctl_handlers {
	/* One complete request line (no newline). Reply with ctl_server__reply. */
	void (*request)(void *ctx, struct client *c, const char *line, size_t len);
	/* The client is going away; forget every reference to it. */
	void (*closed)(void *ctx, struct client *c);
	void *ctx;
};

/*
 * Serve through ev: on listen_fd when >= 0 (socket activation; path is only a
 * name then), else bind path (replacing a stale socket) and listen. NULL+errno
 * on error.
 */
struct ctl_server *ctl_server__new(struct evloop *ev, int listen_fd, const char *path, unsigned int max_clients,
				   const struct ctl_handlers *h);
void ctl_server__free(struct ctl_server *srv);

/* Queue line (malloc'ed, takes ownership) and clear c->busy. line NULL means out of memory. */
void ctl_server__reply(struct client *c, char *line);
unsigned int ctl_server__nclients(const struct ctl_server *srv);

#endif
