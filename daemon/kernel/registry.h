/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_REGISTRY_H
#define PYPROBED_REGISTRY_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "pyprobe/events.h"

struct evloop;
struct loader;
struct opts;
struct session;

/*
 * The observed processes: one session per target, made on first use and
 * dropped when its last user lets go or the process ends; the BPF programs
 * (the loader) and their ring buffer, whose records go to the sessions and
 * are announced to the listeners. The request side and the monitor are
 * listeners; the registry knows neither.
 */
struct registry;

struct registry_listener {
	/*
	 * Session s is going away (why: "exited", "executed a new program",
	 * "detached on request", "shutting down"; exited: the process is gone).
	 * Forget s: release what you hold of it (the registry frees it after
	 * the last listener, whatever the count of users).
	 */
	void (*session_ending)(void *ctx, struct session *s, const char *why, bool exited);
	/* A process executed a program (a target or not, while watching), or a target forked one. */
	void (*exec)(void *ctx, pid_t pid);
	void (*fork)(void *ctx, pid_t pid);
	/* A sampled Python stack of session s. */
	void (*stack)(void *ctx, struct session *s, const struct pp_stack_event *ev);
	/* What the listener knows of s for `list` (a new reference, or NULL: nothing). */
	json_t *(*describe)(void *ctx, const struct session *s);
	void *ctx;
	struct registry_listener *next;
};

/* Loads the BPF programs and watches the ring buffer on ev. NULL and errno on failure. */
struct registry *registry__new(struct evloop *ev, const struct opts *o);
/* Ends every session ("shutting down"), then frees; NULL is fine. */
void registry__free(struct registry *r);
/* Listeners are called in the order they were added; l must outlive its registration. */
void registry__listen(struct registry *r, struct registry_listener *l);
void registry__unlisten(struct registry *r, struct registry_listener *l);

struct loader *registry__loader(struct registry *r);
/* The session on pid, or NULL (no new one is made). */
struct session *registry__find(struct registry *r, pid_t pid);
/*
 * One more user of the session on pid, made if there is none (attach). NULL
 * with *code (PP_ERR_*) and a message on failure. Give it back with
 * registry__release.
 */
struct session *registry__acquire(struct registry *r, pid_t pid, const char **code, char *msg, size_t len);
void registry__release(struct registry *r, struct session *s);
/* End s now for every user (listeners are told why). */
void registry__end(struct registry *r, struct session *s, const char *why);
/*
 * Read the ring buffer now, all of it (the windows ending now want every
 * record; GC and stack records do not wake the daemon), within
 * RINGBUF_DRAIN_NS; the event loop's own reads stop after a budget.
 */
void registry__pump(struct registry *r);

unsigned int registry__count(const struct registry *r);
/* Every session, for listing; fn must not end sessions. */
void registry__for_each(struct registry *r, void (*fn)(void *ctx, struct session *s), void *ctx);
/* The listeners' descriptions of s merged into one object (a new reference; empty when none says anything). */
json_t *registry__describe(struct registry *r, const struct session *s);

#endif
