/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SERVICE_H
#define PYPROBED_SERVICE_H
#include <stddef.h>

struct evloop;
struct loader;
struct opts;
struct client;
struct service;

/* Requests in, replies out: sessions, pending windows and their timer. */
struct service *service__new(struct evloop *ev, const struct opts *o);
/* The loader is made after the service because its ring buffer calls back into it. */
void service__set_loader(struct service *svc, struct loader *ld);
void service__free(struct service *svc);
void service__set_nclients_fn(struct service *svc, unsigned int (*fn)(void *), void *ctx);

void service__request(void *svc, struct client *c, const char *line, size_t len);
void service__client_closed(void *svc, struct client *c);
int service__ringbuf_event(void *svc, void *data, size_t size);

#endif
