// SPDX-License-Identifier: MIT
/* Window and verdict to the JSON reply. Every metric names its method. */
#include "report.h"
#include "utf8.h"

static json_t *buckets(const double *sec)
{
	json_t *o = json_object();

	for (int b = 0; b < PP_NBUCKETS; b++)
		json_object_set_new(o, pp_bucket_names[b], json_real(sec[b]));
	return o;
}

/* The Python identity of an OS thread, or null when it runs no Python. */
static json_t *python_identity(const struct report_ctx *rc, const struct thread_window *th)
{
	for (int i = 0; i < rc->npythreads; i++) {
		const struct pythread *p = &rc->pythreads[i];

		if ((p->native_id && p->native_id == th->tid) || (th->fsbase && p->ident == th->fsbase))
			return json_pack("{s:I, s:b, s:i}", "ident", (json_int_t)p->ident, "main",
					 th->tid == (uint32_t)rc->pid, "interpreter", (int)p->interp);
	}
	return json_null();
}

json_t *report_python(const struct pyinfo *py)
{
	/* Paths are the file system's: any bytes. */
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:b, s:b, s:b, s:b}", "version", py->version, "build",
			 utf8_json_string(py->build), "binary", utf8_json_string(py->elf_path), "exe",
			 utf8_json_string(py->exe), "shared", py->shared, "pie", py->pie,
			 "symbols", py->symtab, "usdt", py->usdt, "debug_offsets", py->debug_offsets);
}

json_t *report_placement(pid_t pid, const struct pyinfo *py)
{
	static const char *const via[] = { "map_files", "root", "host" };
	json_t *o = json_pack("{s:i, s:b, s:o, s:o, s:s}", "ns_pid", (int)(py->ns_pid ? py->ns_pid : pid),
			      "own_root", py->own_root, "cgroup", utf8_json_string(py->cgroup), "container",
			      py->container[0] ? json_string(py->container) : json_null(), "binary_opened_through",
			      py->elf_via >= 0 && py->elf_via < 3 ? via[py->elf_via] : "?");

	if (o && py->elf_deleted)
		json_object_set_new(o, "binary_deleted", json_true());
	return o;
}

static json_t *strings(const char (*lines)[VERDICT_LINE], int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, utf8_json_string(lines[i]));
	return a;
}

static json_t *gc_gen(const struct gc_gen_window *g, int generation, bool timed, double window)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "collections", (json_int_t)g->collections, "timed",
			      (json_int_t)g->timed, "collected", (json_int_t)g->collected, "uncollectable",
			      (json_int_t)g->uncollectable);

	if (generation >= 0)
		json_object_set_new(o, "generation", json_integer(generation));
	if (timed) {
		json_object_set_new(o, "pause_seconds", json_real(g->total));
		json_object_set_new(o, "share_of_wall", json_real(window > 0 ? g->total / window : 0));
		json_object_set_new(o, "p50_ms", json_real(1e3 * g->p50));
		json_object_set_new(o, "p95_ms", json_real(1e3 * g->p95));
		json_object_set_new(o, "p99_ms", json_real(1e3 * g->p99));
		json_object_set_new(o, "max_ms", json_real(1e3 * g->max));
	}
	return o;
}

json_t *report_gc(const struct report_ctx *rc, const struct window *w)
{
	const struct gc_window *gc = &w->gc;
	bool timed = gc->method == GC_METHOD_USDT || gc->method == GC_METHOD_UPROBE ||
		     (gc->rate_guard && gc->all.timed);
	json_t *gens = json_array(), *hist = json_array();
	json_t *o;

	for (int g = 0; g < GC_GENS; g++)
		json_array_append_new(gens, gc_gen(&gc->gen[g], g, timed, w->seconds));
	for (int i = 0; i < GC_HIST_BUCKETS; i++)
		json_array_append_new(hist, json_pack("{s:I, s:I}", "ge_us", (json_int_t)(i ? 1ULL << i : 0),
						      "count", (json_int_t)gc->hist[i]));
	o = json_pack("{s:s, s:s, s:b, s:b, s:i, s:f, s:f, s:f, s:o, s:o, s:o, s:s}", "method", gc_method_name(gc->method),
		      "attach", rc->gc_attach ? rc->gc_attach : "none",
		      "counts_exact", gc->counts_exact, "rate_guard", gc->rate_guard, "max_rate", (int)rc->gc_max_rate,
		      "pause_seconds", gc->pause_seconds, "share_of_wall", gc->share, "sampled_seconds",
		      gc->sampled_seconds, "all", gc_gen(&gc->all, -1, timed, w->seconds), "generations", gens, "histogram", hist,
		      "note", gc->rate_guard ? "exact timing stopped: collections/s went over max_rate; pauses are "
					       "estimated from CPU samples" :
		      gc->method == GC_METHOD_SAMPLED ? "pauses estimated from CPU samples; `pyprobe gc` times "
							  "every collection" :
		      gc->method == GC_METHOD_NONE ? "the collector's state was not found: no GC data" :
		      "every collection timed; counts from the interpreter's own statistics");
	return o;
}

