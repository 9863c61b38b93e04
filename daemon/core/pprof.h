/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PPROF_H
#define PYPROBED_PPROF_H
#include <stddef.h>
#include <jansson.h>

/*
 * A profile in pprof's format (profile.proto, gzip-compressed), from the
 * neutral {frames, stacks} object of a record reply (docs/protocol.md,
 * "record"): sample types samples/count and cpu/nanoseconds (count x
 * period_ns). A stack's "pid" becomes a numeric label pid and the strings of
 * its "labels" object string labels; frames with "process" (a tree's) are
 * left out of the locations (the label says it). *out is malloc'ed.
 * Returns 0, or -1 (out of memory, or zlib failed).
 */
int pprof_encode(json_t *profile, long long period_ns, long long duration_ns, unsigned char **out, size_t *len);

#endif
