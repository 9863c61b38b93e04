// SPDX-License-Identifier: MIT
/* One window over a process tree: its members' results and the reply (docs/protocol.md, "Process trees"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procfs.h"
#include "profile.h"
#include "tree.h"
#include "utf8.h"

struct tree *tree__new(enum req_cmd cmd, int limit, pid_t root, struct rule *rule, struct client *c, double seconds,
		       int max, uint64_t start)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (cmd == REQ_TOP && !(t->prof = profile__new())) {
		free(t);
		return NULL;
	}
	t->cmd = cmd;
	t->limit = limit;
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
	profile__free(t->prof);
	free(t->fixed);
	free(t->m);
	free(t);
}

int tree__fix(struct tree *t, const pid_t *pids, size_t n)
{
	t->fixed = malloc((n ? n : 1) * sizeof(*pids));
	if (!t->fixed)
		return -1;
	memcpy(t->fixed, pids, n * sizeof(*pids));
	t->nfixed = n;
	return 0;
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

/* A field of a member's reply by path ("gc.all.max_ms"), or NULL. */
static json_t *field(json_t *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

static void copy_field(json_t *row, const char *key, json_t *report, const char *path)
{
	json_t *v = field(report, path);

	json_object_set_new(row, key, v ? json_deep_copy(v) : json_null());
}

/* The numbers of a member's row that its command reports (its full reply goes under "report"). */
static void row_figures(const struct tree *t, json_t *o, struct tree_member *m)
{
	json_t *r = m->report, *reasons, *hottest;

	switch (t->cmd) {
	case REQ_TOP:
		copy_field(o, "window_seconds", r, "window_seconds");
		copy_field(o, "samples", r, "profile.samples");
		copy_field(o, "gil_wait_seconds", r, "gil_wait.seconds");
		hottest = json_array_get(field(r, "profile.functions_by_self"), 0);
		json_object_set_new(o, "hottest", hottest ? json_deep_copy(hottest) : json_null());
		break;
	case REQ_GC:
		copy_field(o, "window_seconds", r, "window_seconds");
		copy_field(o, "method", r, "gc.method");
		copy_field(o, "collections", r, "gc.all.collections");
		copy_field(o, "pause_seconds", r, "gc.pause_seconds");
		copy_field(o, "share_of_wall", r, "gc.share_of_wall");
		copy_field(o, "max_ms", r, "gc.all.max_ms");
		break;
	case REQ_RECORD:
		copy_field(o, "window_seconds", r, "window_seconds");
		copy_field(o, "samples", r, "profile.samples");
		copy_field(o, "partial", r, "partial");
		break;
	default:
		reasons = field(r, "verdict.reasons");
		json_object_set_new(o, "label", json_string(m->sm.label));
		json_object_set_new(o, "confidence", json_real(m->sm.confidence));
		json_object_set_new(o, "cpu_seconds", json_real(m->sm.cpu));
		json_object_set_new(o, "window_seconds", json_real(m->sm.seconds));
		json_object_set_new(o, "reason",
				    json_array_size(reasons) ? json_incref(json_array_get(reasons, 0)) : json_null());
		break;
	}
}

/* A member's row: who it is, and what its window found or why it has none. */
static json_t *row(const struct tree *t, struct tree_member *m)
{
	json_t *o = json_pack("{s:i, s:i, s:o, s:b, s:f}", "pid", (int)m->sm.pid, "ppid", (int)m->sm.ppid, "comm",
			      utf8_json_string(m->sm.comm), "observed", m->sm.observed, "joined_seconds", m->joined);

	if (!o)
		return NULL;
	if (!m->sm.observed) {
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code", m->code, "message", m->msg));
		return o;
	}
	row_figures(t, o, m);
	/* A recording's stacks go into the one profile of the whole (merge_profiles). */
	if (t->cmd != REQ_RECORD) {
		json_object_set_new(o, "report", m->report);
		m->report = NULL;
	}
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

#define TRUNCATED_FMT                                                                                  \
	"the tree has more than %d processes: only the first %d (breadth first) were looked at; raise "  \
	"max-tree (or --max-tree) to see the rest"

/* classify: the service verdict from the members' labels. */
static int service_part(struct tree *t, json_t *body, int ncpus)
{
	struct service_member *sm = calloc(t->n ? t->n : 1, sizeof(*sm));
	struct service_verdict v;

	if (!sm)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		sm[i] = t->m[i].sm;
	service_classify(sm, t->n, t->root != 0, ncpus, &v);
	free(sm);
	if (t->truncated && v.nreasons < VERDICT_MAX_LINES)
		snprintf(v.reasons[v.nreasons++], VERDICT_LINE, TRUNCATED_FMT, t->max, t->max);
	json_object_set_new(body, "ncpus", json_integer(ncpus));
	return json_object_set_new(body, "service",
				   json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o}", "label", v.label, "summary",
					     v.summary, "workers", v.nworkers, "listed", v.nlisted, "hot_pid",
					     v.hot >= 0 ? json_integer(t->m[v.hot].sm.pid) : json_null(), "reasons",
					     strings(v.reasons, v.nreasons), "advice", strings(v.advice, v.nadvice)));
}

