// SPDX-License-Identifier: MIT
/* The process-tree verdict (analysis/service.c): members' verdicts in, the service's out. */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "service.h"

static struct service_member mem(pid_t pid, pid_t ppid, const char *label, double cpu)
{
	struct service_member m = { .pid = pid, .ppid = ppid, .observed = label != NULL, .label = label,
				    .confidence = 0.9, .cpu = cpu, .seconds = 2 };

	snprintf(m.comm, sizeof(m.comm), "python3");
	return m;
}

static bool has(char (*lines)[VERDICT_LINE], int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strstr(lines[i], s))
			return true;
	return false;
}

static void one_hot_worker(void)
{
	struct service_member m[] = { mem(10, 0, "idle", 0), mem(11, 10, "idle", 0.01), mem(12, 10, "cpu-bound-python", 2),
				      mem(13, 10, "idle", 0), mem(14, 10, "idle", 0.02) };
	struct service_verdict v;

	service_classify(m, 5, true, 2, &v);
	CHECK_STR(v.label, "imbalanced");
	CHECK_INT(v.hot, 2);
	CHECK_INT(v.nworkers, 4);
	CHECK_STR(v.summary, "master idle; 4 workers: 3 idle, 1 cpu-bound-python");
	CHECK(has(v.advice, v.nadvice, "load-balancing or sticky-request"), "advice");
	/* Two busy workers: not one hot among idle ones. */
	m[1] = mem(11, 10, "cpu-bound-python", 1.9);
	service_classify(m, 5, true, 2, &v);
	CHECK_INT(v.hot, -1);
	CHECK(strcmp(v.label, "imbalanced"), "%s", v.label);
}

static void all_workers_cpu_bound(void)
{
	struct service_member m[] = { mem(10, 0, "idle", 0), mem(11, 10, "cpu-bound-python", 1.9),
				      mem(12, 10, "gil-contended", 1.8) };
	struct service_verdict v;

	service_classify(m, 3, true, 4, &v);
	CHECK(has(v.advice, v.nadvice, "fewer workers (2) than cores (4): add workers"), "%s", v.advice[0]);
	service_classify(m, 3, true, 2, &v);
	CHECK(has(v.advice, v.nadvice, "add cores"), "%s", v.advice[0]);
	/* A tie between two labels goes to the one with more CPU. */
	CHECK_STR(v.label, "cpu-bound-python");
}

static void io_workers_and_a_busy_master(void)
{
	struct service_member m[] = { mem(10, 0, "cpu-bound-python", 1.5), mem(11, 10, "io-bound", 0.2),
				      mem(12, 10, "io-bound", 0.3), mem(13, 10, "idle", 0), mem(14, 10, NULL, 0) };
	struct service_verdict v;

	service_classify(m, 5, true, 2, &v);
	CHECK_STR(v.label, "io-bound");
	CHECK_INT(v.nworkers, 3);
	CHECK_INT(v.nlisted, 1);
	CHECK_STR(v.summary, "master cpu-bound-python; 3 workers: 2 io-bound, 1 idle; 1 more listed, not observed");
	CHECK(has(v.advice, v.nadvice, "Most workers wait on I/O"), "io advice");
	CHECK(has(v.reasons, v.nreasons, "the root process 10 (python3) is cpu-bound-python itself"), "busy master");
	CHECK(has(v.advice, v.nadvice, "move what process 10 computes into the workers"), "master advice");
}

static void a_lone_process(void)
{
	struct service_member m[] = { mem(10, 0, "io-bound", 0.1), mem(11, 10, NULL, 0) };
	struct service_verdict v;

	service_classify(m, 2, true, 2, &v);
	CHECK_STR(v.label, "io-bound");
	CHECK_INT(v.nworkers, 0);
	CHECK_STR(v.summary, "io-bound (no Python processes below it); 1 more listed, not observed");
	service_classify(m, 0, true, 2, &v);
	CHECK_STR(v.label, "unknown");
	/* Nothing observed at all. */
	m[0].observed = false;
	service_classify(m, 2, true, 2, &v);
	CHECK_STR(v.label, "unknown");
	CHECK_INT(v.nlisted, 2);
}

/* A cgroup's processes with no one parent: all are workers, the summary counts processes. */
static void peers_without_a_root(void)
{
	struct service_member m[] = { mem(10, 1, "io-bound", 0.2), mem(20, 1, "io-bound", 0.3), mem(30, 1, "idle", 0) };
	struct service_verdict v;

	service_classify(m, 3, false, 2, &v);
	CHECK_INT(v.nworkers, 3);
	CHECK_STR(v.label, "io-bound");
	CHECK_STR(v.summary, "3 processes: 2 io-bound, 1 idle");
	CHECK(has(v.reasons, v.nreasons, "2 of 3 processes are io-bound"), "%s", v.reasons[0]);
	CHECK(!has(v.reasons, v.nreasons, "root process"), "no root");
}

int main(void)
{
	RUN(one_hot_worker);
	RUN(all_workers_cpu_bound);
	RUN(io_workers_and_a_busy_master);
	RUN(a_lone_process);
	RUN(peers_without_a_root);
	return UNIT_EXIT();
}
