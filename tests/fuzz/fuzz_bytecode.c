/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: bytecode_analyse() on code units that may be garbage. Byte 0
 * chooses the minor version (6 + (b & 0x3f) % 12: 3.16 and 3.17 test -ENOTSUP),
 * with bit 6 no name callback and bit 7 a negative `at`; bytes 1-2 are `at`
 * (little endian); the rest is the code. The callback returns short, empty,
 * long, non-ASCII and missing names. A result that breaks the interface's
 * promises aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bytecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_name(void *ctx, enum bc_table t, uint32_t idx)
{
	static char buf[300];

	switch (idx % 5) {
	case 0:
		return NULL;
	case 1:
		return "";
	case 2:
		memset(buf, t == BC_NAMES ? 'n' : 'l', sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = '\0';
		return buf;
	case 3:
		return "\xc3\xa9\xe2\x82\xac";
	default:
		snprintf(buf, sizeof(buf), "%c%u", t == BC_NAMES ? 'n' : 'l', idx);
		return buf;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_spot s;
	size_t n;
	uint8_t *code;
	int64_t at;
	int minor, err;

	if (size < 3)
		return 0;
	minor = 6 + (data[0] & 0x3f) % 12;
	at = data[1] | data[2] << 8;
	if (data[0] & 0x80)
		at = -1 - at;
	n = (size - 3) / 2;
	/* an exact-size copy, so ASan sees any read past the code */
	code = malloc(2 * n + 1);
	if (!code)
		return 0;
	memcpy(code, data + 3, 2 * n);
	err = bytecode_analyse(minor, n ? code : NULL, n, at, (data[0] & 0x40) ? NULL : fuzz_name,
			       NULL, &s);
	if (err != 0 && err != -ENOENT && err != -EINVAL && err != -ENOTSUP)
		abort();
	if ((minor > 15) != (err == -ENOTSUP))
		abort();
	if (err == 0 || err == -ENOENT) {
		if (at < 0 || (uint64_t)at >= n || s.start > at || s.start > s.index ||
		    s.index >= n || s.opcode != code[2 * s.index] ||
		    (err == 0) != (s.family != BC_NONE))
			abort();
		if (err == 0 && s.name < 0)
			abort();
		if (s.in_loop &&
		    (s.loop_start > s.start || s.loop_end < s.index || s.loop_end >= n))
			abort();
		if (s.invariant && !s.in_loop)
			abort();
	}
	if (!memchr(s.receiver, '\0', sizeof(s.receiver)) || (err != 0 && s.receiver[0]))
		abort();
	if (!bytecode_family_name(s.family))
		abort();
	free(code);
	return 0;
}
