// SPDX-License-Identifier: MIT
/*
 * Skeleton lifecycle: open, size maps, load once at start; attach the
 * system-wide scheduler tracepoints and per-CPU samplers only while at least
 * one target is observed, so an idle daemon costs nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "sched.skel.h"
#include "array.h"
#include "sampler.skel.h"
#include "gc.skel.h"
#include "procs.skel.h"
#include "log.h"
#include "opts.h"
#include "loader.h"
#include "umlink.h"

struct loader {
	struct pp_sched *sched;
	struct pp_sampler *sampler;
	struct pp_gc *gc;
	struct pp_procs *procs;
	struct ring_buffer *rb;
	struct bpf_link **perf_links;
	int *perf_fds;
	int ncpus;
	unsigned int sample_hz;
	unsigned int ntargets;
	int nsampled;
	bool attached;
	bool watching;		/* watch rules exist: report every exec */
	bool procs_attached;
	struct um_layout um;
};

bool loader__has_uprobe_multi(const struct loader *l)
{
	return l->um.ok;
}

bool loader__gc_exact(const struct loader *l, const struct opts *o)
{
	return o->gc_timing == GC_TIMING_EXACT || (o->gc_timing == GC_TIMING_AUTO && l->um.ok);
}

int loader__attach_gc_multi(struct loader *l, pid_t pid, const char *path, const uint64_t *offsets,
			    const uint64_t *ref_ctr_offsets, const uint64_t *cookies, size_t n, bool end, bool ret)
{
	struct bpf_program *prog = end ? l->gc->progs.handle_gc_multi_end : l->gc->progs.handle_gc_multi_begin;
	struct umlink_req r = { bpf_program__fd(prog), pid, path, offsets, ref_ctr_offsets, cookies, n, ret };

	if (!l->um.ok)
		return -EOPNOTSUPP;
	return umlink_create(&l->um, &r);
}

/* Exec and fork events are wanted while there are targets or watch rules. */
static int update_procs(struct loader *l)
{
	bool want = l->ntargets > 0 || l->watching;
	int err;

	l->procs->bss->watch_all = l->watching;
	if (want == l->procs_attached)
		return 0;
	if (!want) {
		pp_procs__detach(l->procs);
		l->procs_attached = false;
		return 0;
	}
	err = pp_procs__attach(l->procs);
	if (err)
		return err;
	l->procs_attached = true;
	return 0;
}

int loader__watch_procs(struct loader *l, bool on)
{
	l->watching = on;
	return update_procs(l);
}

static void detach_all(struct loader *l)
{
	for (int i = 0; i < l->ncpus; i++) {
		bpf_link__destroy(l->perf_links[i]);
		l->perf_links[i] = NULL;
		if (l->perf_fds[i] >= 0)
			close(l->perf_fds[i]);
		l->perf_fds[i] = -1;
	}
	l->nsampled = 0;
	pp_sched__detach(l->sched);
	l->attached = false;
}

static int attach_all(struct loader *l)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = l->sample_hz,
	};
	int err;

	err = pp_sched__attach(l->sched);
	if (err)
		return err;
	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV)	/* possible but offline CPU */
				continue;
			err = -errno;
			goto fail;
		}
		l->perf_fds[cpu] = fd;
		l->perf_links[cpu] = bpf_program__attach_perf_event(l->sampler->progs.handle_sample, fd);
		if (!l->perf_links[cpu]) {
			err = -errno;
			goto fail;
		}
		l->nsampled++;
	}
	l->attached = true;
	return 0;
fail:
	detach_all(l);
	return err;
}

