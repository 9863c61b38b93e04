// SPDX-License-Identifier: MIT
/* The config file parser and the watch-rule matcher: pure logic, no /proc. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "config.h"
#include "opts.h"
#include "rules.h"

static int parse(const char *text, struct opts *o, struct rules *r, char *err, size_t len)
{
	char *argv[] = { "pyprobed", NULL };

	memset(r, 0, sizeof(*r));
	opts__parse(o, 1, argv);
	return config__parse("test.conf", text, strlen(text), o, r, err, len);
}

static void settings_and_rules(void)
{
	const char *text = "# comment\n"
			   "\n"
			   "  sample-hz = 49  \n"
			   "window=5\n"
			   "gc-timing = exact\r\n"
			   "metrics = 9464\n"
			   "metrics-threads = no\n"
			   "watch = unit web.service\n"
			   "watch = exe /usr/bin/python3.*\n"
			   "watch = cmdline \"*celery worker*\"\n";
	struct opts o;
	struct rules r;
	char err[1024];

	CHECK_INT(parse(text, &o, &r, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(o.sample_hz, 49);
	CHECK_INT(o.window, 5);
	CHECK(o.gc_timing == GC_TIMING_EXACT, "gc-timing exact");
	CHECK_INT(o.metrics_port, 9464);
	CHECK_STR(o.metrics_addr, "127.0.0.1");
	CHECK(!o.metrics_threads, "metrics-threads no");
	CHECK_INT(r.n, 3);
	/* A quoted exe path keeps its blanks and is still checked. */
	{
		struct rule q = {};

		CHECK_INT(rule__parse(&q, "exe \"/opt/My App/python\"", err, sizeof(err)), 0);
		CHECK_STR(q.arg ? q.arg : "", "/opt/My App/python");
		free(q.arg);
		CHECK(rule__parse(&q, "exe \"relative path\"", err, sizeof(err)) != 0, "relative");
	}
	if (r.n == 3) {
		CHECK_INT(r.v[0].kind, RULE_UNIT);
		CHECK_STR(r.v[0].arg, "web.service");
		CHECK_INT(r.v[0].line, 8);
		CHECK_INT(r.v[1].kind, RULE_EXE);
		CHECK_INT(r.v[2].kind, RULE_CMDLINE);
		CHECK_STR(r.v[2].arg, "*celery worker*");
	}
	rules__free(&r);
}

static void every_error_with_its_line(void)
{
	const char *text = "window = 0\n"
			   "colour = blue\n"
			   "just words\n"
			   "watch = unit nginx\n"
			   "watch = exe python3\n"
			   "watch = pid 5\n"
			   "metrics = localhost:80\n"
			   "window = 3\n"
			   "window = 4\n"
			   "sample-hz = 1000\n";
	struct opts o;
	struct rules r;
	char err[4096];

	CHECK(parse(text, &o, &r, err, sizeof(err)) != 0, "rejected");
	CHECK(strstr(err, "test.conf:1: window must be an integer from 1 to 3600"), "%s", err);
	CHECK(strstr(err, "test.conf:2: unknown key 'colour'"), "%s", err);
	CHECK(strstr(err, "test.conf:3: expected 'key = value'"), "%s", err);
	CHECK(strstr(err, "test.conf:4: 'nginx' is not a systemd"), "%s", err);
	CHECK(strstr(err, "test.conf:5: watch exe needs an absolute path"), "%s", err);
	CHECK(strstr(err, "test.conf:6: unknown watch kind 'pid'"), "%s", err);
	CHECK(strstr(err, "test.conf:7: metrics must be off, PORT"), "%s", err);
	CHECK(strstr(err, "test.conf:9: 'window' is set twice"), "%s", err);
	CHECK(strstr(err, "test.conf:10: sample-hz must be an integer from 1 to 999"), "%s", err);
	rules__free(&r);
}

