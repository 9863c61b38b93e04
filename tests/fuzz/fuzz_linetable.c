// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the three line-table decoders, fed target memory that may
 * be garbage. The first 8 bytes choose the offset and first line.
 */
#include <stdint.h>
#include <string.h>
#include "pysym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t first = 1, off = 0;

	if (size >= 8) {
		memcpy(&first, data, 4);
		memcpy(&off, data + 4, 4);
		data += 8;
		size -= 8;
	}
	pysym_line_lnotab(data, size, first, off);
	pysym_line_linetable310(data, size, first, off);
	pysym_line_locations(data, size, first, off);
	return 0;
}
