/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_HOTSPOTS_H
#define PYPROBED_HOTSPOTS_H
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

/*
 * One CPU sample: frames innermost first (n may be 0), the native leaf, the
 * innermost frame's attribute lookup or NULL, state an enum pp_cpu_state.
 * Returns 0 or -ENOMEM.
 */
int hotspots__add(struct hotspots *h, const struct pyframe *frames, int n, const struct nativeloc *leaf,
		  const struct pyattr *attr, int state);

/* Reports (docs/protocol.md, "attrs" and "churn"); limit rows per table. NULL on ENOMEM. */
json_t *hotspots__attrs(const struct hotspots *h, int limit);
json_t *hotspots__churn(const struct hotspots *h, int limit);

/* The summary the classifier reads. */
void hotspots__mix(const struct hotspots *h, struct cpu_mix *m);

#endif
