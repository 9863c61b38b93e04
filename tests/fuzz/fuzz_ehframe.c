// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the .eh_frame_hdr and .eh_frame parsers of native roles
 * (ehframe.h: ehframe_range, ehframe_hdr_eh_frame), whose input is an
 * object's sections.
 *
 * Input: u16 hdr length, u64 hdr_vaddr, u64 eh_vaddr, u64 vaddr (native byte
 * order), then the .eh_frame_hdr bytes and the .eh_frame bytes (the rest).
 * Each section is copied to a buffer of its own size so that ASan sees a read
 * past either. A range found must hold the address; its ends are looked up
 * again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ehframe.h"

#define HEAD 26

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *hdr, size_t hdr_n, uint64_t hdr_vaddr, const uint8_t *eh,
		  size_t eh_n, uint64_t eh_vaddr, uint64_t vaddr, int depth)
{
	uint64_t lo = 0, hi = 0;

	if (ehframe_range(hdr, hdr_n, hdr_vaddr, eh, eh_n, eh_vaddr, vaddr, &lo, &hi))
		return;
	if (!(lo <= vaddr && vaddr < hi))
		__builtin_trap();
	if (depth) {
		check(hdr, hdr_n, hdr_vaddr, eh, eh_n, eh_vaddr, lo, 0);
		check(hdr, hdr_n, hdr_vaddr, eh, eh_n, eh_vaddr, hi - 1, 0);
		check(hdr, hdr_n, hdr_vaddr, eh, eh_n, eh_vaddr, hi, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hdr_vaddr, eh_vaddr, vaddr, ptr;
	uint8_t *hdr, *eh;
	uint16_t hdr_n;
	size_t eh_n;

	if (size < HEAD)
		return 0;
	memcpy(&hdr_n, data, 2);
	memcpy(&hdr_vaddr, data + 2, 8);
	memcpy(&eh_vaddr, data + 10, 8);
	memcpy(&vaddr, data + 18, 8);
	data += HEAD;
	size -= HEAD;
	if (hdr_n > size)
		hdr_n = (uint16_t)size;
	eh_n = size - hdr_n;
	hdr = malloc(hdr_n ? hdr_n : 1);
	eh = malloc(eh_n ? eh_n : 1);
	if (hdr && eh) {
		memcpy(hdr, data, hdr_n);
		memcpy(eh, data + hdr_n, eh_n);
		ehframe_hdr_eh_frame(hdr, hdr_n, hdr_vaddr, &ptr);
		check(hdr, hdr_n, hdr_vaddr, eh, eh_n, eh_vaddr, vaddr, 1);
		/* the same table without .eh_frame: ends from the next entry */
		check(hdr, hdr_n, hdr_vaddr, NULL, 0, eh_vaddr, vaddr, 1);
	}
	free(hdr);
	free(eh);
	return 0;
}
