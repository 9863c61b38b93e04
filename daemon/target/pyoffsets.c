// SPDX-License-Identifier: MIT
#include <stddef.h>
#include "pyoffsets.h"

static const struct py_offsets table[] = {
#include "pyoffsets_table.h"
};

const struct py_offsets *py_offsets__find(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].major == major && table[i].minor == minor)
			return &table[i];
	}
	return NULL;
}
