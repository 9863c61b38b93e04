// SPDX-License-Identifier: MIT
/* One classify over a process tree: its members' results and the reply (docs/protocol.md, "classify --tree"). */
#include <stdlib.h>
#include <string.h>
#include "procfs.h"
#include "tree.h"

struct tree *tree__new(pid_t root, struct rule *rule, struct client *c, double seconds, int max, uint64_t start)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->root = root;
	t->rule = rule;
	t->c = c;
	t->seconds = seconds;
	t->max = max;
	t->start = start;
	t->deadline = start + (uint64_t)(seconds * 1e9);
	return t;
}

void tree__free(struct tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		json_decref(t->m[i].report);
	if (t->rule) {
		free(t->rule->arg);
		free(t->rule);
	}
	free(t->m);
	free(t);
}

struct tree_member *tree__find(struct tree *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->m[i].sm.pid == pid)
			return &t->m[i];
	return NULL;
}

struct tree_member *tree__add(struct tree *t, pid_t pid, uint64_t now)
{
	struct tree_member *m;

	if (t->n >= (size_t)t->max) {
		t->truncated = true;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct tree_member *nm = realloc(t->m, cap * sizeof(*nm));

		if (!nm)
			return NULL;
		t->m = nm;
		t->cap = cap;
	}
	m = &t->m[t->n++];
	memset(m, 0, sizeof(*m));
	m->sm.pid = pid;
	m->sm.ppid = pid == t->root && !t->rule ? 0 : procfs_parent(pid);
	if (procfs_comm(pid, m->sm.comm, sizeof(m->sm.comm)))
		strcpy(m->sm.comm, "?");
	m->joined = now > t->start ? (now - t->start) / 1e9 : 0;
	m->open = true;
	return m;
}

void tree__observed(struct tree *t, pid_t pid, json_t *report, const char *label, double confidence, double cpu,
		    double seconds)
{
	struct tree_member *m = tree__find(t, pid);

	if (!m) {
		json_decref(report);
		return;
	}
	json_decref(m->report);
	m->report = report;
	m->open = false;
	m->sm.observed = true;
	m->sm.label = label;
	m->sm.confidence = confidence;
	m->sm.cpu = cpu;
	m->sm.seconds = seconds;
}

void tree__refused(struct tree *t, pid_t pid, const char *code, const char *msg)
{
	struct tree_member *m = tree__find(t, pid);

	if (!m)
		return;
	m->open = false;
	m->sm.observed = false;
	snprintf(m->code, sizeof(m->code), "%s", code);
	snprintf(m->msg, sizeof(m->msg), "%s", msg);
}

bool tree__complete(const struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->m[i].open)
			return false;
	return true;
}

static json_t *strings(char (*lines)[VERDICT_LINE], int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(lines[i]));
	return a;
}

/* A member's row: who it is, and its label or why it has none. */
static json_t *row(struct tree_member *m)
{
	json_t *o = json_pack("{s:i, s:i, s:s, s:b, s:f}", "pid", (int)m->sm.pid, "ppid", (int)m->sm.ppid, "comm",
			      m->sm.comm, "observed", m->sm.observed, "joined_seconds", m->joined);
	json_t *reasons;

	if (!o)
		return NULL;
	if (!m->sm.observed) {
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code", m->code, "message", m->msg));
		return o;
	}
	reasons = json_object_get(json_object_get(m->report, "verdict"), "reasons");
	json_object_set_new(o, "label", json_string(m->sm.label));
	json_object_set_new(o, "confidence", json_real(m->sm.confidence));
	json_object_set_new(o, "cpu_seconds", json_real(m->sm.cpu));
	json_object_set_new(o, "window_seconds", json_real(m->sm.seconds));
	json_object_set_new(o, "reason", json_array_size(reasons) ? json_incref(json_array_get(reasons, 0)) : json_null());
	json_object_set_new(o, "report", m->report);
	m->report = NULL;
	return o;
}

/* A group's master, if it has one: the only member whose parent is not a member and that has children among them. */
static void find_master(struct tree *t)
{
	size_t master = t->n;

	for (size_t i = 0; i < t->n; i++) {
		bool children = false;

		if (tree__find(t, t->m[i].sm.ppid))
			continue;
		for (size_t k = 0; k < t->n && !children; k++)
			children = t->m[k].sm.ppid == t->m[i].sm.pid;
		if (!children)
			continue;
		if (master < t->n)
			return;	/* two: peers */
		master = i;
	}
	if (master < t->n && master) {
		struct tree_member tmp = t->m[0];

		t->m[0] = t->m[master];
		t->m[master] = tmp;
	}
	t->root = master < t->n ? t->m[0].sm.pid : 0;
}

json_t *tree__reply(struct tree *t, int ncpus)
{
	struct service_member *sm = calloc(t->n ? t->n : 1, sizeof(*sm));
	struct service_verdict v;
	json_t *body, *rows;
	char rule[256] = "";

	if (!sm)
		return NULL;
	if (t->rule) {
		rule__name(t->rule, rule, sizeof(rule));
		find_master(t);
	}
	for (size_t i = 0; i < t->n; i++)
		sm[i] = t->m[i].sm;
	service_classify(sm, t->n, t->root != 0, ncpus, &v);
	free(sm);
	if (t->truncated && v.nreasons < VERDICT_MAX_LINES)
		snprintf(v.reasons[v.nreasons++], VERDICT_LINE, "the tree has more than %d processes: only the first "
			 "%d (breadth first) were looked at; raise max-tree (or --max-tree) to see the rest", t->max,
			 t->max);
	rows = json_array();
	for (size_t i = 0; rows && i < t->n; i++)
		json_array_append_new(rows, row(&t->m[i]));
	body = json_pack("{s:o, s:f, s:i, s:b, s:i, s:{s:s, s:s, s:i, s:i, s:o, s:o, s:o}, s:o}", "pid",
			 t->root ? json_integer(t->root) : json_null(),
			 "requested_seconds", t->seconds, "max_tree", t->max, "truncated", t->truncated, "ncpus", ncpus,
			 "service", "label", v.label, "summary", v.summary, "workers", v.nworkers, "listed", v.nlisted,
			 "hot_pid", v.hot >= 0 ? json_integer(t->m[v.hot].sm.pid) : json_null(), "reasons",
			 strings(v.reasons, v.nreasons), "advice", strings(v.advice, v.nadvice), "processes",
			 rows ? rows : json_array());
	if (body && t->rule)
		json_object_set_new(body, "group", json_string(rule));
	return body;
}
