/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_REPORT_H
#define PYPROBED_REPORT_H
#include <jansson.h>
#include "classify.h"
#include "loopstats.h"
#include "pyinspect.h"
#include "pythreads.h"

struct report_ctx {
	pid_t pid;
	double requested_seconds;
	double attach_ms;
	unsigned int sample_hz;
	unsigned int gc_max_rate;
	const struct pyinfo *py;
	const struct pythread *pythreads;	/* thread states found in the target */
	int npythreads;				/* < 0: could not be read */
	const char *gc_attach;			/* how the GC probes are attached (session's gc_attach) */
};

/* The classify reply body (docs/protocol.md). NULL on ENOMEM. */
json_t *report_classify(const struct report_ctx *rc, const struct window *w, const struct verdict *v);
json_t *report_python(const struct pyinfo *py);
/*
 * Where process pid lives: its pid in its own namespace, whether its root is
 * its own, its cgroup and container, and how its interpreter file was opened.
 */
json_t *report_placement(pid_t pid, const struct pyinfo *py);
/* The loop section of the loop command's reply (docs/protocol.md, "loop"). */
json_t *report_loop(const struct loop_report *r, double window_seconds);
/* The gc section: also the whole body of the gc command's reply (with pid, python). */
json_t *report_gc(const struct report_ctx *rc, const struct window *w);

#endif
