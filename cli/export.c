// SPDX-License-Identifier: MIT
/*
 * Profile file formats: folded stacks (flamegraph.pl, inferno), speedscope
 * JSON, and pprof (protocol buffers, gzip-compressed with zlib), written from
 * the daemon's neutral {frames, stacks} reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "export.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "?";
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A frame's name with its place: "f (file.py:12)", or a process frame's own name ("python3 [1234]"). */
static void frame_label(char *buf, size_t len, json_t *fr)
{
	if (json_object_get(fr, "process"))
		snprintf(buf, len, "%s", str(fr, "function"));
	else
		snprintf(buf, len, "%s (%s:%lld)", str(fr, "function"), str(fr, "file"), num(fr, "line"));
}

/* Folded names may not contain ';' (the separator) or newlines. */
static void put_name(FILE *f, json_t *fr)
{
	char buf[1024];

	frame_label(buf, sizeof(buf), fr);
	for (char *p = buf; *p; p++)
		if (*p == ';' || *p == '\n')
			*p = ':';
	fputs(buf, f);
}

int export_folded(FILE *f, json_t *profile)
{
	json_t *frames = json_object_get(profile, "frames"), *stacks = json_object_get(profile, "stacks"), *s;
	size_t i;

	json_array_foreach(stacks, i, s) {
		json_t *ids = json_object_get(s, "frames");

		for (size_t k = json_array_size(ids); k-- > 0;) {
			put_name(f, json_array_get(frames, json_integer_value(json_array_get(ids, k))));
			if (k)
				fputc(';', f);
		}
		fprintf(f, " %lld\n", num(s, "count"));
	}
	return 0;
}

