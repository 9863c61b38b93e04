/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROFILE_H
#define PYPROBED_PROFILE_H
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "pysym.h"

struct profile;

/* Samples of Python stacks, aggregated by stack, function and line. */
struct profile *profile__new(void);
void profile__free(struct profile *p);
/*
 * One sample: frames innermost first (n may be 0: no Python on the stack),
 * state is enum pp_cpu_state, gc whether the collector was running.
 * Returns 0 or -ENOMEM.
 */
int profile__add(struct profile *p, const struct pyframe *frames, int n, int state, int gc);
/*
 * A wall-clock profile: each stack also keeps the time it stands for, on
 * CPU (a CPU sample is period_ns), off CPU (profile__add_off) and of that
 * waiting for the GIL.
 */
#define PROFILE_NVALUES 3	/* cpu, wall, gil_wait (ns) */
void profile__set_wall(struct profile *p, uint64_t period_ns);
/*
 * A thread seen blocked for ns in frames (innermost first), why in a leaf
 * frame of its own (reason: "[net io]"; gil: a GIL wait).
 */
int profile__add_off(struct profile *p, const struct pyframe *frames, int n, const char *reason, uint64_t ns,
		     bool gil);
/* The sample's native leaf (where the CPU was in machine code). */
int profile__add_native(struct profile *p, const char *symbol, const char *object, const char *kind);
/*
 * Every distinct stack with its count: {"frames": [{function, file, line,
 * firstline}], "stacks": [{"frames": [index, ...] innermost first, "count"}]};
 * a wall profile has "wall": true and each stack cpu_ns, wall_ns, gil_wait_ns.
 */
json_t *profile__stacks(const struct profile *p);
/* Top functions (self and total) and lines; limit rows each. */
json_t *profile__top(struct profile *p, int limit);	/* sorts the native leaves in place */

#endif