/* The first observed member's value of a field every member's reply has alike (sample_hz). */
static json_t *common(const struct tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->m[i].sm.observed && field(t->m[i].report, path))
			return json_deep_copy(field(t->m[i].report, path));
	return json_null();
}

/* top: the hottest functions and lines of all members' samples together; their GIL waits summed. */
static int top_part(struct tree *t, json_t *body)
{
	double gil = 0, all = 0;

	for (size_t i = 0; i < t->n; i++) {
		gil += json_number_value(field(t->m[i].report, "gil_wait.seconds"));
		all += json_number_value(field(t->m[i].report, "gil_wait.thread_seconds"));
	}
	json_object_set_new(body, "sample_hz", common(t, "sample_hz"));
	json_object_set_new(body, "gil_wait", json_pack("{s:f, s:f, s:f}", "seconds", gil, "thread_seconds", all,
							"share_of_thread_time", all > 0 ? gil / all : 0.0));
	return json_object_set_new(body, "profile", profile__top(t->prof, t->limit));
}

/* gc: every member's collections together, and the member that paused longest. */
static int gc_part(struct tree *t, json_t *body)
{
	json_int_t collections = 0;
	double pause = 0, worst = 0, wall = 0;
	json_t *worst_pid = json_null(), *most_pid = json_null();
	double most = 0;

	for (size_t i = 0; i < t->n; i++) {
		json_t *r = t->m[i].report;
		double p = json_number_value(field(r, "gc.pause_seconds")), mx = json_number_value(field(r, "gc.all.max_ms"));

		if (!t->m[i].sm.observed)
			continue;
		collections += json_integer_value(field(r, "gc.all.collections"));
		pause += p;
		wall += json_number_value(field(r, "window_seconds"));
		if (mx > worst) {
			worst = mx;
			json_decref(worst_pid);
			worst_pid = json_integer(t->m[i].sm.pid);
		}
		if (p > most) {
			most = p;
			json_decref(most_pid);
			most_pid = json_integer(t->m[i].sm.pid);
		}
	}
	return json_object_set_new(body, "gc", json_pack("{s:I, s:f, s:f, s:f, s:o, s:o}", "collections", collections,
							 "pause_seconds", pause, "share_of_process_time",
							 wall > 0 ? pause / wall : 0.0, "max_ms", worst, "max_pid",
							 worst_pid, "most_paused_pid", most_pid));
}

