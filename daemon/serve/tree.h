/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_TREE_H
#define PYPROBED_TREE_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "protocol.h"
#include "rules.h"
#include "service.h"

struct client;

/*
 * One window over a process tree (classify, top, gc or record with --tree,
 * --unit or --cgroup): the root and its descendants, each observed in a
 * window of its own that ends with the tree's, then one reply with a row per
 * process and the whole: the service verdict (classify), the hottest
 * functions of all (top), the collections of all (gc), one profile whose
 * stacks name their process (record). The request side opens and ends the
 * members' windows; this keeps their results and composes the reply.
 */
struct tree_member {
	struct service_member sm;
	double joined;		/* seconds into the tree's window it was found (0: at the start) */
	bool open;		/* its window is open */
	json_t *report;		/* its window's reply, once observed */
	char code[32];		/* else why it is not observed (a PP_ERR_* code) */
	char msg[256];
};

struct tree {
	enum req_cmd cmd;	/* the members' windows' command */
	int limit;		/* top: rows per table */
	bool wall;		/* record: a wall-clock profile */
	struct profile *prof;	/* top: every member's samples (the request side adds them) */
	pid_t root;		/* 0: a group (a unit's, a cgroup's processes), found by rule */
	struct rule *rule;	/* the group's rule, owned */
	struct client *c;
	double seconds;		/* requested */
	uint64_t start, deadline;	/* monotonic ns */
	uint64_t next_scan;	/* next look for processes that joined */
	int max;		/* members at most (max-tree) */
	bool truncated;		/* more processes than max were found */
	size_t n, cap;
	struct tree_member *m;	/* m[0] is the root */
	pid_t *fixed;		/* root 0 and no rule: these processes (owned) */
	size_t nfixed;
	struct tree *next;
};

/*
 * root 0: a group of processes matching rule (taken), not a tree; or, with
 * neither, the ones tree__fix lists. cmd: a TREE_CMD.
 */
struct tree *tree__new(enum req_cmd cmd, int limit, pid_t root, struct rule *rule, struct client *c, double seconds,
		       int max, uint64_t start);
void tree__free(struct tree *t);
/* A group of exactly these processes (copied); -1 out of memory. */
int tree__fix(struct tree *t, const pid_t *pids, size_t n);
struct tree_member *tree__find(struct tree *t, pid_t pid);
/* A new member found now (its parent and command read from /proc); NULL past max (truncated) or ENOMEM. */
struct tree_member *tree__add(struct tree *t, pid_t pid, uint64_t now);
/* Its window ended with this reply (taken) and, for classify, the parts of its verdict the service needs. */
void tree__observed(struct tree *t, pid_t pid, json_t *report, const char *label, double confidence, double cpu,
		    double seconds);
/* It is listed but not observed: why (an error code and message). */
void tree__refused(struct tree *t, pid_t pid, const char *code, const char *msg);
/* Every member's window has ended. */
bool tree__complete(const struct tree *t);
/* The reply body (the members' reports move into it). */
json_t *tree__reply(struct tree *t, int ncpus);

#endif
