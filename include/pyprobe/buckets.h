/* SPDX-License-Identifier: MIT */
/*
 * JSON names of the wall-time buckets (enum pp_bucket in events.h), shared by
 * the daemon, which writes them, and the CLI, which prints them. User space only.
 */
#ifndef PYPROBE_BUCKETS_H
#define PYPROBE_BUCKETS_H

static const char *const pp_bucket_names[] = {
	"oncpu", "runqueue", "gil_wait", "lock_wait", "net_io",
	"file_io", "poll_wait", "sleep", "child_wait", "ipc_wait", "other",
};

/* Column headings for terminals, in the same order. */
static const char *const pp_bucket_short[] = {
	"oncpu", "runq", "gil", "lock", "net", "file", "poll", "sleep", "child", "ipc", "other",
};

#endif
