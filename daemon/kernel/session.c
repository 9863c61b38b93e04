// SPDX-License-Identifier: MIT
/* A session: attach to one process, seed its threads, snapshot its counters. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "blocksite.h"
#include "loader.h"
#include "peers.h"
#include "procfs.h"
#include "pyprobe/runqueue.h"
#include "pyoffsets.h"
#include "log.h"
#include "tmem.h"
#include "session.h"

#define MAX_EXITED_KEPT 4096

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock bpf_ktime_get_ns uses */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void gc_detach(struct session *s)
{
	for (int i = 0; i < s->ngc_links; i++)
		bpf_link__destroy(s->gc_links[i]);
	s->ngc_links = 0;
	for (int i = 0; i < 2; i++) {
		if (s->gc_multi_fds[i] >= 0)
			close(s->gc_multi_fds[i]);
		s->gc_multi_fds[i] = -1;
	}
	s->gc_attach = "none";
}

/*
 * Both GC probes as uprobe_multi links with a PID filter: no perf event, so
 * nothing per context switch of the target. USDT sites where the interpreter
 * has them (the argument's location in the cookie), else the collector's
 * entry and return. Returns 0 or -errno (then nothing is attached).
 */
static int gc_attach_multi(struct session *s, struct loader *ld, const char *path)
{
	const struct pyinfo *py = &s->py;
	uint64_t off[2][8], ref[2][8], cookie[2][8];
	size_t n[2] = { 0, 0 };
	bool usdt = py->ngc_usdt > 0;

	if (usdt) {
		for (int i = 0; i < py->ngc_usdt; i++) {
			int k = py->gc_usdt[i].done;

			off[k][n[k]] = py->gc_usdt[i].file_offset;
			ref[k][n[k]] = py->gc_usdt[i].ref_ctr_offset;
			cookie[k][n[k]++] = py->gc_usdt[i].cookie;
		}
	} else {
		for (int i = 0; i < py->ngc_funcs && i < 8; i++) {
			off[0][i] = off[1][i] = py->gc_funcs[i].file_offset;
			ref[0][i] = ref[1][i] = 0;
			cookie[0][i] = py->gc_funcs[i].cookie;
			cookie[1][i] = PP_GC_RET;
		}
		n[0] = n[1] = py->ngc_funcs < 8 ? py->ngc_funcs : 8;
	}
	if (!n[0] || !n[1])
		return -ENOENT;
	for (int k = 0; k < 2; k++) {
		int fd = loader__attach_gc_multi(ld, s->pid, path, off[k], ref[k], cookie[k], n[k], k == 1,
						 k == 1 && !usdt);

		if (fd < 0) {
			gc_detach(s);
			return fd;
		}
		s->gc_multi_fds[k] = fd;
	}
	s->gc_method = usdt ? GC_METHOD_USDT : GC_METHOD_UPROBE;
	s->gc_attach = "uprobe_multi";
	return 0;
}

/*
 * Time every collection: USDT where the interpreter has the probes, else
 * uprobes on the collector function(s). Without either, the sampler's view
 * of the "collecting" flag is what there is.
 */
static void gc_attach(struct session *s, struct loader *ld)
{
	const struct pyinfo *py = &s->py;
	/* The mapped file itself, whatever namespace it is in or became of its name. */
	const char *path = py->elf_open;

	s->gc_method = py->bpf.gc_collecting_addr ? GC_METHOD_SAMPLED : GC_METHOD_NONE;
	if (loader__has_uprobe_multi(ld)) {
		int err = gc_attach_multi(s, ld, path);

		if (!err)
			return;
		if (err != -ENOENT)
			log_warn("process %d: cannot attach uprobe_multi GC probes (%s); using perf-event uprobes",
				 s->pid, strerror(-err));
	}
	if (py->usdt) {
		s->gc_links[0] = loader__attach_gc_usdt(ld, s->pid, path, false);
		s->gc_links[1] = loader__attach_gc_usdt(ld, s->pid, path, true);
		if (s->gc_links[0] && s->gc_links[1]) {
			s->ngc_links = 2;
			s->gc_method = GC_METHOD_USDT;
			s->gc_attach = "perf_event";
			return;
		}
		log_warn("process %d: cannot attach the GC USDT probes: %s", s->pid, strerror(errno));
		bpf_link__destroy(s->gc_links[0]);
		bpf_link__destroy(s->gc_links[1]);
	}
	for (int i = 0; i < py->ngc_funcs; i++) {
		const struct pyinfo_gcfunc *f = &py->gc_funcs[i];
		struct bpf_link *in = loader__attach_gc_uprobe(ld, s->pid, path, f->file_offset, f->cookie, false);
		struct bpf_link *out = in ? loader__attach_gc_uprobe(ld, s->pid, path, f->file_offset, 0, true) : NULL;

		if (!out) {
			log_warn("process %d: cannot attach uprobes to %s: %s", s->pid, f->name, strerror(errno));
			bpf_link__destroy(in);
			gc_detach(s);
			s->gc_method = py->bpf.gc_collecting_addr ? GC_METHOD_SAMPLED : GC_METHOD_NONE;
			return;
		}
		s->gc_links[s->ngc_links++] = in;
		s->gc_links[s->ngc_links++] = out;
		s->gc_method = GC_METHOD_UPROBE;
		s->gc_attach = "perf_event";
	}
}

