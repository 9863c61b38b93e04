/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_EVLOOP_H
#define PYPROBED_EVLOOP_H
#include <stdbool.h>
#include <stdint.h>

/* One registered fd: the loop calls fn with the ready events. Owned by the caller. */
struct watch {
	int fd;
	void (*fn)(struct watch *w, uint32_t events);
};

struct evloop;

struct evloop *evloop__new(void);
void evloop__free(struct evloop *ev);
int evloop__add(struct evloop *ev, struct watch *w, uint32_t events);
int evloop__mod(struct evloop *ev, struct watch *w, uint32_t events);
void evloop__del(struct evloop *ev, struct watch *w);
/*
 * Timers: a CLOCK_MONOTONIC timerfd registered with the loop. timer_add sets
 * w->fd (-1 on failure) and returns 0 or -errno; w->fn runs when it expires
 * and calls timer_ack. timer_set arms it at abs_ns (0: disarm), repeating
 * every period_ns if that is not 0. timer_del is safe on a failed add.
 */
int evloop__timer_add(struct evloop *ev, struct watch *w);
void evloop__timer_set(struct watch *w, uint64_t abs_ns, uint64_t period_ns);
void evloop__timer_ack(struct watch *w);
void evloop__timer_del(struct evloop *ev, struct watch *w);

/* Run until evloop__stop; returns 0 or -errno. */
int evloop__run(struct evloop *ev);
void evloop__stop(struct evloop *ev);

#endif
