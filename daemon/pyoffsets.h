/* SPDX-License-Identifier: MIT */
#ifndef PYPROBE_PYOFFSETS_H
#define PYPROBE_PYOFFSETS_H

/*
 * CPython struct offsets per minor version.  The values live in the
 * generated daemon/pyoffsets_table.h (tools/gen-pyoffsets.sh), which holds
 * one initializer for this struct per minor version.
 */

/* All offsets in bytes; -1 where the field does not exist in that version. */
struct py_offsets {
	unsigned int major, minor;
	int runtime_size;          /* sizeof(_PyRuntimeState); -1 for 3.6 (no _PyRuntime) */
	int rt_gil;                /* offsetof(_PyRuntimeState, ceval.gil) 3.7–3.11; for 3.12+ offsetof(_PyRuntimeState,_main_interpreter)+offsetof(PyInterpreterState,_gil) */
	int rt_interp_head;        /* _PyRuntime.interpreters.head */
	int rt_interp_main;        /* _PyRuntime.interpreters.main */
	int rt_main_thread;        /* _PyRuntime.main_thread */
	int rt_gilstate_tstate_current; /* _PyRuntime.gilstate.tstate_current (<=3.11), else -1 */
	int interp_ceval_gil;      /* 3.12+: offsetof(PyInterpreterState, ceval.gil) (a pointer) */
	int interp_next;
	int interp_id;
	int interp_tstate_head;    /* tstate_head (<=3.10) / threads.head (3.11+) */
	int tstate_next;
	int tstate_interp;
	int tstate_thread_id;
	int tstate_native_thread_id;
	int gil_size;              /* sizeof(struct _gil_runtime_state) */
	int gil_last_holder, gil_locked, gil_switch_number, gil_cond, gil_mutex, gil_switch_cond, gil_switch_mutex;
	/*
	 * Garbage collector state (struct _gc_runtime_state).  3.7/3.8: at
	 * _PyRuntime + rt_gc; 3.9+: at interp + interp_gc.  3.6 has no such
	 * struct: generations[3], generation_stats[3], collecting and enabled
	 * are separate file-static variables of Modules/gcmodule.c (.symtab
	 * only), so the gc_* offsets inside the state are -1 there, while the
	 * element layouts (gc_generation_size, gc_gen_*, gc_stats_size) are
	 * given.  Element i of generations[] / generation_stats[] is at
	 * + i * gc_generation_size / + i * gc_stats_size.
	 */
	int rt_gc;                 /* offsetof(_PyRuntimeState, gc) (3.7, 3.8), else -1 */
	int interp_gc;             /* offsetof(PyInterpreterState, gc) (3.9+), else -1 */
	int gc_generations;        /* generations[] (struct gc_generation: head, threshold, count) in the gc state */
	int gc_generation_size;    /* sizeof(struct gc_generation) */
	int gc_gen_threshold;      /* threshold (int) in struct gc_generation */
	int gc_gen_count;          /* count (int) in struct gc_generation */
	int gc_stats;              /* generation_stats[] in the gc state */
	int gc_stats_size;         /* sizeof(struct gc_generation_stats): collections, collected, uncollectable (Py_ssize_t each) */
	int gc_collecting;         /* collecting (int) in the gc state */
	int gc_enabled;            /* enabled (int) in the gc state */
};

const struct py_offsets *py_offsets__find(unsigned major, unsigned minor);

#endif /* PYPROBE_PYOFFSETS_H */
