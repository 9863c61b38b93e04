// SPDX-License-Identifier: MIT
/* The verdict for a process tree from its processes' own verdicts (docs/classify.md, "Process trees"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "service.h"

/* A worker is hot past this share of its window on CPU ... */
#define HOT_SHARE 0.5
/* ... with every other worker at most this part of its share ... */
#define HOT_RATIO (1.0 / 3)
/* ... and at least half of them idle (on CPU less than this share). */
#define IDLE_SHARE 0.1

static void line(char (*lines)[VERDICT_LINE], int *n, const char *fmt, va_list ap)
{
	if (*n >= VERDICT_MAX_LINES)
		return;
	vsnprintf(lines[(*n)++], VERDICT_LINE, fmt, ap);
}

static void reason(struct service_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct service_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(v->reasons, &v->nreasons, fmt, ap);
	va_end(ap);
}

static void advise(struct service_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void advise(struct service_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(v->advice, &v->nadvice, fmt, ap);
	va_end(ap);
}

static double share(const struct service_member *m)
{
	return m->seconds > 0 ? m->cpu / m->seconds : 0;
}

static bool cpu_label(const char *l)
{
	return !strcmp(l, "cpu-bound-python") || !strcmp(l, "cpu-bound-native") || !strcmp(l, "gil-contended");
}

struct count {
	const char *label;
	int n;
	double cpu;
};

/* The workers' labels, most common first (then most CPU, then by name: a stable order). */
static int count_labels(const struct service_member *m, size_t n, size_t first, struct count *c)
{
	int nc = 0;

	for (size_t i = first; i < n; i++) {
		int k;

		if (!m[i].observed)
			continue;
		for (k = 0; k < nc && strcmp(c[k].label, m[i].label); k++)
			;
		if (k == nc) {
			if (nc == SERVICE_MAX_LABELS)
				continue;
			c[nc++] = (struct count){ m[i].label, 0, 0 };
		}
		c[k].n++;
		c[k].cpu += m[i].cpu;
	}
	for (int i = 1; i < nc; i++)
		for (int j = i; j > 0; j--) {
			struct count *a = &c[j - 1], *b = &c[j];
			int cmp = a->n != b->n ? b->n - a->n : a->cpu != b->cpu ? (b->cpu > a->cpu ? 1 : -1) :
										strcmp(a->label, b->label);

			if (cmp <= 0)
				break;
			struct count t = *a;
			*a = *b;
			*b = t;
		}
	return nc;
}

/* One worker on CPU while the others idle: its index, or -1. */
static int hot_worker(const struct service_member *m, size_t n, size_t first, int nworkers)
{
	int hot = -1, idle = 0;

	if (nworkers < 2)
		return -1;
	for (size_t i = first; i < n; i++)
		if (m[i].observed && (hot < 0 || share(&m[i]) > share(&m[hot])))
			hot = (int)i;
	if (share(&m[hot]) < HOT_SHARE)
		return -1;
	for (size_t i = first; i < n; i++) {
		if (!m[i].observed || (int)i == hot)
			continue;
		if (share(&m[i]) > HOT_RATIO * share(&m[hot]))
			return -1;
		idle += share(&m[i]) < IDLE_SHARE;
	}
	return 2 * idle >= nworkers - 1 ? hot : -1;
}

void service_classify(const struct service_member *m, size_t n, bool rooted, int ncpus, struct service_verdict *v)
{
	struct count c[SERVICE_MAX_LABELS];
	const struct service_member *root = n && rooted ? &m[0] : NULL;
	size_t used = 0, first = rooted ? 1 : 0;
	int nc, all_cpu = 0, io = 0, idle = 0;

	memset(v, 0, sizeof(*v));
	v->hot = -1;
	v->label = "unknown";
	for (size_t i = 0; i < n; i++) {
		v->nworkers += i >= first && m[i].observed;
		v->nlisted += !m[i].observed;
	}
	if (!n) {
		snprintf(v->summary, sizeof(v->summary), "no processes");
		return;
	}
	nc = count_labels(m, n, first, c);

	/* The summary: the root's part, then the workers by label. */
	if (!root)
		used = snprintf(v->summary, sizeof(v->summary), "%d process%s:", v->nworkers,
				v->nworkers == 1 ? "" : "es");
	else if (v->nworkers)
		used = snprintf(v->summary, sizeof(v->summary), "%s %s; %d worker%s:", "master",
				root->observed ? root->label : "not observed", v->nworkers, v->nworkers == 1 ? "" : "s");
	else
		used = snprintf(v->summary, sizeof(v->summary), "%s (no Python processes below it)",
				root->observed ? root->label : "not observed");
	for (int k = 0; k < nc && v->nworkers && used < sizeof(v->summary); k++)
		used += snprintf(v->summary + used, sizeof(v->summary) - used, "%s %d %s", k ? "," : "", c[k].n,
				 c[k].label);
	if (v->nlisted && used < sizeof(v->summary))
		snprintf(v->summary + used, sizeof(v->summary) - used, "; %d more listed, not observed", v->nlisted);

	if (!v->nworkers) {
		v->label = root && root->observed ? root->label : "unknown";
		if (root && v->nlisted)
			reason(v, "no Python process below %d (%s) to observe: %d process(es) listed only", root->pid,
			       root->comm, v->nlisted);
		return;
	}
	for (int k = 0; k < nc; k++) {
		all_cpu += cpu_label(c[k].label) ? c[k].n : 0;
		io += !strcmp(c[k].label, "io-bound") ? c[k].n : 0;
		idle += !strcmp(c[k].label, "idle") ? c[k].n : 0;
	}
	v->label = c[0].label;
	for (int k = 0; k < nc; k++)
		reason(v, "%d of %d %s %s %s", c[k].n, v->nworkers, root ? "workers" : "processes",
		       c[k].n == 1 ? "is" : "are", c[k].label);

	v->hot = hot_worker(m, n, first, v->nworkers);
	if (v->hot >= 0) {
		const struct service_member *h = &m[v->hot];
		double others = 0;

		for (size_t i = first; i < n; i++)
			if (m[i].observed && (int)i != v->hot)
				others += share(&m[i]);
		others /= v->nworkers - 1;
		v->label = "imbalanced";
		reason(v, "one worker is hot while the others idle: %d (%s) was on CPU %.0f%% of the window, the %d "
			  "others %.0f%% on average", h->pid, h->comm, 100 * share(h), v->nworkers - 1, 100 * others);
		advise(v, "The work is not spread over the workers: look for a load-balancing or sticky-request "
			  "problem (keep-alive connections pinned to one worker, one long-running request, a proxy "
			  "hashing clients to one worker, a queue only one process consumes).");
		advise(v, "Adding workers will not help while one of them does the work; see worker %d's own verdict "
			  "for what it does.", h->pid);
	} else if (all_cpu == v->nworkers) {
		if (v->nworkers < ncpus)
			advise(v, "Every worker is CPU-bound and there are fewer workers (%d) than cores (%d): add workers, "
				  "up to the number of cores.", v->nworkers, ncpus);
		else
			advise(v, "Every worker is CPU-bound with at least as many workers (%d) as cores (%d): add cores "
				  "or hosts, or make the work cheaper (see the workers' own verdicts); more workers than "
				  "cores will not help.", v->nworkers, ncpus);
	} else if (2 * io > v->nworkers) {
		advise(v, "Most workers wait on I/O: more workers, threads per worker or async workers raise "
			  "throughput as far as the services they wait on allow; the time is spent there (see the "
			  "workers' own reasons).");
	} else if (idle == v->nworkers) {
		advise(v, "The workers had nothing to do in the window: classify the service under load.");
	}
	if (root && root->observed && strcmp(root->label, "idle")) {
		reason(v, "the root process %d (%s) is %s itself", root->pid, root->comm, root->label);
		advise(v, "A master or pool parent should only hand out work and supervise: move what process %d "
			  "computes into the workers.", root->pid);
	}
	if (v->nlisted)
		reason(v, "%d process(es) in the tree listed, not observed (not Python, gone or refused)", v->nlisted);
}