static void command_line_wins(void)
{
	char *argv[] = { "pyprobed", "--window", "7", "--metrics", "[::1]:9000", NULL };
	struct opts o;
	struct rules r = {};
	char err[512];
	const char *text = "window = 30\nmetrics = 9464\nsample-hz = 199\n";

	CHECK_INT(opts__parse(&o, 5, argv), 0);
	CHECK_INT(config__parse("c", text, strlen(text), &o, &r, err, sizeof(err)), 0);
	CHECK_INT(o.window, 7);
	CHECK_INT(o.metrics_port, 9000);
	CHECK_STR(o.metrics_addr, "::1");
	CHECK_INT(o.sample_hz, 199);
	/* ... but a bad value in the file is still an error. */
	text = "window = never\n";
	CHECK(config__parse("c", text, strlen(text), &o, &r, err, sizeof(err)) != 0, "bad value under an option");
	rules__free(&r);
}

static void hostile_text(void)
{
	struct opts o;
	struct rules r;
	char err[256], *big = malloc(20000);

	memset(big, 'x', 19999);
	big[19999] = 0;
	CHECK(parse(big, &o, &r, err, sizeof(err)) != 0, "long line");
	CHECK(strstr(err, "line too long"), "%s", err);
	CHECK(config__parse("c", "window = 1\0\n", 12, &o, &r, err, sizeof(err)) != 0, "NUL byte");
	free(big);
	/* Many errors: the report stays bounded and says how many more. */
	big = malloc(100 * 8 + 1);
	big[0] = 0;
	for (int i = 0; i < 100; i++)
		strcat(big, "nokey!\n");
	CHECK(parse(big, &o, &r, err, sizeof(err)) != 0, "many errors");
	CHECK(strlen(err) < sizeof(err), "bounded");
	free(big);
	rules__free(&r);
}

static struct procinfo proc(const char *exe, const char *cmdline, const char *cgroup)
{
	struct procinfo pi = { .pid = 42 };

	snprintf(pi.exe, sizeof(pi.exe), "%s", exe);
	snprintf(pi.cmdline, sizeof(pi.cmdline), "%s", cmdline);
	snprintf(pi.cgroup, sizeof(pi.cgroup), "%s", cgroup);
	return pi;
}

