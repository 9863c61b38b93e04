// SPDX-License-Identifier: MIT
/*
 * Prometheus text exposition (format 0.0.4). Values are cumulative since the
 * daemon attached to each watched process; the verdict is the last full
 * window's. Label values come from targets and are escaped here, so that no
 * name or path can break the page.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "pyprobe/buckets.h"
#include "monitor.h"
#include "session.h"
#include "utf8.h"
#include "prom.h"

#define MAX_THREAD_SERIES 256	/* per process */

/*
 * Label values: backslash, double quote and newline escaped; bytes that are
 * not UTF-8 (thread names and paths are the target's to choose) become U+FFFD,
 * or one bad value would make the whole page unreadable.
 */
static void put_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int n = utf8_seq_len(s);

		if (!n) {
			fputs("\xef\xbf\xbd", f);
			s++;
			continue;
		}
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{pid="1",rule="..."[,container="ID"] : a process's labels, the brace left open. */
static void proc_labels(FILE *f, const char *name, const struct watched_view *v)
{
	fprintf(f, "%s{pid=\"%d\",rule=\"", name, v->s->pid);
	put_escaped(f, v->rule);
	fputc('"', f);
	if (v->s->py.container[0])
		fprintf(f, ",container=\"%.12s\"", v->s->py.container);
}

/* name{pid="1",rule="..."[,container="ID"][,extra]} value */
static void proc_sample(FILE *f, const char *name, const struct watched_view *v, const char *extra, double value)
{
	proc_labels(f, name, v);
	fprintf(f, "%s%s} %.15g\n", extra ? "," : "", extra ? extra : "", value);
}

enum {
	P_INFO, P_OBSERVED, P_THREADS, P_SECONDS, P_GIL_SEC, P_GIL_WAITS, P_SAMPLES, P_GC_COLL, P_GC_COLLECTED,
	P_GC_UNCOLL, P_GC_PAUSE, P_LOOP_BUSY, P_LOOP_STALLS, P_LABEL, P_CONFIDENCE, P_SHARE, P_WINDOWS, P_CHANGES, P_THREAD_SECONDS, P_NPASSES
};

static const struct {
	const char *name, *type, *help;
} fam[P_NPASSES] = {
	[P_INFO] = { "pyprobe_process_info", "gauge", "A watched CPython process: its interpreter and executable." },
	[P_OBSERVED] = { "pyprobe_process_observed_seconds_total", "counter", "Time since pyprobed attached." },
	[P_THREADS] = { "pyprobe_process_threads", "gauge", "Threads seen doing anything since attach." },
	[P_SECONDS] = { "pyprobe_thread_seconds_total", "counter",
			"Thread-seconds by scheduler state, summed over the process's threads (exact)." },
	[P_GIL_SEC] = { "pyprobe_gil_wait_seconds_total", "counter",
			"Time threads waited for the GIL: acquire or forced hand-off (exact)." },
	[P_GIL_WAITS] = { "pyprobe_gil_waits_total", "counter", "Blocking waits for the GIL." },
	[P_SAMPLES] = { "pyprobe_cpu_samples_total", "counter",
			"CPU samples of the process's threads by what they were doing (sampled)." },
	[P_GC_COLL] = { "pyprobe_gc_collections_total", "counter",
			"Collections per generation, from the interpreter's own counters since it started; "
			"generation 0's rate follows object churn." },
	[P_GC_COLLECTED] = { "pyprobe_gc_collected_objects_total", "counter", "Objects the collector freed." },
	[P_GC_UNCOLL] = { "pyprobe_gc_uncollectable_objects_total", "counter",
			  "Objects the collector found uncollectable." },
	[P_GC_PAUSE] = { "pyprobe_gc_pause_seconds", "histogram",
			 "Timed collections (gc-timing exact, or while a pyprobe gc window is open)." },
	[P_LOOP_BUSY] = { "pyprobe_loop_busy_seconds", "histogram",
			  "Event-loop busy periods: a thread waking from a blocking poll/epoll/select wait to its next "
			  "one (exact, all of the process's loop threads)." },
	[P_LOOP_STALLS] = { "pyprobe_loop_stalls_total", "counter",
			    "Event-loop busy periods of pyprobed's loop-threshold or longer (stalls, or a saturated "
			    "loop's long periods; pyprobe loop tells them apart)." },
	[P_LABEL] = { "pyprobe_verdict", "gauge", "The label of the last full window (1 for the current label)." },
	[P_CONFIDENCE] = { "pyprobe_verdict_confidence", "gauge", "Confidence of the last full window's label." },
	[P_SHARE] = { "pyprobe_work_share", "gauge",
		      "Share of the last full window's work (cpu, gil, io, other) the verdict is based on." },
	[P_WINDOWS] = { "pyprobe_windows_total", "counter", "Rolling windows classified." },
	[P_CHANGES] = { "pyprobe_label_changes_total", "counter", "Times the label changed between windows." },
	[P_THREAD_SECONDS] = { "pyprobe_thread_state_seconds_total", "counter",
			       "Per thread: seconds by scheduler state (exact)." },
};

static void thread_series(FILE *f, const struct watched_view *v)
{
	size_t n = v->total->n < MAX_THREAD_SERIES ? v->total->n : MAX_THREAD_SERIES;

	for (size_t i = 0; i < n; i++) {
		const struct thread_window *t = &v->total->t[i];

		if (t->exited)
			continue;	/* its time stays in the process totals */
		for (int b = 0; b < PP_NBUCKETS; b++) {
			proc_labels(f, fam[P_THREAD_SECONDS].name, v);
			fprintf(f, ",tid=\"%u\",thread=\"", t->tid);
			put_escaped(f, t->name);
			fprintf(f, "\",state=\"%s\"} %.15g\n", pp_bucket_names[b], t->sec[b]);
		}
	}
}

/* A process's threads summed: one pass over them serves every family. */
struct sums {
	double sec[PP_NBUCKETS], gil[PP_GIL_NKINDS];
	uint64_t gcnt[PP_GIL_NKINDS], smp[5];
};

static void sum_threads(const struct window *w, struct sums *sum)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *t = &w->t[i];

		for (int b = 0; b < PP_NBUCKETS; b++)
			sum->sec[b] += t->sec[b];
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			sum->gil[k] += t->gil_sec[k];
			sum->gcnt[k] += t->gil_cnt[k];
		}
		sum->smp[0] += t->samples_gil;
		sum->smp[1] += t->samples_nogil;
		sum->smp[2] += t->samples_unknown;
		sum->smp[3] += t->samples_kernel_io;
		sum->smp[4] += t->samples_gc;
	}
}