static json_t *busy_json(const struct busy_window *b, const struct thread_role *r, double window)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:i, s:f}", "count", (json_int_t)b->n, "seconds", b->total,
			 "p50_ms", 1e3 * r->busy_p50, "max_ms", 1e3 * b->max, "open_ms", 1e3 * b->open, "bursts",
			 (int)r->nbursts, "burst_mean_ms", 1e3 * r->burst_mean);
}

static json_t *role_json(const struct thread_role *r)
{
	json_t *parts = json_object();

	for (int k = 0; k < NROLES; k++)
		json_object_set_new(parts, role_names[k], json_real(r->observed > 0 ? r->part[k] / r->observed : 0));
	return json_pack("{s:s, s:f, s:o}", "name", role_names[r->role], "share", r->share, "parts", parts);
}

static json_t *thread_json(const struct report_ctx *rc, const struct window *w, const struct thread_window *th)
{
	struct thread_role r;
	json_t *o;

	classify_thread(w, th, &r);
	o = json_pack("{s:i, s:o, s:b, s:o, s:o, s:o, s:f, s:{s:f, s:f, s:I, s:I}, "
		      "s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:o}",
		      "tid", (int)th->tid, "name", utf8_json_string(th->name), "exited", th->exited, "python",
		      python_identity(rc, th), "role", role_json(&r), "seconds", buckets(th->sec), "utilization",
		      r.util, "gil", "acquire_seconds", th->gil_sec[PP_GIL_ACQUIRE], "handoff_seconds",
		      th->gil_sec[PP_GIL_HANDOFF], "acquire_waits", (json_int_t)th->gil_cnt[PP_GIL_ACQUIRE],
		      "handoff_waits", (json_int_t)th->gil_cnt[PP_GIL_HANDOFF], "samples", "total",
		      (json_int_t)th->samples, "gil", (json_int_t)th->samples_gil, "gil_native",
		      (json_int_t)th->samples_gil_native, "nogil", (json_int_t)th->samples_nogil, "unknown",
		      (json_int_t)th->samples_unknown, "kernel_io", (json_int_t)th->samples_kernel_io, "busy_periods",
		      busy_json(&th->busy, &r, w->seconds));
	if (!o)
		return NULL;
	if (th->ns_tid && th->ns_tid != (pid_t)th->tid)
		json_object_set_new(o, "ns_tid", json_integer(th->ns_tid));
	json_object_set_new(o, "runqueue", json_pack("{s:f, s:f}", "after_wakeup_seconds", th->rq_wake,
		"starved_seconds", r.starved));
	if (r.loop)
		json_object_set_new(o, "event_loop", json_pack("{s:I, s:f, s:f, s:f, s:b}", "wakeups",
			(json_int_t)th->loop.n, "busy_seconds", th->loop.total, "max_busy_ms", 1e3 * th->loop.max,
			"wakeups_per_second", w->seconds > 0 ? th->loop.n / w->seconds : 0.0, "serving", r.loop_serving));
	if (th->blocked_samples)
		json_object_set_new(o, "blocked_in_work", json_pack("{s:f, s:i}", "share", th->blocked_in_work,
			"samples", (int)th->blocked_samples));
	if (th->sec[PP_B_IPC_WAIT] > 0)
		json_object_set_new(o, "ipc", json_pack("{s:I, s:I, s:o}", "inode", (json_int_t)th->ipc_ino,
			"peer_inode", (json_int_t)th->ipc_peer_ino, "peer", th->peer_pid ?
			json_pack("{s:i, s:o}", "pid", (int)th->peer_pid, "comm", utf8_json_string(th->peer_comm)) :
			json_null()));
	return o;
}

