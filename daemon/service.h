/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SERVICE_H
#define PYPROBED_SERVICE_H
#include <stddef.h>
#include <sys/types.h>

struct evloop;
struct loader;
struct opts;
struct client;
struct service;
struct session;
struct monitor;

/* Requests in, replies out: sessions, pending windows and their timer. */
struct service *service__new(struct evloop *ev, const struct opts *o);
/* The loader is made after the service because its ring buffer calls back into it. */
void service__set_loader(struct service *svc, struct loader *ld);
void service__free(struct service *svc);
void service__set_nclients_fn(struct service *svc, unsigned int (*fn)(void *), void *ctx);

void service__request(void *svc, struct client *c, const char *line, size_t len);
void service__client_closed(void *svc, struct client *c);
int service__ringbuf_event(void *svc, void *data, size_t size);
/* Read the ring buffer and act on what it said; never from inside its callback. */
void service__pump(struct service *svc);

/* Watched processes: the monitor is told about exec/fork events and dropped sessions. */
void service__set_monitor(struct service *svc, struct monitor *m);
/* The access policy in the options changed (a reload): cached answers are dropped. */
void service__policy_changed(struct service *svc);
/*
 * A session on pid with a reference held, as a request gets one. NULL with
 * *code (PP_ERR_*) and a message on failure. Give it back with service__release.
 */
struct session *service__acquire(struct service *svc, pid_t pid, const char **code, char *msg, size_t len);
void service__release(struct service *svc, struct session *s);

struct service_stats {
	unsigned int sessions, pending, clients;
	unsigned long requests;
	double uptime;
};
void service__stats(struct service *svc, struct service_stats *st);

#endif
