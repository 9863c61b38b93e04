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
#include <bpf/libbpf.h>
#include "sched.skel.h"
#include "sampler.skel.h"
#include "gc.skel.h"
#include "procs.skel.h"
#include "log.h"
#include "opts.h"
#include "loader.h"

struct loader {
	struct pp_sched *sched;
	struct pp_sampler *sampler;
	struct pp_gc *gc;
	struct pp_procs *procs;
	struct ring_buffer *rb;
	struct bpf_link *iter;
	struct bpf_link **perf_links;
	int *perf_fds;
	int ncpus;
	unsigned int sample_hz;
	unsigned int ntargets;
	int nsampled;
	bool attached;
	bool watching;		/* watch rules exist: report every exec */
	bool procs_attached;
};

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
	bpf_map__set_max_entries(l->sched->maps.threads, o->max_threads);
	bpf_map__set_max_entries(l->sched->maps.targets, o->max_sessions);
	/* The task iterator runs on demand (loader__seed), not with the tracepoints. */
	bpf_program__set_autoattach(l->sched->progs.handle_task_iter, false);
	err = pp_sched__load(l->sched);
	if (err)
		goto fail;

	l->sampler = pp_sampler__open();
	if (!l->sampler) {
		err = -errno;
		goto fail;
	}
	bpf_map__set_max_entries(l->sampler->maps.samples, o->max_threads);
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

	l->iter = bpf_program__attach_iter(l->sched->progs.handle_task_iter, NULL);
	if (!l->iter) {
		err = -errno;
		goto fail;
	}
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
	bpf_link__destroy(l->iter);
	pp_gc__destroy(l->gc);
	pp_procs__destroy(l->procs);
	pp_sampler__destroy(l->sampler);
	pp_sched__destroy(l->sched);
	free(l->perf_links);
	free(l->perf_fds);
	free(l);
}

int loader__add_target(struct loader *l, uint32_t tgid, const struct pp_target *cfg)
{
	int err;

	if (bpf_map_update_elem(bpf_map__fd(l->sched->maps.targets), &tgid, cfg, BPF_NOEXIST))
		return -errno;
	l->ntargets++;
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

static void delete_tgid_entries(int threads_fd, int samples_fd, uint32_t tgid)
{
	uint32_t key, next, *prev = NULL;
	struct pp_thread th;

	/* Deleting while iterating restarts from the start; collect first. */
	uint32_t *dead = NULL;
	size_t n = 0, cap = 0;

	while (bpf_map_get_next_key(threads_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(threads_fd, &key, &th) || th.tgid != tgid)
			continue;
		if (n == cap) {
			uint32_t *nd = realloc(dead, (cap = cap ? cap * 2 : 64) * sizeof(*dead));

			if (!nd)
				break;
			dead = nd;
		}
		dead[n++] = key;
	}
	for (size_t i = 0; i < n; i++) {
		bpf_map_delete_elem(threads_fd, &dead[i]);
		bpf_map_delete_elem(samples_fd, &dead[i]);
	}
	free(dead);
}

int loader__remove_target(struct loader *l, uint32_t tgid)
{
	if (bpf_map_delete_elem(bpf_map__fd(l->sched->maps.targets), &tgid))
		return -errno;
	l->ntargets--;
	if (l->ntargets == 0 && l->attached)
		detach_all(l);
	update_procs(l);
	delete_tgid_entries(bpf_map__fd(l->sched->maps.threads), bpf_map__fd(l->sampler->maps.samples), tgid);
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
	char buf[64];
	ssize_t n;
	int fd;

	l->sched->bss->seed_tgid = tgid;
	fd = bpf_iter_create(bpf_link__fd(l->iter));
	if (fd < 0)
		return -errno;
	/* The program prints nothing: reading runs it over every task. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	l->sched->bss->seed_tgid = 0;
	return n < 0 ? -errno : 0;
}

int loader__dumpable(struct loader *l, pid_t pid)
{
	union bpf_iter_link_info info = { .task.pid = pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct bpf_link *link;
	uint64_t bits;
	ssize_t n;
	int fd, err;

	link = bpf_program__attach_iter(l->procs->progs.handle_dumpable_iter, &opts);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	n = read(fd, &bits, sizeof(bits));
	err = n == sizeof(bits) ? (bits == 1) : n < 0 ? -errno : -ESRCH;	/* 1: SUID_DUMP_USER */
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

int loader__delete_thread(struct loader *l, uint32_t tid)
{
	bpf_map_delete_elem(bpf_map__fd(l->sampler->maps.samples), &tid);
	if (bpf_map_delete_elem(bpf_map__fd(l->sched->maps.threads), &tid))
		return -errno;
	return 0;
}

int loader__lookup_thread(struct loader *l, uint32_t tid, struct pp_thread *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->sched->maps.threads), &tid, out))
		return -errno;
	return 0;
}

int loader__thread_samples(struct loader *l, uint32_t tid, struct pp_samples *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->sampler->maps.samples), &tid, out))
		return -errno;
	return 0;
}

int loader__for_each_thread(struct loader *l, uint32_t tgid, loader_thread_fn fn, void *ctx)
{
	int fd = bpf_map__fd(l->sched->maps.threads);
	uint32_t key, next, *prev = NULL;
	struct pp_thread th;
	struct pp_samples smp;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &th) || th.tgid != tgid)
			continue;
		fn(ctx, key, &th, loader__thread_samples(l, key, &smp) ? NULL : &smp);
	}
	return 0;
}

int loader__ringbuf_fd(struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader__ringbuf_consume(struct loader *l)
{
	return ring_buffer__consume(l->rb);
}

void loader__stats(struct loader *l, struct loader_stats *st)
{
	st->ntargets = l->ntargets;
	st->ncpus_sampled = l->nsampled;
	st->sample_hz = l->sample_hz;
	st->attached = l->attached;
	st->threads_full = l->sched->bss->stat_threads_full;
	st->events_lost = l->sched->bss->stat_events_lost;
	st->samples_full = l->sampler->bss->stat_samples_full;
	st->gc_events_lost = l->gc->bss->stat_gc_events_lost;
	st->proc_events_lost = l->procs->bss->stat_proc_events_lost;
	st->watching = l->watching;
}
