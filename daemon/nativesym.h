/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_NATIVESYM_H
#define PYPROBED_NATIVESYM_H
#include <stdint.h>
#include <sys/types.h>

struct nativesym;

/* A native instruction address, resolved. Strings belong to the resolver. */
struct nativeloc {
	const char *symbol;	/* function, or NULL in a stripped object */
	const char *object;	/* file name of the mapping */
	const char *kind;	/* interpreter, extension, libc, library, jit/anonymous */
};

/* Resolver of one process's executable mappings (read from /proc/PID/maps now). */
struct nativesym *nativesym__new(pid_t pid, const char *interp_path);
void nativesym__free(struct nativesym *ns);
/* Resolve ip; returns 0, or -ENOENT when no executable mapping holds it. */
int nativesym__lookup(struct nativesym *ns, uint64_t ip, struct nativeloc *out);

#endif
