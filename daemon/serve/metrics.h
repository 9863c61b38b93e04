/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_METRICS_H
#define PYPROBED_METRICS_H

struct ctl_server;
struct evloop;
struct monitor;
struct opts;
struct registry;
struct requests;

/*
 * Prometheus exposition of the watched processes and of the daemon itself
 * (prom.h), served over HTTP on o->metrics_addr:o->metrics_port (GET /metrics).
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
/* Close the listener and every connection; NULL is fine. */
void metrics__free(struct metrics *mx);

#endif
