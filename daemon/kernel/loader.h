/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_LOADER_H
#define PYPROBED_LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pyprobe/events.h"

struct loader;
struct opts;

/* Called for each ring buffer record; data is a struct pp_event. */
typedef int (*loader_event_fn)(void *ctx, void *data, size_t size);

/*
 * Open and load every BPF object once (nothing is attached until the first
 * target). Returns NULL and sets errno on failure.
 */
struct loader *loader__new(const struct opts *o, loader_event_fn fn, void *ctx);
void loader__free(struct loader *l);

/* Add a target: fill the targets map, attach the programs if it is the first. */
int loader__add_target(struct loader *l, uint32_t tgid, const struct pp_target *cfg);
/* Remove a target and every map entry of its threads; detach after the last. */
int loader__remove_target(struct loader *l, uint32_t tgid);

/* Turn the sampler's stack walking on or off for tgid (cfg NULL: off). */
int loader__set_stacks(struct loader *l, uint32_t tgid, const struct pp_pystack_cfg *cfg);
/* Give every thread of tgid that has no storage yet the state it is in now. */
int loader__seed(struct loader *l, uint32_t tgid);
/* 1 when pid's memory is dumpable (SUID_DUMP_USER), 0 when not, -errno (-ESRCH: gone). */
int loader__dumpable(struct loader *l, pid_t pid);

/*
 * Every live thread of tgid, as BPF has it now (threads that exited come as
 * PP_EV_THREAD_FINAL). Its times are in the scheduler's clock: adding
 * to_mono gives CLOCK_MONOTONIC.
 */
typedef void (*loader_thread_fn)(void *ctx, const struct pp_thread *th, int64_t to_mono);
int loader__for_each_thread(struct loader *l, uint32_t tgid, loader_thread_fn fn, void *ctx);
/* Every GIL-wait charge of tgid (cumulative since attach). */
typedef void (*loader_gil_fn)(void *ctx, const struct pp_gil_key *k, const struct pp_gil_charge *c);
int loader__gil_charges(struct loader *l, uint32_t tgid, loader_gil_fn fn, void *ctx);

/*
 * Per-target GC probe links (caller destroys them with bpf_link__destroy).
 * NULL and errno on failure.
 */
struct bpf_link;
struct bpf_link *loader__attach_gc_usdt(struct loader *l, pid_t pid, const char *path, bool done);
/* offset: file offset of the collector; cookie: PP_GC_GEN_* (see events.h). */
struct bpf_link *loader__attach_gc_uprobe(struct loader *l, pid_t pid, const char *path, size_t offset,
					  uint64_t cookie, bool ret);

/* The kernel has uprobe_multi links (Linux 6.6+) and the programs for them loaded. */
bool loader__has_uprobe_multi(const struct loader *l);
/* Whether GC pauses are timed exactly by default (gc-timing, and auto: where uprobe_multi is). */
bool loader__gc_exact(const struct loader *l, const struct opts *o);
/*
 * One uprobe_multi link on path for pid: n probe sites (file offsets), their
 * semaphores' file offsets (USDT; NULL or 0 entries: none) and cookies (where
 * the value is: PP_GC_GEN_*, PP_GC_RET or a PP_USDT_MAKE spec). end: the
 * collection-end program (else the start one); ret: return probes. Returns
 * the link's fd (the caller closes it) or -errno.
 */
int loader__attach_gc_multi(struct loader *l, pid_t pid, const char *path, const uint64_t *offsets,
			    const uint64_t *ref_ctr_offsets, const uint64_t *cookies, size_t n, bool end, bool ret);

/* Watch rules exist (on): report every exec and the forks of targets. */
int loader__watch_procs(struct loader *l, bool on);

int loader__ringbuf_fd(struct loader *l);
int loader__ringbuf_consume(struct loader *l);

struct loader_stats {
	unsigned int ntargets;
	unsigned int ncpus_sampled;
	unsigned int sample_hz;
	int attached;
	uint64_t threads, threads_full, gil_charges_full, events_lost, gc_events_lost, proc_events_lost;
	uint64_t switches_unseen;	/* a thread came on a CPU the sched-switch program never saw it leave */
	bool watching;
};
void loader__stats(struct loader *l, struct loader_stats *st);

/*
 * The kernel's own statistics of each loaded program (run count and time),
 * kept while kernel.bpf_stats_enabled is 1 (the administrator's switch: the
 * daemon never sets it). fn gets every program; returns 0 or -errno.
 */
typedef void (*loader_prog_fn)(void *ctx, const char *name, uint64_t run_cnt, uint64_t run_time_ns);
int loader__prog_stats(struct loader *l, loader_prog_fn fn, void *ctx);

#endif
