// SPDX-License-Identifier: MIT
/*
 * The Prometheus renderer (prom.c): a fixture page compared with the
 * committed tests/unit/fixtures/metrics.prom (run from the repository root,
 * as make unit does), the page without per-thread series, and the escaping
 * of label values. PYPROBE_REGEN_FIXTURES=1 rewrites the fixture from the
 * renderer instead (then read the diff: it is the change under review).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "monitor.h"
#include "session.h"
#include "prom.h"

#define FIXTURE "tests/unit/fixtures/metrics.prom"

/*
 * The fixture: two watched processes. web is an ordinary one with GC
 * counters and a verdict; odd has what a target may choose: a rule, thread
 * name and path with quotes, backslashes, a newline and bytes that are not
 * UTF-8, an exited thread, no GC counters and no verdict yet.
 */
static struct thread_window web_threads[] = {
	{ .tid = 4242, .name = "MainThread",
	  .sec = { [PP_B_ONCPU] = 6.25, [PP_B_RUNQUEUE] = 0.5, [PP_B_GIL_WAIT] = 1.75, [PP_B_NET_IO] = 3 },
	  .gil_sec = { 1.5, 0.25 }, .gil_cnt = { 120, 8 },
	  .samples_gil = 500, .samples_nogil = 40, .samples_unknown = 2, .samples_kernel_io = 30,
	  .samples_gc = 12 },
	{ .tid = 4250, .name = "worker-1",
	  .sec = { [PP_B_ONCPU] = 2.125, [PP_B_LOCK_WAIT] = 0.375, [PP_B_SLEEP] = 9.5 },
	  .gil_sec = { 0.125, 0 }, .gil_cnt = { 3, 0 },
	  .samples_gil = 170, .samples_nogil = 1 },
};
static struct thread_window odd_threads[] = {
	{ .tid = 777, .name = "q\"b\\s\xff\xfe\xe2\x82", .sec = { [PP_B_ONCPU] = 0.001, [PP_B_OTHER] = 1e-9 } },
	{ .tid = 778, .name = "gone", .exited = true, .sec = { [PP_B_IPC_WAIT] = 2.5 }, .samples_unknown = 7 },
};
static struct window totals[] = {
	{ .seconds = 12.5, .n = 2, .t = web_threads },
	{ .seconds = 3.0000001, .n = 2, .t = odd_threads },
};
static struct snapshot nows[] = {
	{ .gc = { .valid = true, .collections = { 1234, 56, 7 }, .collected = { 98765, 4321, 100 },
		  .uncollectable = { 0, 0, 2 } } },
	{ .gc = { .valid = false } },
};
static struct session sessions[2];
static struct verdict web_verdict = {
	.label = "cpu-bound-python", .confidence = 0.875,
	.tot = { .work = 10, .cpu = 7.5, .gil = 1.75, .io = 0.5, .other = 0.25 },
};
static struct watched_view views[2];

static void fixture_build(void)
{
	struct session *s = &sessions[0];

	s->pid = 4242;
	snprintf(s->py.version, sizeof(s->py.version), "3.11.2");
	snprintf(s->py.exe, sizeof(s->py.exe), "/usr/bin/python3.11");
	s->gc_hist[0] = 3;
	s->gc_hist[4] = 10;
	s->gc_hist[9] = 2;
	s->gc_hist[GC_HIST_BUCKETS - 1] = 1;
	s->gc_timed = 16;
	s->gc_pause_sum = 0.0421875;
	/* The main thread runs an event loop: short busy periods, two long ones. */
	web_threads[0].loop.cnt[2] = 40;
	web_threads[0].loop.sec[2] = 0.01;
	web_threads[0].loop.cnt[12] = 2;
	web_threads[0].loop.sec[12] = 0.375;
	web_threads[0].loop.n = 42;
	s->loop_long = 2;
	s = &sessions[1];
	s->pid = 777;
	snprintf(s->py.version, sizeof(s->py.version), "3.13.0rc1");
	snprintf(s->py.exe, sizeof(s->py.exe), "/opt/app \"v2\"/bin\\py\nthon\xc0\xaf");
	views[0] = (struct watched_view){ &sessions[0], "unit:web.service", &totals[0], &nows[0], true,
					  &web_verdict, 10, 7, 2 };
	views[1] = (struct watched_view){ &sessions[1], "cmd:\"a\\b\"\nc\xed\xa0\x80", &totals[1], &nows[1],
					  false, NULL, 0, 0, 0 };
}

static const struct prom_daemon daemon_values = {
	.version = "0.1.0",
	.req = { .pending = 1, .requests = 99, .uptime = 3600.25 },
	.bpf = { .events_lost = 11, .gc_events_lost = 22, .proc_events_lost = 33, .threads_full = 44,
		 .gil_charges_full = 55, .switches_unseen = 66 },
	.sessions = 3,
	.watched = 2,
	.clients = 4,
	.scrapes = 5,
	.profiles = { 7, 8 },
	.profiles_refused = 9,
	.recording = 2,
};

/* The page of the given views (NUL-terminated, malloc'ed), or NULL. */
static char *render(const struct watched_view *v, int n, bool threads)
{
	struct prom *p = prom__new(&daemon_values, threads);
	size_t len = 0;
	char *page, *text;

	if (!p)
		return NULL;
	for (int i = 0; i < n; i++)
		prom__add(p, &v[i]);
	page = prom__finish(p, &len);
	text = page ? strndup(page, len) : NULL;
	CHECK(!text || strlen(text) == len, "the page has a NUL byte at %zu of %zu", strlen(text), len);
	free(page);
	return text;
}

