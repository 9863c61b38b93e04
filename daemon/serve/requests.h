/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_REQUESTS_H
#define PYPROBED_REQUESTS_H
#include <stddef.h>
#include "ctl_server.h"

struct evloop;
struct opts;
struct registry;

/*
 * The control protocol's commands: classify, gc, top, record, attrs and churn
 * windows on the registry's sessions, status, list and detach. A listener of
 * the registry.
 */
struct requests;

/* NULL and errno on failure. o and reg outlive it. */
struct requests *requests__new(struct evloop *ev, const struct opts *o, struct registry *reg);
/* Open windows end without a reply (shutting down); NULL is fine. */
void requests__free(struct requests *req);

/* The ctl_server handlers (ctx is the struct requests). */
void requests__request(void *req, struct client *c, const char *line, size_t len);
void requests__client_closed(void *req, struct client *c);
/*
 * A request made inside the daemon (r already checked, as protocol_parse
 * would): the reply comes through c->deliver; requests__client_closed when c
 * goes away first.
 */
struct request;
void requests__window(struct requests *req, struct client *c, const struct request *r);

/* The access policy in the options changed (a reload): cached answers are dropped. */
void requests__policy_changed(struct requests *req);

struct requests_stats {
	unsigned int pending;
	unsigned long requests;
	double uptime;
};
void requests__stats(const struct requests *req, struct requests_stats *st);

#endif
