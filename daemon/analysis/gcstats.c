// SPDX-License-Identifier: MIT
/* Garbage-collector pauses over a window: counts, totals, percentiles, histogram. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "gcstats.h"

#define GC_LOG_MAX 200000

int gcstats__log_add(struct gc_log *log, const struct gc_pause *p)
{
	return ARRAY_LOG_PUSH(&log->v, &log->cap, &log->n, GC_LOG_MAX, p, &log->dropped);
}

void gcstats__log_free(struct gc_log *log)
{
	free(log->v);
	memset(log, 0, sizeof(*log));
}

const char *gc_method_name(enum gc_method m)
{
	switch (m) {
	case GC_METHOD_USDT:
		return "usdt";
	case GC_METHOD_UPROBE:
		return "uprobe";
	case GC_METHOD_SAMPLED:
		return "sampled";
	default:
		return "none";
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values, in seconds. */
static double pctl(const uint64_t *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(p * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1] / 1e9;
}

static void summarize(struct gc_gen_window *g, uint64_t *d, size_t n)
{
	double sum = 0;

	qsort(d, n, sizeof(*d), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += d[i];
	g->timed = n;
	g->total = sum / 1e9;
	g->p50 = pctl(d, n, 0.50);
	g->p95 = pctl(d, n, 0.95);
	g->p99 = pctl(d, n, 0.99);
	g->max = n ? d[n - 1] / 1e9 : 0;
}

int gc_hist_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	int b = 0;

	while (us > 1 && b < GC_HIST_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

int gcstats__window(struct gc_window *gw, const struct gc_counts *a, const struct gc_counts *b,
		     const struct gc_log *log, uint64_t t0, uint64_t t1, enum gc_method method, bool rate_guard,
		     double sampled_seconds)
{
	uint64_t *d[GC_GENS + 1];
	size_t n[GC_GENS + 1] = { 0 };
	int err = 0;

	memset(gw, 0, sizeof(*gw));
	gw->method = method;
	gw->rate_guard = rate_guard;
	gw->sampled_seconds = sampled_seconds;
	for (int i = 0; i <= GC_GENS; i++) {
		d[i] = malloc((log->n ? log->n : 1) * sizeof(uint64_t));
		if (!d[i])
			err = -ENOMEM;
	}
	if (err)
		goto out;
	for (size_t i = 0; i < log->n; i++) {
		const struct gc_pause *p = &log->v[i];
		int g = p->generation;

		if (p->start_ns < t0 || p->start_ns + p->duration_ns > t1)
			continue;
		d[GC_GENS][n[GC_GENS]++] = p->duration_ns;
		gw->hist[gc_hist_bucket(p->duration_ns)]++;
		if (g >= 0 && g < GC_GENS) {
			d[g][n[g]++] = p->duration_ns;
			if (p->collected >= 0 && !(a->valid && b->valid))
				gw->gen[g].collected += p->collected;
		}
	}
	for (int g = 0; g < GC_GENS; g++)
		summarize(&gw->gen[g], d[g], n[g]);
	summarize(&gw->all, d[GC_GENS], n[GC_GENS]);

	gw->counts_exact = a->valid && b->valid;
	for (int g = 0; g < GC_GENS; g++) {
		struct gc_gen_window *w = &gw->gen[g];

		if (gw->counts_exact) {
			w->collections = b->collections[g] - a->collections[g];
			w->collected = b->collected[g] - a->collected[g];
			w->uncollectable = b->uncollectable[g] - a->uncollectable[g];
		} else {
			w->collections = w->timed;
		}
		gw->all.collections += w->collections;
		gw->all.collected += w->collected;
		gw->all.uncollectable += w->uncollectable;
	}
	if (!gw->counts_exact)
		gw->all.collections = gw->all.timed;
	gw->pause_seconds = method == GC_METHOD_SAMPLED || method == GC_METHOD_NONE ? sampled_seconds : gw->all.total;
	gw->share = t1 > t0 ? gw->pause_seconds / ((t1 - t0) / 1e9) : 0;
out:
	for (int i = 0; i <= GC_GENS; i++)
		free(d[i]);
	return err;
}
