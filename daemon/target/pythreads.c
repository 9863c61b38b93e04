// SPDX-License-Identifier: MIT
/*
 * Python thread identities: which OS threads run Python and what
 * threading.get_ident() calls them. The lists live in target memory, which may
 * be torn or hostile: every walk is bounded and stops at the first bad read.
 */
#include <errno.h>
#include "pyinspect.h"
#include "pyoffsets.h"
#include "tmem.h"
#include "pythreads.h"

#define MAX_INTERPS 64
#define MAX_TSTATES 4096

int pythreads_read(pid_t pid, const struct pyinfo *py, struct pythread *out, size_t max)
{
	const struct py_offsets *o = py->off;
	uint64_t interp = 0;
	size_t n = 0;
	int err;

	if (!o || !py->interp_head_addr || o->interp_tstate_head < 0 || o->tstate_thread_id < 0)
		return -ENOTSUP;
	err = tmem_read_u64(pid, py->interp_head_addr, &interp);
	if (err)
		return err;
	for (uint32_t i = 0; interp && i < MAX_INTERPS; i++) {
		uint64_t ts = 0, next_interp = 0;

		if (tmem_read_u64(pid, interp + o->interp_tstate_head, &ts))
			break;
		for (int k = 0; ts && k < MAX_TSTATES && n < max; k++) {
			struct pythread *t = &out[n];
			uint64_t native = 0, next = 0;

			if (tmem_read_u64(pid, ts + o->tstate_thread_id, &t->ident) ||
			    tmem_read_u64(pid, ts + o->tstate_next, &next))
				break;
			if (o->tstate_native_thread_id >= 0 &&
			    tmem_read_u64(pid, ts + o->tstate_native_thread_id, &native) == 0)
				t->native_id = (uint32_t)native;
			else
				t->native_id = 0;
			t->interp = i;
			t->tstate = ts;
			n++;
			if (next == ts)
				break;	/* a self-loop in a corrupted list */
			ts = next;
		}
		if (tmem_read_u64(pid, interp + o->interp_next, &next_interp) || next_interp == interp)
			break;
		interp = next_interp;
	}
	return (int)n;
}
