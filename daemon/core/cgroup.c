// SPDX-License-Identifier: MIT
/* What /proc/PID/cgroup says: path, unit, subtree, container (cgroup.h). */
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "cgroup.h"

/* Each line's path: fn(path, its length, ctx) until fn returns true. */
static bool each_path(const char *text, bool (*fn)(const char *p, size_t n, const void *ctx), const void *ctx)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *path;

		if (!end)
			end = line + strlen(line);
		/* "ID:CONTROLLERS:PATH": the path follows the second colon. */
		path = memchr(line, ':', end - line);
		path = path ? memchr(path + 1, ':', end - path - 1) : NULL;
		if (path && fn(path + 1, end - path - 1, ctx))
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

void cgroup_path(const char *text, char *out, size_t len)
{
	const char *first = NULL, *v2 = NULL;
	size_t nfirst = 0, nv2 = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *path;

		if (!end)
			end = line + strlen(line);
		path = memchr(line, ':', end - line);
		path = path ? memchr(path + 1, ':', end - path - 1) : NULL;
		if (path && !first) {
			first = path + 1;
			nfirst = end - first;
		}
		if (path && !strncmp(line, "0::", 3)) {
			v2 = path + 1;
			nv2 = end - v2;
		}
		line = *end ? end + 1 : end;
	}
	if (!v2) {
		v2 = first;
		nv2 = nfirst;
	}
	if (!len)
		return;
	if (!v2 || nv2 >= len)
		nv2 = 0;
	if (nv2)
		memcpy(out, v2, nv2);
	out[nv2] = 0;
}

static bool unit_on_path(const char *path, size_t n, const void *ctx)
{
	const char *unit = ctx, *end = path + n;
	size_t ulen = strlen(unit);

	for (const char *p = path - 1; p && p < end;) {
		const char *q;

		p++;	/* past '/' */
		q = memchr(p, '/', end - p);
		if (!q)
			q = end;
		if ((size_t)(q - p) == ulen && !memcmp(p, unit, ulen))
			return true;
		/* Past the owning unit: nothing deeper names the process's unit. */
		if (q > p && !(q - p > 6 && !memcmp(q - 6, ".slice", 6)))
			return false;
		p = q < end ? q : NULL;
	}
	return false;
}

bool cgroup_in_unit(const char *text, const char *unit)
{
	return each_path(text, unit_on_path, unit);
}

static bool path_under(const char *path, size_t n, const void *ctx)
{
	const char *want = ctx;
	size_t wlen = strlen(want);
	char buf[PATH_MAX];

	if (strpbrk(want, "*?[")) {
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, path, n);
		buf[n] = 0;
		/* The path, then each ancestor, against the glob. */
		for (;;) {
			char *slash;

			if (fnmatch(want, buf, FNM_PATHNAME) == 0)
				return true;
			slash = strrchr(buf, '/');
			if (!slash || slash == buf)
				return false;
			*slash = 0;
		}
	}
	while (wlen > 1 && want[wlen - 1] == '/')
		wlen--;
	if (wlen == 1 && want[0] == '/')
		return n > 0 && path[0] == '/';
	return n >= wlen && !memcmp(path, want, wlen) && (n == wlen || path[wlen] == '/');
}

bool cgroup_under(const char *text, const char *path)
{
	return each_path(text, path_under, path);
}

bool cgroup_container_id(const char *text, char *out, size_t len)
{
	char path[PATH_MAX];
	const char *found = NULL;

	if (len)
		out[0] = 0;
	cgroup_path(text, path, sizeof(path));
	for (const char *p = path; *p;) {
		const char *q = strchr(p, '/');
		size_t n, run = 0;

		if (!q)
			q = p + strlen(p);
		n = q - p;
		/* The last run of hex digits in the component, bounded by non-alphanumerics. */
		for (size_t i = 0; i < n; i++) {
			run = isxdigit((unsigned char)p[i]) ? run + 1 : 0;
			if (run == 64 && (i + 1 == n || !isalnum((unsigned char)p[i + 1])) &&
			    (i + 1 == 64 || !isalnum((unsigned char)p[i - 64])))
				found = p + i + 1 - 64;
		}
		p = *q ? q + 1 : q;
	}
	if (!found || len < 65)
		return false;
	for (int i = 0; i < 64; i++)
		out[i] = (char)tolower((unsigned char)found[i]);
	out[64] = 0;
	return true;
}