struct loader *loader__new(const struct opts *o, loader_event_fn fn, void *ctx)
{
	struct loader *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return NULL;
	l->sample_hz = o->sample_hz;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		err = l->ncpus ? l->ncpus : -EINVAL;
		goto fail;
	}
	l->perf_links = calloc(l->ncpus, sizeof(*l->perf_links));
	l->perf_fds = malloc(l->ncpus * sizeof(int));
	if (!l->perf_links || !l->perf_fds) {
		err = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < l->ncpus; i++)
		l->perf_fds[i] = -1;

	l->sched = pp_sched__open();
	if (!l->sched) {
		err = -errno;
		goto fail;
	}
	l->sched->rodata->cfg_max_threads = o->max_threads;
	bpf_map__set_max_entries(l->sched->maps.pthreads, o->max_threads);
	bpf_map__set_max_entries(l->sched->maps.targets, o->max_sessions);
	/* The task iterators run on demand, with a pid filter, not with the tracepoints. */
	bpf_program__set_autoattach(l->sched->progs.handle_seed_iter, false);
	bpf_program__set_autoattach(l->sched->progs.handle_snap_iter, false);
	bpf_program__set_autoattach(l->sched->progs.handle_drop_iter, false);
	err = pp_sched__load(l->sched);
	if (err)
		goto fail;

	l->sampler = pp_sampler__open();
	if (!l->sampler) {
		err = -errno;
		goto fail;
	}
	err = bpf_map__reuse_fd(l->sampler->maps.threads, bpf_map__fd(l->sched->maps.threads));
	if (!err)
		err = bpf_map__reuse_fd(l->sampler->maps.targets, bpf_map__fd(l->sched->maps.targets));
	if (!err)
		err = bpf_map__reuse_fd(l->sampler->maps.events, bpf_map__fd(l->sched->maps.events));
	if (err)
		goto fail;
	err = pp_sampler__load(l->sampler);
	if (err)
		goto fail;

	l->gc = pp_gc__open();
	if (!l->gc) {
		err = -errno;
		goto fail;
	}
	/* The uprobe_multi programs load only where the kernel has the link type (and it is wanted). */
	if (o->gc_attach != GC_ATTACH_PERF)
		umlink_layout(&l->um);
	if (o->gc_attach == GC_ATTACH_MULTI && !l->um.ok) {
		err = -EOPNOTSUPP;	/* asked for, and this kernel has none */
		goto fail;
	}
	if (l->um.ok) {
		bpf_program__set_expected_attach_type(l->gc->progs.handle_gc_multi_begin, l->um.attach_type);
		bpf_program__set_expected_attach_type(l->gc->progs.handle_gc_multi_end, l->um.attach_type);
	} else {
		bpf_program__set_autoload(l->gc->progs.handle_gc_multi_begin, false);
		bpf_program__set_autoload(l->gc->progs.handle_gc_multi_end, false);
	}
	bpf_program__set_autoattach(l->gc->progs.handle_gc_multi_begin, false);
	bpf_program__set_autoattach(l->gc->progs.handle_gc_multi_end, false);
	l->gc->rodata->cfg_gc_max_rate = o->gc_max_rate;
	err = bpf_map__reuse_fd(l->gc->maps.targets, bpf_map__fd(l->sched->maps.targets));
	if (!err)
		err = bpf_map__reuse_fd(l->gc->maps.events, bpf_map__fd(l->sched->maps.events));
	if (!err)
		err = pp_gc__load(l->gc);
	if (err)
		goto fail;

	l->procs = pp_procs__open();
	if (!l->procs) {
		err = -errno;
		goto fail;
	}
	/* Run per query with a pid filter (loader__dumpable). */
	bpf_program__set_autoattach(l->procs->progs.handle_dumpable_iter, false);
	err = bpf_map__reuse_fd(l->procs->maps.targets, bpf_map__fd(l->sched->maps.targets));
	if (!err)
		err = bpf_map__reuse_fd(l->procs->maps.events, bpf_map__fd(l->sched->maps.events));
	if (!err)
		err = pp_procs__load(l->procs);
	if (err)
		goto fail;

	l->rb = ring_buffer__new(bpf_map__fd(l->sched->maps.events), fn, ctx, NULL);
	if (!l->rb) {
		err = -errno;
		goto fail;
	}
	return l;
fail:
	loader__free(l);
	errno = -err;
	return NULL;
}

void loader__free(struct loader *l)
{
	if (!l)
		return;
	if (l->attached)
		detach_all(l);
	ring_buffer__free(l->rb);
	pp_gc__destroy(l->gc);
	pp_procs__destroy(l->procs);
	pp_sampler__destroy(l->sampler);
	pp_sched__destroy(l->sched);
	free(l->perf_links);
	free(l->perf_fds);
	free(l);
}

/* The sched program's tgid filter: a bit per target (collisions are harmless). */
static void set_tgid_bit(struct loader *l, uint32_t tgid, bool on)
{
	uint32_t i = tgid & (PP_TGID_BITS - 1);
	uint64_t bit = 1ULL << (i & 63);

	if (on)
		__atomic_fetch_or(&l->sched->bss->tgid_bits[i >> 6], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&l->sched->bss->tgid_bits[i >> 6], ~bit, __ATOMIC_RELAXED);
}