/* A process frame's name: its command and PID, in printable ASCII (a command is any bytes). */
static void process_name(const struct tree_member *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s [%d]", m->sm.comm, (int)m->sm.pid);
	for (char *p = buf; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

/*
 * record: one profile of every member's stacks. Each member's frames follow
 * the ones before (its stacks' frame numbers moved along), then a frame for
 * the process itself, outermost in each of its stacks, which also carry its
 * "pid" (a pprof label).
 */
static int record_part(struct tree *t, json_t *body)
{
	json_t *frames = json_array(), *stacks = json_array(), *fr, *s, *prof;
	json_int_t samples = 0, no_python = 0, dropped = 0, off = 0;
	bool wall = false;
	double seconds = 0;
	char name[64];
	size_t i, k;

	for (size_t mi = 0; frames && stacks && mi < t->n; mi++) {
		struct tree_member *m = &t->m[mi];
		json_t *p = field(m->report, "profile");
		size_t base = json_array_size(frames), self;

		if (!m->sm.observed || !p)
			continue;
		samples += json_integer_value(json_object_get(p, "samples"));
		off += json_integer_value(json_object_get(p, "off_cpu_samples"));
		wall |= json_is_true(json_object_get(p, "wall"));
		no_python += json_integer_value(json_object_get(p, "no_python_samples"));
		dropped += json_integer_value(json_object_get(p, "dropped_stacks"));
		if (json_number_value(field(m->report, "window_seconds")) > seconds)
			seconds = json_number_value(field(m->report, "window_seconds"));
		json_array_foreach(json_object_get(p, "frames"), i, fr)
			json_array_append(frames, fr);
		self = json_array_size(frames);
		process_name(m, name, sizeof(name));
		json_array_append_new(frames, json_pack("{s:s, s:s, s:i, s:i, s:i}", "function", name, "file", "",
							"line", 0, "firstline", 0, "process", (int)m->sm.pid));
		json_array_foreach(json_object_get(p, "stacks"), i, s) {
			json_t *ids = json_array(), *id;

			json_array_foreach(json_object_get(s, "frames"), k, id)
				json_array_append_new(ids, json_integer((json_int_t)base + json_integer_value(id)));
			json_t *ns = json_deep_copy(s);

			json_array_append_new(ids, json_integer((json_int_t)self));
			/* The stack as it is (count, and a wall profile's times), its frames moved along. */
			if (ns) {
				json_object_set_new(ns, "frames", ids);
				json_object_set_new(ns, "pid", json_integer(m->sm.pid));
				json_array_append_new(stacks, ns);
			} else {
				json_decref(ids);
			}
		}
	}
	json_object_set_new(body, "sample_hz", common(t, "sample_hz"));
	json_object_set_new(body, "window_seconds", json_real(seconds));
	json_object_set_new(body, "partial", json_false());
	prof = json_pack("{s:I, s:I, s:I, s:o, s:o}", "samples", samples, "no_python_samples", no_python,
			 "dropped_stacks", dropped, "frames", frames ? frames : json_array(), "stacks",
			 stacks ? stacks : json_array());
	if (prof && wall) {
		json_object_set_new(prof, "wall", json_true());
		json_object_set_new(prof, "off_cpu_samples", json_integer(off));
	}
	return json_object_set_new(body, "profile", prof);
}

json_t *tree__reply(struct tree *t, int ncpus)
{
	json_t *body, *rows = json_array();
	char rule[256] = "", note[VERDICT_LINE];
	int err;

	if (!rows)
		return NULL;
	if (t->rule) {
		rule__name(t->rule, rule, sizeof(rule));
		find_master(t);
	}
	body = json_pack("{s:o, s:f, s:i, s:b}", "pid", t->root ? json_integer(t->root) : json_null(),
			 "requested_seconds", t->seconds, "max_tree", t->max, "truncated", t->truncated);
	if (!body) {
		json_decref(rows);
		return NULL;
	}
	if (t->rule)
		json_object_set_new(body, "group", json_string(rule));
	else if (t->fixed)
		json_object_set_new(body, "group", json_string("watched"));
	/* The whole first: a recording's rows give up their reports to it. */
	err = t->cmd == REQ_TOP ? top_part(t, body) :
	      t->cmd == REQ_GC ? gc_part(t, body) :
	      t->cmd == REQ_RECORD ? record_part(t, body) : service_part(t, body, ncpus);
	if (t->truncated && t->cmd != REQ_CLASSIFY) {
		snprintf(note, sizeof(note), TRUNCATED_FMT, t->max, t->max);
		json_object_set_new(body, "note", json_string(note));
	}
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(rows, row(t, &t->m[i]));
	json_object_set_new(body, "processes", rows);
	if (err) {
		json_decref(body);
		return NULL;
	}
	return body;
}