/*
 * Where generation g's totals (collections, collected, uncollectable) are:
 * inline before 3.15; from 3.15 the entry at the index of g's buffer in the
 * struct the state points to. 0 if unreadable or implausible.
 */
static uint64_t gc_totals_addr(const struct session *s, uint64_t stats, int g)
{
	const struct py_offsets *o = s->py.off;
	int ring = g == 0 ? o->gc_stats_ring0 : g == 1 ? o->gc_stats_ring1 : o->gc_stats_ring2;
	int len = g == 0 ? o->gc_ring_young_len : o->gc_ring_old_len;
	int idx_off = g == 0 ? o->gc_ring_young_index : o->gc_ring_old_index;
	int8_t idx = -1;

	if (o->gc_stats_ring0 < 0)
		return s->py.gc_stats_addr + g * s->py.gc_stats_size;
	if (!stats || ring < 0 || len <= 0 || idx_off < 0 ||
	    tmem_read(s->pid, stats + ring + idx_off, &idx, sizeof(idx)) || idx < 0 || idx >= len)
		return 0;
	return stats + ring + (uint64_t)idx * s->py.gc_stats_size + o->gc_stats_collections;
}

static void read_gc_counts(const struct session *s, struct gc_counts *c)
{
	const struct pyinfo *py = &s->py;
	uint64_t stats = 0, at;

	memset(c, 0, sizeof(*c));
	if (!py->gc_stats_addr)
		return;
	if (py->off->gc_stats_ring0 >= 0 && tmem_read_u64(s->pid, py->gc_stats_addr, &stats))
		return;
	for (int g = 0; g < GC_GENS; g++) {
		int64_t v[3];

		at = gc_totals_addr(s, stats, g);
		if (!at || tmem_read(s->pid, at, v, sizeof(v)) || v[0] < 0 || v[1] < 0 || v[2] < 0)
			return;
		c->collections[g] = v[0];
		c->collected[g] = v[1];
		c->uncollectable[g] = v[2];
	}
	c->valid = true;
}

void session__gc_pause(struct session *s, const struct gc_pause *p)
{
	s->gc_hist[gc_hist_bucket(p->duration_ns)]++;
	s->gc_timed++;
	s->gc_pause_sum += p->duration_ns / 1e9;
	gcstats__log_add(&s->gc_log, p);
}

void session__loop_iter(struct session *s, const struct loop_iter *it, uint64_t threshold_ns)
{
	if (it->end_ns - it->start_ns >= threshold_ns)
		s->loop_long++;
	loopstats__log_add(&s->loop_log, it);
}

int session__gc_exact(struct session *s, struct loader *ld, bool on)
{
	if (!on) {
		if (s->ngc_users && --s->ngc_users == 0 && !s->gc_rate_guard) {
			gc_detach(s);
			s->gc_method = s->py.bpf.gc_collecting_addr ? GC_METHOD_SAMPLED : GC_METHOD_NONE;
		}
		return 0;
	}
	if (s->ngc_users++ == 0 && !s->gc_rate_guard)
		gc_attach(s, ld);
	return 0;
}

void session__gc_rate_exceeded(struct session *s)
{
	if (s->gc_rate_guard)
		return;
	gc_detach(s);
	s->gc_rate_guard = true;
	s->gc_method = s->py.bpf.gc_collecting_addr ? GC_METHOD_SAMPLED : GC_METHOD_NONE;
	log_info("process %d: too many collections per second, GC pauses are now estimated from samples", s->pid);
}

