/* SPDX-License-Identifier: MIT */
#ifndef PYPROBE_CTL_CLIENT_H
#define PYPROBE_CTL_CLIENT_H
#include <jansson.h>

/*
 * Send one request object to the daemon at socket_path and wait up to
 * timeout_ms for its one-line reply. Returns the parsed reply (new reference),
 * or NULL after printing why to stderr. With progress_seconds > 0, a progress
 * line for a window that long is kept up to date on stderr.
 */
json_t *ctl_call(const char *socket_path, json_t *request, int timeout_ms, double progress_seconds);

#endif
