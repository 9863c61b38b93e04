// SPDX-License-Identifier: MIT
/*
 * Who may observe which process: the decision from the kernel's answer and
 * the target's facts (every rule, Yama included, which this machine's kernel
 * does not enable), the explanations, and the helper on live processes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "unit.h"
#include "access.h"

#define NOBODY 65534
#define NOGROUP 65534

/* A target wholly nobody's, dumpable, no capabilities, no Yama. */
static struct access_facts own_target(void)
{
	return (struct access_facts){ .uid = { NOBODY, NOBODY, NOBODY }, .gid = { NOGROUP, NOGROUP, NOGROUP },
				      .dumpable = true, .same_userns = true, .yama_scope = -1 };
}

static void root_and_kernel(void)
{
	struct caller root = { 0, 0, NULL, 0 }, nobody = { NOBODY, NOGROUP, NULL, 0 };
	struct access_facts f = own_target();

	CHECK_INT(access_decide(&root, NULL, &f, false), ACCESS_ROOT);
	CHECK_INT(access_decide(&nobody, NULL, &f, true), ACCESS_ALLOWED);
	/* The kernel's yes wins over anything the facts seem to say. */
	f.dumpable = false;
	CHECK_INT(access_decide(&nobody, NULL, &f, true), ACCESS_ALLOWED);
	CHECK(access_rule_allows(ACCESS_ROOT) && access_rule_allows(ACCESS_ALLOWED) &&
		      access_rule_allows(ACCESS_GROUP), "allowing rules");
	CHECK(!access_rule_allows(ACCESS_NOT_DUMPABLE) && !access_rule_allows(ACCESS_ERROR), "refusing rules");
}

static void refusals_in_the_kernels_order(void)
{
	struct caller nobody = { NOBODY, NOGROUP, NULL, 0 };
	struct access_facts f = own_target();

	/* Each of real, effective, saved uid and gid counts. */
	for (int i = 0; i < 3; i++) {
		f = own_target();
		f.uid[i] = 0;
		CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_OTHER_OWNER);
		f = own_target();
		f.gid[i] = 0;
		CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_OTHER_OWNER);
	}
	/* Another user's process: nothing else about it is said, even when it is also not dumpable. */
	f = own_target();
	f.uid[1] = 1000;
	f.dumpable = false;
	f.cap_permitted = 0x400;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_OTHER_OWNER);

	f = own_target();
	f.dumpable = false;
	f.cap_permitted = 0x400;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_NOT_DUMPABLE);
	f.dumpable = true;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_CAPABILITIES);
	f.cap_permitted = 0;
	f.same_userns = false;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_CAPABILITIES);
	f.same_userns = true;
	f.yama_scope = 0;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_KERNEL);
	f.yama_scope = -1;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_KERNEL);
}

/* Yama is off on this kernel: its rule is covered here. */
static void yama_scopes(void)
{
	struct caller nobody = { NOBODY, NOGROUP, NULL, 0 };
	struct access_facts f = own_target();
	char buf[256];

	for (int scope = 1; scope <= 3; scope++) {
		f.yama_scope = scope;
		CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_YAMA);
		access_explain(ACCESS_YAMA, 42, &nobody, &f, buf, sizeof(buf));
		CHECK(strstr(buf, "ptrace_scope is ") != NULL, "%s", buf);
	}
	f.yama_scope = 1;
	access_explain(ACCESS_YAMA, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "ancestors") != NULL, "%s", buf);
	f.yama_scope = 2;
	access_explain(ACCESS_YAMA, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "CAP_SYS_PTRACE") != NULL, "%s", buf);
	f.yama_scope = 3;
	access_explain(ACCESS_YAMA, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "no process") != NULL, "%s", buf);
	/* The kernel said yes (scope 1 and an ancestor, say): allowed. */
	CHECK_INT(access_decide(&nobody, NULL, &f, true), ACCESS_ALLOWED);
	/* Ownership is still said first. */
	f.uid[0] = 1000;
	CHECK_INT(access_decide(&nobody, NULL, &f, false), ACCESS_OTHER_OWNER);
}