int export_speedscope(FILE *f, json_t *profile, const char *name)
{
	json_t *frames = json_object_get(profile, "frames"), *stacks = json_object_get(profile, "stacks"), *s, *fr;
	json_t *sframes = json_array(), *samples = json_array(), *weights = json_array(), *doc;
	long long total = 0;
	size_t i;
	int err;

	json_array_foreach(frames, i, fr)
		json_array_append_new(sframes, json_pack("{s:s, s:s, s:I}", "name", str(fr, "function"), "file",
							 str(fr, "file"), "line", (json_int_t)num(fr, "line")));
	json_array_foreach(stacks, i, s) {
		json_t *ids = json_object_get(s, "frames"), *order = json_array();

		for (size_t k = json_array_size(ids); k-- > 0;)	/* speedscope wants outermost first */
			json_array_append(order, json_array_get(ids, k));
		json_array_append_new(samples, order);
		json_array_append_new(weights, json_integer(num(s, "count")));
		total += num(s, "count");
	}
	doc = json_pack("{s:s, s:s, s:s, s:{s:o}, s:[{s:s, s:s, s:s, s:i, s:I, s:o, s:o}]}",
			"$schema", "https://www.speedscope.app/file-format-schema.json", "exporter", "pyprobe",
			"name", name, "shared", "frames", sframes, "profiles", "type", "sampled", "name", name,
			"unit", "none", "startValue", 0, "endValue", (json_int_t)total, "samples", samples, "weights",
			weights);
	if (!doc)
		return -1;
	err = json_dumpf(doc, f, JSON_COMPACT);
	json_decref(doc);
	return err ? -1 : 0;
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

int export_pprof(FILE *f, json_t *profile, long long period_ns, long long duration_ns)
{
	json_t *frames = json_object_get(profile, "frames"), *stacks = json_object_get(profile, "stacks"), *s, *fr;
	struct buf out = {}, m = {}, sub = {}, gz = {};
	struct strtab st = {};
	char **names = NULL;
	z_stream z = {};
	size_t i;
	int ret = -1;

	intern(&st, "");
	/* sample_type: samples/count and cpu/nanoseconds; period_type cpu/nanoseconds */
	field_varint(&m, 1, intern(&st, "samples"));
	field_varint(&m, 2, intern(&st, "count"));
	field_msg(&out, 1, &m);
	field_varint(&m, 1, intern(&st, "cpu"));
	field_varint(&m, 2, intern(&st, "nanoseconds"));
	field_msg(&out, 1, &m);
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
		varint(&sub, count);
		varint(&sub, count * period_ns);
		field_msg(&m, 2, &sub);
		if (json_is_integer(json_object_get(s, "pid"))) {
			struct buf label = {};

			field_varint(&label, 1, intern(&st, "pid"));
			field_varint(&label, 3, num(s, "pid"));
			field_msg(&m, 3, &label);
			free(label.p);
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
	field_varint(&m, 1, intern(&st, "cpu"));
	field_varint(&m, 2, intern(&st, "nanoseconds"));
	field_msg(&out, 11, &m);
	field_varint(&out, 12, period_ns);
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
	ret = fwrite(gz.p, 1, gz.n, f) == gz.n ? 0 : -1;
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

/* Flame graph: a tree of frames, children merged by frame index, widths by samples. */
struct node {
	long long frame, count;
	struct node *child, *next;
};

static struct node *child_of(struct node *n, long long frame)
{
	struct node *c;

	for (c = n->child; c; c = c->next)
		if (c->frame == frame)
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->frame = frame;
	c->next = n->child;
	n->child = c;
	return c;
}

static void free_tree(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		free_tree(n->child);
		free(n);
		n = next;
	}
}

static int depth_of(const struct node *n)
{
	int d = 0;

	for (const struct node *c = n->child; c; c = c->next) {
		int x = depth_of(c);

		if (x > d)
			d = x;
	}
	return d + 1;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

#define SVG_W 1200.0
#define ROW 17

static void draw(FILE *f, json_t *frames, const struct node *n, double x, int level, int height, long long total)
{
	for (const struct node *c = n->child; c; c = c->next) {
		double w = SVG_W * c->count / total;
		json_t *fr = json_array_get(frames, c->frame);
		const char *fn = str(fr, "function");
		unsigned h = 2166136261u;
		char label[600], place[512];
		int y = height - (level + 1) * ROW;

		for (const char *p = fn; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		frame_label(place, sizeof(place), fr);
		snprintf(label, sizeof(label), "%s %lld samples, %.1f%%", place, c->count, 100.0 * c->count / total);
		fputs("<g><title>", f);
		xml_text(f, label);
		fprintf(f, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"rgb(%u,%u,%u)\" "
			   "rx=\"2\"/>", x, y, w > 0.5 ? w - 0.5 : w, ROW - 1, 205 + h % 50, 80 + (h >> 8) % 120,
			(h >> 16) % 60);
		if (w > 30) {
			int chars = (int)(w / 7);

			fprintf(f, "<text x=\"%.2f\" y=\"%d\">", x + 3, y + 12);
			snprintf(label, sizeof(label), "%.*s", chars < 250 ? chars : 250, fn);
			xml_text(f, label);
			fputs("</text>", f);
		}
		fputs("</g>\n", f);
		draw(f, frames, c, x, level + 1, height, total);
		x += w;
	}
}

int export_svg(FILE *f, json_t *profile, const char *title)
{
	json_t *frames = json_object_get(profile, "frames"), *stacks = json_object_get(profile, "stacks"), *s;
	struct node root = { .frame = -1 };
	int height, ok = 1;
	size_t i;

	json_array_foreach(stacks, i, s) {
		json_t *ids = json_object_get(s, "frames");
		struct node *n = &root;
		long long count = num(s, "count");

		root.count += count;
		for (size_t k = json_array_size(ids); k-- > 0 && n;) {
			n = child_of(n, json_integer_value(json_array_get(ids, k)));
			if (n)
				n->count += count;
			else
				ok = 0;
		}
	}
	height = (depth_of(&root) + 2) * ROW + 10;
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n<svg version=\"1.1\" width=\"%.0f\" height=\"%d\" "
		   "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"Verdana\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>\n<text x=\"%.0f\" y=\"16\" "
		   "text-anchor=\"middle\" font-size=\"15\">", SVG_W, height, SVG_W / 2);
	xml_text(f, title);
	fprintf(f, " (%lld samples)</text>\n", root.count);
	if (root.count)
		draw(f, frames, &root, 0, 0, height - 4, root.count);
	fputs("</svg>\n", f);
	free_tree(root.child);
	return ok ? 0 : -1;
}
