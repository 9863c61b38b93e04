/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_SERVICE_H
#define PYPROBED_SERVICE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "classify.h"

/*
 * The verdict for a process tree (classify --tree): a master and its
 * workers, a pool parent and its children. Each observed process has its own
 * verdict; this says what they make together. Pure logic, no I/O
 * (docs/classify.md, "Process trees").
 */

struct service_member {
	pid_t pid, ppid;
	char comm[16];
	bool observed;		/* a Python process with a verdict of its own */
	const char *label;	/* its verdict's label (observed only) */
	double confidence;
	double cpu;		/* on-CPU seconds over its window, all threads */
	double seconds;		/* its window (shorter for processes that joined late) */
};

#define SERVICE_MAX_LABELS 8

struct service_verdict {
	/* the workers' common label, "imbalanced", or the root's own when it has no workers */
	const char *label;
	char summary[256];	/* "master idle; 4 workers: 3 io-bound, 1 cpu-bound-python" */
	int nworkers;		/* observed processes other than the root */
	int nlisted;		/* processes listed but not observed (not Python, gone, refused) */
	int hot;		/* index of the one hot worker among idle ones, -1 if none */
	int nreasons, nadvice;
	char reasons[VERDICT_MAX_LINES][VERDICT_LINE];
	char advice[VERDICT_MAX_LINES][VERDICT_LINE];
};

/*
 * rooted: m[0] is the root of the tree (a master, a pool's parent); else the
 * members are peers (a unit's or a cgroup's processes without one parent)
 * and all are workers. ncpus: the host's.
 */
void service_classify(const struct service_member *m, size_t n, bool rooted, int ncpus, struct service_verdict *v);

#endif