static void allow_group(void)
{
	gid_t sre_groups[] = { 10, 4242 };
	struct caller sre = { 1000, 1000, sre_groups, 2 }, by_primary = { 1001, 4242, NULL, 0 }, other = { 1002, 1002, NULL, 0 };
	struct access_policy p = { .allow_gids = { 4242 }, .nallow = 1, .deny_uids = { 7 }, .ndeny = 1 };
	struct access_facts f = own_target();

	/* Any user's process, root's included. */
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_GROUP);
	CHECK_INT(access_decide(&by_primary, &p, &f, false), ACCESS_GROUP);
	f.uid[0] = f.uid[1] = f.uid[2] = 0;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_GROUP);
	CHECK_INT(access_decide(&other, &p, &f, false), ACCESS_OTHER_OWNER);
	/* deny-user: by real or effective uid. */
	f.uid[0] = 7;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_DENY_USER);
	f = own_target();
	f.uid[1] = 7;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_DENY_USER);
	/* Non-dumpable targets need allow-nondumpable. */
	f = own_target();
	f.dumpable = false;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_NOT_DUMPABLE);
	CHECK_INT(access_decide(&other, &p, &f, false), ACCESS_OTHER_OWNER);
	f.uid[0] = f.uid[1] = f.uid[2] = 1000;
	f.gid[0] = f.gid[1] = f.gid[2] = 1000;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_NOT_DUMPABLE);
	p.allow_nondumpable = true;
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_GROUP);
	/* A member's own process the kernel allows stays allowed whatever deny-user says. */
	p.deny_uids[0] = 1000;
	CHECK_INT(access_decide(&sre, &p, &f, true), ACCESS_ALLOWED);
	/* ... and when the kernel refused its own process, the kernel's reason is the one said. */
	CHECK_INT(access_decide(&sre, &p, &f, false), ACCESS_NOT_DUMPABLE);
	CHECK(access_is_member(&sre, 10) && access_is_member(&sre, 1000) && !access_is_member(&sre, 11), "members");
}

static void explanations_name_the_rule_and_no_more(void)
{
	struct caller nobody = { NOBODY, NOGROUP, NULL, 0 };
	struct access_facts f = own_target();
	char buf[512];

	f.cap_permitted = 0x400;
	access_explain(ACCESS_OTHER_OWNER, 42, &nobody, &f, buf, sizeof(buf));
	CHECK_STR(buf, "permission denied: process 42 does not belong to uid 65534");
	access_explain(ACCESS_NOT_DUMPABLE, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "not dumpable") && strstr(buf, "PR_SET_DUMPABLE"), "%s", buf);
	access_explain(ACCESS_CAPABILITIES, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "capabilities") && strstr(buf, "0000000000000400"), "%s", buf);
	access_explain(ACCESS_DENY_USER, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "deny-user") != NULL, "%s", buf);
	access_explain(ACCESS_KERNEL, 42, &nobody, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "security module") != NULL, "%s", buf);
	access_explain(ACCESS_ALLOWED, 42, &nobody, &f, buf, sizeof(buf));
	CHECK_STR(buf, "");
	/* Truncation is safe. */
	access_explain(ACCESS_NOT_DUMPABLE, 42, &nobody, &f, buf, 8);
	CHECK_INT(strlen(buf), 7);
}

/* A child that stays until killed, non-dumpable when asked. */
static pid_t spawn(bool dumpable, uid_t uid)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (uid && (setgid(NOGROUP) || setuid(uid)))
			_exit(1);
		/* A change of uid made it non-dumpable (fs.suid_dumpable 0): say which it is. */
		prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0);
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* The helper on real processes (needs root: it takes on another uid). */
static void live_helper(void)
{
	struct caller root = { 0, 0, NULL, 0 }, nobody = { NOBODY, NOGROUP, NULL, 0 };
	struct access_policy p = {};
	struct access *a;
	pid_t mine, closed, roots;
	char why[256];

	if (geteuid() != 0) {
		SKIP("needs root (the helper takes on another uid)");
	}
	a = access__new(&p);
	mine = spawn(true, NOBODY);
	closed = spawn(false, NOBODY);
	roots = spawn(true, 0);
	CHECK(a && mine > 0 && closed > 0 && roots > 0, "set-up");
	if (!a || mine <= 0 || closed <= 0 || roots <= 0)
		goto out;
	CHECK_INT(access__check(a, &root, roots, why, sizeof(why)), 0);
	CHECK_INT(access__check(a, &nobody, mine, why, sizeof(why)), 0);
	CHECK_INT(access__check(a, &nobody, closed, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "not dumpable") != NULL, "%s", why);
	CHECK_INT(access__check(a, &nobody, roots, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "does not belong to uid 65534") != NULL, "%s", why);
	/* Answers are cached: asking again forks no helper. */
	{
		unsigned long before = access__helpers(a);

		CHECK_INT(access__check(a, &nobody, mine, why, sizeof(why)), 0);
		CHECK_INT(access__check(a, &nobody, closed, why, sizeof(why)), -EPERM);
		CHECK_INT(access__helpers(a), before);
		access__forget(a, mine);
		CHECK_INT(access__check(a, &nobody, mine, why, sizeof(why)), 0);
		CHECK_INT(access__helpers(a), before + 1);
	}
	reap(mine);
	CHECK_INT(access__check(a, &nobody, mine, why, sizeof(why)), -ESRCH);
	mine = -1;
out:
	reap(mine);
	reap(closed);
	reap(roots);
	access__free(a);
}

int main(void)
{
	RUN(root_and_kernel);
	RUN(refusals_in_the_kernels_order);
	RUN(yama_scopes);
	RUN(allow_group);
	RUN(explanations_name_the_rule_and_no_more);
	RUN(live_helper);
	return UNIT_EXIT();
}
