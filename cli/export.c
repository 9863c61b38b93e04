// SPDX-License-Identifier: MIT
/*
 * Profile file formats: folded stacks (flamegraph.pl, inferno), speedscope
 * JSON, and pprof (protocol buffers, gzip-compressed with zlib), written from
 * the daemon's neutral {frames, stacks} reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "export.h"
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

/* What a stack weighs: its samples, or in a wall profile its wall time in microseconds. */
static long long weight(json_t *profile, json_t *s)
{
	if (json_is_true(json_object_get(profile, "wall")))
		return num(s, "wall_ns") / 1000;
	return num(s, "count");
}

/* A frame's name with its place: "f (file.py:12)", or a frame's own name ("python3 [1234]", "[net io]"). */
static void frame_label(char *buf, size_t len, json_t *fr)
{
	/* A process frame or a wall profile's reason leaf has no file. */
	if (json_object_get(fr, "process") || !*str(fr, "file"))
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
		fprintf(f, " %lld\n", weight(profile, s));
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
		json_array_append_new(weights, json_integer(weight(profile, s)));
		total += weight(profile, s);
	}
	doc = json_pack("{s:s, s:s, s:s, s:{s:o}, s:[{s:s, s:s, s:s, s:i, s:I, s:o, s:o}]}",
			"$schema", "https://www.speedscope.app/file-format-schema.json", "exporter", "pyprobe",
			"name", name, "shared", "frames", sframes, "profiles", "type", "sampled", "name", name,
			"unit", json_is_true(json_object_get(profile, "wall")) ? "microseconds" : "none", "startValue", 0, "endValue", (json_int_t)total, "samples", samples, "weights",
			weights);
	if (!doc)
		return -1;
	err = json_dumpf(doc, f, JSON_COMPACT);
	json_decref(doc);
	return err ? -1 : 0;
}

int export_pprof(FILE *f, json_t *profile, long long period_ns, long long duration_ns)
{
	unsigned char *gz;
	size_t n;
	int ret;

	if (pprof_encode(profile, period_ns, duration_ns, &gz, &n))
		return -1;
	ret = fwrite(gz, 1, n, f) == n ? 0 : -1;
	free(gz);
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

static void draw(FILE *f, json_t *frames, const struct node *n, double x, int level, int height, long long total,
		 const char *unit)
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
		snprintf(label, sizeof(label), "%s %lld %s, %.1f%%", place, c->count, unit, 100.0 * c->count / total);
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
		draw(f, frames, c, x, level + 1, height, total, unit);
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
		long long count = weight(profile, s);

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
	if (json_is_true(json_object_get(profile, "wall")))
		fprintf(f, " (%.3f s of thread time)</text>\n", root.count / 1e6);
	else
		fprintf(f, " (%lld samples)</text>\n", root.count);
	if (root.count)
		draw(f, frames, &root, 0, 0, height - 4, root.count,
		     json_is_true(json_object_get(profile, "wall")) ? "us" : "samples");
	fputs("</svg>\n", f);
	free_tree(root.child);
	return ok ? 0 : -1;
}
