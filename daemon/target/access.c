// SPDX-License-Identifier: MIT
/*
 * Who may observe which process. pyprobed reads target memory as root on
 * behalf of its callers, so for a caller other than root it asks the kernel's
 * own question: a helper process takes on the caller's uid, gid and groups
 * and asks for one byte of the target with process_vm_readv(2), which the
 * kernel guards with PTRACE_MODE_ATTACH_REALCREDS (owner, dumpable flag,
 * capabilities, Yama, LSMs) before it looks at the address. A refusal is then
 * explained from what the caller could read in /proc anyway.
 *
 * Answers are cached per (caller, pid, start time) for ACCESS_TTL_NS, and an
 * entry is used only while the target's credentials, dumpable flag and program
 * image are what they were when it was made: a change of any of them sends no
 * event, so every lookup reads them again (three small /proc reads, against a
 * fork for the helper).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include "access.h"
#include "procfs.h"

#define ACCESS_TTL_NS (5ULL * 1000000000ULL)
#define ACCESS_CACHE 256

struct entry {
	uid_t uid;
	gid_t gid;
	uint64_t groups_hash;
	pid_t pid;
	uint64_t start_time;
	uint64_t expires;
	struct access_facts facts;
	enum access_rule rule;
};

struct access {
	const struct access_policy *p;
	access_dumpable_fn dumpable;
	void *dumpable_ctx;
	struct entry cache[ACCESS_CACHE];
	unsigned int next;	/* round-robin victim */
	unsigned long helpers;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool access_is_member(const struct caller *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (unsigned int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool access_rule_allows(enum access_rule r)
{
	return r == ACCESS_ALLOWED || r == ACCESS_ROOT || r == ACCESS_GROUP;
}

static bool owned_by(const struct caller *c, const struct access_facts *f)
{
	for (int i = 0; i < 3; i++)
		if (f->uid[i] != c->uid || f->gid[i] != c->gid)
			return false;
	return true;
}

/*
 * allow-group: a member may observe anything the administrator did not
 * exclude. Returns ACCESS_GROUP, the rule that excludes the target, or
 * ACCESS_KERNEL for a caller who is no member.
 */
static enum access_rule group_rule(const struct caller *c, const struct access_policy *p,
				   const struct access_facts *f)
{
	bool member = false;

	for (unsigned int i = 0; p && i < p->nallow && !member; i++)
		member = access_is_member(c, p->allow_gids[i]);
	if (!member)
		return ACCESS_KERNEL;
	for (unsigned int i = 0; i < p->ndeny; i++)
		if (f->uid[0] == p->deny_uids[i] || f->uid[1] == p->deny_uids[i])
			return ACCESS_DENY_USER;
	if (!f->dumpable && !p->allow_nondumpable)
		return ACCESS_NOT_DUMPABLE;
	return ACCESS_GROUP;
}

enum access_rule access_decide(const struct caller *c, const struct access_policy *p,
			       const struct access_facts *f, bool kernel_ok)
{
	enum access_rule group;

	if (c->uid == 0)
		return ACCESS_ROOT;
	if (kernel_ok)
		return ACCESS_ALLOWED;
	group = group_rule(c, p, f);
	if (group == ACCESS_GROUP)
		return ACCESS_GROUP;
	/*
	 * Refused: name the first rule the kernel applies that the target
	 * fails. Ownership comes first so that nothing else is said about
	 * another user's process, unless the caller is a member of an
	 * allow-group, to whom the rule that excluded it is said.
	 */
	if (!owned_by(c, f))
		return group != ACCESS_KERNEL ? group : ACCESS_OTHER_OWNER;
	if (!f->dumpable)
		return ACCESS_NOT_DUMPABLE;
	if (f->cap_permitted || !f->same_userns)
		return ACCESS_CAPABILITIES;
	if (f->yama_scope > 0)
		return ACCESS_YAMA;
	return ACCESS_KERNEL;
}

void access_explain(enum access_rule r, pid_t pid, const struct caller *c, const struct access_facts *f,
		    char *buf, size_t len)
{
	static const char *const yama[] = {
		"", "only a process's ancestors may observe it", "only holders of CAP_SYS_PTRACE may observe",
		"no process may be observed"
	};

	switch (r) {
	case ACCESS_NO_PROCESS:
		snprintf(buf, len, "no such process: %d", pid);
		break;
	case ACCESS_OTHER_OWNER:
		snprintf(buf, len, "permission denied: process %d does not belong to uid %u", pid, (unsigned)c->uid);
		break;
	case ACCESS_DENY_USER:
		snprintf(buf, len, "permission denied: process %d runs as a user the administrator excludes "
			 "(deny-user in pyprobed.conf)", pid);
		break;
	case ACCESS_NOT_DUMPABLE:
		snprintf(buf, len, "permission denied: process %d is not dumpable (it called prctl(PR_SET_DUMPABLE, "
			 "0) or changed credentials), so the kernel lets no other process read it", pid);
		break;
	case ACCESS_CAPABILITIES:
		if (!f->same_userns)
			snprintf(buf, len, "permission denied: process %d runs in another user namespace", pid);
		else
			snprintf(buf, len, "permission denied: process %d holds capabilities (CapPrm %016llx) that "
				 "uid %u does not", pid, (unsigned long long)f->cap_permitted, (unsigned)c->uid);
		break;
	case ACCESS_YAMA:
		snprintf(buf, len, "permission denied: Yama's kernel.yama.ptrace_scope is %d (%s)", f->yama_scope,
			 f->yama_scope >= 1 && f->yama_scope <= 3 ? yama[f->yama_scope] : "restricted");
		break;
	case ACCESS_KERNEL:
		snprintf(buf, len, "permission denied: the kernel does not let uid %u read process %d (a security "
			 "module's policy)", (unsigned)c->uid, pid);
		break;
	case ACCESS_ERROR:
		snprintf(buf, len, "permission denied: could not check whether uid %u may read process %d",
			 (unsigned)c->uid, pid);
		break;
	default:
		if (len)
			*buf = 0;
		break;
	}
}

/* The facts, read as root. -ESRCH when the process is gone. */
static int read_facts(const struct access *a, pid_t pid, struct access_facts *f)
{
	char fn[64], line[256], self[64], other[64];
	unsigned long long cap;
	struct stat st;
	int found = 0;
	ssize_t n;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	fp = fopen(fn, "re");
	if (!fp)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "Uid: %u %u %u", &f->uid[0], &f->uid[1], &f->uid[2]) == 3)
			found |= 1;
		else if (sscanf(line, "Gid: %u %u %u", &f->gid[0], &f->gid[1], &f->gid[2]) == 3)
			found |= 2;
		else if (sscanf(line, "CapPrm: %llx", &cap) == 1) {
			f->cap_permitted = cap;
			found |= 4;
		}
	}
	fclose(fp);
	if (found != 7)
		return -ESRCH;	/* a zombie, or gone between the reads */

	/*
	 * A non-dumpable process's /proc entries (but the directory itself)
	 * belong to root (task_dump_owner). For a process whose euid is root
	 * that says nothing: the kernel side reads the flag, and without it
	 * such a process counts as not dumpable.
	 */
	snprintf(fn, sizeof(fn), "/proc/%d/fd", pid);
	if (stat(fn, &st))
		return -ESRCH;
	if (f->uid[1] != 0)
		f->dumpable = st.st_uid == f->uid[1];
	else
		f->dumpable = a && a->dumpable && a->dumpable(a->dumpable_ctx, pid) == 1;

	snprintf(fn, sizeof(fn), "/proc/%d/ns/user", pid);
	n = readlink(fn, other, sizeof(other) - 1);
	other[n > 0 ? n : 0] = 0;
	n = readlink("/proc/self/ns/user", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	f->same_userns = !*other || !strcmp(self, other);

	f->yama_scope = -1;
	fp = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (fp) {
		if (fscanf(fp, "%d", &f->yama_scope) != 1)
			f->yama_scope = -1;
		fclose(fp);
	}

	snprintf(fn, sizeof(fn), "/proc/%d/exe", pid);
	if (!stat(fn, &st)) {
		f->exe_dev = st.st_dev;
		f->exe_ino = st.st_ino;
	}
	procfs_image(pid, &f->code_start, &f->stack_start);
	return 0;
}

