/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_OPTS_H
#define PYPROBED_OPTS_H
#include <stdbool.h>

struct opts {
	const char *socket_path;
	bool foreground;
	bool verbose;
	unsigned int sample_hz;		/* CPU sampler rate per CPU */
	unsigned int max_clients;
	unsigned int max_sessions;
	unsigned int max_threads;	/* BPF thread map size */
	unsigned int gc_max_rate;	/* exact GC tracing stops above this many collections/s */
};

/*
 * Parse argv into o. Returns 0 to run, 1 when --help/--version was handled
 * (exit 0), or -EINVAL after printing the problem (exit 2).
 */
int opts__parse(struct opts *o, int argc, char **argv);

#endif
