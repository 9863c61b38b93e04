/* SPDX-License-Identifier: MIT */
#ifndef PYPROBE_PYOFFSETS_H
#define PYPROBE_PYOFFSETS_H

#include <stddef.h>

/*
 * CPython struct offsets per minor version.  The values live in the
 * generated daemon/target/pyoffsets_table.h (tools/gen-pyoffsets.sh), which
 * holds one initializer for this struct per layout of a minor version: most
 * minor versions have one, builds that differ (Debian trixie's 3.13 and
 * python.org's) have one each, told apart by sizeof(_PyRuntimeState).
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
	/*
	 * 3.15: generation_stats is a pointer to a struct gc_stats of one
	 * buffer per generation (gc_stats_ring0..2 in it), each an array of
	 * gc_ring_young_len / gc_ring_old_len entries of gc_stats_size bytes
	 * followed by an int8 index (at gc_ring_young_index / _old_index in the
	 * buffer); the entry at the index holds the running totals. -1 before
	 * 3.15, where generation_stats[] is inline. gc_stats_collections: where
	 * collections, collected, uncollectable start in an entry (0 before).
	 */
	int gc_stats_ring0, gc_stats_ring1, gc_stats_ring2;
	int gc_ring_young_len, gc_ring_old_len, gc_ring_young_index, gc_ring_old_index;
	int gc_stats_collections;
	int gc_collecting;         /* collecting (int) in the gc state */
	int gc_enabled;            /* enabled (int) in the gc state */
	/*
	 * Frames.  Innermost frame: <=3.10 tstate->frame (PyFrameObject);
	 * 3.11/3.12 tstate->cframe->current_frame; 3.13 tstate->current_frame
	 * (_PyInterpreterFrame).  Exactly one of tstate_frame, tstate_cframe,
	 * tstate_current_frame is >= 0 (3.10's tstate->cframe holds no frame
	 * pointer and is -1).  Outer frames: frame + frame_back.  3.11+: skip
	 * frames whose owner byte is 3 (FRAME_OWNED_BY_CSTACK, 3.12/3.13
	 * entry shims); 3.13's f_executable may be Py_None (not a code object).
	 */
	int tstate_frame;          /* PyThreadState.frame (<=3.10: PyFrameObject*) */
	int tstate_cframe;         /* PyThreadState.cframe (3.11, 3.12: _PyCFrame*) */
	int cframe_current_frame;  /* _PyCFrame.current_frame (3.11, 3.12) */
	int tstate_current_frame;  /* PyThreadState.current_frame (3.13) */
	int frame_back;            /* PyFrameObject.f_back (<=3.10) / _PyInterpreterFrame.previous (3.11+) */
	int frame_code;            /* f_code (<=3.12) / f_executable (3.13) */
	int frame_lasti;           /* PyFrameObject.f_lasti (int, <=3.10): byte offset <=3.9, code units 3.10 */
	int frame_instr;           /* _PyInterpreterFrame.prev_instr (3.11, 3.12) / instr_ptr (3.13): _Py_CODEUNIT* into code + code_code_adaptive */
	int frame_owner;           /* _PyInterpreterFrame.owner (char, 3.11+) */
	int frame_is_entry;        /* _PyInterpreterFrame.is_entry (bool, 3.11 only) */
	int frame_size;            /* sizeof(PyFrameObject) (<=3.10) / sizeof(_PyInterpreterFrame) (3.11+) */
	/* Code objects (PyCodeObject); object pointers unless noted. */
	int code_filename, code_name, code_qualname /* 3.11+ */, code_firstlineno /* int */,
	    code_linetable /* co_lnotab <=3.9, co_linetable 3.10+ */, code_code /* co_code bytes, <=3.10 */,
	    code_code_adaptive /* 3.11+: inline array of 16-bit code units */, code_names /* tuple */,
	    code_size /* sizeof(PyCodeObject) */;
	int code_ob_size;          /* offset of ob_size in PyCodeObject (3.11+: number of code units) */
	int code_varnames;         /* co_varnames (<= 3.10) / co_localsplusnames (3.11+): tuple of str */
	/*
	 * Objects.  str (PEP 393): the state word's bitfields (interned, kind,
	 * compact, ascii) are listed in a comment of pyoffsets_table.h; a
	 * compact ASCII string's bytes are at + unicode_ascii_size, a compact
	 * non-ASCII one's (unicode_length units of kind bytes) at
	 * + unicode_compact_size.
	 */
	int object_type;           /* PyObject.ob_type */
	int type_name;             /* PyTypeObject.tp_name (const char*) */
	int var_size;              /* PyVarObject.ob_size */
	int bytes_sval;            /* PyBytesObject.ob_sval */
	int tuple_item;            /* PyTupleObject.ob_item */
	int unicode_state;         /* PyASCIIObject.state (bitfield word, 32 bits) */
	int unicode_length;        /* PyASCIIObject.length */
	int unicode_ascii_size;    /* sizeof(PyASCIIObject): data of compact ASCII strings */
	int unicode_compact_size;  /* sizeof(PyCompactUnicodeObject): data of compact non-ASCII strings */
	/*
	 * _Py_DebugOffsets (3.13+): the struct at offset 0 of _PyRuntime
	 * (_PyRuntime.debug_offsets) that CPython fills with a static
	 * initialiser of offsetof()/sizeof() values of its own build, so the
	 * target (and its libpython file, section .PyRuntime) publishes them:
	 * char cookie[8] = "xdebugpy" (no NUL), uint64 version =
	 * PY_VERSION_HEX, uint64 free_threaded, then groups of uint64 values.
	 * Each dbg_X is the byte position INSIDE that struct of the uint64
	 * publishing the target's value of field X above (read it at
	 * &_PyRuntime + dbg_X); -1 where there is none (3.6-3.12 have no
	 * _Py_DebugOffsets).  The layout is only stable within a minor
	 * version: check the cookie and that version's major/minor match the
	 * row before reading, and read dbg_size bytes.  gen-pyoffsets.sh
	 * checks every value stored in the libpython's .PyRuntime against the
	 * row.  Not 1:1: dbg_gil_locked and dbg_gil_last_holder publish
	 * offsetof(PyInterpreterState, _gil.locked / _gil.last_holder), i.e.
	 * offsetof(PyInterpreterState, _gil) + gil_locked / gil_last_holder:
	 * relative to an interpreter, in its OWN GIL (interp->_gil), which is
	 * the one in use only if interp->ceval.gil == &interp->_gil (always
	 * for the main interpreter; rt_gil is the main interpreter's _gil).
	 */
	int dbg_cookie;            /* cookie */
	int dbg_version;           /* version (PY_VERSION_HEX) */
	int dbg_size;              /* sizeof(_Py_DebugOffsets) (a size, not a position) */
	int dbg_runtime_size;      /* runtime_state.size */
	int dbg_rt_interp_head;    /* runtime_state.interpreters_head */
	int dbg_interp_next, dbg_interp_id;
	int dbg_interp_tstate_head; /* interpreter_state.threads_head */
	int dbg_interp_gc, dbg_interp_ceval_gil;
	int dbg_gil_locked;        /* interpreter_state.gil_runtime_state_locked (see above) */
	int dbg_gil_last_holder;   /* interpreter_state.gil_runtime_state_holder (see above) */
	int dbg_tstate_next, dbg_tstate_interp, dbg_tstate_current_frame,
	    dbg_tstate_thread_id, dbg_tstate_native_thread_id;
	int dbg_frame_back;        /* interpreter_frame.previous */
	int dbg_frame_code;        /* interpreter_frame.executable */
	int dbg_frame_instr;       /* interpreter_frame.instr_ptr */
	int dbg_frame_owner;       /* interpreter_frame.owner */
	int dbg_frame_size;        /* interpreter_frame.size */
	int dbg_code_filename, dbg_code_name, dbg_code_qualname,
	    dbg_code_linetable, dbg_code_firstlineno;
	int dbg_code_code_adaptive; /* code_object.co_code_adaptive */
	int dbg_code_size;         /* code_object.size */
	int dbg_object_type;       /* pyobject.ob_type */
	int dbg_type_name;         /* type_object.tp_name */
	int dbg_tuple_item;        /* tuple_object.ob_item */
	int dbg_bytes_sval;        /* bytes_object.ob_sval */
	int dbg_var_size;          /* bytes_object.ob_size (offsetof(PyBytesObject, ob_base.ob_size)) */
	int dbg_unicode_state, dbg_unicode_length; /* unicode_object.state, .length */
	int dbg_unicode_ascii_size; /* unicode_object.asciiobject_size */
	int dbg_gc_collecting;     /* gc.collecting */
};

/* The first row of CPython major.minor; NULL if there is none. */
const struct py_offsets *py_offsets__find(unsigned major, unsigned minor);

/*
 * The row of major.minor whose runtime_size is runtime_size (the size of the
 * target's _PyRuntime symbol, -1 when it has none); NULL if no row has it.
 */
const struct py_offsets *py_offsets__find_build(unsigned major, unsigned minor, long long runtime_size);

/* The runtime sizes pyprobe knows for major.minor, as "283320, 283376", into buf. */
void py_offsets__sizes(unsigned major, unsigned minor, char *buf, size_t len);

#endif /* PYPROBE_PYOFFSETS_H */
