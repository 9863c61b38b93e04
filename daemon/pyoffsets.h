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
};

const struct py_offsets *py_offsets__find(unsigned major, unsigned minor);

#endif /* PYPROBE_PYOFFSETS_H */
