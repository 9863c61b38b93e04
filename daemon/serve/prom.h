/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROM_H
#define PYPROBED_PROM_H
#include <stdbool.h>
#include <stddef.h>
#include "loader.h"
#include "requests.h"

struct watched_view;

/*
 * The Prometheus text exposition (format 0.0.4) of the daemon and of its
 * watched processes: text from the values given, nothing read from anywhere
 * else. Each family is written once, with its HELP and TYPE, and the families
 * keep one order whatever the processes are added in.
 */
struct prom;

/* The daemon's own series. */
struct prom_daemon {
	const char *version;		/* pyprobe_build_info */
	struct requests_stats req;
	struct loader_stats bpf;	/* ring-buffer losses, full maps */
	unsigned int sessions, watched, clients;
	unsigned long scrapes;
	unsigned long profiles[2];		/* profile scrapes answered with a window: CPU, wall */
	unsigned long profiles_refused;		/* turned away (429) with MAX_SCRAPES recording */
	unsigned int recording;			/* profile windows open now */
};

/* Begin a page with d's series; threads adds the per-thread series. NULL and errno on error. */
struct prom *prom__new(const struct prom_daemon *d, bool threads);
/* Add one watched process (read now, not kept). */
void prom__add(struct prom *p, const struct watched_view *v);
/*
 * End the page and free p: the text (malloc'ed, *len bytes, the caller's), or
 * NULL when memory ran out on the way. NULL p gives NULL.
 */
char *prom__finish(struct prom *p, size_t *len);

#endif
