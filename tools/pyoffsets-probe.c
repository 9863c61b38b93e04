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
 * is typed by hand.  Only compile-time constants are used, so the program
 * does not need to link against libpython.
 */
#include <stddef.h>
#include <stdio.h>

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

#define NONE	(-1L)
#define OFF(type, member)	((long)offsetof(type, member))
#define SIZE(type)		((long)sizeof(type))

#if PY_VERSION_HEX >= 0x03070000
#define GIL_OFF(member)	OFF(struct _gil_runtime_state, member)
#else
#define GIL_OFF(member)	NONE
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
	;

static void field(const char *name, long val, const char *sep)
{
	printf(".%s = %ld,%s", name, val, sep);
}

int main(void)
{
	long runtime_size = NONE, rt_gil = NONE;
	long rt_interp_head = NONE, rt_interp_main = NONE;
	long rt_main_thread = NONE, rt_gilstate_tstate_current = NONE;
	long interp_ceval_gil = NONE, interp_id = NONE, interp_tstate_head;
	long tstate_native_thread_id = NONE;
	long gil_size = NONE;

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

	printf("\t/* %s%s%s */\n", PY_VERSION, config[0] ? ":" : "", config);
	printf("\t{\n\t\t");
	field("major", PY_MAJOR_VERSION, " ");
	field("minor", PY_MINOR_VERSION, "\n\t\t");
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
	field("gil_switch_mutex", GIL_OFF(switch_mutex), "\n");
	printf("\t},\n");

	return ferror(stdout) ? 1 : 0;
}
