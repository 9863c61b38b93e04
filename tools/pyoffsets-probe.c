// SPDX-License-Identifier: MIT
/*
 * pyoffsets-probe.c - print one struct py_offsets initializer for the
 * CPython whose headers this file is compiled against.
 *
 * Built and run by tools/gen-pyoffsets.sh, once per interpreter, with
 *
 *	gcc -DPy_BUILD_CORE -I<inc> [-I<inc>/internal] pyoffsets-probe.c
 *
 * Every number printed is an offsetof()/sizeof() evaluated by the compiler
 * over that interpreter's own (internal) headers and pyconfig.h, so it
 * follows the build configuration that pyconfig.h records.  Nothing here
 * is typed by hand (the one exception, 3.6's garbage collector structs, is
 * explained below).  Only compile-time constants are used, so the program
 * does not need to link against libpython.
 *
 * Run as "pyoffsets-probe --gdb" it prints, instead of the row, one line
 * "<field> <value> <gdb expression>" per field that has a value (except
 * major/minor); gen-pyoffsets.sh evaluates the expressions with gdb over
 * the DWARF of the interpreter's libpython and requires the same values.
 *
 * Run as "pyoffsets-probe --bits" it prints one line "<name> <lsb> <width>"
 * per bitfield of PyASCIIObject.state that a reader needs (interned, kind,
 * compact, ascii): the position of the field inside the 32-bit state word
 * at offset unicode_state, found by setting the field in a zeroed object
 * and looking at which bits of the object changed (no bit numbering is
 * typed here either).  gen-pyoffsets.sh requires the same positions in
 * every version and in gdb's "ptype/o PyASCIIObject" over the DWARF.
 *
 * Run as "pyoffsets-probe --dbg" (3.13+; nothing for older versions) it
 * prints, instead of the row, what the _Py_DebugOffsets at the start of
 * _PyRuntime must hold in the interpreter's libpython file, one line per
 * published value:
 *
 *	<name> <position> u64 <row field or -> <addend>
 *	<name> <position> bytes <string>
 *
 * a uint64 equal to the row's value of that field (0 for -) plus the
 * addend, or the bytes of the string.  gen-pyoffsets.sh reads them from
 * the initialised .PyRuntime section and requires them to be equal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <Python.h>

#if PY_MAJOR_VERSION != 3 || PY_MINOR_VERSION < 6
#error "pyoffsets-probe: only CPython 3.6+ is supported"
#endif

#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_runtime.h"	/* _PyRuntimeState */
#include "internal/pycore_interp.h"	/* struct _is */
#include "internal/pycore_gil.h"	/* struct _gil_runtime_state */
#elif PY_VERSION_HEX >= 0x03080000
#include "internal/pycore_pystate.h"	/* _PyRuntimeState, struct _is */
#include "internal/pycore_gil.h"
#elif PY_VERSION_HEX >= 0x03070000
#include "internal/pystate.h"		/* _PyRuntimeState */
#include "internal/gil.h"
#endif
/* 3.6: PyInterpreterState and PyThreadState are in the public pystate.h. */

#if PY_VERSION_HEX >= 0x030B0000
/* struct _frame (PyFrameObject) and _PyInterpreterFrame; PyCodeObject is
 * in cpython/code.h (via Python.h), _PyCFrame in cpython/pystate.h. */
#include "internal/pycore_frame.h"
#else
/* Python.h includes neither before 3.9 (code.h) / at all (frameobject.h). */
#include "code.h"
#include "frameobject.h"
#endif

#if PY_VERSION_HEX < 0x03070000
/*
 * 3.6 keeps the garbage collector's state in file-static variables of
 * Modules/gcmodule.c (generations[3], generation_stats[3], collecting,
 * enabled), whose element structs are declared there and not installed.
 * These two declarations copy 3.6's gcmodule.c (identical in every 3.6.x);
 * the member types, PyGC_Head in particular (a union with a long double,
 * so 16-byte aligned), come from the 3.6 headers.  gen-pyoffsets.sh checks
 * the resulting sizes and offsets against the DWARF of struct gc_generation
 * and struct gc_generation_stats in the 3.6 libpython.
 */
