// SPDX-License-Identifier: MIT
/* pprof's format (profile.proto): protocol buffers by hand, gzip by zlib. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pprof.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "?";
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A growable byte buffer for protocol-buffer encoding. */
struct buf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *p;

		while (cap < b->n + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	int n = 0;

	do {
		t[n] = v & 0x7f;
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	put(b, t, n);
}

static void field_varint(struct buf *b, int field, uint64_t v)
{
	varint(b, (uint64_t)field << 3);
	varint(b, v);
}

static void field_bytes(struct buf *b, int field, const void *d, size_t n)
{
	varint(b, (uint64_t)field << 3 | 2);
	varint(b, n);
	put(b, d, n);
}

static void field_msg(struct buf *b, int field, struct buf *m)
{
	field_bytes(b, field, m->p, m->n);
	b->oom |= m->oom;
	m->n = 0;
}

/* String table with linear lookup: a profile has few distinct strings. */
struct strtab {
	const char **v;
	size_t n;
};

static uint64_t intern(struct strtab *t, const char *s)
{
	const char **v;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i], s))
			return i;
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return 0;
	t->v = v;
	t->v[t->n] = s;
	return t->n++;
}

int pprof_encode(json_t *profile, long long period_ns, long long duration_ns, unsigned char **res, size_t *reslen)
{
	json_t *frames = json_object_get(profile, "frames"), *stacks = json_object_get(profile, "stacks"), *s, *fr, *lv;
	const char *key;
	struct buf out = {}, m = {}, sub = {}, gz = {};
	struct strtab st = {};
	char **names = NULL;
	z_stream z = {};
	bool wall = json_is_true(json_object_get(profile, "wall"));
	static const char *const wall_types[] = { "cpu", "wall", "gil_wait" };
	static const char *const wall_values[] = { "cpu_ns", "wall_ns", "gil_wait_ns" };
	size_t i;
	int ret = -1;

	intern(&st, "");
	/*
	 * sample_type: samples/count and cpu/nanoseconds (a CPU profile), or
	 * cpu, wall and gil_wait in nanoseconds (a wall profile); period_type
	 * cpu or wall nanoseconds.
	 */
	if (wall) {
		for (int t = 0; t < 3; t++) {
			field_varint(&m, 1, intern(&st, wall_types[t]));
			field_varint(&m, 2, intern(&st, "nanoseconds"));
			field_msg(&out, 1, &m);
		}
	} else {
		field_varint(&m, 1, intern(&st, "samples"));
		field_varint(&m, 2, intern(&st, "count"));
		field_msg(&out, 1, &m);
		field_varint(&m, 1, intern(&st, "cpu"));
		field_varint(&m, 2, intern(&st, "nanoseconds"));
		field_msg(&out, 1, &m);
	}
	json_array_foreach(stacks, i, s) {
		json_t *ids = json_object_get(s, "frames");
		long long count = num(s, "count");

		for (size_t k = 0; k < json_array_size(ids); k++) {	/* leaf first, as pprof wants */
			long long id = json_integer_value(json_array_get(ids, k));

			/* A process frame (a tree's recording) is a label here: pprof -tagroot=pid draws it. */
			if (!json_object_get(json_array_get(frames, id), "process"))
				varint(&sub, id + 1);
		}
		field_msg(&m, 1, &sub);
		if (wall) {
			for (int t = 0; t < 3; t++)
				varint(&sub, num(s, wall_values[t]));
		} else {
			varint(&sub, count);
			varint(&sub, count * period_ns);
		}
		field_msg(&m, 2, &sub);
		if (json_is_integer(json_object_get(s, "pid"))) {
			field_varint(&sub, 1, intern(&st, "pid"));
			field_varint(&sub, 3, num(s, "pid"));
			field_msg(&m, 3, &sub);
		}
		json_object_foreach(json_object_get(s, "labels"), key, lv) {
			if (!json_is_string(lv))
				continue;
			field_varint(&sub, 1, intern(&st, key));
			field_varint(&sub, 2, intern(&st, json_string_value(lv)));
			field_msg(&m, 3, &sub);
		}
		field_msg(&out, 2, &m);
	}
	/* One location and one function per frame: id = index + 1. */
	json_array_foreach(frames, i, fr) {
		field_varint(&sub, 1, i + 1);
		field_varint(&sub, 2, num(fr, "line"));
		field_varint(&m, 1, i + 1);
		field_msg(&m, 4, &sub);
		field_msg(&out, 4, &m);
	}
	/* pprof drops <...> from names (C++ templates): "<module>" would vanish. Say "[module]". */
	names = calloc(json_array_size(frames) + 1, sizeof(*names));
	if (!names)
		goto out;
	json_array_foreach(frames, i, fr) {
		names[i] = strdup(str(fr, "function"));
		if (!names[i])
			goto out;
		for (char *q = names[i]; *q; q++)
			*q = *q == '<' ? '[' : *q == '>' ? ']' : *q;
		field_varint(&m, 1, i + 1);
		field_varint(&m, 2, intern(&st, names[i]));
		field_varint(&m, 3, intern(&st, str(fr, "function")));
		field_varint(&m, 4, intern(&st, str(fr, "file")));
		field_varint(&m, 5, num(fr, "firstline"));
		field_msg(&out, 5, &m);
	}
	for (i = 0; i < st.n; i++)
		field_bytes(&out, 6, st.v[i], strlen(st.v[i]));
	field_varint(&out, 10, duration_ns);
	field_varint(&m, 1, intern(&st, wall ? "wall" : "cpu"));
	field_varint(&m, 2, intern(&st, "nanoseconds"));
	field_msg(&out, 11, &m);
	field_varint(&out, 12, period_ns);
	if (wall)
		field_varint(&out, 14, intern(&st, "wall"));	/* default_sample_type */
	if (out.oom || m.oom || sub.oom)
		goto out;
	/* gzip: windowBits 15 + 16 */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		goto out;
	gz.cap = deflateBound(&z, out.n) + 64;
	gz.p = malloc(gz.cap);
	if (!gz.p) {
		deflateEnd(&z);
		goto out;
	}
	z.next_in = out.p;
	z.avail_in = out.n;
	z.next_out = gz.p;
	z.avail_out = gz.cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		goto out;
	}
	gz.n = gz.cap - z.avail_out;
	deflateEnd(&z);
	*res = gz.p;
	*reslen = gz.n;
	gz.p = NULL;
	ret = 0;
out:
	free(out.p);
	free(m.p);
	free(sub.p);
	free(gz.p);
	free(st.v);
	for (i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	return ret;
}

