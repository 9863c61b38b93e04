/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_ACCESS_H
#define PYPROBED_ACCESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "opts.h"

/* Who asks: SO_PEERCRED's uid and gid and SO_PEERGROUPS' groups (owned by the holder). */
struct caller {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	unsigned int ngroups;
};

/* Which rule decided; the order is the order in which a refusal is explained. */
enum access_rule {
	ACCESS_ALLOWED,		/* the kernel's ptrace check passed with the caller's credentials */
	ACCESS_ROOT,		/* the caller is root */
	ACCESS_GROUP,		/* allow-group */
	ACCESS_NO_PROCESS,
	ACCESS_OTHER_OWNER,	/* real/effective/saved uid or gid not the caller's */
	ACCESS_DENY_USER,	/* allow-group member, target of a deny-user */
	ACCESS_NOT_DUMPABLE,
	ACCESS_CAPABILITIES,	/* the target holds permitted capabilities */
	ACCESS_YAMA,
	ACCESS_KERNEL,		/* refused for a reason not visible here (an LSM policy) */
	ACCESS_ERROR,		/* could not ask: refused */
};

/*
 * What root reads of a target to explain a refusal, and to notice a change of
 * credentials or an exec between two checks. Everything here but code_start,
 * stack_start and exe_* is readable by any user in /proc, so naming it
 * reveals nothing the caller could not see.
 */
struct access_facts {
	uint32_t uid[3], gid[3];	/* real, effective, saved */
	uint64_t cap_permitted;
	bool dumpable;			/* /proc/PID is owned by the process's euid, not root */
	bool same_userns;		/* in the daemon's user namespace */
	int yama_scope;			/* kernel.yama.ptrace_scope, -1 without Yama */
	/* Identity of the program image: an exec changes at least one. */
	uint64_t code_start, stack_start, exe_dev, exe_ino;
};

/*
 * The decision, pure (unit-tested): kernel_ok is what the kernel said to a
 * helper holding the caller's credentials (ignored for root and for an
 * allow-group member the policy admits). Returns the rule that decided.
 */
enum access_rule access_decide(const struct caller *c, const struct access_policy *p,
			       const struct access_facts *f, bool kernel_ok);
/* True for the rules that allow. */
bool access_rule_allows(enum access_rule r);
/* "permission denied: ..." for a refusal, naming the rule; empty for an allowing rule. */
void access_explain(enum access_rule r, pid_t pid, const struct caller *c, const struct access_facts *f,
		    char *buf, size_t len);
bool access_is_member(const struct caller *c, gid_t gid);

struct access;

/* p is read at every check (the config's settings, changed in place by a reload). */
struct access *access__new(const struct access_policy *p);
void access__free(struct access *a);
/*
 * How to read the dumpable flag of a process whose euid is root (its /proc
 * entries belong to root either way): 1 dumpable, 0 not, -errno. Without
 * one, such processes count as not dumpable.
 */
typedef int (*access_dumpable_fn)(void *ctx, pid_t pid);
void access__set_dumpable_fn(struct access *a, access_dumpable_fn fn, void *ctx);
/*
 * May c observe pid? 0 yes; -ESRCH no such process; -EPERM no, with the
 * reason in why ("permission denied: ..."). Answers are cached per caller and
 * process for a few seconds, and never past a change of the target's
 * credentials, dumpable flag or program image.
 */
int access__check(struct access *a, const struct caller *c, pid_t pid, char *why, size_t len);
/* The target executed a program, or the policy changed: forget (pid 0: everything). */
void access__forget(struct access *a, pid_t pid);
/* Helpers forked so far (the cost the cache saves). */
unsigned long access__helpers(const struct access *a);

#endif