struct gc_generation {
	PyGC_Head head;
	int threshold;
	int count;
};

struct gc_generation_stats {
	Py_ssize_t collections;
	Py_ssize_t collected;
	Py_ssize_t uncollectable;
};
#endif

/*
 * The table describes default (GIL) builds only: in these configurations
 * the layout, or the meaning of the GIL fields, differs.
 */
#ifdef Py_GIL_DISABLED
#error "pyoffsets-probe: free-threaded (Py_GIL_DISABLED) builds are not supported"
#endif
#ifdef EXPERIMENTAL_ISOLATED_SUBINTERPRETERS
#error "pyoffsets-probe: EXPERIMENTAL_ISOLATED_SUBINTERPRETERS builds are not supported"
#endif

/* A value and the gdb expression over DWARF that must give the same value. */
struct val {
	long v;
	const char *gdb;
};

#define NONE	((struct val){ -1L, NULL })
#define OFF(type, member)	\
	((struct val){ (long)offsetof(type, member), \
		       "&((" #type " *)0)->" #member })
#define SIZE(type)	((struct val){ (long)sizeof(type), "sizeof(" #type ")" })
#define CONST(x)	((struct val){ (long)(x), NULL })

/*
 * Position of a published value inside _Py_DebugOffsets (3.13+), which
 * must come first in _PyRuntimeState so that a reader finds it at
 * &_PyRuntime.  Older versions have no such struct: the member is dropped
 * unexpanded.
 */
#if PY_VERSION_HEX >= 0x030D0000
#define DBG(member)	OFF(_Py_DebugOffsets, member)
#define DBG_SIZE	SIZE(_Py_DebugOffsets)
_Static_assert(offsetof(_PyRuntimeState, debug_offsets) == 0,
	       "_Py_DebugOffsets is not at the start of _PyRuntime");
_Static_assert(sizeof(_Py_Debug_Cookie) - 1 ==
	       sizeof(((_Py_DebugOffsets *)0)->cookie),
	       "_Py_Debug_Cookie does not fill _Py_DebugOffsets.cookie");
#else
#define DBG(member)	NONE
#define DBG_SIZE	NONE
#endif

#if PY_VERSION_HEX >= 0x03070000
#define GIL_OFF(member)	OFF(struct _gil_runtime_state, member)
/* The GC state: _PyRuntime.gc in 3.7/3.8, interp->gc from 3.9 on. */
#define GC_OFF(member)	OFF(struct _gc_runtime_state, member)
#else
#define GIL_OFF(member)	NONE
/* 3.6: separate statics (see above), so no offsets inside a GC state. */
#define GC_OFF(member)	NONE
#endif

/* Configure options recorded in pyconfig.h that change the layouts above. */
static const char config[] = ""
#ifdef Py_DEBUG
	" Py_DEBUG"
#endif
#ifdef Py_TRACE_REFS
	" Py_TRACE_REFS"
#endif
#ifdef Py_STATS
	" Py_STATS"
#endif
#if PY_VERSION_HEX >= 0x030C0000 && defined(PY_HAVE_PERF_TRAMPOLINE)
	" PY_HAVE_PERF_TRAMPOLINE"
#endif
#ifdef _Py_JIT
	" _Py_JIT"
#endif
	;

static int gdb_mode, dbg_mode;

static void field(const char *name, struct val val, const char *sep)
{
	if (dbg_mode)
		return;
	if (!gdb_mode)
		printf(".%s = %ld,%s", name, val.v, sep);
	else if (val.gdb)
		printf("%s %ld %s\n", name, val.v, val.gdb);
}

/*
 * The field name = pos, the position inside _Py_DebugOffsets of a uint64
 * that must hold the row's field "of" (NULL: 0) plus add; --dbg prints
 * that requirement instead.
 */
static void published(const char *name, struct val pos, const char *of,
		      long add, const char *sep)
{
	if (!dbg_mode)
		field(name, pos, sep);
	else if (pos.v >= 0)
		printf("%s %ld u64 %s %ld\n", name, pos.v, of ? of : "-", add);
}

/* Published values with the same meaning as the row's field of. */
#define SAME(name, member, of, sep)	published(name, DBG(member), of, 0, sep)

/*
 * PyASCIIObject.state is a struct of unsigned int bitfields: offsetof() and
 * the DWARF give the offset of the word holding them (unicode_state), but
 * which bits a field occupies is up to the compiler.  Find out by setting
 * one field to all ones in a zeroed object and looking at the bytes: all
 * changed bits must lie in the 32-bit state word and be contiguous.
 */
_Static_assert(sizeof(((PyASCIIObject *)0)->state) == sizeof(uint32_t),
	       "PyASCIIObject.state is not one 32-bit word");

static int state_bits(const char *name, const PyASCIIObject *obj)
{
	const unsigned char *p = (const unsigned char *)obj;
	size_t off = offsetof(PyASCIIObject, state), i;
	uint32_t word;
	int lsb, width;

	for (i = 0; i < sizeof(*obj); i++) {
		if (p[i] && (i < off || i >= off + sizeof(word))) {
			fprintf(stderr, "state.%s sets byte %zu, outside the state word\n",
				name, i);
			return 1;
		}
	}
	memcpy(&word, p + off, sizeof(word));
	if (word == 0) {
		fprintf(stderr, "state.%s sets no bit\n", name);
		return 1;
	}
	lsb = __builtin_ctz(word);
	width = __builtin_popcount(word);
	if (width >= 32 || word >> lsb != (1u << width) - 1) {
		fprintf(stderr, "state.%s: bits 0x%08x are not contiguous\n",
			name, (unsigned int)word);
		return 1;
	}
	printf("%s %d %d\n", name, lsb, width);
	return 0;
}

/* ~ of the (zero) field, promoted to int, is -1: all ones once stored. */
#define STATE_BITS(member)						\
	do {								\
		PyASCIIObject o;					\
		memset(&o, 0, sizeof(o));				\
		o.state.member = ~o.state.member;			\
		if (state_bits(#member, &o))				\
			return 1;					\
	} while (0)

static int unicode_bits(void)
{
	STATE_BITS(interned);
	STATE_BITS(kind);
	STATE_BITS(compact);
	STATE_BITS(ascii);
	return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct val runtime_size = NONE, rt_gil = NONE;
	struct val rt_interp_head = NONE, rt_interp_main = NONE;
	struct val rt_main_thread = NONE, rt_gilstate_tstate_current = NONE;
	struct val interp_ceval_gil = NONE, interp_id = NONE, interp_tstate_head;
	struct val tstate_native_thread_id = NONE;
	struct val gil_size = NONE;
	struct val rt_gc = NONE, interp_gc = NONE;
	struct val gc_generation_size, gc_gen_threshold, gc_gen_count;
	struct val gc_stats_size;
	struct val tstate_frame = NONE, tstate_cframe = NONE;
	struct val cframe_current_frame = NONE, tstate_current_frame = NONE;
	struct val frame_back, frame_code, frame_lasti = NONE;
	struct val frame_instr = NONE, frame_owner = NONE;
	struct val frame_is_entry = NONE, frame_size;
	struct val code_qualname = NONE, code_linetable;
	struct val code_code = NONE, code_code_adaptive = NONE;
	struct val code_ob_size = NONE, code_varnames = NONE;
	long own_gil = 0;

	if (argc == 2 && strcmp(argv[1], "--bits") == 0)
		return unicode_bits();
	gdb_mode = argc == 2 && strcmp(argv[1], "--gdb") == 0;
	dbg_mode = argc == 2 && strcmp(argv[1], "--dbg") == 0;

#if PY_VERSION_HEX >= 0x03070000
	runtime_size = SIZE(_PyRuntimeState);
	rt_interp_head = OFF(_PyRuntimeState, interpreters.head);
	rt_interp_main = OFF(_PyRuntimeState, interpreters.main);
	interp_id = OFF(PyInterpreterState, id);
	gil_size = SIZE(struct _gil_runtime_state);
#endif
#if PY_VERSION_HEX >= 0x03080000
	rt_main_thread = OFF(_PyRuntimeState, main_thread);
#endif
#if PY_VERSION_HEX >= 0x030C0000
	/* Per-interpreter GIL: the main interpreter is embedded in _PyRuntime. */
	rt_gil = OFF(_PyRuntimeState, _main_interpreter._gil);
	interp_ceval_gil = OFF(PyInterpreterState, ceval.gil);
#elif PY_VERSION_HEX >= 0x03070000
	rt_gil = OFF(_PyRuntimeState, ceval.gil);
	rt_gilstate_tstate_current = OFF(_PyRuntimeState, gilstate.tstate_current);
#endif
#if PY_VERSION_HEX >= 0x030B0000
	interp_tstate_head = OFF(PyInterpreterState, threads.head);
	tstate_native_thread_id = OFF(PyThreadState, native_thread_id);
#else
	interp_tstate_head = OFF(PyInterpreterState, tstate_head);
#endif
#if PY_VERSION_HEX >= 0x03090000
	interp_gc = OFF(PyInterpreterState, gc);
#elif PY_VERSION_HEX >= 0x03070000
	rt_gc = OFF(_PyRuntimeState, gc);
#endif
	/*
	 * 3.15 keeps the statistics behind a pointer (struct gc_stats *, ring
	 * buffers of young and old collections), not as an inline array: no
	 * gc_stats there, and readers fall back to what they do without it.
	 */
	struct val gc_stats_ring[3] = { NONE, NONE, NONE }, gc_ring_len[2] = { NONE, NONE };
	struct val gc_ring_index[2] = { NONE, NONE }, gc_stats_collections = CONST(0);
#if PY_VERSION_HEX >= 0x030F0000
	/*
	 * Each generation's buffer holds the last few collections' entries
	 * (young, old[0], old[1]); the one at the buffer's index carries the
	 * running totals, the figures gc.get_stats() reports.
	 */
	gc_stats_ring[0] = OFF(struct gc_stats, young);
	gc_stats_ring[1] = OFF(struct gc_stats, old[0]);
	gc_stats_ring[2] = OFF(struct gc_stats, old[1]);
	gc_ring_len[0] = CONST(GC_YOUNG_STATS_SIZE);
	gc_ring_len[1] = CONST(GC_OLD_STATS_SIZE);
	gc_ring_index[0] = OFF(struct gc_young_stats_buffer, index);
	gc_ring_index[1] = OFF(struct gc_old_stats_buffer, index);
	gc_stats_collections = OFF(struct gc_generation_stats, collections);
#endif
	/* The element structs exist in 3.6 too (declared above). */
	gc_generation_size = SIZE(struct gc_generation);
	gc_gen_threshold = OFF(struct gc_generation, threshold);
	gc_gen_count = OFF(struct gc_generation, count);
	gc_stats_size = SIZE(struct gc_generation_stats);

	/*
	 * Frames.  <=3.10: tstate->frame is the innermost PyFrameObject, linked
	 * by f_back.  3.11/3.12: tstate->cframe->current_frame is the innermost
	 * _PyInterpreterFrame, linked by previous (3.10 has a tstate->cframe
	 * too, but without a frame pointer: -1 there).  3.13: tstate->
	 * current_frame.  -1 marks the path a version does not have.
	 */
#if PY_VERSION_HEX >= 0x030B0000
	frame_back = OFF(_PyInterpreterFrame, previous);
	frame_owner = OFF(_PyInterpreterFrame, owner);
	frame_size = SIZE(_PyInterpreterFrame);
#if PY_VERSION_HEX >= 0x030D0000
	tstate_current_frame = OFF(PyThreadState, current_frame);
	/* 3.14+: a _PyStackRef, a pointer with tag bits (Py_TAG_BITS) below. */
	frame_code = OFF(_PyInterpreterFrame, f_executable);
	frame_instr = OFF(_PyInterpreterFrame, instr_ptr);
#else
	tstate_cframe = OFF(PyThreadState, cframe);
	cframe_current_frame = OFF(_PyCFrame, current_frame);
	frame_code = OFF(_PyInterpreterFrame, f_code);
	frame_instr = OFF(_PyInterpreterFrame, prev_instr);
#endif
#if PY_VERSION_HEX < 0x030C0000
	frame_is_entry = OFF(_PyInterpreterFrame, is_entry);
#endif
#else
	tstate_frame = OFF(PyThreadState, frame);
	frame_back = OFF(PyFrameObject, f_back);
	frame_code = OFF(PyFrameObject, f_code);
	frame_lasti = OFF(PyFrameObject, f_lasti);
	frame_size = SIZE(PyFrameObject);
#endif

	/* Code objects. */
#if PY_VERSION_HEX >= 0x030B0000
	code_qualname = OFF(PyCodeObject, co_qualname);
	code_code_adaptive = OFF(PyCodeObject, co_code_adaptive);
	code_ob_size = OFF(PyCodeObject, ob_base.ob_size);
	code_varnames = OFF(PyCodeObject, co_localsplusnames);
#else
	code_code = OFF(PyCodeObject, co_code);
	code_varnames = OFF(PyCodeObject, co_varnames);
#endif
#if PY_VERSION_HEX >= 0x030A0000
	code_linetable = OFF(PyCodeObject, co_linetable);
#else
	code_linetable = OFF(PyCodeObject, co_lnotab);
#endif

#if PY_VERSION_HEX >= 0x030D0000
	/*
	 * _Py_DebugOffsets values that are not row fields but are checked:
	 * the cookie, free_threaded (the row is for GIL builds) and
	 * gil_runtime_state = offsetof(PyInterpreterState, _gil), to which
	 * gil_runtime_state_locked/_holder add gil_locked/gil_last_holder.
	 */
	own_gil = offsetof(PyInterpreterState, _gil);
	if (gdb_mode)
		printf("interp_own_gil %ld &((PyInterpreterState *)0)->_gil\n",
		       own_gil);
	if (dbg_mode) {
		printf("dbg_cookie %ld bytes %s\n",
		       DBG(cookie).v, _Py_Debug_Cookie);
		printf("free_threaded %ld u64 - %ld\n",
		       DBG(free_threaded).v, (long)_Py_Debug_Free_Threaded);
		printf("interp_own_gil %ld u64 - %ld\n",
		       DBG(interpreter_state.gil_runtime_state).v, own_gil);
	}
#endif

	if (!gdb_mode && !dbg_mode) {
		printf("\t/* %s%s%s */\n", PY_VERSION,
		       config[0] ? ":" : "", config);
		printf("\t{\n\t\t");
	}
	field("major", CONST(PY_MAJOR_VERSION), " ");
	field("minor", CONST(PY_MINOR_VERSION), "\n\t\t");
	field("runtime_size", runtime_size, "\n\t\t");
	field("rt_gil", rt_gil, " ");
	field("rt_interp_head", rt_interp_head, " ");
	field("rt_interp_main", rt_interp_main, "\n\t\t");
	field("rt_main_thread", rt_main_thread, " ");
	field("rt_gilstate_tstate_current", rt_gilstate_tstate_current, "\n\t\t");
	field("interp_ceval_gil", interp_ceval_gil, " ");
	field("interp_next", OFF(PyInterpreterState, next), " ");
	field("interp_id", interp_id, "\n\t\t");
	field("interp_tstate_head", interp_tstate_head, "\n\t\t");
	field("tstate_next", OFF(PyThreadState, next), " ");
	field("tstate_interp", OFF(PyThreadState, interp), "\n\t\t");
	field("tstate_thread_id", OFF(PyThreadState, thread_id), " ");
	field("tstate_native_thread_id", tstate_native_thread_id, "\n\t\t");
	field("gil_size", gil_size, " ");
	field("gil_last_holder", GIL_OFF(last_holder), " ");
	field("gil_locked", GIL_OFF(locked), "\n\t\t");
	field("gil_switch_number", GIL_OFF(switch_number), " ");
	field("gil_cond", GIL_OFF(cond), " ");
	field("gil_mutex", GIL_OFF(mutex), "\n\t\t");
	field("gil_switch_cond", GIL_OFF(switch_cond), " ");
	field("gil_switch_mutex", GIL_OFF(switch_mutex), "\n\t\t");
	field("rt_gc", rt_gc, " ");
	field("interp_gc", interp_gc, "\n\t\t");
	field("gc_generations", GC_OFF(generations), " ");
	field("gc_generation_size", gc_generation_size, "\n\t\t");
	field("gc_gen_threshold", gc_gen_threshold, " ");
	field("gc_gen_count", gc_gen_count, "\n\t\t");
	field("gc_stats", GC_OFF(generation_stats), " ");
	field("gc_stats_size", gc_stats_size, "\n\t\t");
	field("gc_stats_ring0", gc_stats_ring[0], " ");
	field("gc_stats_ring1", gc_stats_ring[1], " ");
	field("gc_stats_ring2", gc_stats_ring[2], "\n\t\t");
	field("gc_ring_young_len", gc_ring_len[0], " ");
	field("gc_ring_old_len", gc_ring_len[1], "\n\t\t");
	field("gc_ring_young_index", gc_ring_index[0], " ");
	field("gc_ring_old_index", gc_ring_index[1], "\n\t\t");
	field("gc_stats_collections", gc_stats_collections, "\n\t\t");
	field("gc_collecting", GC_OFF(collecting), " ");
	field("gc_enabled", GC_OFF(enabled), "\n\t\t");
	field("tstate_frame", tstate_frame, " ");
	field("tstate_cframe", tstate_cframe, "\n\t\t");
	field("cframe_current_frame", cframe_current_frame, " ");
	field("tstate_current_frame", tstate_current_frame, "\n\t\t");
	field("frame_back", frame_back, " ");
	field("frame_code", frame_code, " ");
	field("frame_lasti", frame_lasti, "\n\t\t");
	field("frame_instr", frame_instr, " ");
	field("frame_owner", frame_owner, " ");
	field("frame_is_entry", frame_is_entry, "\n\t\t");
	field("frame_size", frame_size, "\n\t\t");
	field("code_filename", OFF(PyCodeObject, co_filename), " ");
	field("code_name", OFF(PyCodeObject, co_name), " ");
	field("code_qualname", code_qualname, "\n\t\t");
	field("code_firstlineno", OFF(PyCodeObject, co_firstlineno), " ");
	field("code_linetable", code_linetable, "\n\t\t");
	field("code_code", code_code, " ");
	field("code_code_adaptive", code_code_adaptive, " ");
	field("code_names", OFF(PyCodeObject, co_names), " ");
	field("code_varnames", code_varnames, "\n\t\t");
	field("code_size", SIZE(PyCodeObject), " ");
	field("code_ob_size", code_ob_size, "\n\t\t");
	field("object_type", OFF(PyObject, ob_type), " ");
	field("type_name", OFF(PyTypeObject, tp_name), " ");
	field("var_size", OFF(PyVarObject, ob_size), "\n\t\t");
	field("bytes_sval", OFF(PyBytesObject, ob_sval), " ");
	field("tuple_item", OFF(PyTupleObject, ob_item), "\n\t\t");
	/* state is a named struct member holding the bitfields: see --bits. */
	field("unicode_state", OFF(PyASCIIObject, state), " ");
	field("unicode_length", OFF(PyASCIIObject, length), "\n\t\t");
	field("unicode_ascii_size", SIZE(PyASCIIObject), " ");
	field("unicode_compact_size", SIZE(PyCompactUnicodeObject), "\n\t\t");
	/* The cookie is checked above (bytes, not a uint64). */
	field("dbg_cookie", DBG(cookie), " ");
	published("dbg_version", DBG(version), NULL, PY_VERSION_HEX, " ");
	field("dbg_size", DBG_SIZE, "\n\t\t");
	SAME("dbg_runtime_size", runtime_state.size, "runtime_size", " ");
	SAME("dbg_rt_interp_head", runtime_state.interpreters_head,
	     "rt_interp_head", "\n\t\t");
	SAME("dbg_interp_next", interpreter_state.next, "interp_next", " ");
	SAME("dbg_interp_id", interpreter_state.id, "interp_id", "\n\t\t");
	SAME("dbg_interp_tstate_head", interpreter_state.threads_head,
	     "interp_tstate_head", " ");
	SAME("dbg_interp_gc", interpreter_state.gc, "interp_gc", "\n\t\t");
	SAME("dbg_interp_ceval_gil", interpreter_state.ceval_gil,
	     "interp_ceval_gil", "\n\t\t");
	/* Offsets in PyInterpreterState: its _gil plus the field. */
	published("dbg_gil_locked", DBG(interpreter_state.gil_runtime_state_locked),
		  "gil_locked", own_gil, " ");
	published("dbg_gil_last_holder",
		  DBG(interpreter_state.gil_runtime_state_holder),
		  "gil_last_holder", own_gil, "\n\t\t");
	SAME("dbg_tstate_next", thread_state.next, "tstate_next", " ");
	SAME("dbg_tstate_interp", thread_state.interp, "tstate_interp", "\n\t\t");
	SAME("dbg_tstate_current_frame", thread_state.current_frame,
	     "tstate_current_frame", "\n\t\t");
	SAME("dbg_tstate_thread_id", thread_state.thread_id,
	     "tstate_thread_id", " ");
	SAME("dbg_tstate_native_thread_id", thread_state.native_thread_id,
	     "tstate_native_thread_id", "\n\t\t");
	SAME("dbg_frame_back", interpreter_frame.previous, "frame_back", " ");
	SAME("dbg_frame_code", interpreter_frame.executable, "frame_code", "\n\t\t");
	SAME("dbg_frame_instr", interpreter_frame.instr_ptr, "frame_instr", " ");
	SAME("dbg_frame_owner", interpreter_frame.owner, "frame_owner", " ");
	SAME("dbg_frame_size", interpreter_frame.size, "frame_size", "\n\t\t");
	SAME("dbg_code_filename", code_object.filename, "code_filename", " ");
	SAME("dbg_code_name", code_object.name, "code_name", "\n\t\t");
	SAME("dbg_code_qualname", code_object.qualname, "code_qualname", " ");
	SAME("dbg_code_linetable", code_object.linetable, "code_linetable", "\n\t\t");
	SAME("dbg_code_firstlineno", code_object.firstlineno,
	     "code_firstlineno", "\n\t\t");
	SAME("dbg_code_code_adaptive", code_object.co_code_adaptive,
	     "code_code_adaptive", " ");
	SAME("dbg_code_size", code_object.size, "code_size", "\n\t\t");
	SAME("dbg_object_type", pyobject.ob_type, "object_type", " ");
	SAME("dbg_type_name", type_object.tp_name, "type_name", "\n\t\t");
	SAME("dbg_tuple_item", tuple_object.ob_item, "tuple_item", " ");
	SAME("dbg_bytes_sval", bytes_object.ob_sval, "bytes_sval", " ");
	SAME("dbg_var_size", bytes_object.ob_size, "var_size", "\n\t\t");
	SAME("dbg_unicode_state", unicode_object.state, "unicode_state", " ");
	SAME("dbg_unicode_length", unicode_object.length, "unicode_length", "\n\t\t");
	SAME("dbg_unicode_ascii_size", unicode_object.asciiobject_size,
	     "unicode_ascii_size", " ");
	SAME("dbg_gc_collecting", gc.collecting, "gc_collecting", "\n");
	if (!gdb_mode && !dbg_mode)
		printf("\t},\n");

	return ferror(stdout) ? 1 : 0;
}