/* Write v's samples of one family (pass) to f. */
static void proc_pass(FILE *f, int pass, const struct watched_view *v, const struct sums *sum)
{
	const struct window *w = v->total;
	const struct session *s = v->s;
	const struct gc_counts *gc = &v->now->gc;
	char extra[128];

	switch (pass) {
	case P_INFO:
		proc_labels(f, fam[P_INFO].name, v);
		fputs(",python_version=\"", f);
		put_escaped(f, s->py.version);
		fputs("\",exe=\"", f);
		put_escaped(f, s->py.exe);
		fputs("\"} 1\n", f);
		break;
	case P_OBSERVED:
		proc_sample(f, fam[pass].name, v, NULL, w->seconds);
		break;
	case P_THREADS:
		proc_sample(f, fam[pass].name, v, NULL, (double)w->n);
		break;
	case P_SECONDS:
		for (int b = 0; b < PP_NBUCKETS; b++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"", pp_bucket_names[b]);
			proc_sample(f, fam[pass].name, v, extra, sum->sec[b]);
		}
		break;
	case P_GIL_SEC:
	case P_GIL_WAITS:
		for (int k = 0; k < PP_GIL_NKINDS; k++) {
			snprintf(extra, sizeof(extra), "kind=\"%s\"", k == PP_GIL_ACQUIRE ? "acquire" : "handoff");
			proc_sample(f, fam[pass].name, v, extra, pass == P_GIL_SEC ? sum->gil[k] : (double)sum->gcnt[k]);
		}
		break;
	case P_SAMPLES: {
		static const char *const kinds[] = { "python_gil", "native_nogil", "unknown", "kernel_io", "gc" };

		for (int k = 0; k < 5; k++) {
			snprintf(extra, sizeof(extra), "kind=\"%s\"", kinds[k]);
			proc_sample(f, fam[pass].name, v, extra, (double)sum->smp[k]);
		}
		break;
	}
	case P_GC_COLL:
	case P_GC_COLLECTED:
	case P_GC_UNCOLL:
		if (!gc->valid)
			break;
		for (int g = 0; g < GC_GENS; g++) {
			const uint64_t *val = pass == P_GC_COLL ? gc->collections :
					      pass == P_GC_COLLECTED ? gc->collected : gc->uncollectable;

			snprintf(extra, sizeof(extra), "generation=\"%d\"", g);
			proc_sample(f, fam[pass].name, v, extra, (double)val[g]);
		}
		break;
	case P_GC_PAUSE: {
		uint64_t cum = 0;
		char name[64];

		snprintf(name, sizeof(name), "%s_bucket", fam[P_GC_PAUSE].name);
		for (int b = 0; b < GC_HIST_BUCKETS - 1; b++) {
			cum += s->gc_hist[b];
			snprintf(extra, sizeof(extra), "le=\"%g\"", (double)(2ULL << b) / 1e6);
			proc_sample(f, name, v, extra, (double)cum);
		}
		proc_sample(f, name, v, "le=\"+Inf\"", (double)s->gc_timed);
		snprintf(name, sizeof(name), "%s_sum", fam[P_GC_PAUSE].name);
		proc_sample(f, name, v, NULL, s->gc_pause_sum);
		snprintf(name, sizeof(name), "%s_count", fam[P_GC_PAUSE].name);
		proc_sample(f, name, v, NULL, (double)s->gc_timed);
		break;
	}
	case P_LOOP_BUSY: {
		uint64_t cnt[PP_HIST] = { 0 }, n = 0, cum = 0;
		double secs = 0;
		char name[64];

		for (size_t i = 0; i < v->total->n; i++)
			for (int b = 0; b < PP_HIST; b++) {
				cnt[b] += v->total->t[i].loop.cnt[b];
				n += v->total->t[i].loop.cnt[b];
				secs += v->total->t[i].loop.sec[b];
			}
		if (!n)
			break;	/* no event loop */
		snprintf(name, sizeof(name), "%s_bucket", fam[P_LOOP_BUSY].name);
		for (int b = 0; b < PP_HIST - 1; b++) {
			cum += cnt[b];
			snprintf(extra, sizeof(extra), "le=\"%g\"", (double)(1ULL << (PP_HIST_SHIFT + b)) / 1e9);
			proc_sample(f, name, v, extra, (double)cum);
		}
		proc_sample(f, name, v, "le=\"+Inf\"", (double)n);
		snprintf(name, sizeof(name), "%s_sum", fam[P_LOOP_BUSY].name);
		proc_sample(f, name, v, NULL, secs);
		snprintf(name, sizeof(name), "%s_count", fam[P_LOOP_BUSY].name);
		proc_sample(f, name, v, NULL, (double)n);
		break;
	}
	case P_LOOP_STALLS: {
		bool loop = false;

		for (size_t i = 0; i < v->total->n && !loop; i++)
			loop = v->total->t[i].loop.n > 0;
		if (loop || s->loop_long)
			proc_sample(f, fam[pass].name, v, NULL, (double)s->loop_long);
		break;
	}
	case P_LABEL:
		if (v->has_verdict) {
			snprintf(extra, sizeof(extra), "label=\"%s\"", v->last->label);
			proc_sample(f, fam[pass].name, v, extra, 1);
		}
		break;
	case P_CONFIDENCE:
		if (v->has_verdict)
			proc_sample(f, fam[pass].name, v, NULL, v->last->confidence);
		break;
	case P_SHARE:
		if (v->has_verdict) {
			const struct totals *t = &v->last->tot;
			const double parts[] = { t->cpu, t->gil, t->io, t->other };
			static const char *const names[] = { "cpu", "gil", "io", "other" };

			for (int i = 0; i < 4; i++) {
				snprintf(extra, sizeof(extra), "part=\"%s\"", names[i]);
				proc_sample(f, fam[pass].name, v, extra, t->work > 0 ? parts[i] / t->work : 0);
			}
		}
		break;
	case P_WINDOWS:
		proc_sample(f, fam[pass].name, v, NULL, (double)v->windows);
		break;
	case P_CHANGES:
		proc_sample(f, fam[pass].name, v, NULL, (double)v->label_changes);
		break;
	case P_THREAD_SECONDS:
		thread_series(f, v);
		break;
	}
}