static json_t *holders_json(const struct verdict *v)
{
	json_t *a = json_array();

	for (int i = 0; i < v->nholders; i++) {
		const struct holder *h = &v->holders[i];
		json_t *parts = json_object(), *o;
		const char *call = h->top_nr != PP_NR_NONE ? syscall_name(h->top_nr) : NULL;

		for (int k = 0; k < NHOLD; k++)
			json_object_set_new(parts, holder_part_names[k], json_real(h->part[k]));
		o = json_pack("{s:i, s:o, s:f, s:I, s:i, s:f, s:o}", "tid", (int)h->tid, "name",
			      utf8_json_string(h->name), "seconds", h->sec, "waits", (json_int_t)h->waits, "waiters",
			      (int)h->nwaiters, "held_blocked_seconds", h->held_blocked, "while", parts);
		if (o && h->top_nr != PP_NR_NONE)
			json_object_set_new(o, "blocked_in", json_pack("{s:i, s:o, s:s, s:f}", "syscall_nr",
				(int)h->top_nr, "syscall", call ? json_string(call) : json_null(), "bucket",
				h->top_bucket ? h->top_bucket : "other", "seconds", h->top_nr_sec));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *report_classify(const struct report_ctx *rc, const struct window *w, const struct verdict *v)
{
	const struct totals *t = &v->tot;
	json_t *root, *threads = json_array(), *share = json_object();

	for (int b = 0; b < PP_NBUCKETS; b++)
		json_object_set_new(share, pp_bucket_names[b], json_real(t->all > 0 ? t->sec[b] / t->all : 0));
	for (size_t i = 0; i < w->n; i++)
		json_array_append_new(threads, thread_json(rc, w, &w->t[i]));
	root = json_pack("{s:i, s:f, s:f, s:f, s:o}", "pid", (int)rc->pid, "window_seconds", w->seconds,
			 "requested_seconds", rc->requested_seconds, "attach_ms", rc->attach_ms,
			 "python", report_python(rc->py));
	if (root)
		json_object_set_new(root, "placement", report_placement(rc->pid, rc->py));
	if (!root) {
		json_decref(threads);
		json_decref(share);
		return NULL;
	}
	{
		json_t *tr = json_array();

		for (int i = 0; i < v->ntraits; i++)
			json_array_append_new(tr, json_string(v->traits[i]));
		json_t *roles = json_object(), *peers = json_array();

		for (int k = 0; k < NROLES; k++)
			if (t->roles[k])
				json_object_set_new(roles, role_names[k], json_integer(t->roles[k]));
		for (int i = 0; i < v->npeers; i++)
			json_array_append_new(peers, json_pack("{s:i, s:o, s:f}", "pid", (int)v->peers[i].pid, "comm",
				utf8_json_string(v->peers[i].comm), "seconds", v->peers[i].sec));
		json_object_set_new(root, "verdict", json_pack("{s:s, s:f, s:o, s:o, s:o, s:o, s:f, s:s, s:f, s:f, "
			"s:f, s:o, s:o, s:o}", "label", v->label,
			"confidence", v->confidence, "reasons", strings(v->reasons, v->nreasons),
			"advice", strings(v->advice, v->nadvice), "traits", tr,
			"deciding_tid", v->deciding_tid ? json_integer(v->deciding_tid) : json_null(),
			"utilization", v->utilization, "pattern", v->pattern ? v->pattern : "steady",
			"burst_ms", 1e3 * v->burst_seconds, "burst_every_ms", 1e3 * v->burst_every,
			"window_needed_seconds", v->window_needed,
			"boundary", v->boundary ? json_string(v->boundary) : json_null(), "roles", roles,
			"waiting_on", peers));
	}
	json_object_set_new(root, "totals", json_pack("{s:o, s:o, s:f, s:s}", "seconds", buckets(t->sec),
		"share", share, "thread_seconds", t->all,
		"method", "sched_switch tracepoint and the scheduler's run_delay; blocked time attributed by "
			  "the system call and its first argument (exact)"));
	json_object_set_new(root, "gil", json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:i, s:f, s:o, s:s, s:s}",
		"wait_seconds", t->sec[PP_B_GIL_WAIT], "acquire_seconds", t->gil_sec[PP_GIL_ACQUIRE],
		"handoff_seconds", t->gil_sec[PP_GIL_HANDOFF], "acquire_waits", (json_int_t)t->gil_cnt[PP_GIL_ACQUIRE],
		"handoff_waits", (json_int_t)t->gil_cnt[PP_GIL_HANDOFF],
		"forced_handoffs", (json_int_t)t->gil_cnt[PP_GIL_HANDOFF], "waiting_threads", (int)t->gil_waiters,
		"share_of_work", t->work > 0 ? t->gil / t->work : 0.0, "holders", holders_json(v),
		"method", "futex waits inside the main interpreter's GIL struct (exact)",
		"holders_method", "each acquire wait charged to the thread gil.last_holder named when it began "
				  "(read at most once per ms per waiter; waiters time out every switch interval and "
				  "look again), with that thread's scheduler state then; running time split into "
				  "Python and native by its samples"));
	json_object_set_new(root, "cpu", json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:i, s:s}",
		"oncpu_seconds", t->sec[PP_B_ONCPU], "python_seconds", t->cpu_python, "native_seconds",
		t->cpu_native, "kernel_io_seconds", t->cpu_io, "demand_cpus", t->cpu_demand,
		"samples", (json_int_t)t->samples,
		"samples_gil", (json_int_t)t->samples_gil, "samples_gil_native", (json_int_t)t->samples_gil_native,
		"samples_nogil", (json_int_t)t->samples_nogil,
		"samples_unknown", (json_int_t)t->samples_unknown, "samples_kernel_io", (json_int_t)t->samples_kernel_io,
		"python_share", t->python_share, "sample_hz", (int)rc->sample_hz,
		"method", "perf cpu-clock samples; GIL held = gil.locked and last_holder is the sampled thread "
			  "(sampled)"));
	json_object_set_new(root, "host", json_pack("{s:f, s:f, s:f, s:s}", "busy_cpus",
		w->seconds > 0 ? w->host_busy / w->seconds : 0.0, "own_share", t->own_share, "starved_seconds",
		t->starved, "method", "/proc/stat busy time over the window; run-queue time after wakeups beyond the "
		"process's own share of the busy CPU time is time it waited for CPUs other processes held"));
	json_object_set_new(root, "gc", report_gc(rc, w));
	if (w->mix.measured)
		json_object_set_new(root, "cpu_mix", json_pack("{s:I, s:I, s:f, s:I, s:f, s:{s:I, s:I, s:I, s:I, s:I, s:I}, "
			"s:o, s:s}",
			"samples", (json_int_t)w->mix.samples, "attr_samples", (json_int_t)w->mix.attr,
			"attr_share", w->mix.samples ? (double)w->mix.attr / w->mix.samples : 0.0,
			"churn_samples", (json_int_t)w->mix.churn,
			"churn_share", w->mix.samples ? (double)w->mix.churn / w->mix.samples : 0.0,
			"churn_by_kind", "number", (json_int_t)w->mix.churn_kind[CHURN_NUMBER], "container",
			(json_int_t)w->mix.churn_kind[CHURN_CONTAINER], "instance",
			(json_int_t)w->mix.churn_kind[CHURN_INSTANCE], "string", (json_int_t)w->mix.churn_kind[CHURN_STRING],
			"call", (json_int_t)w->mix.churn_kind[CHURN_CALL],
			"other", (json_int_t)w->mix.churn_kind[CHURN_OTHER], "churn_types", utf8_json_string(w->mix.churn_types),
			"method", "CPU samples with stacks: attribute-lookup instructions and lookup, allocation "
				  "and deallocation functions at the native leaf (sampled; pyprobe attrs and churn "
				  "give the detail)"));
	json_object_set_new(root, "threads", threads);
	json_object_set_new(root, "python_threads", json_integer(rc->npythreads > 0 ? rc->npythreads : 0));
	return root;
}

