/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PYSYM_H
#define PYPROBED_PYSYM_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pyinfo;
struct pysym;

/*
 * A resolved Python frame. Strings belong to the pysym cache and stay valid
 * for at least 2 * PP_MAX_FRAMES further pysym__resolve calls: a whole stack.
 */
struct pyframe {
	const char *file;
	const char *func;	/* qualified name where the version has it */
	int line;		/* 0 when unknown */
	int firstline;
};

/* Code-object resolver for one process, with a cache that survives across samples. */
struct pysym *pysym__new(pid_t pid, const struct pyinfo *py);
void pysym__free(struct pysym *ps);
/*
 * Resolve a frame's code object and instruction (f_lasti or instruction
 * pointer, as the sampler recorded it). Returns 0, -ENOENT for a frame that
 * does not hold a code object (3.13 entry frames), or another -errno when
 * target memory could not be read or did not make sense.
 */
int pysym__resolve(struct pysym *ps, uint64_t code, uint64_t instr, struct pyframe *out);

/*
 * The attribute lookup a frame is executing. Strings belong to the pysym
 * object and stay valid until its next call.
 */
struct pyattr {
	int family;		/* enum bc_family, never BC_NONE */
	const char *name;	/* the attribute or global name, "?" when unreadable */
	const char *receiver;	/* "obj", "self.items"; "" when not a simple expression */
	bool in_loop;		/* inside a loop of its own function */
	bool invariant;		/* the receiver is not rebound inside that loop */
	int loop_line;		/* first line of that loop, 0 when unknown */
	int makes;		/* enum bc_makes of the instruction, whatever its family */
};

/*
 * Decode the instruction a frame (code, instr as for pysym__resolve) is
 * executing. Returns 0 and fills out when it is an attribute lookup,
 * -ENOENT when it is another instruction (out->makes filled, the rest
 * zero) or the frame has not started,
 * another -errno when the code could not be read or decoded.
 */
int pysym__attr(struct pysym *ps, uint64_t code, uint64_t instr, struct pyattr *out);

/* Line of instruction byte offset off in a line table, per format; 0 if none. Pure, for tests. */
int pysym_line_lnotab(const uint8_t *t, size_t n, int firstline, int64_t off);		/* <= 3.9 */
int pysym_line_linetable310(const uint8_t *t, size_t n, int firstline, int64_t off);	/* 3.10 */
int pysym_line_locations(const uint8_t *t, size_t n, int firstline, int64_t unit);	/* 3.11+ */

#endif