static void daemon_metrics(FILE *f, const struct prom_daemon *d)
{
	family(f, "pyprobe_build_info", "gauge", "The pyprobed version.");
	fputs("pyprobe_build_info{version=\"", f);
	put_escaped(f, d->version);
	fputs("\"} 1\n", f);
	family(f, "pyprobe_uptime_seconds", "gauge", "Seconds since pyprobed started.");
	fprintf(f, "pyprobe_uptime_seconds %.3f\n", d->req.uptime);
	family(f, "pyprobe_sessions", "gauge", "Processes observed now (watched or on request).");
	fprintf(f, "pyprobe_sessions %u\n", d->sessions);
	family(f, "pyprobe_watched_processes", "gauge", "Processes watched by the config file's rules.");
	fprintf(f, "pyprobe_watched_processes %u\n", d->watched);
	family(f, "pyprobe_pending_windows", "gauge", "Request windows open now.");
	fprintf(f, "pyprobe_pending_windows %u\n", d->req.pending);
	family(f, "pyprobe_clients", "gauge", "Control-socket clients connected.");
	fprintf(f, "pyprobe_clients %u\n", d->clients);
	family(f, "pyprobe_requests_total", "counter", "Control-socket requests served.");
	fprintf(f, "pyprobe_requests_total %lu\n", d->req.requests);
	family(f, "pyprobe_scrapes_total", "counter", "Metrics scrapes served.");
	fprintf(f, "pyprobe_scrapes_total %lu\n", d->scrapes);
	family(f, "pyprobe_profile_scrapes_total", "counter",
	       "Profile scrapes (/debug/pprof/profile, /debug/pprof/wall) that opened a window, by kind.");
	fprintf(f, "pyprobe_profile_scrapes_total{kind=\"cpu\"} %lu\n", d->profiles[0]);
	fprintf(f, "pyprobe_profile_scrapes_total{kind=\"wall\"} %lu\n", d->profiles[1]);
	family(f, "pyprobe_profile_scrapes_refused_total", "counter",
	       "Profile scrapes turned away (429) because the most profiles at once were being recorded.");
	fprintf(f, "pyprobe_profile_scrapes_refused_total %lu\n", d->profiles_refused);
	family(f, "pyprobe_profiles_recording", "gauge", "Profile scrapes waiting for their window to end.");
	fprintf(f, "pyprobe_profiles_recording %u\n", d->recording);
	family(f, "pyprobe_bpf_events_lost_total", "counter", "Ring-buffer records lost because it was full.");
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"sched\"} %llu\n", (unsigned long long)d->bpf.events_lost);
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"gc\"} %llu\n", (unsigned long long)d->bpf.gc_events_lost);
	fprintf(f, "pyprobe_bpf_events_lost_total{source=\"procs\"} %llu\n",
		(unsigned long long)d->bpf.proc_events_lost);
	family(f, "pyprobe_bpf_map_full_total", "counter", "Threads not tracked past max-threads, and GIL charges lost because their map was full.");
	fprintf(f, "pyprobe_bpf_map_full_total{map=\"threads\"} %llu\n", (unsigned long long)d->bpf.threads_full);
	fprintf(f, "pyprobe_bpf_map_full_total{map=\"gil_charges\"} %llu\n",
		(unsigned long long)d->bpf.gil_charges_full);
	family(f, "pyprobe_bpf_switches_unseen_total", "counter",
	       "Threads that came on a CPU the scheduler hook never saw them leave (their wait's reason taken late).");
	fprintf(f, "pyprobe_bpf_switches_unseen_total %llu\n", (unsigned long long)d->bpf.switches_unseen);
}

