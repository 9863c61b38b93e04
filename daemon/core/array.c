// SPDX-License-Identifier: MIT
/* The one growable array of the daemon (array.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "array.h"

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
