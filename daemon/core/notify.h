/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_NOTIFY_H
#define PYPROBED_NOTIFY_H
#include <stdint.h>

/*
 * The systemd notification protocol without libsystemd: datagrams to
 * $NOTIFY_SOCKET. Every function is a no-op when systemd did not ask.
 */
int notify_send(const char *msg);
/* Watchdog interval in microseconds ($WATCHDOG_USEC for this PID), 0 if none. */
uint64_t notify_watchdog_usec(void);

/* Sockets passed by socket activation ($LISTEN_FDS for this PID): the first fd, or -1. */
int notify_listen_fd(void);

#endif
