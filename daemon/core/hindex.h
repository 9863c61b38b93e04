/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_HINDEX_H
#define PYPROBED_HINDEX_H
/*
 * The daemon's one hash (64-bit FNV-1a) and one hash index. The index maps
 * hashes to positions in an array the caller owns (functions, lines, stacks,
 * hot spots): open addressing, at most half full, a slot holding position + 1
 * so that 0 is empty. A target decides how many names there are and how alike,
 * so every lookup that runs per sample goes through one of these, never a scan.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_INIT 1469598103934665603ULL

uint64_t hash_bytes(uint64_t h, const void *data, size_t n);
/* s with its terminator; NULL hashes as "". */
uint64_t hash_str(uint64_t h, const char *s);
uint64_t hash_int(uint64_t h, int64_t v);

struct hindex {
	uint32_t *slot;
	size_t cap;		/* a power of two, or 0: not built */
};

/* The hash of the caller's entry at pos; whether that entry, of the same hash, is key's. */
typedef uint64_t hindex_hash_fn(const void *entries, size_t pos);
typedef bool hindex_match_fn(const void *entries, size_t pos, const void *key);

/*
 * Room for one entry more than the n there are, building the index from
 * hash_of when it was dropped or must grow. Call before hindex_find, so a
 * dropped index (the entries moved) is rebuilt. 0 or -ENOMEM.
 */
int hindex_fit(struct hindex *ix, size_t n, hindex_hash_fn *hash_of, const void *entries);
/* Position of the entry hashed h (by hash_of) that match says is key's, or -1. */
long hindex_find(const struct hindex *ix, uint64_t h, hindex_hash_fn *hash_of, hindex_match_fn *match,
		 const void *entries, const void *key);
/* Index the entry just stored at pos; hindex_fit made room for it. */
void hindex_add(struct hindex *ix, uint64_t h, size_t pos);
/* Forget every slot (the entries were sorted or freed); the next hindex_fit rebuilds. */
void hindex_drop(struct hindex *ix);

#endif
