// SPDX-License-Identifier: MIT
/* USDT argument specs (usdtarg.h): pure string parsing, fuzzed with the rest of the ELF input. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "pyprobe/events.h"
#include "usdtarg.h"

/* Offsets in the x86-64 struct pt_regs (the uapi layout). */
static const struct {
	const char *names[4];	/* 64, 32, 16, 8 bit */
	int off;
} regs[] = {
	{ { "rax", "eax", "ax", "al" }, 80 },	 { { "rbx", "ebx", "bx", "bl" }, 40 },
	{ { "rcx", "ecx", "cx", "cl" }, 88 },	 { { "rdx", "edx", "dx", "dl" }, 96 },
	{ { "rsi", "esi", "si", "sil" }, 104 },	 { { "rdi", "edi", "di", "dil" }, 112 },
	{ { "rbp", "ebp", "bp", "bpl" }, 32 },	 { { "rsp", "esp", "sp", "spl" }, 152 },
	{ { "r8", "r8d", "r8w", "r8b" }, 72 },	 { { "r9", "r9d", "r9w", "r9b" }, 64 },
	{ { "r10", "r10d", "r10w", "r10b" }, 56 }, { { "r11", "r11d", "r11w", "r11b" }, 48 },
	{ { "r12", "r12d", "r12w", "r12b" }, 24 }, { { "r13", "r13d", "r13w", "r13b" }, 16 },
	{ { "r14", "r14d", "r14w", "r14b" }, 8 },  { { "r15", "r15d", "r15w", "r15b" }, 0 },
	{ { "rip", "eip", "ip", NULL }, 128 },
};

/* "%esi" (len chars) -> pt_regs offset, or -1. */
static int reg_offset(const char *s, size_t len)
{
	if (len < 2 || s[0] != '%')
		return -1;
	s++;
	len--;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int k = 0; k < 4; k++)
			if (regs[i].names[k] && strlen(regs[i].names[k]) == len && !strncmp(regs[i].names[k], s, len))
				return regs[i].off;
	return -1;
}

int usdt_arg_parse(const char *arg, uint64_t *cookie)
{
	const char *at = strchr(arg, '@'), *op, *paren;
	char *end;
	long size;
	int sgn = 0, off;

	if (!at)
		return -EINVAL;
	size = strtol(arg, &end, 10);
	if (end != at || size == 0)
		return -EINVAL;
	if (size < 0) {
		sgn = 1;
		size = -size;
	}
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	op = at + 1;
	if (op[0] == '$') {	/* constant */
		long long v = strtoll(op + 1, &end, 0);

		if (end == op + 1 || *end || v < INT32_MIN || v > INT32_MAX)
			return -EINVAL;
		*cookie = PP_USDT_MAKE(PP_USDT_CONST, 0, size, sgn, (int32_t)v);
		return 0;
	}
	if (op[0] == '%') {	/* register */
		off = reg_offset(op, strlen(op));
		if (off < 0)
			return -EINVAL;
		*cookie = PP_USDT_MAKE(PP_USDT_REG, off, size, sgn, 0);
		return 0;
	}
	/* memory: [disp](%reg) */
	paren = strchr(op, '(');
	if (!paren || paren[strlen(paren) - 1] != ')' || strchr(paren, ','))
		return -EINVAL;
	{
		long long disp = 0;

		if (paren != op) {
			disp = strtoll(op, &end, 0);
			if (end != paren || disp < INT32_MIN || disp > INT32_MAX)
				return -EINVAL;
		}
		off = reg_offset(paren + 1, strlen(paren + 1) - 1);
		if (off < 0)
			return -EINVAL;
		*cookie = PP_USDT_MAKE(PP_USDT_DEREF, off, size, sgn, (int32_t)disp);
	}
	return 0;
}

int usdt_arg_nth(const char *args, int n, char *buf, size_t len)
{
	const char *p = args;

	for (;;) {
		size_t k;

		while (*p == ' ')
			p++;
		if (!*p)
			return -ENOENT;
		k = strcspn(p, " ");
		if (n-- == 0) {
			if (k >= len)
				return -ENOENT;
			memcpy(buf, p, k);
			buf[k] = 0;
			return 0;
		}
		p += k;
	}
}
