/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_METRICS_H
#define PYPROBED_METRICS_H
#include <stddef.h>

struct evloop;
struct loader;
struct monitor;
struct opts;
struct service;

/*
 * Prometheus exposition of the watched processes and of the daemon itself,
 * served over HTTP on o->metrics_addr:o->metrics_port (GET /metrics).
 */
struct metrics;

/* NULL and errno when the listener cannot be made. */
struct metrics *metrics__new(struct evloop *ev, const struct opts *o, struct monitor *mon, struct service *svc,
			     struct loader *ld);
void metrics__free(struct metrics *mx);
/* The whole exposition text (malloc'ed, *len bytes), or NULL. */
char *metrics__render(struct metrics *mx, size_t *len);

#endif
