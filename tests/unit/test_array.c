// SPDX-License-Identifier: MIT
/* core/array: the growable array and the bounded log. */
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include "unit.h"
#include "array.h"

static void a_log_keeps_the_newest(void)
{
	int *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t dropped = 0;

	for (int i = 0; i < 1000; i++)
		CHECK_INT(ARRAY_LOG_PUSH(&v, &cap, &n, 100, &i, &dropped), 0);
	CHECK(n <= 100 && n > 75, "n %zu", n);
	CHECK_INT(dropped + n, 1000);
	CHECK_INT(v[n - 1], 999);
	for (size_t i = 1; i < n; i++)
		CHECK(v[i] == v[i - 1] + 1, "in order at %zu", i);
	CHECK(cap <= 100, "cap %zu past max", cap);
	free(v);
}

static void grow_stops_at_max(void)
{
	char *v = NULL;
	size_t cap = 0, n = 0;

	while (!ARRAY_GROW(&v, &cap, n, 4, 10))
		n++;
	CHECK_INT(n, 10);
	CHECK_INT(ARRAY_GROW(&v, &cap, n, 4, 10), -E2BIG);
	free(v);
}

int main(void)
{
	RUN(a_log_keeps_the_newest);
	RUN(grow_stops_at_max);
	return UNIT_EXIT();
}
