/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_METRICS_H
#define PYPROBED_METRICS_H
#include <stddef.h>

struct ctl_server;
struct evloop;
struct monitor;
struct opts;
struct registry;
struct requests;

/*
 * Prometheus exposition of the watched processes and of the daemon itself,
 * served over HTTP on o->metrics_addr:o->metrics_port (GET /metrics).
 */
struct metrics;

/* What the exposition reads; each outlives the metrics. */
struct metrics_sources {
	struct monitor *mon;
	struct registry *reg;
	struct requests *req;
	const struct ctl_server *ctl;
};

/* NULL and errno when the listener cannot be made. */
struct metrics *metrics__new(struct evloop *ev, const struct opts *o, const struct metrics_sources *src);
void metrics__free(struct metrics *mx);
/* The whole exposition text (malloc'ed, *len bytes), or NULL. */
char *metrics__render(struct metrics *mx, size_t *len);

#endif