struct session *session__new(struct loader *ld, pid_t pid, enum pyinspect_err *err, char *msg, size_t len)
{
	uint64_t t0 = now_ns();
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		*err = PYI_INTERNAL;
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	s->pid = pid;
	s->gc_multi_fds[0] = s->gc_multi_fds[1] = -1;
	s->gc_attach = "none";
	/* The pidfd first: from here on a reused PID cannot be mistaken for the target. */
	s->w.fd = syscall(SYS_pidfd_open, pid, 0);
	if (s->w.fd < 0) {
		*err = errno == ESRCH ? PYI_NO_PROCESS : PYI_INTERNAL;
		snprintf(msg, len, errno == ESRCH ? "no such process: %d" : "pidfd_open(%d): %s", pid, strerror(errno));
		free(s);
		return NULL;
	}
	s->start_time = procfs_start_time(pid);
	*err = pyinspect(pid, &s->py, msg, len);
	if (*err != PYI_OK)
		goto fail;
	rc = loader__add_target(ld, pid, &s->py.bpf);
	if (rc) {
		*err = PYI_INTERNAL;
		snprintf(msg, len, "cannot attach to process %d: %s", pid, strerror(-rc));
		goto fail;
	}
	rc = loader__seed(ld, pid);
	if (rc) {
		loader__remove_target(ld, pid);
		*err = PYI_INTERNAL;
		snprintf(msg, len, "cannot read the threads of process %d: %s", pid, strerror(-rc));
		goto fail;
	}
	s->gc_method = s->py.bpf.gc_collecting_addr ? GC_METHOD_SAMPLED : GC_METHOD_NONE;
	s->attached_ts = now_ns();
	s->attach_ms = (s->attached_ts - t0) / 1e6;
	return s;
fail:
	close(s->w.fd);
	free(s);
	return NULL;
}

void session__free(struct session *s, struct loader *ld)
{
	if (!s)
		return;
	gc_detach(s);
	gcstats__log_free(&s->gc_log);
	loopstats__log_free(&s->loop_log);
	pysym__free(s->sym);
	nativesym__free(s->nsym);
	loader__remove_target(ld, s->pid);
	if (s->w.fd >= 0)
		close(s->w.fd);
	snapshot__clear(&s->exited);
	free(s);
}

struct snap_ctx {
	struct snapshot *out;
	pid_t pid;
	uint64_t now;
	int err;
};

/*
 * A running thread's last wait still counts wholly as its blocked reason: BPF
 * moves the run-queue part only at its next switch-out (sched.bpf.c). Do that
 * now from the scheduler's own counter, the same way, so the snapshot is exact.
 */
static void settle_run_delay(pid_t pid, struct pp_thread *th)
{
	uint64_t now_delay;

	if (th->state == PP_B_ONCPU && procfs_task_run_delay(pid, th->tid, &now_delay) == 0)
		pp_settle_run_delay(th, now_delay);
}

/* Times of a thread record in CLOCK_MONOTONIC (0 stays 0: not set). */
static void to_mono(struct pp_thread *th, int64_t d)
{
	__u64 *ts[] = { &th->state_ts, &th->busy.start, &th->loop.start, &th->holder_ts };

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		if (*ts[i])
			*ts[i] += d;
}

static void snap_one(void *ctx, const struct pp_thread *rec, int64_t off)
{
	struct snap_ctx *sc = ctx;
	struct snap_thread t = { .tid = rec->tid, .th = *rec };
	const struct pp_thread *th = &t.th;

	to_mono(&t.th, off);
	/* Blocked holding the GIL right now, with a waiter: count it up to now. */
	if (th->held_from && th->held_state_ts == rec->state_ts && th->state > PP_B_GIL_WAIT &&
	    th->state < PP_NBUCKETS && sc->now > th->held_from + off)
		t.th.held_blocked_ns += sc->now - (th->held_from + off);
	/* GIL waits the thread has not handed to the map yet. */
	if (th->pend.cnt) {
		struct pp_gil_key k = { (uint32_t)sc->pid, th->tid, th->pend_holder, th->pend_nr, th->pend_state, 0 };

		if (snapshot__add_gil(sc->out, &k, th->pend.ns, th->pend.cnt))
			sc->err = -ENOMEM;
	}

	settle_run_delay(sc->pid, &t.th);
	/* Close the running interval at now, the way BPF would at the next event. */
	if (th->state < PP_NBUCKETS && th->state_ts && sc->now > th->state_ts) {
		uint64_t d = sc->now - th->state_ts;

		t.th.ns[th->state] += d;
		if (th->state == PP_B_GIL_WAIT && th->gil_kind < PP_GIL_NKINDS) {
			t.th.gil_ns[th->gil_kind] += d;
			if (th->gil_kind == PP_GIL_ACQUIRE && d > th->gil_split) {
				struct pp_gil_key k = { (uint32_t)sc->pid, th->tid, th->holder_tid, th->holder_nr,
							th->holder_state, 0 };

				if (snapshot__add_gil(sc->out, &k, d - th->gil_split, 0))
					sc->err = -ENOMEM;
			}
		}
	}
	if (snapshot__add(sc->out, &t))
		sc->err = -ENOMEM;
}

