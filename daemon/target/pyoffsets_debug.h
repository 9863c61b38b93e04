/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PYOFFSETS_DEBUG_H
#define PYPROBED_PYOFFSETS_DEBUG_H

/*
 * The struct py_offsets fields (pyoffsets.h) that a 3.13+ interpreter's own
 * _Py_DebugOffsets override: X(f) for each field f, whose value the target
 * publishes as a uint64 at &_PyRuntime + dbg_f. pyinspect.c reads them and
 * the fake interpreter of the hostile tests (tests/hostile/fakepy.c) writes
 * them, both from this list. Left out: the sizes (dbg_size, dbg_runtime_size,
 * dbg_frame_size, dbg_code_size), which are no offsets, and dbg_gil_locked
 * and dbg_gil_last_holder, which are relative to the interpreter, not to
 * the GIL (pyoffsets.h).
 */
#define PY_DEBUG_OFFSETS(X)                                                                     \
	X(rt_interp_head) X(interp_next) X(interp_id) X(interp_tstate_head) X(interp_gc)        \
	X(interp_ceval_gil) X(tstate_next) X(tstate_interp) X(tstate_current_frame)             \
	X(tstate_thread_id) X(tstate_native_thread_id) X(frame_back) X(frame_code)              \
	X(frame_instr) X(frame_owner) X(code_filename) X(code_name) X(code_qualname)            \
	X(code_linetable) X(code_firstlineno) X(code_code_adaptive) X(object_type)              \
	X(type_name) X(tuple_item) X(bytes_sval) X(var_size) X(unicode_state)                   \
	X(unicode_length) X(unicode_ascii_size) X(gc_collecting)

#endif
