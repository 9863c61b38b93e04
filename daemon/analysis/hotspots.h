/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_HOTSPOTS_H
#define PYPROBED_HOTSPOTS_H
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "nativesym.h"
#include "pysym.h"
#include "window.h"

struct hotspots;

/*
 * What the CPU samples of one window were doing, beyond where: attribute
 * lookups (by the instruction of the innermost Python frame, or a native
 * leaf in a lookup function) and object churn (a native leaf in an
 * allocation, deallocation or GC-link function), each with the Python lines
 * responsible.
 */
/* For a process running CPython 3.minor. NULL on ENOMEM. */
struct hotspots *hotspots__new(int minor);
void hotspots__free(struct hotspots *h);	/* accepts NULL */

/* One CPU sample, as the service resolved it. */
struct hot_sample {
	const struct pyframe *frames;	/* innermost first */
	int n;				/* may be 0: no Python on the stack */
	const struct nativeloc *leaf;	/* where the CPU was in machine code */
	const struct pyattr *attr;	/* the innermost frame's attribute lookup, or NULL */
	bool undecoded;			/* the innermost instruction could not be decoded */
	int state;			/* enum pp_cpu_state */
	bool gc;			/* the collector was running */
	int makes;			/* enum bc_makes of the innermost instruction (BCM_NOTHING: unknown) */
};

/* Count one sample. Returns 0 or -ENOMEM. */
int hotspots__add(struct hotspots *h, const struct hot_sample *s);

/* Reports (docs/protocol.md, "attrs" and "churn"); limit rows per table. NULL on ENOMEM. */
json_t *hotspots__attrs(const struct hotspots *h, int limit);
json_t *hotspots__churn(const struct hotspots *h, int limit);

/* The summary the classifier reads. */
void hotspots__mix(const struct hotspots *h, struct cpu_mix *m);

#endif
