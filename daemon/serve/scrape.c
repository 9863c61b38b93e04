// SPDX-License-Identifier: MIT
/* Profile scrapes: a query over watched processes to a record request, the reply to pprof (scrape.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pyprobe/ctl.h"
#include "cgroup.h"
#include "monitor.h"
#include "pprof.h"
#include "procfs.h"
#include "scrape.h"
#include "session.h"
#include "utf8.h"

struct collect {
	struct scrape *sc;
	pid_t want;		/* 0: every watched process */
	size_t cap;
	int err;
};

static void add_watched(void *ctx, const struct session *s, const char *rule)
{
	struct collect *c = ctx;
	struct scrape *sc = c->sc;
	char unit[256], comm[32], key[16];
	json_t *l;

	if (c->err || (c->want && s->pid != c->want))
		return;
	if (sc->npids == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		pid_t *v = realloc(sc->pids, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return;
		}
		sc->pids = v;
		c->cap = cap;
	}
	sc->pids[sc->npids++] = s->pid;
	cgroup_unit(s->py.cgroup, unit, sizeof(unit));
	if (procfs_comm(s->pid, comm, sizeof(comm)))
		strcpy(comm, "?");
	snprintf(key, sizeof(key), "%d", (int)s->pid);
	l = json_pack("{s:o, s:o}", "rule", utf8_json_string(rule), "comm", utf8_json_string(comm));
	/* A process outside any unit (a login's scope has one) has no unit label. */
	if (l && unit[0])
		json_object_set_new(l, "unit", utf8_json_string(unit));
	if (json_object_set_new(sc->labels, key, l))
		c->err = -ENOMEM;
}

/* The value of key in a query string ("a=1&b=2"), copied into out; false when absent. */
static bool query_get(const char *q, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	while (q && *q) {
		size_t n = strcspn(q, "&");

		if (n > klen && !strncmp(q, key, klen) && q[klen] == '=') {
			size_t v = n - klen - 1;

			if (v >= len)
				v = len - 1;
			memcpy(out, q + klen + 1, v);
			out[v] = 0;
			return true;
		}
		q += n + (q[n] == '&');
	}
	return false;
}

int scrape__parse(struct monitor *mon, const char *query, bool wall, struct scrape *sc, char *msg, size_t len)
{
	struct collect c = { sc, 0, 0, 0 };
	char v[32], *end;
	double seconds = SCRAPE_DEFAULT_SECONDS;
	long pid = 0;

	memset(sc, 0, sizeof(*sc));
	if (query_get(query, "seconds", v, sizeof(v))) {
		seconds = strtod(v, &end);
		if (*end || end == v || !isfinite(seconds) || seconds < 1 || seconds > SCRAPE_MAX_SECONDS) {
			snprintf(msg, len, "seconds must be a number from 1 to %d\n", SCRAPE_MAX_SECONDS);
			return 400;
		}
	}
	if (query_get(query, "pid", v, sizeof(v))) {
		pid = strtol(v, &end, 10);
		if (*end || end == v || pid <= 0 || pid > 0x3fffffff) {
			snprintf(msg, len, "pid must be a process ID\n");
			return 400;
		}
	}
	sc->labels = json_object();
	if (!sc->labels) {
		snprintf(msg, len, "out of memory\n");
		return 500;
	}
	c.want = (pid_t)pid;
	monitor__each_watched(mon, add_watched, &c);
	if (c.err) {
		scrape__free(sc);
		snprintf(msg, len, "out of memory\n");
		return 500;
	}
	if (!sc->npids) {
		scrape__free(sc);
		if (pid)
			snprintf(msg, len, "process %ld is not watched: only the processes pyprobed.conf's watch rules "
				 "match can be scraped\n", pid);
		else
			snprintf(msg, len, "no process is watched: add watch rules to pyprobed.conf\n");
		return 404;
	}
	sc->r.cmd = REQ_RECORD;
	sc->r.wall = wall;
	sc->r.seconds = seconds;
	sc->r.limit = 20;
	if (pid) {
		sc->r.pid = (pid_t)pid;
	} else {
		sc->r.tree = true;
		sc->r.pids = sc->pids;
		sc->r.npids = sc->npids;
		sc->r.max_tree = sc->npids < 1024 ? (int)sc->npids : 1024;
	}
	return 0;
}

/* The HTTP status for an error reply's code. */
static int status_of(const char *code)
{
	if (!strcmp(code, PP_ERR_NO_PROCESS) || !strcmp(code, PP_ERR_EXITED) || !strcmp(code, PP_ERR_NOT_PYTHON) ||
	    !strcmp(code, PP_ERR_DETACHED))
		return 404;
	if (!strcmp(code, PP_ERR_PERMISSION))
		return 403;
	if (!strcmp(code, PP_ERR_LIMIT))
		return 503;
	return 500;
}

int scrape__encode(const struct scrape *sc, const char *line, unsigned char **out, size_t *len, char *msg,
		   size_t mlen)
{
	json_t *r = json_loads(line, 0, NULL), *prof, *s, *err;
	double hz, secs;
	char key[16];
	size_t i;
	int status = 500;

	if (!r) {
		snprintf(msg, mlen, "out of memory\n");
		return 500;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		err = json_object_get(r, "error");
		status = status_of(json_string_value(json_object_get(err, "code")) ?: "");
		snprintf(msg, mlen, "%s: %s\n", json_string_value(json_object_get(err, "code")) ?: "error",
			 json_string_value(json_object_get(err, "message")) ?: "");
		json_decref(r);
		return status;
	}
	prof = json_object_get(r, "profile");
	/* Each sample says whose it is: pid (a tree's stacks have it), rule, unit, comm. */
	json_array_foreach(json_object_get(prof, "stacks"), i, s) {
		json_t *pid = json_object_get(s, "pid");

		if (!json_is_integer(pid)) {
			json_object_set(s, "pid", json_object_get(r, "pid"));
			pid = json_object_get(s, "pid");
		}
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(pid));
		json_object_set(s, "labels", json_object_get(sc->labels, key));
	}
	hz = json_number_value(json_object_get(r, "sample_hz"));
	secs = json_number_value(json_object_get(r, "window_seconds"));
	if (pprof_encode(prof, hz > 0 ? (long long)(1e9 / hz) : 0, (long long)(secs * 1e9), out, len))
		snprintf(msg, mlen, "out of memory\n");
	else
		status = 200;
	json_decref(r);
	return status;
}

void scrape__free(struct scrape *sc)
{
	free(sc->pids);
	json_decref(sc->labels);
	memset(sc, 0, sizeof(*sc));
}