static void snap_gil(void *ctx, const struct pp_gil_key *k, const struct pp_gil_charge *c)
{
	struct snap_ctx *sc = ctx;

	if (snapshot__add_gil(sc->out, k, c->ns, c->cnt))
		sc->err = -ENOMEM;
}

int session__snapshot(struct session *s, struct loader *ld, struct snapshot *out)
{
	struct snap_ctx sc = { out, s->pid, 0, 0 };
	int err;

	memset(out, 0, sizeof(*out));
	sc.now = out->ts = now_ns();
	procfs_host_busy(&out->host_busy);
	read_gc_counts(s, &out->gc);
	loader__gil_charges(ld, s->pid, snap_gil, &sc);
	err = loader__for_each_thread(ld, s->pid, snap_one, &sc);
	if (err && err != -ESRCH && err != -ENOENT)
		sc.err = err;
	for (size_t i = 0; i < s->exited.n && !sc.err; i++)
		sc.err = snapshot__add(out, &s->exited.v[i]);
	snapshot__sort(out);
	return sc.err;
}

void session__thread_exited(struct session *s, const struct pp_thread *th)
{
	struct snap_thread t = { .tid = th->tid, .exited = true, .th = *th };

	/* Nothing is in progress any more (its last GIL waits went to the map at exit). */
	t.th.busy.start = t.th.loop.start = 0;
	t.th.pend.cnt = t.th.pend.ns = 0;

	if (th->tid == (uint32_t)s->pid)
		return;	/* the main thread's exit is the process's: the pidfd reports it */
	if (s->exited.n >= MAX_EXITED_KEPT)
		return;	/* its time is lost to the windows that end after this */
	snapshot__add(&s->exited, &t);
}

static uint32_t off(int v)
{
	return v < 0 ? PP_OFF_NONE : (uint32_t)v;
}

int session__stacks(struct session *s, struct loader *ld, bool on)
{
	const struct py_offsets *o = s->py.off;
	struct pp_pystack_cfg pc;
	int err;

	if (!on) {
		if (s->nstack_users && --s->nstack_users == 0)
			return loader__set_stacks(ld, s->pid, NULL);
		return 0;
	}
	if (s->nstack_users++)
		return 0;
	if (!s->py.interp_head_addr || o->frame_back < 0 || o->frame_code < 0) {
		s->nstack_users = 0;
		return -ENOTSUP;
	}
	if (!s->sym && !(s->sym = pysym__new(s->pid, &s->py))) {
		s->nstack_users = 0;
		return -ENOMEM;
	}
	/* Mappings as they are now; libraries loaded later resolve as "unknown". */
	nativesym__free(s->nsym);
	s->nsym = nativesym__new(s->pid, s->py.elf_path);
	pc = (struct pp_pystack_cfg){
		.interp_head_addr = s->py.interp_head_addr,
		.interp_next = off(o->interp_next),
		.interp_tstate_head = off(o->interp_tstate_head),
		.tstate_next = off(o->tstate_next),
		.tstate_thread_id = off(o->tstate_thread_id),
		.tstate_frame = off(o->tstate_frame),
		.tstate_cframe = off(o->tstate_cframe),
		.cframe_current_frame = off(o->cframe_current_frame),
		.tstate_current_frame = off(o->tstate_current_frame),
		.frame_back = off(o->frame_back),
		.frame_code = off(o->frame_code),
		.frame_lasti = off(o->frame_lasti),
		.frame_instr = off(o->frame_instr),
		.frame_owner = off(o->frame_owner),
		.minor = s->py.minor,
	};
	/* Every field the walk needs lies in one span of a frame (38-100 bytes by layout): the
	 * sampler reads it alone or finds it in the window it read (sampler.bpf.c). */
	{
		int lo = INT32_MAX, hi = 0;
		const int f[][2] = { { o->frame_back, 8 }, { o->frame_code, 8 }, { o->frame_lasti, 4 },
				     { o->frame_instr, 8 }, { o->frame_owner, 1 } };

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			if (f[i][0] < 0)
				continue;
			if (f[i][0] < lo)
				lo = f[i][0];
			if (f[i][0] + f[i][1] > hi)
				hi = f[i][0] + f[i][1];
		}
		if (hi - lo > PP_FRAME_READ) {
			s->nstack_users = 0;
			return -ENOTSUP;
		}
		pc.frame_read_off = lo;
		pc.frame_read_len = hi - lo;
	}
	err = loader__set_stacks(ld, s->pid, &pc);
	if (err)
		s->nstack_users = 0;
	return err;
}

