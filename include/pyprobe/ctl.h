/* SPDX-License-Identifier: MIT */
/*
 * Control protocol between pyprobe (CLI) and pyprobed: newline-delimited JSON
 * over a stream Unix socket. docs/protocol.md is the reference.
 *
 * Versions:
 *   1  classify, gc, top, record, status, list, detach; every request carries "v": 1.
 *      attrs and churn were added later in version 1: an older daemon answers
 *      them with unknown-command, which the CLI reports as such.
 */
#ifndef PYPROBE_CTL_H
#define PYPROBE_CTL_H

#define PP_CTL_VERSION 1
#define PP_CTL_DEFAULT_SOCKET "/run/pyprobe/pyprobed.sock"
#define PP_CTL_SOCKET_ENV "PYPROBE_SOCKET"
#define PP_CTL_MAX_REQUEST 4096		/* bytes, including the newline */
#define PP_CTL_MAX_REPLY (16 << 20)	/* what a client should accept */
#define PP_CTL_DEFAULT_SECONDS 2.0
#define PP_CTL_MIN_SECONDS 0.1
#define PP_CTL_MAX_SECONDS 3600.0

/* Error codes ("error": {"code": ...}). */
#define PP_ERR_BAD_REQUEST "bad-request"
#define PP_ERR_TOO_LARGE "request-too-large"
#define PP_ERR_VERSION "unsupported-protocol"
#define PP_ERR_UNKNOWN_CMD "unknown-command"
#define PP_ERR_NO_PROCESS "no-such-process"
#define PP_ERR_NOT_PYTHON "not-python"
#define PP_ERR_UNSUPPORTED "unsupported-version"
#define PP_ERR_UNREADABLE "binary-unreadable"
#define PP_ERR_PERMISSION "permission-denied"
#define PP_ERR_EXITED "target-exited"
#define PP_ERR_NOT_ATTACHED "not-attached"
#define PP_ERR_DETACHED "detached"
#define PP_ERR_LIMIT "limit-reached"
#define PP_ERR_INTERNAL "internal"

#endif /* PYPROBE_CTL_H */