/*
 * The kernel's answer for c: 1 allowed, 0 refused, -ESRCH gone, other
 * -errno when the helper could not be run. The helper uses raw system calls
 * only: it is a fork of this process, and glibc's set*id broadcast is not
 * needed in a single-threaded child.
 */
static int kernel_allows(const struct caller *c, pid_t pid)
{
	int status;
	pid_t child;

	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		struct iovec local, remote = { .iov_base = NULL, .iov_len = 1 };
		char byte;
		long n;

		local.iov_base = &byte;
		local.iov_len = 1;
		if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) ||
		    syscall(SYS_setresgid, c->gid, c->gid, c->gid) || syscall(SYS_setresuid, c->uid, c->uid, c->uid))
			_exit(3);
		/* Address 0 is never mapped: a permitted read fails with EFAULT, after the check. */
		n = syscall(SYS_process_vm_readv, pid, &local, 1UL, &remote, 1UL, 0UL);
		_exit(n == 1 || errno == EFAULT ? 0 : errno == ESRCH ? 2 : 1);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status))
		return -ECHILD;
	switch (WEXITSTATUS(status)) {
	case 0:
		return 1;
	case 1:
		return 0;
	case 2:
		return -ESRCH;
	default:
		return -EPERM;	/* could not take on the caller's identity (no CAP_SETUID?) */
	}
}