static char *read_fixture(void)
{
	FILE *f = fopen(FIXTURE, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, 0, f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* Check that actual is expected, naming the first line that differs and showing both. */
static void check_page(const char *actual, const char *expected)
{
	size_t i = 0, bol = 0;
	int line = 1;

	for (; actual[i] && actual[i] == expected[i]; i++) {
		if (actual[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	CHECK(actual[i] == expected[i], "line %d differs: actual '%.*s', expected '%.*s'", line,
	      (int)strcspn(actual + bol, "\n"), actual + bol,
	      (int)strcspn(expected + bol, "\n"), expected + bol);
}

/*
 * The fixture page, whole or without the per-thread series: that family comes
 * last, so the page stops where it would begin.
 */
static void check_fixture(bool threads)
{
	char *expected = read_fixture(), *actual, *cut;

	CHECK(expected != NULL, "cannot read %s (unit tests run from the repository root)", FIXTURE);
	if (!expected)
		return;
	cut = strstr(expected, "# HELP pyprobe_thread_state_seconds_total ");
	CHECK(cut != NULL, "the fixture has no per-thread family");
	if (cut && !threads)
		*cut = 0;
	fixture_build();
	actual = render(views, 2, threads);
	CHECK(actual != NULL, "render failed");
	if (actual && threads && getenv("PYPROBE_REGEN_FIXTURES")) {
		FILE *f = fopen(FIXTURE, "w");

		CHECK(f && fputs(actual, f) >= 0 && fclose(f) == 0, "cannot write %s", FIXTURE);
		free(expected);
		expected = read_fixture();
	}
	if (actual)
		check_page(actual, expected);
	free(actual);
	free(expected);
}

static void renders_the_fixture(void)
{
	check_fixture(true);
}

static void without_thread_series(void)
{
	check_fixture(false);
}

/* No process: the daemon's series and every process family's HELP and TYPE, no samples. */
static void no_processes(void)
{
	char *actual = render(NULL, 0, true);

	CHECK(actual != NULL, "render failed");
	if (!actual)
		return;
	CHECK(strstr(actual, "pyprobe_watched_processes 2\n") != NULL, "no daemon series");
	CHECK(strstr(actual, "# TYPE pyprobe_gc_pause_seconds histogram\n") != NULL, "no gc pause family");
	CHECK(strstr(actual, "{pid=") == NULL, "a process sample in an empty page");
	free(actual);
	CHECK(prom__finish(NULL, NULL) == NULL, "prom__finish(NULL) is not NULL");
}

/* A rule name as a label value: what the page says for it. */
static void check_escaped(const char *rule, const char *expected)
{
	static const char name[] = "pyprobe_process_observed_seconds_total{";
	struct session s = { .pid = 1 };
	struct window total = { .seconds = 2 };
	struct snapshot now = {};
	struct watched_view v = { &s, rule, &total, &now, false, NULL, 0, 0, 0 };
	char *page = render(&v, 1, false), *line, want[256];

	CHECK(page != NULL, "render failed");
	if (!page)
		return;
	snprintf(want, sizeof(want), "%spid=\"1\",rule=\"%s\"} 2\n", name, expected);
	line = strstr(page, name);
	CHECK(line && !strncmp(line, want, strlen(want)), "actual '%.*s', expected '%.*s'",
	      line ? (int)strcspn(line, "\n") : 4, line ? line : "none", (int)strlen(want) - 1, want);
	free(page);
}

static void escapes_label_values(void)
{
	check_escaped("unit:web.service", "unit:web.service");
	check_escaped("say \"hi\"", "say \\\"hi\\\"");
	check_escaped("C:\\dir\\", "C:\\\\dir\\\\");
	check_escaped("two\nlines\n", "two\\nlines\\n");
	check_escaped("tab\tand\rCR", "tab\tand\rCR");	/* the format escapes only \\, \" and \n */
	check_escaped("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x8d", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x8d");
	/* Each byte of an invalid sequence becomes U+FFFD. */
	check_escaped("a\xff" "b", "a\xef\xbf\xbd" "b");
	check_escaped("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");			/* overlong '/' */
	check_escaped("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* a surrogate */
	check_escaped("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* past U+10FFFF */
	check_escaped("cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd");		/* truncated at the end */
	check_escaped("\xe2\x82\"", "\xef\xbf\xbd\xef\xbf\xbd\\\"");		/* ... before a quote */
}

/* A process in a container: every one of its series carries the ID's first 12 digits. */
static void container_label(void)
{
	struct session s = { .pid = 7 };
	struct window total = { .seconds = 2 };
	struct snapshot now = {};
	struct watched_view v = { &s, "cgroup:/docker", &total, &now, false, NULL, 0, 0, 0 };
	char *page, *line;
	int n = 0, with = 0;

	snprintf(s.py.container, sizeof(s.py.container), "%s",
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	page = render(&v, 1, true);
	CHECK(page != NULL, "render failed");
	if (!page)
		return;
	for (line = page; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "pyprobe_", 8) || !strstr(line, "pid=\"7\""))
			continue;
		n++;
		with += !strncmp(strstr(line, "pid=\"7\""), "pid=\"7\",rule=\"cgroup:/docker\",container=\"0123456789ab\"",
				 strlen("pid=\"7\",rule=\"cgroup:/docker\",container=\"0123456789ab\""));
	}
	CHECK(n > 5, "only %d process series", n);
	CHECK_INT(with, n);
	CHECK(strstr(page, "pyprobe_process_info{pid=\"7\",rule=\"cgroup:/docker\",container=\"0123456789ab\","
			   "python_version=") != NULL, "info line");
	free(page);
}

int main(void)
{
	RUN(renders_the_fixture);
	RUN(container_label);
	RUN(without_thread_series);
	RUN(no_processes);
	RUN(escapes_label_values);
	return UNIT_EXIT();
}