int session__resolve_stack(struct session *s, const struct pp_stack_event *ev, struct pyframe *out, int max)
{
	int n = 0;

	if (!s->sym)
		return 0;
	for (uint32_t i = 0; i < ev->nframes && i < PP_MAX_FRAMES && n < max; i++)
		if (pysym__resolve(s->sym, ev->frames[i].code, ev->frames[i].instr, &out[n]) == 0)
			n++;
	return n;
}

int session__resolve_attr(struct session *s, const struct pp_stack_event *ev, struct pyattr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->sym || !ev->nframes)
		return -ENOENT;
	return pysym__attr(s->sym, ev->frames[0].code, ev->frames[0].instr, out);
}

void session__resolve_native(struct session *s, uint64_t ip, struct nativeloc *out)
{
	if (!s->nsym || nativesym__lookup(s->nsym, ip, out)) {
		out->symbol = NULL;
		out->object = "?";
		out->kind = "unknown";
		out->role = NR_NONE;
	}
}

void session__annotate(struct session *s, struct window *w, const struct blocksite *bs)
{
	struct peer_query q[64];
	size_t nq = 0;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	w->ncpus = ncpus > 0 ? (unsigned int)ncpus : 1;
	for (size_t i = 0; i < w->n; i++) {
		struct thread_window *t = &w->t[i];
		const struct blocksite_count *c = blocksite__get(bs, t->tid);

		/* In a PID namespace of its own (a container): the tid its own tools show. */
		if (s->py.ns_pid && s->py.ns_pid != s->pid && !t->exited)
			procfs_ns_tid(s->pid, (pid_t)t->tid, &t->ns_tid);
		if (c && c->blocked) {
			t->blocked_in_work = (double)c->in_work / c->blocked;
			t->blocked_samples = c->blocked;
		}
		if (c && c->polls) {
			t->poll_samples = c->polls;
			t->poll_net = (double)c->poll_net / c->polls;
			t->poll_ipc = (double)c->poll_ipc / c->polls;
			t->poll_pipe_ino = c->poll_pipe_ino;
			if (t->poll_pipe_ino && nq < sizeof(q) / sizeof(q[0]))
				q[nq++] = (struct peer_query){ .ino = t->poll_pipe_ino };
		}
		if (t->sec[PP_B_IPC_WAIT] > 0 && t->ipc_peer_ino && nq < sizeof(q) / sizeof(q[0]))
			q[nq++] = (struct peer_query){ .ino = t->ipc_peer_ino };
	}
	if (!nq || peers_resolve(s->pid, q, nq))
		return;
	for (size_t i = 0; i < w->n; i++) {
		struct thread_window *t = &w->t[i];

		for (size_t k = 0; k < nq; k++) {
			bool ipc = t->sec[PP_B_IPC_WAIT] > 0 && q[k].ino == t->ipc_peer_ino;
			bool poll = t->poll_pipe_ino && q[k].ino == t->poll_pipe_ino;

			if (!q[k].n || (!ipc && !poll))
				continue;
			if (ipc && !t->peer_pid) {
				t->peer_pid = q[k].pid[0];
				memcpy(t->peer_comm, q[k].comm[0], sizeof(t->peer_comm));
			}
			if (poll && !t->poll_peer_pid) {
				t->poll_peer_pid = q[k].pid[0];
				memcpy(t->poll_peer_comm, q[k].comm[0], sizeof(t->poll_peer_comm));
			}
			for (int j = 0; j < q[k].n && t->npeers < sizeof(t->peers) / sizeof(t->peers[0]); j++) {
				unsigned int m;

				for (m = 0; m < t->npeers && t->peers[m] != q[k].pid[j]; m++)
					;
				if (m == t->npeers) {
					memcpy(t->peer_comms[m], q[k].comm[j], sizeof(t->peer_comms[m]));
					t->peers[t->npeers++] = q[k].pid[j];
				}
			}
		}
	}
}
