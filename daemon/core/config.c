// SPDX-License-Identifier: MIT
/*
 * The config file: "key = value" lines, whole-line "#" comments. Keys are the
 * daemon's long options (opts.c parses both); "watch = KIND ARG" may repeat.
 * Every problem is reported with its line number, not just the first.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"

#define MAX_ERRORS 20
/* A bit of the "set twice" mask beyond the option keys. */
#define SEEN_NONDUMPABLE (1u << 31)

struct errbuf {
	char *s;
	size_t len, used;
	int n;
};

static void add_error(struct errbuf *e, const char *name, int line, const char *what)
{
	int w;

	if (e->n++ >= MAX_ERRORS || !e->len)
		return;
	w = snprintf(e->s + e->used, e->len - e->used, "%s%s:%d: %s", e->used ? "\n" : "", name, line, what);
	if (w > 0)
		e->used = (size_t)w >= e->len - e->used ? e->len - 1 : e->used + w;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

/* An id from a name, or a number when no such name exists. */
static int lookup_id(const char *val, bool group, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (group) {
		struct group *g = getgrnam(val);

		if (g) {
			*id = g->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(val);

		if (pw) {
			*id = pw->pw_uid;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || end == val || *val == '-' || v >= 0xffffffffUL)
		return -ENOENT;
	*id = v;
	return 0;
}

/* allow-group and deny-user may repeat; allow-nondumpable is yes or no, once. */
static int access_key(const char *key, const char *val, struct access_policy *p, uint32_t *seen, char *msg,
		      size_t len)
{
	bool group = !strcmp(key, "allow-group");
	unsigned int id;

	if (!strcmp(key, "allow-nondumpable")) {
		if (*seen & SEEN_NONDUMPABLE) {
			snprintf(msg, len, "'%s' is set twice", key);
			return -EINVAL;
		}
		*seen |= SEEN_NONDUMPABLE;
		if (!strcmp(val, "yes") || !strcmp(val, "no")) {
			p->allow_nondumpable = !strcmp(val, "yes");
			return 0;
		}
		snprintf(msg, len, "allow-nondumpable must be yes or no, not '%.100s'", val);
		return -EINVAL;
	}
	if (lookup_id(val, group, &id)) {
		snprintf(msg, len, "%s: no %s named '%.100s'", key, group ? "group" : "user", val);
		return -EINVAL;
	}
	if (group ? p->nallow >= ACCESS_MAX_NAMES : p->ndeny >= ACCESS_MAX_NAMES) {
		snprintf(msg, len, "too many %s lines (at most %d)", key, ACCESS_MAX_NAMES);
		return -EINVAL;
	}
	if (group)
		p->allow_gids[p->nallow++] = id;
	else
		p->deny_uids[p->ndeny++] = id;
	return 0;
}

static void parse_line(const char *name, int lineno, char *line, struct opts *o, struct rules *rules,
		       struct errbuf *e, uint32_t *seen)
{
	char msg[512], what[768];
	char *eq, *key, *val;
	int k;

	line = trim(line);
	if (!*line || *line == '#')
		return;
	eq = strchr(line, '=');
	if (!eq) {
		add_error(e, name, lineno, "expected 'key = value'");
		return;
	}
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	/* A value may be quoted to keep leading or trailing blanks. */
	if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
		val[strlen(val) - 1] = 0;
		val++;
	}
	if (!strcmp(key, "allow-group") || !strcmp(key, "deny-user") || !strcmp(key, "allow-nondumpable")) {
		if (access_key(key, val, &o->access, seen, msg, sizeof(msg)))
			add_error(e, name, lineno, msg);
		return;
	}
	if (!strcmp(key, "watch")) {
		struct rule r = { .line = lineno };

		if (rule__parse(&r, val, msg, sizeof(msg))) {
			add_error(e, name, lineno, msg);
			return;
		}
		if (rules__add(rules, &r)) {
			free(r.arg);
			snprintf(what, sizeof(what), "too many watch rules (at most %d)", RULES_MAX);
			add_error(e, name, lineno, what);
		}
		return;
	}
	k = opts__key(key);
	if (k < 0) {
		snprintf(what, sizeof(what), "unknown key '%.100s'", key);
		add_error(e, name, lineno, what);
		return;
	}
	if (*seen & (1u << k)) {
		snprintf(what, sizeof(what), "'%s' is set twice", key);
		add_error(e, name, lineno, what);
		return;
	}
	*seen |= 1u << k;
	if (o->from_cmdline & (1u << k)) {
		/* The option wins, but the value must still be valid. */
		struct opts scratch = *o;

		if (opts__set(&scratch, k, val, msg, sizeof(msg)))
			add_error(e, name, lineno, msg);
		return;
	}
	if (opts__set(o, k, val, msg, sizeof(msg)))
		add_error(e, name, lineno, msg);
}

int config__parse(const char *name, const char *text, size_t size, struct opts *o, struct rules *rules, char *err,
		  size_t len)
{
	struct errbuf e = { err, len, 0, 0 };
	uint32_t seen = 0;
	char line[4096];
	size_t i = 0;
	int lineno = 0;

	if (len)
		*err = 0;
	while (i < size) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t n = (nl ? (size_t)(nl - text) : size) - i;

		lineno++;
		if (n >= sizeof(line)) {
			add_error(&e, name, lineno, "line too long (at most 4095 bytes)");
		} else if (memchr(text + i, 0, n)) {
			add_error(&e, name, lineno, "NUL byte in the line");
		} else {
			memcpy(line, text + i, n);
			line[n] = 0;
			parse_line(name, lineno, line, o, rules, &e, &seen);
		}
		i += n + 1;
	}
	if (e.n > MAX_ERRORS) {
		char more[64];

		snprintf(more, sizeof(more), "... %d more problems", e.n - MAX_ERRORS);
		e.n = 0;	/* let this one through */
		add_error(&e, name, lineno, more);
		e.n = 1;
	}
	return e.n ? -EINVAL : 0;
}

int config__load(const char *path, bool must_exist, struct opts *o, struct rules *rules, char *err, size_t len)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO put there must not hang the daemon (it is refused below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT && !must_exist)
			return 0;
		snprintf(err, len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES) {
		snprintf(err, len, "%s: not a regular file of at most %d bytes", path, CONFIG_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	text = malloc(st.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(err, len, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = read(fd, text, st.st_size);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc) {
		snprintf(err, len, "%s: %s", path, strerror(-rc));
		free(text);
		return rc;
	}
	rc = config__parse(path, text, n, o, rules, err, len);
	free(text);
	return rc;
}
