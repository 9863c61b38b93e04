// SPDX-License-Identifier: MIT
/* The one hash and hash index of the daemon (hindex.h). */
#include <errno.h>
#include <stdlib.h>
#include "hindex.h"

#define FNV_PRIME 1099511628211ULL

uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t hash_str(uint64_t h, const char *s)
{
	const unsigned char *b = (const unsigned char *)(s ? s : "");

	do {
		h ^= *b;
		h *= FNV_PRIME;
	} while (*b++);
	return h;
}

uint64_t hash_int(uint64_t h, int64_t v)
{
	return hash_bytes(h, &v, sizeof(v));
}

static void put(uint32_t *slot, size_t cap, uint64_t h, size_t pos)
{
	size_t k;

	for (k = h & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
		;
	slot[k] = pos + 1;
}

int hindex_fit(struct hindex *ix, size_t n, hindex_hash_fn *hash_of, const void *entries)
{
	size_t cap = 256;
	uint32_t *v;

	if (ix->cap && (n + 1) * 2 <= ix->cap)
		return 0;
	if (n >= UINT32_MAX / 2)
		return -ENOMEM;
	while ((n + 1) * 2 > cap)
		cap *= 2;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		put(v, cap, hash_of(entries, i), i);
	free(ix->slot);
	ix->slot = v;
	ix->cap = cap;
	return 0;
}

long hindex_find(const struct hindex *ix, uint64_t h, hindex_hash_fn *hash_of, hindex_match_fn *match,
		 const void *entries, const void *key)
{
	if (!ix->cap)
		return -1;
	for (size_t k = h & (ix->cap - 1); ix->slot[k]; k = (k + 1) & (ix->cap - 1)) {
		size_t pos = ix->slot[k] - 1;

		if (hash_of(entries, pos) == h && match(entries, pos, key))
			return pos;
	}
	return -1;
}

void hindex_add(struct hindex *ix, uint64_t h, size_t pos)
{
	put(ix->slot, ix->cap, h, pos);
}

void hindex_drop(struct hindex *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = 0;
}
