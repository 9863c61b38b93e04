/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_CLASSIFY_H
#define PYPROBED_CLASSIFY_H
#include "window.h"

#define VERDICT_MAX_LINES 12
#define VERDICT_LINE 256

/* Process-wide sums the verdict is based on, in thread-seconds. */
struct totals {
	double sec[PP_NBUCKETS];
	double gil_sec[PP_GIL_NKINDS];
	uint64_t gil_cnt[PP_GIL_NKINDS];
	uint64_t samples, samples_gil, samples_nogil, samples_unknown, samples_kernel_io;
	double all;		/* every bucket */
	double work;		/* cpu + gil + io + other: the denominator of the shares */
	double cpu;		/* on CPU in user space or ready to run (run queue) */
	double cpu_python, cpu_native, cpu_io;	/* on-CPU split by samples */
	double gil, io, idle, other, lock;
	double python_share;	/* cpu_python / (cpu_python + cpu_native) */
	double poll_wakeups_per_sec;
	bool poll_is_io;
	unsigned int threads, gil_waiters;
};

struct verdict {
	const char *label;	/* io-bound, cpu-bound-python, cpu-bound-native, gil-contended, idle, mixed */
	double confidence;	/* 0..1 */
	int nreasons, nadvice;
	char reasons[VERDICT_MAX_LINES][VERDICT_LINE];
	char advice[VERDICT_MAX_LINES][VERDICT_LINE];
	const char *traits[4];	/* gc-pressure, ... */
	int ntraits;
	struct totals tot;
};

/* Pure function of the window: no I/O, no BPF. docs/classify.md is the reference. */
void classify(const struct window *w, struct verdict *v);

#endif