static void matching(void)
{
	const char *text = "watch = unit web.service\n"
			   "watch = unit batch.slice\n"
			   "watch = exe /opt/app/bin/python*\n"
			   "watch = exe /usr/bin/python3.11\n"
			   "watch = cmdline *celery*worker*\n";
	struct opts o;
	struct rules r;
	char err[512];
	struct procinfo pi;

	CHECK_INT(parse(text, &o, &r, err, sizeof(err)), 0);
	pi = proc("/usr/bin/x", "x", "0::/system.slice/web.service\n");
	CHECK_INT(rules__match(&r, &pi), 0);
	/* a worker in a sub-cgroup of the unit; v1 name=systemd hierarchy */
	pi = proc("/usr/bin/x", "x", "1:name=systemd:/system.slice/web.service/workers\n0::/\n");
	CHECK_INT(rules__match(&r, &pi), 0);
	pi = proc("/usr/bin/x", "x", "0::/system.slice/web.service2\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	pi = proc("/usr/bin/x", "x", "0::/batch.slice/job-1.service\n");
	CHECK_INT(rules__match(&r, &pi), 1);
	/* A user's own web.service under user@.service is not the system's web.service. */
	pi = proc("/usr/bin/x", "x", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	/* Nor is a container's (the unit is the first component that is not a slice). */
	pi = proc("/usr/bin/x", "x", "0::/docker/abc/system.slice/web.service\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	pi = proc("/opt/app/bin/python3.12", "python3.12 app.py", "0::/\n");
	CHECK_INT(rules__match(&r, &pi), 2);
	pi = proc("/opt/app/bin/sub/python3", "python3", "0::/\n");	/* FNM_PATHNAME: * stops at / */
	CHECK_INT(rules__match(&r, &pi), -1);
	pi = proc("/usr/bin/python3.11", "python3", "0::/\n");
	CHECK_INT(rules__match(&r, &pi), 3);
	pi = proc("/usr/bin/python3.12", "/usr/bin/python3 -m celery -A proj worker -l info", "0::/\n");
	CHECK_INT(rules__match(&r, &pi), 4);
	pi = proc("", "", "");	/* a kernel thread */
	CHECK_INT(rules__match(&r, &pi), -1);
	rules__free(&r);
}

/* watch = cgroup PATH: the cgroup or below it, on any hierarchy; a glob against it or an ancestor. */
static void cgroup_rules(void)
{
	const char *text = "watch = cgroup /pyprobe-test/app\n"
			   "watch = cgroup /kubepods/*/pod*\n"
			   "watch = cgroup \"/system.slice/docker-*.scope\"\n";
	struct opts o;
	struct rules r;
	char err[512];
	struct procinfo pi;

	CHECK_INT(parse(text, &o, &r, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(r.n, 3);
	CHECK_INT(r.v[0].kind, RULE_CGROUP);
	pi = proc("/x", "x", "0::/pyprobe-test/app\n");
	CHECK_INT(rules__match(&r, &pi), 0);
	pi = proc("/x", "x", "0::/pyprobe-test/app/worker-1\n");
	CHECK_INT(rules__match(&r, &pi), 0);
	pi = proc("/x", "x", "0::/pyprobe-test/application\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	/* a hybrid host: the cgroup on a v1 hierarchy */
	pi = proc("/x", "x", "4:memory:/pyprobe-test/app\n0::/\n");
	CHECK_INT(rules__match(&r, &pi), 0);
	pi = proc("/x", "x", "0::/kubepods/burstable/pod1234/abcdef\n");
	CHECK_INT(rules__match(&r, &pi), 1);
	pi = proc("/x", "x", "0::/kubepods/burstable\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	pi = proc("/x", "x", "0::/system.slice/docker-0123abcd.scope\n");
	CHECK_INT(rules__match(&r, &pi), 2);
	pi = proc("/x", "x", "0::/system.slice/containerd.service\n");
	CHECK_INT(rules__match(&r, &pi), -1);
	rules__free(&r);
	CHECK(parse("watch = cgroup pyprobe-test\n", &o, &r, err, sizeof(err)) != 0, "relative path");
	CHECK(strstr(err, "watch cgroup needs a path from the cgroup root") != NULL, "%s", err);
	rules__free(&r);
}

/* allow-group, deny-user (names or numbers, repeated) and allow-nondumpable. */
static void access_policy(void)
{
	struct opts o;
	struct rules r;
	char err[2048];

	CHECK_INT(parse("allow-group = root\nallow-group = 4242\ndeny-user = root\ndeny-user = nobody\n"
			"allow-nondumpable = yes\n", &o, &r, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(o.access.nallow, 2);
	CHECK_INT(o.access.allow_gids[0], 0);
	CHECK_INT(o.access.allow_gids[1], 4242);
	CHECK_INT(o.access.ndeny, 2);
	CHECK_INT(o.access.deny_uids[0], 0);
	CHECK_INT(o.access.deny_uids[1], 65534);
	CHECK(o.access.allow_nondumpable, "allow-nondumpable");
	rules__free(&r);
	/* Off by default. */
	CHECK_INT(parse("", &o, &r, err, sizeof(err)), 0);
	CHECK(o.access.nallow == 0 && o.access.ndeny == 0 && !o.access.allow_nondumpable, "defaults");
	rules__free(&r);
	CHECK(parse("allow-group = no-such-group-here\ndeny-user = no-such-user-here\nallow-nondumpable = maybe\n"
		    "allow-nondumpable = no\nallow-nondumpable = yes\nallow-group = -1\n", &o, &r, err,
		    sizeof(err)) != 0, "errors");
	CHECK(strstr(err, "test.conf:1: allow-group: no group named 'no-such-group-here'") != NULL, "%s", err);
	CHECK(strstr(err, "test.conf:2: deny-user: no user named 'no-such-user-here'") != NULL, "%s", err);
	CHECK(strstr(err, "test.conf:3: allow-nondumpable must be yes or no, not 'maybe'") != NULL, "%s", err);
	CHECK(strstr(err, "test.conf:5: 'allow-nondumpable' is set twice") != NULL, "%s", err);
	CHECK(strstr(err, "test.conf:6: allow-group: no group named '-1'") != NULL, "%s", err);
	rules__free(&r);
}

int main(void)
{
	RUN(settings_and_rules);
	RUN(every_error_with_its_line);
	RUN(command_line_wins);
	RUN(hostile_text);
	RUN(matching);
	RUN(cgroup_rules);
	RUN(access_policy);
	return UNIT_EXIT();
}
