/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_RULES_H
#define PYPROBED_RULES_H
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define RULES_MAX 256

/* Which processes to watch continuously (config file "watch = KIND ARG"). */
enum rule_kind {
	RULE_UNIT,	/* every process the systemd unit (or every unit of the slice) owns */
	RULE_EXE,	/* /proc/PID/exe equals the path, or matches it as a glob */
	RULE_CMDLINE,	/* the command line, arguments joined by spaces, matches the glob */
	RULE_CGROUP,	/* in the cgroup or below it (a container's, a pod's), or one matching the glob */
};

#define RULE_KIND_BIT(k) (1u << (k))
#define RULE_ALL_KINDS (RULE_KIND_BIT(RULE_UNIT) | RULE_KIND_BIT(RULE_EXE) | RULE_KIND_BIT(RULE_CMDLINE) | \
			RULE_KIND_BIT(RULE_CGROUP))

struct rule {
	enum rule_kind kind;
	char *arg;
	int line;	/* in the config file */
};

struct rules {
	struct rule *v;
	size_t n;
};

/* What /proc says about a process, read once and matched against every rule. */
struct procinfo {
	pid_t pid;
	char exe[PATH_MAX];
	char cmdline[4096];
	char cgroup[4096];	/* /proc/PID/cgroup as it is */
};

const char *rule_kind_name(enum rule_kind k);
/* Parse "KIND ARG" into r (arg copied). Returns 0, or -EINVAL with the reason in err. */
int rule__parse(struct rule *r, const char *text, char *err, size_t len);
int rules__add(struct rules *rs, const struct rule *r);
void rules__free(struct rules *rs);
/* "unit:web.service": a label for logs and metrics, into buf. */
const char *rule__name(const struct rule *r, char *buf, size_t len);

/*
 * Fill pi from /proc, only what rules of the kinds in the mask need (reading
 * cmdline takes the target's mmap lock, which a process stuck in a page fault
 * holds). Returns 0 or -errno (-ENOENT: gone).
 */
int rules__procinfo(pid_t pid, struct procinfo *pi, unsigned int kinds);
/* Index of the first rule matching pi, or -1. Pure. */
int rules__match(const struct rules *rs, const struct procinfo *pi);

#endif
