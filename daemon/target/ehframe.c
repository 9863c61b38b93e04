// SPDX-License-Identifier: MIT
/*
 * .eh_frame_hdr and .eh_frame parsing (ehframe.h). Every length, offset and
 * encoding comes from the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "ehframe.h"

/* DWARF exception-header pointer encodings (LSB 5.0, "DWARF Extensions"). */
#define PE_OMIT 0xff
#define PE_FMT(e) ((e) & 0x0f)
#define PE_APP(e) ((e) & 0x70)
#define PE_INDIRECT 0x80
#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30

struct cursor {
	const uint8_t *p;
	size_t n, pos;
	uint64_t vaddr;		/* of p[0] */
};

static int read_uleb(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && c->pos < c->n; shift += 7) {
		uint8_t b = c->p[c->pos++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -ENOENT;
}

static int read_sleb(struct cursor *c, int64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && c->pos < c->n; shift += 7) {
		uint8_t b = c->p[c->pos++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (shift + 7 < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << (shift + 7);
			*out = (int64_t)v;
			return 0;
		}
	}
	return -ENOENT;
}

/* Bytes of a fixed-size encoding; 0 for LEB128 and unknown formats. */
static size_t enc_size(uint8_t enc)
{
	switch (PE_FMT(enc)) {
	case PE_UDATA2:
	case PE_SDATA2:
		return 2;
	case PE_UDATA4:
	case PE_SDATA4:
		return 4;
	case PE_ABSPTR:
	case PE_UDATA8:
	case PE_SDATA8:
		return 8;
	default:
		return 0;
	}
}

/* The value format of enc, without its application (pcrel, datarel). */
static int read_raw(struct cursor *c, uint8_t enc, uint64_t *out)
{
	size_t sz = enc_size(enc);
	uint16_t u16;
	uint32_t u32;
	int64_t s;

	if (PE_FMT(enc) == PE_ULEB128)
		return read_uleb(c, out);
	if (PE_FMT(enc) == PE_SLEB128) {
		if (read_sleb(c, &s))
			return -ENOENT;
		*out = (uint64_t)s;
		return 0;
	}
	if (!sz || c->pos > c->n || c->n - c->pos < sz)
		return -ENOENT;
	/* Native byte order: the objects are this machine's. */
	if (sz == 2) {
		memcpy(&u16, c->p + c->pos, 2);
		*out = PE_FMT(enc) == PE_SDATA2 ? (uint64_t)(int64_t)(int16_t)u16 : u16;
	} else if (sz == 4) {
		memcpy(&u32, c->p + c->pos, 4);
		*out = PE_FMT(enc) == PE_SDATA4 ? (uint64_t)(int64_t)(int32_t)u32 : u32;
	} else {
		memcpy(out, c->p + c->pos, 8);
	}
	c->pos += sz;
	return 0;
}

/* A pointer encoded with enc; datarel is relative to dbase. Indirect ones are not followed. */
static int read_ptr(struct cursor *c, uint8_t enc, uint64_t dbase, uint64_t *out)
{
	uint64_t at = c->vaddr + c->pos;

	if (enc == PE_OMIT || (enc & PE_INDIRECT) || read_raw(c, enc, out))
		return -ENOENT;
	switch (PE_APP(enc)) {
	case 0:
		return 0;
	case PE_PCREL:
		*out += at;
		return 0;
	case PE_DATAREL:
		*out += dbase;
		return 0;
	default:
		return -ENOENT;
	}
}

/* The record (CIE or FDE) at off: its body [*body, *end) after the length. */
static int eh_record(const uint8_t *eh, size_t eh_n, size_t off, size_t *body, size_t *end)
{
	uint32_t len32;
	uint64_t len;

	if (off > eh_n || eh_n - off < 4)
		return -ENOENT;
	memcpy(&len32, eh + off, 4);
	off += 4;
	len = len32;
	if (len32 == 0xffffffff) {
		if (eh_n - off < 8)
			return -ENOENT;
		memcpy(&len, eh + off, 8);
		off += 8;
	}
	/* Length 0 is the terminator; 4 bytes hold at least the CIE id or pointer. */
	if (len < 4 || len > eh_n - off)
		return -ENOENT;
	*body = off;
	*end = off + len;
	return 0;
}

/* The FDE pointer encoding of the CIE at off (its "zR" augmentation). */
static int cie_fde_enc(const uint8_t *eh, size_t eh_n, size_t off, uint8_t *fde_enc)
{
	struct cursor c;
	size_t body, end, alen;
	const char *aug;
	uint64_t u, auglen;
	int64_t s;
	uint32_t id;
	uint8_t version;

	if (eh_record(eh, eh_n, off, &body, &end))
		return -ENOENT;
	memcpy(&id, eh + body, 4);
	c = (struct cursor){ eh, end, body + 4, 0 };
	if (id != 0 || c.pos >= c.n)
		return -ENOENT;
	version = c.p[c.pos++];
	if (version != 1 && version != 3)
		return -ENOENT;
	aug = (const char *)c.p + c.pos;
	alen = strnlen(aug, c.n - c.pos);
	if (alen == c.n - c.pos)
		return -ENOENT;
	c.pos += alen + 1;
	if (aug[0] == 'e' && aug[1] == 'h') {
		/* Old GCC: the EH data pointer, then the rest of the string. */
		if (c.n - c.pos < 8)
			return -ENOENT;
		c.pos += 8;
		aug += 2;
	}
	if (read_uleb(&c, &u) || read_sleb(&c, &s))
		return -ENOENT;
	if (version == 1) {
		if (c.pos >= c.n)
			return -ENOENT;
		c.pos++;
	} else if (read_uleb(&c, &u)) {
		return -ENOENT;
	}
	*fde_enc = PE_ABSPTR;
	if (!aug[0])
		return 0;
	if (aug[0] != 'z')
		return -ENOENT;	/* the FDE layout is unknown */
	if (read_uleb(&c, &auglen) || auglen > c.n - c.pos)
		return -ENOENT;
	c.n = c.pos + auglen;
	for (const char *a = aug + 1; *a; a++) {
		if (*a == 'R') {
			if (c.pos >= c.n)
				return -ENOENT;
			*fde_enc = c.p[c.pos++];
		} else if (*a == 'L') {
			if (c.pos >= c.n)
				return -ENOENT;
			c.pos++;
		} else if (*a == 'P') {
			uint8_t penc;

			if (c.pos >= c.n)
				return -ENOENT;
			penc = c.p[c.pos++];
			if (PE_APP(penc) == 0x50 || read_raw(&c, penc, &u))
				return -ENOENT;
		} else if (*a != 'S' && *a != 'B' && *a != 'G') {
			break;	/* unknown: the length says where its data ends (libgcc) */
		}
	}
	return 0;
}

/* [lo, hi) of the FDE at fde_vaddr. */
static int fde_range(const uint8_t *eh, size_t eh_n, uint64_t eh_vaddr, uint64_t fde_vaddr,
		     uint64_t *lo, uint64_t *hi)
{
	struct cursor c;
	size_t body, end;
	uint64_t range;
	uint32_t cie_ptr;
	uint8_t enc;

	if (!eh || fde_vaddr < eh_vaddr || fde_vaddr - eh_vaddr >= eh_n)
		return -ENOENT;
	if (eh_record(eh, eh_n, fde_vaddr - eh_vaddr, &body, &end))
		return -ENOENT;
	memcpy(&cie_ptr, eh + body, 4);
	/* The CIE pointer counts back from its own position; 0 would make this a CIE. */
	if (cie_ptr == 0 || cie_ptr > body || cie_fde_enc(eh, eh_n, body - cie_ptr, &enc))
		return -ENOENT;
	c = (struct cursor){ eh, end, body + 4, eh_vaddr };
	if (PE_APP(enc) == PE_DATAREL || read_ptr(&c, enc, 0, lo) ||
	    read_raw(&c, PE_FMT(enc), &range))
		return -ENOENT;
	*hi = *lo + range;
	return *hi < *lo ? -ENOENT : 0;
}

/* Start address and FDE address of entry i of the table at tab. */
static int table_entry(const struct cursor *hdr, size_t tab, size_t esz, uint8_t enc, uint64_t i,
		       uint64_t *start, uint64_t *fde)
{
	struct cursor c = *hdr;

	c.pos = tab + i * 2 * esz;
	if (read_ptr(&c, enc, hdr->vaddr, start))
		return -ENOENT;
	return fde ? read_ptr(&c, enc, hdr->vaddr, fde) : 0;
}

int ehframe_hdr_eh_frame(const uint8_t *hdr, size_t hdr_n, uint64_t hdr_vaddr,
			 uint64_t *eh_vaddr)
{
	struct cursor c = { hdr, hdr_n, 4, hdr_vaddr };

	if (!hdr || hdr_n < 4 || hdr[0] != 1)
		return -ENOENT;
	return read_ptr(&c, hdr[1], hdr_vaddr, eh_vaddr);
}

int ehframe_range(const uint8_t *hdr, size_t hdr_n, uint64_t hdr_vaddr, const uint8_t *eh,
		  size_t eh_n, uint64_t eh_vaddr, uint64_t vaddr, uint64_t *lo, uint64_t *hi)
{
	struct cursor c = { hdr, hdr_n, 4, hdr_vaddr };
	uint64_t v, count, first = 0, next, bot = 0, top;
	size_t tab, esz;
	uint8_t enc;
	bool parsed = false;
	uint64_t idx;

	if (!hdr || hdr_n < 4 || hdr[0] != 1)
		return -ENOENT;
	enc = hdr[3];
	esz = enc_size(enc);
	/* eh_frame_ptr (not needed: the caller gives eh_vaddr), then fde_count. */
	if ((hdr[1] != PE_OMIT && read_ptr(&c, hdr[1], hdr_vaddr, &v)) || PE_APP(hdr[2]) ||
	    read_ptr(&c, hdr[2], hdr_vaddr, &count))
		return -ENOENT;
	/* Binary search needs fixed-size entries; an absurd count is cut to the section's size. */
	if (!esz || (PE_APP(enc) != 0 && PE_APP(enc) != PE_DATAREL) || (enc & PE_INDIRECT))
		return -ENOENT;
	tab = c.pos;
	if (count > (hdr_n - tab) / (2 * esz))
		count = (hdr_n - tab) / (2 * esz);
	/* The last entry starting at or below vaddr (any entry with that property, if unsorted). */
	top = count;
	while (bot < top) {
		uint64_t mid = bot + (top - bot) / 2;

		if (table_entry(&c, tab, esz, enc, mid, &v, NULL))
			return -ENOENT;
		if (v <= vaddr)
			bot = mid + 1;
		else
			top = mid;
	}
	if (bot == 0)
		return -ENOENT;
	idx = bot - 1;
	/* A few FDEs may share a start (a zero-length one first): try each. */
	for (uint64_t k = idx + 1; k-- > 0 && idx - k < 8;) {
		uint64_t start, fde, flo, fhi;

		if (table_entry(&c, tab, esz, enc, k, &start, &fde))
			return -ENOENT;
		if (k == idx)
			first = start;
		else if (start != first)
			break;
		if (fde_range(eh, eh_n, eh_vaddr, fde, &flo, &fhi))
			continue;
		parsed = true;
		if (flo == start && vaddr >= flo && vaddr < fhi) {
			*lo = flo;
			*hi = fhi;
			return 0;
		}
	}
	/* No readable FDE: the next entry's start ends the function. */
	if (parsed || idx + 1 >= count || table_entry(&c, tab, esz, enc, idx + 1, &next, NULL) ||
	    next <= vaddr)
		return -ENOENT;
	*lo = first;
	*hi = next;
	return 0;
}