/*
 * The daemon's series go straight to the page; each process family to a
 * stream of its own, appended under its HELP and TYPE at the end.
 */
struct prom {
	FILE *f;
	char *buf;
	size_t len;
	FILE *fam_f[P_NPASSES];	/* NULL: a family left out (per-thread series when not asked for) */
	char *fam_buf[P_NPASSES];
	size_t fam_len[P_NPASSES];
};

struct prom *prom__new(const struct prom_daemon *d, bool threads)
{
	struct prom *p = calloc(1, sizeof(*p));
	size_t len;
	int err = p ? 0 : -ENOMEM;

	if (err)
		goto cleanup;
	p->f = open_memstream(&p->buf, &p->len);
	if (!p->f) {
		err = -errno;
		goto cleanup;
	}
	for (int i = 0; i < P_NPASSES; i++) {
		if (i == P_THREAD_SECONDS && !threads)
			continue;
		p->fam_f[i] = open_memstream(&p->fam_buf[i], &p->fam_len[i]);
		if (!p->fam_f[i]) {
			err = -errno;
			goto cleanup;
		}
	}
	daemon_metrics(p->f, d);
cleanup:
	if (err) {
		free(prom__finish(p, &len));
		p = NULL;
		errno = -err;
	}
	return p;
}

void prom__add(struct prom *p, const struct watched_view *v)
{
	struct sums sum = {};

	sum_threads(v->total, &sum);
	for (int i = 0; i < P_NPASSES; i++)
		if (p->fam_f[i])
			proc_pass(p->fam_f[i], i, v, &sum);
}

char *prom__finish(struct prom *p, size_t *len)
{
	char *page = NULL;
	bool ok = true;

	if (!p)
		return NULL;
	for (int i = 0; i < P_NPASSES; i++) {
		if (!p->fam_f[i])
			continue;
		ok &= fclose(p->fam_f[i]) == 0;
		if (ok && p->f) {
			family(p->f, fam[i].name, fam[i].type, fam[i].help);
			fwrite(p->fam_buf[i], 1, p->fam_len[i], p->f);
		}
		free(p->fam_buf[i]);
	}
	ok &= p->f && fclose(p->f) == 0;
	if (ok) {
		page = p->buf;
		*len = p->len;
	} else {
		free(p->buf);
	}
	free(p);
	return page;
}
