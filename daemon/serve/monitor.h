/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_MONITOR_H
#define PYPROBED_MONITOR_H
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "classify.h"
#include "rules.h"
#include "window.h"

struct evloop;
struct loader;
struct opts;
struct registry;
struct session;

/*
 * Continuous monitoring: find the processes the watch rules match (at start,
 * on SIGHUP, on exec and fork events, and every --rescan seconds), keep a
 * session on each, and classify it every --window seconds. A label change is
 * logged. Exporters read the result through monitor__for_each. A listener of
 * the registry (exec and fork events, sessions ending, its part of `list`).
 */
struct monitor;

struct monitor *monitor__new(struct evloop *ev, struct registry *reg, const struct opts *o);
void monitor__free(struct monitor *m);

/* Replace the rules (takes them over): drop what no longer matches, scan for new matches. */
void monitor__set_rules(struct monitor *m, struct rules *rules);
/* Reloadable settings (window, gc-timing, rescan) changed in the opts. */
void monitor__settings_changed(struct monitor *m);
/* One watched process as an exporter sees it. */
struct watched_view {
	const struct session *s;
	const char *rule;		/* "unit:web.service" */
	const struct window *total;	/* since attach, per thread */
	const struct snapshot *now;	/* the counters it was built from (gc counts) */
	bool has_verdict;
	const struct verdict *last;	/* of the last full window */
	double last_window_seconds;
	unsigned long windows, label_changes;
};
typedef void (*monitor_view_fn)(void *ctx, const struct watched_view *v);
/* Snapshot each watched process now and hand it to fn. Returns the number seen. */
int monitor__for_each(struct monitor *m, monitor_view_fn fn, void *ctx);
unsigned int monitor__nwatched(const struct monitor *m);
/* Each watched process's session and the rule that matched it, without a snapshot. */
int monitor__each_watched(struct monitor *m, void (*fn)(void *ctx, const struct session *s, const char *rule),
			  void *ctx);

#endif
