/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_TMEM_H
#define PYPROBED_TMEM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read len bytes of target memory at addr. Target memory is untrusted: the
 * caller validates what it reads. Returns 0, or a negative errno (-EFAULT for
 * a short read).
 */
int tmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int tmem_read_u64(pid_t pid, uint64_t addr, uint64_t *out);

#endif
