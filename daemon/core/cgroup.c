// SPDX-License-Identifier: MIT
/* What /proc/PID/cgroup says: path, unit, subtree, container (cgroup.h). */
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "cgroup.h"

/*
 * Each line's path: fn(path, its length, whether the line is cgroup v2's "0::",
 * ctx) until fn returns true.
 */
static bool each_path(const char *text, bool (*fn)(const char *p, size_t n, bool v2, const void *ctx),
		      const void *ctx)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *path;

		if (!end)
			end = line + strlen(line);
		/* "ID:CONTROLLERS:PATH": the path follows the second colon. */
		path = memchr(line, ':', end - line);
		path = path ? memchr(path + 1, ':', end - path - 1) : NULL;
		if (path && fn(path + 1, end - path - 1, end - line >= 3 && !strncmp(line, "0::", 3), ctx))
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

struct found_path {
	const char *first, *v2;
	size_t nfirst, nv2;
};

static bool note_path(const char *p, size_t n, bool v2, const void *ctx)
{
	struct found_path *f = (struct found_path *)ctx;

	if (!f->first) {
		f->first = p;
		f->nfirst = n;
	}
	if (v2 && !f->v2) {
		f->v2 = p;
		f->nv2 = n;
	}
	return false;
}

void cgroup_path(const char *text, char *out, size_t len)
{
	struct found_path f = {};
	const char *p;
	size_t n;

	each_path(text, note_path, &f);
	p = f.v2 ? f.v2 : f.first;
	n = f.v2 ? f.nv2 : f.nfirst;
	if (!len)
		return;
	if (!p || n >= len)
		n = 0;
	memcpy(out, p ? p : "", n);
	out[n] = 0;
}

static bool unit_on_path(const char *path, size_t n, bool v2, const void *ctx)
{
	const char *unit = ctx, *end = path + n;
	size_t ulen = strlen(unit);

	(void)v2;	/* every hierarchy names the unit */
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

bool cgroup_unit(const char *path, char *out, size_t len)
{
	for (const char *p = path; *p;) {
		size_t n;

		p += *p == '/';
		n = strcspn(p, "/");
		if (n > 6 && !memcmp(p + n - 6, ".slice", 6)) {
			p += n;
			continue;
		}
		if (!n || n >= len)
			break;
		memcpy(out, p, n);
		out[n] = 0;
		return true;
	}
	if (len)
		*out = 0;
	return false;
}

static bool path_under(const char *path, size_t n, bool v2, const void *ctx)
{
	const char *want = ctx;
	size_t wlen = strlen(want);
	char buf[PATH_MAX];

	(void)v2;	/* on any hierarchy */
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
