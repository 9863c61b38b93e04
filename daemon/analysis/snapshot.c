// SPDX-License-Identifier: MIT
/* Snapshots of per-thread counters (snapshot.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "snapshot.h"

int snapshot__add(struct snapshot *s, const struct snap_thread *t)
{
	if (ARRAY_GROW(&s->v, &s->cap, s->n, 32, 0))
		return -ENOMEM;
	s->v[s->n++] = *t;
	return 0;
}

static int cmp_tid(const void *a, const void *b)
{
	uint32_t x = ((const struct snap_thread *)a)->tid, y = ((const struct snap_thread *)b)->tid;

	return x < y ? -1 : x > y;
}

void snapshot__sort(struct snapshot *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_tid);
}

int snapshot__add_gil(struct snapshot *s, const struct pp_gil_key *k, uint64_t ns, uint64_t cnt)
{
	for (size_t i = 0; i < s->ngil; i++) {
		if (!memcmp(&s->gil[i].k, k, sizeof(*k))) {
			s->gil[i].c.ns += ns;
			s->gil[i].c.cnt += cnt;
			return 0;
		}
	}
	if (ARRAY_GROW(&s->gil, &s->capgil, s->ngil, 16, 0))
		return -ENOMEM;
	s->gil[s->ngil++] = (struct snap_gil){ *k, { ns, cnt } };
	return 0;
}

void snapshot__clear(struct snapshot *s)
{
	free(s->v);
	free(s->gil);
	memset(s, 0, sizeof(*s));
}

const struct snap_thread *snapshot__find(const struct snapshot *s, uint32_t tid)
{
	struct snap_thread key = { .tid = tid };

	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_tid) : NULL;
}