/* Where a blocking stall waited: its bucket, system call and how long. */
static json_t *blocked_in(uint8_t state, uint16_t nr, double seconds)
{
	const char *call = nr != PP_NR_NONE ? syscall_name(nr) : NULL;

	return json_pack("{s:s, s:o, s:f}", "bucket", state < PP_NBUCKETS ? pp_bucket_names[state] : "?", "syscall",
			 call ? json_string(call) : json_null(), "seconds", seconds);
}

static json_t *opt_string(const char *s)
{
	return s ? utf8_json_string(s) : json_null();
}

json_t *report_loop(const struct loop_report *r, double window_seconds)
{
	json_t *threads = json_array(), *stalls = json_array(), *sites = json_array();

	for (int i = 0; threads && i < r->nthreads; i++) {
		const struct loop_thread *t = &r->threads[i];
		json_t *hist = json_array();

		for (int b = 0; hist && t->hist && b < PP_HIST; b++)
			if (t->hist->cnt[b])
				json_array_append_new(hist, json_pack("{s:f, s:I, s:f}", "ge_ms",
								      b ? (double)(1ULL << (PP_HIST_SHIFT + b - 1)) / 1e6 : 0.0,
								      "count", (json_int_t)t->hist->cnt[b], "seconds",
								      t->hist->sec[b]));
		json_array_append_new(threads, json_pack("{s:i, s:o, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:i, s:f, s:f, s:o}",
							 "tid", (int)t->tid, "name", utf8_json_string(t->name),
							 "state", t->state, "iterations", (json_int_t)t->iterations,
							 "iterations_per_second",
							 window_seconds > 0 ? t->iterations / window_seconds : 0.0,
							 "busy_share", window_seconds > 0 ? t->busy_seconds / window_seconds : 0.0,
							 "p50_ms", 1e3 * t->p50, "p99_ms", 1e3 * t->p99, "max_ms", 1e3 * t->max,
							 "stalls", (int)t->nstalls, "stall_seconds", t->stall_seconds,
							 "saturated_seconds", t->saturated_seconds,
							 "histogram", hist ? hist : json_array()));
	}
	for (int i = 0; stalls && i < r->nstalls; i++) {
		const struct loop_stall *st = &r->stalls[i];
		json_t *o = json_pack("{s:i, s:f, s:f, s:s, s:o, s:o, s:o, s:i}", "tid", (int)st->tid, "start_seconds",
				      st->start, "duration_ms", 1e3 * st->seconds, "cause", loop_cause_name(st->cause),
				      "oncpu_share", st->oncpu_share >= 0 ? json_real(st->oncpu_share) : json_null(), "site",
				      opt_string(st->site), "task",
				      opt_string(st->task), "samples", (int)st->samples);

		if (o && st->cause == LOOP_CAUSE_BLOCKING)
			json_object_set_new(o, "blocked_in", blocked_in(st->blocked_state, st->blocked_nr,
									 st->blocked_seconds));
		if (o)
			json_object_set_new(o, "ongoing", json_boolean(st->ongoing));
		json_array_append_new(stalls, o);
	}
	for (int i = 0; sites && i < r->nsites; i++) {
		const struct loop_site *s = &r->sites[i];
		json_t *o = json_pack("{s:o, s:s, s:i, s:f, s:f}", "site", opt_string(s->site), "cause",
				      loop_cause_name(s->cause), "count", (int)s->count, "total_ms", 1e3 * s->seconds,
				      "max_ms", 1e3 * s->max);

		if (o && s->cause == LOOP_CAUSE_BLOCKING)
			json_object_set_new(o, "blocked_in", blocked_in(s->blocked_state, s->blocked_nr, 0));
		json_array_append_new(sites, o);
	}
	return json_pack("{s:i, s:i, s:f, s:o, s:o, s:o, s:s}", "threshold_ms", (int)(1e3 * r->threshold + 0.5),
			 "stalls_total", (int)r->stalls_total, "worst_ms", 1e3 * r->worst, "threads",
			 threads ? threads : json_array(), "stalls", stalls ? stalls : json_array(), "sites",
			 sites ? sites : json_array(), "method",
			 "busy periods of threads that wait in poll/epoll/select, from waking to blocking in the next "
			 "wait (sched_switch, exact); periods of 10 ms or more recorded with where their time went; "
			 "what ran in them from perf cpu-clock stack samples, where they blocked from wall samples of "
			 "blocked threads' Python stacks every 20 ms (sampled)");
}
