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
/* Run until evloop__stop; returns 0 or -errno. */
int evloop__run(struct evloop *ev);
void evloop__stop(struct evloop *ev);

#endif