/*
 * Run a task iterator over the threads of pid only; fn gets each record of
 * reclen bytes, after a first record of hdrlen bytes (0: none) that fn gets
 * too.
 */
static int run_iter(struct bpf_program *prog, pid_t pid, int (*fn)(void *ctx, const void *rec), size_t hdrlen,
		    size_t reclen, void *ctx)
{
	union bpf_iter_link_info info = { .task.pid = pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct bpf_link *link;
	char buf[16384];
	size_t have = 0;
	ssize_t n;
	int fd, err = 0;

	link = bpf_program__attach_iter(prog, &opts);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Records may straddle reads: keep the tail for the next one. */
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t off = 0;

		have += n;
		if (fn && hdrlen && have >= hdrlen) {
			err = fn(ctx, buf);
			off = hdrlen;
			hdrlen = 0;
		}
		while (fn && !hdrlen && reclen && have - off >= reclen && !err) {
			err = fn(ctx, buf + off);
			off += reclen;
		}
		if (!fn)
			off = have;
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (n < 0)
		err = -errno;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

int loader__add_target(struct loader *l, uint32_t tgid, const struct pp_target *cfg)
{
	int err;

	if (bpf_map_update_elem(bpf_map__fd(l->sched->maps.targets), &tgid, cfg, BPF_NOEXIST))
		return -errno;
	l->ntargets++;
	set_tgid_bit(l, tgid, true);
	if (!l->attached) {
		err = attach_all(l);
		if (err) {
			loader__remove_target(l, tgid);
			return err;
		}
	}
	err = update_procs(l);
	if (err)
		log_warn("cannot attach the exec/fork tracepoints: %s", strerror(-err));
	return 0;
}

/* Every GIL charge of tgid: given to fn, or deleted (fn NULL). */
static void gil_charges(struct loader *l, uint32_t tgid, loader_gil_fn fn, void *ctx)
{
	int fd = bpf_map__fd(l->sched->maps.gil_charges);
	struct pp_gil_key key, next, *prev = NULL, *dead = NULL;
	struct pp_gil_charge c;
	size_t n = 0, cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.tgid != tgid || bpf_map_lookup_elem(fd, &key, &c))
			continue;
		if (fn) {
			fn(ctx, &key, &c);
			continue;
		}
		/* Deleting while iterating restarts from the start; collect first. */
		if (ARRAY_GROW(&dead, &cap, n, 64, 0))
			break;
		dead[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	free(dead);
}

int loader__gil_charges(struct loader *l, uint32_t tgid, loader_gil_fn fn, void *ctx)
{
	gil_charges(l, tgid, fn, ctx);
	return 0;
}

int loader__remove_target(struct loader *l, uint32_t tgid)
{
	int tfd = bpf_map__fd(l->sched->maps.targets);
	uint32_t key, next, *prev = NULL;

	if (bpf_map_delete_elem(tfd, &tgid))
		return -errno;
	l->ntargets--;
	if (l->ntargets == 0 && l->attached)
		detach_all(l);
	update_procs(l);
	/* Clear the bit, then set it again for the targets that share it. */
	set_tgid_bit(l, tgid, false);
	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		key = next;
		prev = &key;
		set_tgid_bit(l, key, true);
	}
	/* A process that is gone took its threads' storage with it. */
	run_iter(l->sched->progs.handle_drop_iter, tgid, NULL, 0, 0, NULL);
	gil_charges(l, tgid, NULL, NULL);
	bpf_map_delete_elem(bpf_map__fd(l->gc->maps.gc_rates), &tgid);
	bpf_map_delete_elem(bpf_map__fd(l->sampler->maps.pystacks), &tgid);
	return 0;
}

struct bpf_link *loader__attach_gc_usdt(struct loader *l, pid_t pid, const char *path, bool done)
{
	return bpf_program__attach_usdt(done ? l->gc->progs.handle_gc_usdt_done : l->gc->progs.handle_gc_usdt_start,
					pid, path, "python", done ? "gc__done" : "gc__start", NULL);
}

struct bpf_link *loader__attach_gc_uprobe(struct loader *l, pid_t pid, const char *path, size_t offset,
					  uint64_t cookie, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret, .bpf_cookie = cookie);

	return bpf_program__attach_uprobe_opts(ret ? l->gc->progs.handle_gc_return : l->gc->progs.handle_gc_entry,
					       pid, path, offset, &uo);
}

