/* SPDX-License-Identifier: MIT */
#ifndef PYPROBE_EXPORT_H
#define PYPROBE_EXPORT_H
#include <stdio.h>
#include <jansson.h>

/*
 * Write a recorded profile (the "profile" object of a record reply: frames and
 * stacks, innermost frame first) to f in one format. period_ns is the sampling
 * period. Return 0, or -1 after printing why.
 */
int export_folded(FILE *f, json_t *profile);
int export_speedscope(FILE *f, json_t *profile, const char *name);
int export_pprof(FILE *f, json_t *profile, long long period_ns, long long duration_ns);
/* A self-contained SVG flame graph (outermost frame at the bottom), with tooltips. */
int export_svg(FILE *f, json_t *profile, const char *title);

#endif
