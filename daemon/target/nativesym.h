/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_NATIVESYM_H
#define PYPROBED_NATIVESYM_H
#include <stdint.h>
#include <sys/types.h>

struct nativesym;

/*
 * What a native function does, for the churn and attribute reports. Found by
 * symbol name where the object has one, and, for functions a stripped (LTO)
 * interpreter only reaches through a pointer, from the built-in type objects'
 * slots (tp_alloc, tp_dealloc, tp_free, tp_getattro) read from the target,
 * with the function's extent from the object's .eh_frame_hdr.
 */
enum native_role {
	NR_NONE = 0,
	NR_ALLOC,	/* object allocation: pymalloc, free lists, tp_alloc, new-object paths, malloc */
	NR_FREE,	/* deallocation: tp_dealloc, tp_free, _Py_Dealloc, pymalloc free, free */
	NR_GC_LINK,	/* GC header link/unlink, track/untrack */
	NR_ATTR,	/* attribute lookup: PyObject_GetAttr, _PyType_Lookup, tp_getattro slots, ... */
	NR_NROLES,
};

/* "alloc", "free", "gc-link", "attr"; "" for NR_NONE. */
const char *nativesym_role_name(int role);

/* A native instruction address, resolved. Strings belong to the resolver. */
struct nativeloc {
	const char *symbol;	/* function, or NULL in a stripped object; "list.tp_dealloc" for a slot-found one */
	const char *object;	/* file name of the mapping */
	const char *kind;	/* interpreter, extension, libc, library, jit/anonymous */
	int role;		/* enum native_role */
};

/* Resolver of one process's executable mappings (read from /proc/PID/maps now). */
struct nativesym *nativesym__new(pid_t pid, const char *interp_path);
void nativesym__free(struct nativesym *ns);
/* Resolve ip; returns 0, or -ENOENT when no executable mapping holds it. */
int nativesym__lookup(struct nativesym *ns, uint64_t ip, struct nativeloc *out);

#endif
