/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SCRAPE_H
#define PYPROBED_SCRAPE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "protocol.h"

struct monitor;

/*
 * A profile scrape (GET /debug/pprof/profile?pid=P&seconds=N, net/http/pprof's
 * convention, or /debug/pprof/wall for wall-clock time): which watched
 * processes it records, and the labels each process's samples carry (pid,
 * rule, unit, comm). metrics.c serves the HTTP.
 */
struct scrape {
	struct request r;	/* a record request on the watched process, or on all of them */
	pid_t *pids;
	size_t npids;
	json_t *labels;		/* "PID" -> {rule, unit, comm} */
};

/* The default and the longest recording a scrape may ask for (seconds). */
#define SCRAPE_DEFAULT_SECONDS 30
#define SCRAPE_MAX_SECONDS 300

/*
 * From the query string (without '?', may be empty): 0 and sc filled, or an
 * HTTP status (400 a bad query, 404 nothing watched to record) with msg.
 */
int scrape__parse(struct monitor *mon, const char *query, bool wall, struct scrape *sc, char *msg, size_t len);
/*
 * The daemon's reply line to the request: 200 and the gzipped pprof in *out
 * (malloc'ed), or an HTTP status for the reply's error with msg.
 */
int scrape__encode(const struct scrape *sc, const char *line, unsigned char **out, size_t *len, char *msg,
		   size_t mlen);
void scrape__free(struct scrape *sc);

#endif
