/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_USDTARG_H
#define PYPROBED_USDTARG_H
#include <stdint.h>

/*
 * A USDT argument as SystemTap's notes write it (x86-64): "SIZE@OPERAND",
 * SIZE negative for signed, OPERAND a register (%esi), a constant ($5) or a
 * memory reference (-24(%rbp)). Encodes it as a bpf_cookie
 * (PP_USDT_MAKE, pyprobe/events.h). Returns 0, or -EINVAL for forms the
 * BPF side cannot read (an index register, an unknown register).
 */
int usdt_arg_parse(const char *arg, uint64_t *cookie);

/* The n-th (0-based) argument of a note's argument string, into buf. Returns 0 or -ENOENT. */
int usdt_arg_nth(const char *args, int n, char *buf, size_t len);

#endif
