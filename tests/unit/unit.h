/* SPDX-License-Identifier: MIT */
/*
 * A tiny TAP-printing test harness: each RUN(test) prints "ok - name" or
 * "not ok - name" with the failed checks (name, actual, expected) as comments.
 */
#ifndef PYPROBE_UNIT_H
#define PYPROBE_UNIT_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int unit_failed_checks, unit_tests_failed, unit_tests_run, unit_tests_skipped;
/* Set by SKIP: the running test checked nothing, and says why (TAP "# skip"). */
static char unit_skip_why[256];

/* Leave the test as skipped (it must not have failed a check before). */
#define SKIP(...)                                                                        \
	do {                                                                             \
		snprintf(unit_skip_why, sizeof(unit_skip_why), __VA_ARGS__);            \
		return;                                                                  \
	} while (0)

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			unit_failed_checks++;                                 \
			printf("# %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                  \
			printf("\n");                                         \
		}                                                             \
	} while (0)

#define CHECK_STR(actual, expected) \
	CHECK(strcmp((actual), (expected)) == 0, "actual '%s', expected '%s'", (actual), (expected))
#define CHECK_INT(actual, expected) \
	CHECK((actual) == (expected), "actual %lld, expected %lld", (long long)(actual), (long long)(expected))
#define CHECK_NEAR(actual, expected, tol) \
	CHECK(fabs((double)(actual) - (double)(expected)) <= (tol), "actual %g, expected %g +- %g", \
	      (double)(actual), (double)(expected), (double)(tol))

#define RUN(fn)                                                              \
	do {                                                                 \
		int before = unit_failed_checks;                             \
		unit_skip_why[0] = 0;                                        \
		fn();                                                        \
		unit_tests_run++;                                            \
		if (unit_failed_checks != before) {                          \
			unit_tests_failed++;                                 \
			printf("not ok - %s\n", #fn);                        \
		} else if (unit_skip_why[0]) {                               \
			unit_tests_skipped++;                                \
			printf("ok - %s # skip %s\n", #fn, unit_skip_why);    \
		} else {                                                     \
			printf("ok - %s\n", #fn);                            \
		}                                                            \
	} while (0)

#define UNIT_EXIT() (unit_tests_failed ? 1 : 0)

#endif