static uint64_t hash_groups(const struct caller *c)
{
	uint64_t h = 1469598103934665603ULL;

	for (unsigned int i = 0; i < c->ngroups; i++)
		h = (h ^ c->groups[i]) * 1099511628211ULL;
	return h;
}

struct access *access__new(const struct access_policy *p)
{
	struct access *a = calloc(1, sizeof(*a));

	if (a)
		a->p = p;
	return a;
}

void access__set_dumpable_fn(struct access *a, access_dumpable_fn fn, void *ctx)
{
	a->dumpable = fn;
	a->dumpable_ctx = ctx;
}

void access__free(struct access *a)
{
	free(a);
}

void access__forget(struct access *a, pid_t pid)
{
	for (unsigned int i = 0; i < ACCESS_CACHE; i++)
		if (pid == 0 || a->cache[i].pid == pid)
			a->cache[i].pid = 0;
}

unsigned long access__helpers(const struct access *a)
{
	return a->helpers;
}

int access__check(struct access *a, const struct caller *c, pid_t pid, char *why, size_t len)
{
	uint64_t now = mono_ns(), start, gh;
	struct access_facts f;
	enum access_rule rule;
	struct entry *e;
	int k, err;

	if (len)
		*why = 0;
	if (c->uid == 0)
		return 0;
	err = read_facts(a, pid, &f);
	start = procfs_start_time(pid);
	if (err || !start) {
		access_explain(ACCESS_NO_PROCESS, pid, c, &f, why, len);
		return -ESRCH;
	}
	gh = hash_groups(c);
	for (unsigned int i = 0; i < ACCESS_CACHE; i++) {
		e = &a->cache[i];
		if (e->pid != pid || e->uid != c->uid || e->gid != c->gid || e->groups_hash != gh ||
		    e->start_time != start)
			continue;
		if (e->expires > now && !memcmp(&e->facts, &f, sizeof(f))) {
			rule = e->rule;
			goto decided;
		}
		e->pid = 0;	/* stale: the target changed, or the answer is old */
	}
	rule = access_decide(c, a->p, &f, false);
	if (rule != ACCESS_GROUP) {
		a->helpers++;
		k = kernel_allows(c, pid);
		if (k == -ESRCH) {
			access_explain(ACCESS_NO_PROCESS, pid, c, &f, why, len);
			return -ESRCH;
		}
		rule = k < 0 ? ACCESS_ERROR : access_decide(c, a->p, &f, k == 1);
	}
	if (rule != ACCESS_ERROR) {
		e = &a->cache[a->next++ % ACCESS_CACHE];
		*e = (struct entry){ c->uid, c->gid, gh, pid, start, now + ACCESS_TTL_NS, f, rule };
	}
decided:
	if (access_rule_allows(rule))
		return 0;
	access_explain(rule, pid, c, &f, why, len);
	return -EPERM;
}
