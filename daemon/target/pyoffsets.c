// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "pyoffsets.h"

static const struct py_offsets table[] = {
#include "pyoffsets_table.h"
};

#define NROWS (sizeof(table) / sizeof(table[0]))

const struct py_offsets *py_offsets__find(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < NROWS; i++) {
		if (table[i].major == major && table[i].minor == minor)
			return &table[i];
	}
	return NULL;
}

const struct py_offsets *py_offsets__find_build(unsigned major, unsigned minor, long long runtime_size)
{
	for (size_t i = 0; i < NROWS; i++) {
		if (table[i].major == major && table[i].minor == minor && table[i].runtime_size == runtime_size)
			return &table[i];
	}
	return NULL;
}

void py_offsets__sizes(unsigned major, unsigned minor, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NROWS && used < len; i++) {
		if (table[i].major != major || table[i].minor != minor)
			continue;
		int n = snprintf(buf + used, len - used, "%s%d", used ? ", " : "", table[i].runtime_size);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