int loader__set_stacks(struct loader *l, uint32_t tgid, const struct pp_pystack_cfg *cfg)
{
	int tfd = bpf_map__fd(l->sched->maps.targets), sfd = bpf_map__fd(l->sampler->maps.pystacks);
	struct pp_target t;

	if (bpf_map_lookup_elem(tfd, &tgid, &t))
		return -errno;
	if (cfg) {
		if (bpf_map_update_elem(sfd, &tgid, cfg, BPF_ANY))
			return -errno;
		t.flags |= PP_TF_STACKS;
	} else {
		t.flags &= ~PP_TF_STACKS;
	}
	/* The target entry is rewritten whole; only the daemon writes it. */
	if (bpf_map_update_elem(tfd, &tgid, &t, BPF_EXIST))
		return -errno;
	if (!cfg)
		bpf_map_delete_elem(sfd, &tgid);
	return 0;
}

int loader__seed(struct loader *l, uint32_t tgid)
{
	return run_iter(l->sched->progs.handle_seed_iter, tgid, NULL, 0, 0, NULL);
}

static int dumpable_record(void *ctx, const void *rec)
{
	memcpy(ctx, rec, sizeof(uint64_t));
	return 1;	/* the first thread's answer is the process's */
}

int loader__dumpable(struct loader *l, pid_t pid)
{
	uint64_t bits = UINT64_MAX;
	int err = run_iter(l->procs->progs.handle_dumpable_iter, pid, dumpable_record, 0, sizeof(bits), &bits);

	if (err < 0)
		return err;
	return bits == UINT64_MAX ? -ESRCH : bits == 1;	/* 1: SUID_DUMP_USER */
}

struct snap_iter {
	loader_thread_fn fn;
	void *ctx;
	bool hdr;
	int64_t to_mono;
};

static int snap_record(void *ctx, const void *rec)
{
	struct snap_iter *si = ctx;
	struct pp_thread th;

	if (!si->hdr) {
		struct pp_snap_hdr h;

		memcpy(&h, rec, sizeof(h));
		if (h.magic != PP_SNAP_MAGIC)
			return -EPROTO;
		si->to_mono = (int64_t)(h.ktime_ns - h.sched_ns);
		si->hdr = true;
		return 0;
	}
	memcpy(&th, rec, sizeof(th));	/* the read buffer gives no alignment */
	si->fn(si->ctx, &th, si->to_mono);
	return 0;
}

int loader__for_each_thread(struct loader *l, uint32_t tgid, loader_thread_fn fn, void *ctx)
{
	struct snap_iter si = { fn, ctx, false, 0 };

	return run_iter(l->sched->progs.handle_snap_iter, tgid, snap_record, sizeof(struct pp_snap_hdr),
			sizeof(struct pp_thread), &si);
}

int loader__ringbuf_fd(struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader__ringbuf_consume(struct loader *l)
{
	return ring_buffer__consume(l->rb);
}

int loader__prog_stats(struct loader *l, loader_prog_fn fn, void *ctx)
{
	const struct bpf_object *objs[] = { l->sched->obj, l->sampler->obj, l->gc->obj, l->procs->obj };
	struct bpf_program *p;

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		bpf_object__for_each_program(p, objs[i]) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(p);

			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
				continue;
			fn(ctx, bpf_program__name(p), info.run_cnt, info.run_time_ns);
		}
	}
	return 0;
}

void loader__stats(struct loader *l, struct loader_stats *st)
{
	st->ntargets = l->ntargets;
	st->ncpus_sampled = l->nsampled;
	st->sample_hz = l->sample_hz;
	st->attached = l->attached;
	st->threads_full = l->sched->bss->stat_threads_full;
	st->threads = l->sched->bss->nthreads;
	st->events_lost = l->sched->bss->stat_events_lost;
	st->switches_unseen = l->sched->bss->stat_switch_unseen;
	st->gil_charges_full = l->sched->bss->stat_gil_charges_full;
	st->gc_events_lost = l->gc->bss->stat_gc_events_lost;
	st->proc_events_lost = l->procs->bss->stat_proc_events_lost;
	st->watching = l->watching;
}
