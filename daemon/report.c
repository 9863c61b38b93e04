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
			 json_string_lossy(py->build), "binary", json_string_lossy(py->elf_path), "exe",
			 json_string_lossy(py->exe), "shared", py->shared, "pie", py->pie,
			 "symbols", py->symtab, "usdt", py->usdt, "debug_offsets", py->debug_offsets);
}

static json_t *strings(const char (*lines)[VERDICT_LINE], int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string_lossy(lines[i]));
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
	o = json_pack("{s:s, s:b, s:b, s:i, s:f, s:f, s:f, s:o, s:o, s:o, s:s}", "method", gc_method_name(gc->method),
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

json_t *report_classify(const struct report_ctx *rc, const struct window *w, const struct verdict *v)
{
	const struct totals *t = &v->tot;
	json_t *root, *threads = json_array(), *share = json_object();

	for (int b = 0; b < PP_NBUCKETS; b++)
		json_object_set_new(share, pp_bucket_names[b], json_real(t->all > 0 ? t->sec[b] / t->all : 0));
	for (size_t i = 0; i < w->n; i++) {
		const struct thread_window *th = &w->t[i];

		json_array_append_new(threads, json_pack(
			"{s:i, s:o, s:b, s:o, s:o, s:{s:f, s:f, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}}",
			"tid", (int)th->tid, "name", json_string_lossy(th->name), "exited", th->exited, "python", python_identity(rc, th),
			"seconds", buckets(th->sec),
			"gil", "acquire_seconds", th->gil_sec[PP_GIL_ACQUIRE], "handoff_seconds",
			th->gil_sec[PP_GIL_HANDOFF], "acquire_waits", (json_int_t)th->gil_cnt[PP_GIL_ACQUIRE],
			"handoff_waits", (json_int_t)th->gil_cnt[PP_GIL_HANDOFF],
			"samples", "total", (json_int_t)th->samples, "gil", (json_int_t)th->samples_gil,
			"nogil", (json_int_t)th->samples_nogil, "unknown", (json_int_t)th->samples_unknown,
			"kernel_io", (json_int_t)th->samples_kernel_io));
	}
	root = json_pack("{s:i, s:f, s:f, s:f, s:o}", "pid", (int)rc->pid, "window_seconds", w->seconds,
			 "requested_seconds", rc->requested_seconds, "attach_ms", rc->attach_ms,
			 "python", report_python(rc->py));
	if (!root) {
		json_decref(threads);
		json_decref(share);
		return NULL;
	}
	{
		json_t *tr = json_array();

		for (int i = 0; i < v->ntraits; i++)
			json_array_append_new(tr, json_string(v->traits[i]));
		json_object_set_new(root, "verdict", json_pack("{s:s, s:f, s:o, s:o, s:o}", "label", v->label,
			"confidence", v->confidence, "reasons", strings(v->reasons, v->nreasons),
			"advice", strings(v->advice, v->nadvice), "traits", tr));
	}
	json_object_set_new(root, "totals", json_pack("{s:o, s:o, s:f, s:s}", "seconds", buckets(t->sec),
		"share", share, "thread_seconds", t->all,
		"method", "sched_switch tracepoint and the scheduler's run_delay; blocked time attributed by "
			  "the system call and its first argument (exact)"));
	json_object_set_new(root, "gil", json_pack("{s:f, s:f, s:f, s:I, s:I, s:i, s:f, s:s}",
		"wait_seconds", t->sec[PP_B_GIL_WAIT], "acquire_seconds", t->gil_sec[PP_GIL_ACQUIRE],
		"handoff_seconds", t->gil_sec[PP_GIL_HANDOFF], "acquire_waits", (json_int_t)t->gil_cnt[PP_GIL_ACQUIRE],
		"handoff_waits", (json_int_t)t->gil_cnt[PP_GIL_HANDOFF], "waiting_threads", (int)t->gil_waiters,
		"share_of_work", t->work > 0 ? t->gil / t->work : 0.0,
		"method", "futex waits inside the main interpreter's GIL struct (exact)"));
	json_object_set_new(root, "cpu", json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:i, s:s}",
		"oncpu_seconds", t->sec[PP_B_ONCPU], "python_seconds", t->cpu_python, "native_seconds",
		t->cpu_native, "kernel_io_seconds", t->cpu_io, "samples", (json_int_t)t->samples,
		"samples_gil", (json_int_t)t->samples_gil, "samples_nogil", (json_int_t)t->samples_nogil,
		"samples_unknown", (json_int_t)t->samples_unknown, "samples_kernel_io", (json_int_t)t->samples_kernel_io,
		"python_share", t->python_share, "sample_hz", (int)rc->sample_hz,
		"method", "perf cpu-clock samples; GIL held = gil.locked and last_holder is the sampled thread "
			  "(sampled)"));
	json_object_set_new(root, "gc", report_gc(rc, w));
	if (w->mix.measured)
		json_object_set_new(root, "cpu_mix", json_pack("{s:I, s:I, s:f, s:I, s:f, s:s}",
			"samples", (json_int_t)w->mix.samples, "attr_samples", (json_int_t)w->mix.attr,
			"attr_share", w->mix.samples ? (double)w->mix.attr / w->mix.samples : 0.0,
			"churn_samples", (json_int_t)w->mix.churn,
			"churn_share", w->mix.samples ? (double)w->mix.churn / w->mix.samples : 0.0,
			"method", "CPU samples with stacks: attribute-lookup instructions and lookup, allocation "
				  "and deallocation functions at the native leaf (sampled; pyprobe attrs and churn "
				  "give the detail)"));
	json_object_set_new(root, "threads", threads);
	json_object_set_new(root, "python_threads", json_integer(rc->npythreads > 0 ? rc->npythreads : 0));
	return root;
}
