/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_EHFRAME_H
#define PYPROBED_EHFRAME_H
#include <stddef.h>
#include <stdint.h>

/*
 * Function extents from an object's .eh_frame_hdr search table and the
 * .eh_frame records it points at (LSB 5.0, "Exception Frames"). Pure
 * parsers, for nativesym, the tests and the fuzzer: every input byte is
 * untrusted, and nothing is read outside the buffers given.
 */

/*
 * The .eh_frame address an .eh_frame_hdr section (hdr_n bytes at hdr, at
 * address hdr_vaddr) points at, into *eh_vaddr. Returns 0, or -ENOENT for an
 * unknown version or an omitted or unreadable pointer.
 */
int ehframe_hdr_eh_frame(const uint8_t *hdr, size_t hdr_n, uint64_t hdr_vaddr,
			 uint64_t *eh_vaddr);

/*
 * The function holding vaddr (an address in the object's own ELF numbering)
 * according to an .eh_frame_hdr section's sorted table: hdr is the section's
 * bytes, hdr_vaddr its address, eh/eh_n/eh_vaddr the .eh_frame section the
 * table points into (eh may be NULL: then the next entry's start ends a
 * function). Sets [*lo, *hi) and returns 0, or -ENOENT.
 */
int ehframe_range(const uint8_t *hdr, size_t hdr_n, uint64_t hdr_vaddr, const uint8_t *eh,
		  size_t eh_n, uint64_t eh_vaddr, uint64_t vaddr, uint64_t *lo, uint64_t *hi);

#endif
