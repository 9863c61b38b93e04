/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_ARRAY_H
#define PYPROBED_ARRAY_H
#include <stddef.h>
#include <stdint.h>

/* The struct that holds member ptr points into. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Room for one more item: grow *v (items of elem bytes, *cap of them, n in
 * use) by doubling, from first items, never past max items (0: no limit).
 * *v and *cap change only on success. Returns 0, -ENOMEM, or -E2BIG past max.
 */
int array_grow(void **v, size_t *cap, size_t n, size_t elem, size_t first, size_t max);

/* array_grow for a typed pointer: ARRAY_GROW(&s->v, &s->cap, s->n, 32, 0). */
#define ARRAY_GROW(vp, capp, n, first, max) array_grow((void **)(vp), (capp), (n), sizeof(**(vp)), (first), (max))

/*
 * Append item to a log of at most max items (a process observed for days
 * keeps its newest): at max the oldest quarter goes first, counted in
 * *dropped. Returns 0 or -ENOMEM.
 */
int array_log_push(void **v, size_t *cap, size_t *n, size_t elem, size_t max, const void *item,
		   uint64_t *dropped);
#define ARRAY_LOG_PUSH(vp, capp, np, max, item, droppedp) \
	array_log_push((void **)(vp), (capp), (np), sizeof(**(vp)), (max), (item), (droppedp))

#endif
