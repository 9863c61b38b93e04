// SPDX-License-Identifier: MIT
#include "window.h"

/* JSON names of the wall-time buckets, in enum pp_bucket order. */
const char *const pp_bucket_names[PP_NBUCKETS] = {
	[PP_B_ONCPU] = "oncpu",
	[PP_B_RUNQUEUE] = "runqueue",
	[PP_B_GIL_WAIT] = "gil_wait",
	[PP_B_LOCK_WAIT] = "lock_wait",
	[PP_B_NET_IO] = "net_io",
	[PP_B_FILE_IO] = "file_io",
	[PP_B_POLL_WAIT] = "poll_wait",
	[PP_B_SLEEP] = "sleep",
	[PP_B_CHILD_WAIT] = "child_wait",
	[PP_B_OTHER] = "other",
};
