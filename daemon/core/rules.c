// SPDX-License-Identifier: MIT
/* Watch rules: parse them, read what /proc says about a process, match. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"
#include "rules.h"

const char *rule_kind_name(enum rule_kind k)
{
	switch (k) {
	case RULE_UNIT:
		return "unit";
	case RULE_EXE:
		return "exe";
	case RULE_CMDLINE:
		return "cmdline";
	case RULE_CGROUP:
		return "cgroup";
	}
	return "?";
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcmp(s + n - m, suf);
}

/* systemd's unit name alphabet, and a type this can find in a cgroup path. */
static bool valid_unit(const char *s)
{
	if (strlen(s) > 255)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    !strchr(":-_.\\@", *p))
			return false;
	return has_suffix(s, ".service") || has_suffix(s, ".scope") || has_suffix(s, ".slice");
}

int rule__parse(struct rule *r, const char *text, char *err, size_t len)
{
	static const enum rule_kind kinds[] = { RULE_UNIT, RULE_EXE, RULE_CMDLINE, RULE_CGROUP };
	const char *sp = strpbrk(text, " \t");
	const char *arg;
	size_t klen;

	if (!sp) {
		snprintf(err, len, "watch needs a kind and a value: unit NAME, exe PATH, cmdline PATTERN or cgroup PATH");
		return -EINVAL;
	}
	klen = sp - text;
	for (arg = sp; *arg == ' ' || *arg == '\t'; arg++)
		;
	r->kind = (enum rule_kind)-1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(rule_kind_name(kinds[i])) == klen && !strncmp(text, rule_kind_name(kinds[i]), klen))
			r->kind = kinds[i];
	if (r->kind == (enum rule_kind)-1) {
		snprintf(err, len, "unknown watch kind '%.*s' (unit, exe, cmdline or cgroup)", (int)klen, text);
		return -EINVAL;
	}
	if (strlen(arg) >= PATH_MAX) {
		snprintf(err, len, "watch value too long");
		return -EINVAL;
	}
	/* A quoted value keeps its blanks. */
	if (strlen(arg) >= 2 && arg[0] == '"' && arg[strlen(arg) - 1] == '"')
		r->arg = strndup(arg + 1, strlen(arg) - 2);
	else
		r->arg = strdup(arg);
	if (!r->arg) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	if (!*r->arg)
		snprintf(err, len, "watch %s needs a value", rule_kind_name(r->kind));
	else if (r->kind == RULE_UNIT && !valid_unit(r->arg))
		snprintf(err, len, "'%s' is not a systemd .service, .scope or .slice unit name", r->arg);
	else if (r->kind == RULE_EXE && *r->arg != '/')
		snprintf(err, len, "watch exe needs an absolute path (or a glob starting with /), not '%s'", r->arg);
	else if (r->kind == RULE_CGROUP && *r->arg != '/')
		snprintf(err, len, "watch cgroup needs a path from the cgroup root (as /proc/PID/cgroup shows "
			 "it, e.g. /system.slice/docker-ID.scope or /kubepods/*), not '%s'", r->arg);
	else
		return 0;
	free(r->arg);
	r->arg = NULL;
	return -EINVAL;
}

int rules__add(struct rules *rs, const struct rule *r)
{
	struct rule *v;

	if (rs->n >= RULES_MAX)
		return -E2BIG;
	v = realloc(rs->v, (rs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->v = v;
	rs->v[rs->n++] = *r;
	return 0;
}

void rules__free(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].arg);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

const char *rule__name(const struct rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", rule_kind_name(r->kind), r->arg);
	return buf;
}

/* Read a small /proc file whole, NUL-terminated; returns its length or -errno. */
static ssize_t read_small(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

int rules__procinfo(pid_t pid, struct procinfo *pi, unsigned int kinds)
{
	char path[64];
	ssize_t n;

	pi->pid = pid;
	pi->exe[0] = pi->cmdline[0] = pi->cgroup[0] = 0;
	/* The cgroup first: the cheapest, and it says "gone" as well as any. */
	n = read_small(pid, "cgroup", pi->cgroup, sizeof(pi->cgroup));
	if (n < 0)
		return n;
	if (kinds & RULE_KIND_BIT(RULE_CMDLINE)) {
		n = read_small(pid, "cmdline", pi->cmdline, sizeof(pi->cmdline));
		if (n < 0)
			return n;
		/* Arguments are NUL-separated; the last one ends with a NUL too. */
		for (ssize_t i = 0; i < n; i++)
			if (pi->cmdline[i] == 0)
				pi->cmdline[i] = ' ';
		while (n > 0 && pi->cmdline[n - 1] == ' ')
			pi->cmdline[--n] = 0;
	}
	if (!(kinds & RULE_KIND_BIT(RULE_EXE)))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
	if (n < 0) {
		if (errno == ENOENT && kill(pid, 0) == 0)
			n = 0;	/* a kernel thread or a zombie: no executable */
		else
			return -errno;
	}
	pi->exe[n] = 0;
	if (has_suffix(pi->exe, " (deleted)"))
		pi->exe[strlen(pi->exe) - strlen(" (deleted)")] = 0;
	return 0;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int rules__match(const struct rules *rs, const struct procinfo *pi)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i];

		switch (r->kind) {
		case RULE_UNIT:
			if (cgroup_in_unit(pi->cgroup, r->arg))
				return i;
			break;
		case RULE_EXE:
			if (!*pi->exe)
				break;
			if (is_glob(r->arg) ? fnmatch(r->arg, pi->exe, FNM_PATHNAME) == 0 : !strcmp(r->arg, pi->exe))
				return i;
			break;
		case RULE_CMDLINE:
			if (*pi->cmdline && fnmatch(r->arg, pi->cmdline, 0) == 0)
				return i;
			break;
		case RULE_CGROUP:
			if (cgroup_under(pi->cgroup, r->arg))
				return i;
			break;
		}
	}
	return -1;
}
