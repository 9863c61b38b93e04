/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PYINSPECT_H
#define PYPROBED_PYINSPECT_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "pyoffsets.h"

/* What target inspection found out about a CPython process. */
struct pyinfo {
	unsigned int major, minor, micro;
	char version[32];		/* "3.11.2" */
	char elf_path[PATH_MAX];		/* interpreter ELF: its path in the maps, as the host sees it */
	char elf_open[PATH_MAX + 32];	/* a path the kernel resolves to that very file (uprobes) */
	int elf_via;			/* enum procmaps_via: how elf_open reaches it */
	bool elf_deleted;		/* deleted or replaced on disk since it was mapped */
	char exe[256];			/* /proc/PID/exe */
	/* Where the process lives: namespaces and cgroup (containers). */
	pid_t ns_pid;			/* its pid in its own PID namespace (its host pid outside one) */
	bool own_root;			/* its root directory is not the daemon's (chroot, container) */
	char cgroup[512];		/* its cgroup (the v2 path, else the first hierarchy's) */
	char container[65];		/* the container ID its cgroup names, "" if none */
	char build[160];		/* human summary: "static, non-PIE, stripped, USDT" */
	bool shared;			/* libpython is a shared library */
	bool pie;			/* ELF is ET_DYN */
	bool symtab;			/* full .symtab present */
	bool usdt;			/* .note.stapsdt present */
	uint64_t load_bias;
	uint64_t runtime_addr;		/* &_PyRuntime in the target, 0 for 3.6 */
	uint64_t runtime_size;
	uint64_t gil_addr;		/* GIL struct (3.7+) */
	uint64_t interp_head_addr;	/* PyInterpreterState *head of the interpreter list, 0 if unknown */
	/* Garbage collector. */
	uint64_t gc_stats_addr;		/* generation_stats[0] in the target (3.15: the pointer to them), 0 if unknown */
	uint64_t gc_stats_size;		/* bytes per generation_stats entry */
	struct pyinfo_gcfunc {
		char name[48];		/* collect, collect.constprop.1, gc_collect_main */
		uint64_t file_offset;	/* for the uprobe */
		uint64_t cookie;	/* where its generation argument is: PP_GC_GEN_* */
	} gc_funcs[4];
	int ngc_funcs;
	/*
	 * The interpreter's python:gc__start and python:gc__done USDT sites
	 * (for uprobe_multi links: libbpf's own USDT attach needs none of it).
	 */
	struct pyinfo_usdt {
		bool done;		/* gc__done (its argument: objects collected) */
		uint64_t file_offset;	/* of the probe's nop */
		uint64_t ref_ctr_offset;	/* file offset of its semaphore, 0 without one */
		uint64_t cookie;	/* the first argument's location (PP_USDT_MAKE) */
	} gc_usdt[8];
	int ngc_usdt;
	const struct py_offsets *off;	/* points at offsets below, or the compiled table */
	struct py_offsets offsets;	/* 3.13+: the table with the target's own _Py_DebugOffsets applied */
	bool debug_offsets;		/* the target's _Py_DebugOffsets were read and used */
	struct pp_target bpf;		/* what the BPF programs need */
};

enum pyinspect_err {
	PYI_OK = 0,
	PYI_NO_PROCESS,
	PYI_PERMISSION,
	PYI_NOT_PYTHON,
	PYI_UNSUPPORTED,
	PYI_UNREADABLE,		/* its interpreter file cannot be reached (deleted, replaced, another root) */
	PYI_INTERNAL,
};

/*
 * Inspect process pid: find the interpreter ELF in its maps, read it as the
 * target sees it (procmaps.h), find _PyRuntime, the version and the GIL.
 * On failure returns the error class and writes a message for the user into
 * msg (always NUL-terminated).
 */
enum pyinspect_err pyinspect(pid_t pid, struct pyinfo *out, char *msg, size_t msglen);

#endif
