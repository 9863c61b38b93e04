// SPDX-License-Identifier: MIT
/* USDT argument specs as SystemTap writes them, encoded into bpf_cookies. */
#include <errno.h>
#include <stdint.h>
#include <linux/types.h>
#include "unit.h"
#include "pyprobe/events.h"
#include "usdtarg.h"

static void registers(void)
{
	uint64_t c = 0;

	CHECK_INT(usdt_arg_parse("-4@%esi", &c), 0);
	CHECK_INT(PP_USDT_KIND(c), PP_USDT_REG);
	CHECK_INT(PP_USDT_REGOFF(c), 104);	/* pt_regs.si */
	CHECK_INT(PP_USDT_SIZE(c), 4);
	CHECK_INT(PP_USDT_SIGNED(c), 1);
	CHECK(c & PP_USDT_COOKIE, "cookie flag");
	CHECK_INT(usdt_arg_parse("8@%rax", &c), 0);
	CHECK_INT(PP_USDT_REGOFF(c), 80);
	CHECK_INT(PP_USDT_SIGNED(c), 0);
	CHECK_INT(usdt_arg_parse("-8@%r12", &c), 0);
	CHECK_INT(PP_USDT_REGOFF(c), 24);
	CHECK_INT(usdt_arg_parse("1@%dil", &c), 0);
	CHECK_INT(PP_USDT_REGOFF(c), 112);
	CHECK_INT(usdt_arg_parse("4@%r15d", &c), 0);
	CHECK_INT(PP_USDT_REGOFF(c), 0);
}

static void memory_and_constants(void)
{
	uint64_t c = 0;

	CHECK_INT(usdt_arg_parse("-4@-44(%rbp)", &c), 0);
	CHECK_INT(PP_USDT_KIND(c), PP_USDT_DEREF);
	CHECK_INT(PP_USDT_REGOFF(c), 32);
	CHECK_INT(PP_USDT_VAL(c), -44);
	CHECK_INT(usdt_arg_parse("8@(%rsp)", &c), 0);
	CHECK_INT(PP_USDT_VAL(c), 0);
	CHECK_INT(PP_USDT_REGOFF(c), 152);
	CHECK_INT(usdt_arg_parse("8@0x10(%rdi)", &c), 0);
	CHECK_INT(PP_USDT_VAL(c), 16);
	CHECK_INT(usdt_arg_parse("-4@$-1", &c), 0);
	CHECK_INT(PP_USDT_KIND(c), PP_USDT_CONST);
	CHECK_INT(PP_USDT_VAL(c), -1);
	CHECK_INT(usdt_arg_parse("4@$2", &c), 0);
	CHECK_INT(PP_USDT_VAL(c), 2);
}

static void refused(void)
{
	uint64_t c = 0;
	const char *bad[] = { "", "4", "@%eax", "3@%eax", "0@%eax", "4@%xyz", "4@(%rax,%rbx,8)", "4@12",
			      "4@$", "4@$99999999999", "4@-1(%rax", "16@%rax", "4@%", "x@%eax" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(usdt_arg_parse(bad[i], &c) == -EINVAL, "'%s' refused", bad[i]);
}

static void nth(void)
{
	char buf[32];

	CHECK_INT(usdt_arg_nth("-4@%esi 8@%rax", 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "-4@%esi");
	CHECK_INT(usdt_arg_nth("-4@%esi 8@%rax", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "8@%rax");
	CHECK_INT(usdt_arg_nth("-4@%esi", 1, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(usdt_arg_nth("", 0, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(usdt_arg_nth("-4@%esi", 0, buf, 4), -ENOENT);
}

int main(void)
{
	RUN(registers);
	RUN(memory_and_constants);
	RUN(refused);
	RUN(nth);
	return UNIT_EXIT();
}
