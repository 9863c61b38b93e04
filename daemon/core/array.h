/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_ARRAY_H
#define PYPROBED_ARRAY_H
#include <stddef.h>

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

#endif
