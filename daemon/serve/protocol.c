// SPDX-License-Identifier: MIT
/* The control protocol's request parser and reply framing (docs/protocol.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pyprobe/ctl.h"
#include "protocol.h"
#include "utf8.h"

static const struct {
	const char *name;
	enum req_cmd cmd;
	int needs_pid;
} commands[] = {
	{ "classify", REQ_CLASSIFY, 1 },
	{ "status", REQ_STATUS, 0 },
	{ "list", REQ_LIST, 0 },
	{ "detach", REQ_DETACH, 1 },
	{ "gc", REQ_GC, 1 },
	{ "top", REQ_TOP, 1 },
	{ "record", REQ_RECORD, 1 },
	{ "attrs", REQ_ATTRS, 1 },
	{ "churn", REQ_CHURN, 1 },
	{ "loop", REQ_LOOP, 1 },
};

#define BAD(c, ...)                                    \
	do {                                           \
		*code = (c);                           \
		snprintf(msg, msglen, __VA_ARGS__);    \
		goto fail;                             \
	} while (0)

int protocol_parse(const char *buf, size_t len, struct request *r, const char **code, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root, *v, *cmd, *pid, *secs;
	const char *name;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->seconds = PP_CTL_DEFAULT_SECONDS;
	if (len >= PP_CTL_MAX_REQUEST) {
		*code = PP_ERR_TOO_LARGE;
		snprintf(msg, msglen, "request of %zu bytes exceeds the limit of %d", len, PP_CTL_MAX_REQUEST - 1);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		*code = PP_ERR_BAD_REQUEST;
		snprintf(msg, msglen, "malformed JSON at byte %d: %s", jerr.position, jerr.text);
		return -1;
	}
	if (!json_is_object(root))
		BAD(PP_ERR_BAD_REQUEST, "a request must be a JSON object");
	v = json_object_get(root, "v");
	if (!v)
		BAD(PP_ERR_BAD_REQUEST, "missing protocol version \"v\"");
	if (!json_is_integer(v) || json_integer_value(v) != PP_CTL_VERSION)
		BAD(PP_ERR_VERSION, "unsupported protocol version (this daemon speaks v%d)", PP_CTL_VERSION);
	cmd = json_object_get(root, "cmd");
	if (!json_is_string(cmd))
		BAD(PP_ERR_BAD_REQUEST, "missing \"cmd\" string");
	name = json_string_value(cmd);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		BAD(PP_ERR_UNKNOWN_CMD, "unknown command \"%.64s\" (known: classify, gc, top, attrs, churn, loop, record, status, list, detach)", name);
	r->cmd = commands[i].cmd;
	for (const char *const *k = (const char *const[]){ "unit", "cgroup", NULL }; *k; k++) {
		if (!(v = json_object_get(root, *k)))
			continue;
		if (!TREE_CMD(r->cmd))
			BAD(PP_ERR_BAD_REQUEST, "\"%s\" is for classify, top, gc and record only", *k);
		if (r->group[0])
			BAD(PP_ERR_BAD_REQUEST, "\"unit\" and \"cgroup\" cannot both be given");
		if (json_object_get(root, "pid"))
			BAD(PP_ERR_BAD_REQUEST, "\"%s\" names a group of processes: no \"pid\" with it", *k);
		if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= 4096)
			BAD(PP_ERR_BAD_REQUEST, "\"%s\" must be a non-empty string", *k);
		snprintf(r->group, sizeof(r->group), "%s %s", *k, json_string_value(v));
	}
	if (commands[i].needs_pid && !r->group[0]) {
		pid = json_object_get(root, "pid");
		if (!pid)
			BAD(PP_ERR_BAD_REQUEST, "\"%s\" needs \"pid\"", commands[i].name);
		if (!json_is_integer(pid) || json_integer_value(pid) <= 0 || json_integer_value(pid) > 0x3fffffff)
			BAD(PP_ERR_BAD_REQUEST, "\"pid\" must be a positive integer process ID");
		r->pid = (pid_t)json_integer_value(pid);
	}
	secs = json_object_get(root, "seconds");
	r->limit = 20;
	if ((r->cmd == REQ_TOP || r->cmd == REQ_ATTRS || r->cmd == REQ_CHURN) &&
	    (v = json_object_get(root, "limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000)
			BAD(PP_ERR_BAD_REQUEST, "\"limit\" must be an integer from 1 to 1000");
		r->limit = (int)json_integer_value(v);
	}
	if ((v = json_object_get(root, "threshold_ms"))) {
		if (r->cmd != REQ_LOOP)
			BAD(PP_ERR_BAD_REQUEST, "\"threshold_ms\" is for loop only");
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 60000)
			BAD(PP_ERR_BAD_REQUEST, "\"threshold_ms\" must be an integer from 1 to 60000");
		r->threshold_ms = (int)json_integer_value(v);
	}
	if ((v = json_object_get(root, "wall"))) {
		if (!json_is_boolean(v))
			BAD(PP_ERR_BAD_REQUEST, "\"wall\" must be true or false");
		if (json_is_true(v) && r->cmd != REQ_RECORD)
			BAD(PP_ERR_BAD_REQUEST, "\"wall\" is for record only");
		r->wall = json_is_true(v);
	}
	if ((v = json_object_get(root, "tree"))) {
		if (!json_is_boolean(v))
			BAD(PP_ERR_BAD_REQUEST, "\"tree\" must be true or false");
		if (json_is_true(v) && !TREE_CMD(r->cmd))
			BAD(PP_ERR_BAD_REQUEST, "\"tree\" is for classify, top, gc and record only");
		r->tree = json_is_true(v);
	}
	/* A unit's or a cgroup's processes come back as a tree reply, without a root. */
	if (r->group[0])
		r->tree = true;
	if ((v = json_object_get(root, "max_tree"))) {
		if (!r->tree)
			BAD(PP_ERR_BAD_REQUEST, "\"max_tree\" needs \"tree\": true");
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1024)
			BAD(PP_ERR_BAD_REQUEST, "\"max_tree\" must be an integer from 1 to 1024");
		r->max_tree = (int)json_integer_value(v);
	}
	if (secs && r->cmd != REQ_STATUS && r->cmd != REQ_LIST && r->cmd != REQ_DETACH) {
		double s = json_number_value(secs);

		if (!json_is_number(secs) || !isfinite(s) || s < PP_CTL_MIN_SECONDS || s > PP_CTL_MAX_SECONDS)
			BAD(PP_ERR_BAD_REQUEST, "\"seconds\" must be a number from %g to %g", PP_CTL_MIN_SECONDS,
			    PP_CTL_MAX_SECONDS);
		r->seconds = s;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

static char *dump_line(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(6));
	size_t n;
	char *line;

	json_decref(obj);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = 0;
	return line;
}

char *protocol_error(const char *code, const char *message)
{
	/* The message may quote a path or a name: any bytes. */
	json_t *o = json_pack("{s:b, s:i, s:{s:s, s:o}}", "ok", 0, "v", PP_CTL_VERSION, "error", "code", code,
			      "message", utf8_json_string(message));

	return o ? dump_line(o) : NULL;
}

char *protocol_ok(json_t *obj)
{
	if (!obj)
		return NULL;
	json_object_set_new(obj, "ok", json_true());
	json_object_set_new(obj, "v", json_integer(PP_CTL_VERSION));
	return dump_line(obj);
}
