// SPDX-License-Identifier: MIT
/* The one growable array of the daemon (array.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"

int array_log_push(void **v, size_t *cap, size_t *n, size_t elem, size_t max, const void *item,
		   uint64_t *dropped)
{
	if (*n >= max) {
		size_t drop = *n / 4 ? *n / 4 : 1;

		memmove(*v, (char *)*v + drop * elem, (*n - drop) * elem);
		*n -= drop;
		*dropped += drop;
	} else if (array_grow(v, cap, *n, elem, 64, max)) {
		return -ENOMEM;
	}
	memcpy((char *)*v + *n * elem, item, elem);
	(*n)++;
	return 0;
}

int array_grow(void **v, size_t *cap, size_t n, size_t elem, size_t first, size_t max)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : (first ? first : 16);
	if (max && c > max)
		c = max;
	if (c <= n)
		return -E2BIG;
	if (c > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*v, c * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}
