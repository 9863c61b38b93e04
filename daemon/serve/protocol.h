/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROTOCOL_H
#define PYPROBED_PROTOCOL_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

enum req_cmd { REQ_CLASSIFY, REQ_STATUS, REQ_LIST, REQ_DETACH, REQ_GC, REQ_TOP, REQ_RECORD, REQ_ATTRS, REQ_CHURN,
	       REQ_LOOP };
/* Commands that take a process tree or a group (tree, unit, cgroup). */
#define TREE_CMD(c) ((c) == REQ_CLASSIFY || (c) == REQ_TOP || (c) == REQ_GC || (c) == REQ_RECORD)

struct request {
	enum req_cmd cmd;
	pid_t pid;		/* classify, detach */
	double seconds;		/* classify, gc, top, record, attrs, churn */
	int limit;		/* top, attrs, churn: rows per table */
	bool tree;		/* classify, top, gc, record: the process and its descendants */
	bool wall;		/* record: wall-clock time, off CPU too, not only CPU samples */
	int max_tree;		/* ... at most this many (0: the daemon's max-tree) */
	int threshold_ms;	/* loop: a stall is an iteration this long (0: the daemon's loop-threshold) */
	/* classify of a unit's or a cgroup's processes (no pid): "unit NAME", "cgroup PATH" */
	char group[4200];
	/* Inside the daemon only (never parsed): a group of exactly these processes. */
	const pid_t *pids;
	size_t npids;
};

/*
 * Parse one request line (without its newline). Returns 0, or -1 with *code
 * set to a PP_ERR_* string and a message for the client in msg.
 */
int protocol_parse(const char *buf, size_t len, struct request *r, const char **code, char *msg, size_t msglen);

/* A reply line ("...\n", malloc'ed) for an error. */
char *protocol_error(const char *code, const char *message);
/* Add "ok": true and "v" to obj, dump it as one line and free obj. NULL on ENOMEM. */
char *protocol_ok(json_t *obj);

#endif
