/* SPDX-License-Identifier: MIT */
/*
 * bytecode_analyse() on code objects compiled (and, 3.11+, quickened) by each
 * CPython 3.6 .. 3.13 (bytecode_fixtures.h, from tools/gen-opcodes.py
 * --fixtures), on those patched the way instrumentation patches them, and on junk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "bytecode.h"
#include "bytecode_fixtures.h"

#define NCASES (sizeof(bcfx_cases) / sizeof(bcfx_cases[0]))
#define NCODES (sizeof(bcfx_codes) / sizeof(bcfx_codes[0]))
#define NVERSIONS (sizeof(bcfx_versions) / sizeof(bcfx_versions[0]))

#define CASE_INT(c, actual, expected)                                                           \
	CHECK((actual) == (expected), "%s: %s: actual %lld, expected %lld", (c)->what, #actual, \
	      (long long)(actual), (long long)(expected))
#define CASE_STR(c, actual, expected)                                                             \
	CHECK(strcmp((actual), (expected)) == 0, "%s: %s: actual '%s', expected '%s'", (c)->what, \
	      #actual, (actual), (expected))

static const char *fx_name(void *ctx, enum bc_table t, uint32_t idx)
{
	const struct bcfx_code *c = ctx;

	if (t == BC_NAMES)
		return idx < c->nnames ? c->names[idx] : NULL;
	return idx < c->nlocals ? c->locals[idx] : NULL;
}

static const struct bcfx_version *version(int minor)
{
	for (size_t i = 0; i < NVERSIONS; i++) {
		if (bcfx_versions[i].minor == minor)
			return &bcfx_versions[i];
	}
	return NULL;
}

static const struct bcfx_case *find_case(int minor, const char *what)
{
	char want[128];

	snprintf(want, sizeof(want), "3.%d %s", minor, what);
	for (size_t i = 0; i < NCASES; i++) {
		if (!strcmp(bcfx_cases[i].what, want))
			return &bcfx_cases[i];
	}
	return NULL;
}

/* The whole expected spot of a fixture case, with the opcode byte as found in `code`. */
static void check_spot(const struct bcfx_case *c, const struct bc_spot *s, int err, uint8_t opcode,
		       bool names)
{
	CASE_INT(c, err, 0);
	CASE_INT(c, s->start, c->start);
	CASE_INT(c, s->index, c->index);
	CASE_INT(c, s->opcode, opcode);
	CASE_INT(c, s->oparg, c->oparg);
	CASE_INT(c, s->family, c->family);
	CASE_INT(c, s->name, c->name);
	CASE_INT(c, s->in_loop, c->in_loop);
	if (c->in_loop) {
		CASE_INT(c, s->loop_start, c->loop_start);
		CASE_INT(c, s->loop_end, c->loop_end);
	}
	CASE_INT(c, s->invariant, c->invariant);
	CASE_STR(c, s->receiver, names ? c->receiver : "");
}

/* Every unit of the instruction's span (prefixes, opcode, inline caches) finds it. */
static void fixtures_every_unit_of_the_span(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		const struct bcfx_case *c = &bcfx_cases[i];
		const struct bcfx_code *code = c->code;

		for (uint32_t at = c->start; at < c->end && at < code->nunits; at++) {
			struct bc_spot s;
			int err = bytecode_analyse(code->minor, code->code, code->nunits, at,
						   fx_name, (void *)code, &s);

			check_spot(c, &s, err, c->opcode, true);
		}
	}
}

/* 3.11+: the same in the quickened code, specialised opcodes and junk-filled caches. */
static void fixtures_quickened(void)
{
	int n = 0;

	for (size_t i = 0; i < NCASES; i++) {
		const struct bcfx_case *c = &bcfx_cases[i];
		const struct bcfx_code *code = c->code;

		if (!code->adaptive)
			continue;
		for (uint32_t at = c->start; at < c->end && at < code->nunits; at++) {
			struct bc_spot s;
			int err = bytecode_analyse(code->minor, code->adaptive, code->nunits, at,
						   fx_name, (void *)code, &s);

			check_spot(c, &s, err, code->adaptive[2 * c->index], true);
		}
		n += code->adaptive[2 * c->index] != c->opcode;
	}
	/* most sites were specialised by the warm-up (LOAD_ATTR_INSTANCE_VALUE, ...) */
	CHECK(n > 50, "specialised sites: %d", n);
}

static void fixtures_without_names(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		const struct bcfx_case *c = &bcfx_cases[i];
		const struct bcfx_code *code = c->code;
		struct bc_spot s;
		int err = bytecode_analyse(code->minor, code->code, code->nunits, c->index, NULL,
					   NULL, &s);

		check_spot(c, &s, err, c->opcode, false);
	}
}

/* Each version has all the cases: the generator dropped none. */
static void fixtures_cover_every_version(void)
{
	for (size_t v = 0; v < NVERSIONS; v++) {
		int n = 0, minor = bcfx_versions[v].minor;

		for (size_t i = 0; i < NCASES; i++)
			n += bcfx_cases[i].code->minor == minor;
		CHECK(n == (int)(NCASES / NVERSIONS), "3.%d: %d cases", minor, n);
	}
	CHECK_INT(NVERSIONS, 10);	/* 3.6 .. 3.15 */
}

/*
 * Every unit of every fixture: instructions tile the code, each analysis
 * succeeds, and the quickened code analyses like co_code.
 */
static void fixtures_every_unit(void)
{
	for (size_t i = 0; i < NCODES; i++) {
		const struct bcfx_code *code = &bcfx_codes[i];
		uint32_t start = 0, index = 0, attrs = 0;

		for (uint32_t at = 0; at < code->nunits; at++) {
			struct bc_spot s, q;
			int err = bytecode_analyse(code->minor, code->code, code->nunits, at,
						   fx_name, (void *)code, &s),
			    qerr;

			CHECK(err == 0 || err == -ENOENT, "3.%d %s @%u: %d", code->minor,
			      code->func, at, err);
			CHECK(s.start <= at && s.start <= s.index &&
				      (s.start == start || s.start > index),
			      "3.%d %s @%u: start %u index %u after %u/%u", code->minor, code->func,
			      at, s.start, s.index, start, index);
			CHECK((err == 0) == (s.family != BC_NONE), "3.%d %s @%u", code->minor,
			      code->func, at);
			if (s.start != start)
				attrs += err == 0;
			start = s.start;
			index = s.index;
			if (!code->adaptive)
				continue;
			qerr = bytecode_analyse(code->minor, code->adaptive, code->nunits, at,
						fx_name, (void *)code, &q);
			CHECK(qerr == err && q.start == s.start && q.index == s.index &&
				      q.oparg == s.oparg && q.family == s.family &&
				      q.name == s.name && q.in_loop == s.in_loop &&
				      q.loop_start == s.loop_start && q.loop_end == s.loop_end &&
				      q.invariant == s.invariant && !strcmp(q.receiver, s.receiver),
			      "3.%d %s @%u: quickened code analyses differently", code->minor,
			      code->func, at);
		}
		CHECK(attrs > 0 || !code->nunits, "3.%d %s: no attribute instruction", code->minor,
		      code->func);
	}
}

static void bounds_and_versions(void)
{
	const uint8_t code[] = { 106, 0, 83, 0 };	/* 3.8: LOAD_ATTR 0, RETURN_VALUE */
	struct bc_spot s;

	CHECK_INT(bytecode_analyse(8, code, 2, -1, NULL, NULL, &s), -EINVAL);
	CHECK_INT(s.family, BC_NONE);
	CHECK_INT(s.name, -1);
	CHECK_INT(bytecode_analyse(8, code, 2, 2, NULL, NULL, &s), -EINVAL);
	CHECK_INT(bytecode_analyse(8, code, 0, 0, NULL, NULL, &s), -EINVAL);
	CHECK_INT(bytecode_analyse(8, NULL, 2, 0, NULL, NULL, &s), -EINVAL);
	CHECK_INT(bytecode_analyse(8, code, 2, 0, NULL, NULL, NULL), -EINVAL);
	CHECK_INT(bytecode_analyse(5, code, 2, 0, NULL, NULL, &s), -ENOTSUP);
	CHECK_INT(bytecode_analyse(16, code, 2, 0, NULL, NULL, &s), -ENOTSUP);
	CHECK_INT(bytecode_analyse(8, code, 2, 0, NULL, NULL, &s), 0);
	CHECK_INT(s.family, BC_LOAD_ATTR);
	CHECK(!s.in_loop && !s.invariant && !s.receiver[0], "no loop, no receiver");
	CHECK_INT(bytecode_analyse(8, code, 2, 1, NULL, NULL, &s), -ENOENT);
	CHECK_INT(s.index, 1);
	CHECK_INT(s.opcode, 83);
	CHECK_INT(s.family, BC_NONE);
	CHECK_INT(s.name, -1);
}

static void family_names(void)
{
	CHECK_STR(bytecode_family_name(BC_NONE), "");
	CHECK_STR(bytecode_family_name(BC_LOAD_ATTR), "load_attr");
	CHECK_STR(bytecode_family_name(BC_LOAD_METHOD), "load_method");
	CHECK_STR(bytecode_family_name(BC_STORE_ATTR), "store_attr");
	CHECK_STR(bytecode_family_name(BC_DELETE_ATTR), "delete_attr");
	CHECK_STR(bytecode_family_name(BC_LOAD_GLOBAL), "load_global");
	CHECK_STR(bytecode_family_name(BC_LOAD_SUPER_ATTR), "load_super_attr");
	CHECK_STR(bytecode_family_name((enum bc_family)99), "");
}

/* Prefixes belong to the instruction; prefixes with none after them do not decode. */
static void extended_arg_prefixes(void)
{
	for (size_t v = 0; v < NVERSIONS; v++) {
		const struct bcfx_version *ver = &bcfx_versions[v];
		uint8_t ea = (uint8_t)ver->extended_arg, la = (uint8_t)ver->load_attr;
		uint8_t code[] = { ea, 1, ea, 2, la, 3, ea, 4, ea, 5 };
		struct bc_spot s;

		for (int at = 0; at < 5; at++) {
			int err = bytecode_analyse(ver->minor, code, 5, at, NULL, NULL, &s);

			if (at >= 3 && ver->minor <= 10) {
				/* no inline caches: at is on the trailing prefixes */
				CHECK_INT(err, -EINVAL);
				continue;
			}
			/* 3.11+: units 3 and 4 are LOAD_ATTR's inline caches */
			CHECK_INT(err, 0);
			CHECK_INT(s.start, 0);
			CHECK_INT(s.index, 2);
			CHECK_INT(s.oparg, 0x10203);
			CHECK_INT(s.name, ver->minor >= 12 ? 0x10203 >> 1 : 0x10203);
			CHECK_INT(s.family, ver->minor >= 12 ? BC_LOAD_METHOD : BC_LOAD_ATTR);
		}
		code[4] = (uint8_t)ver->load_fast;
		CHECK_INT(bytecode_analyse(ver->minor, code, 5, 1, NULL, NULL, &s), -ENOENT);
		CHECK_INT(s.start, 0);
		CHECK_INT(s.index, 2);
		CHECK_INT(s.oparg, 0x10203);
		CHECK_INT(bytecode_analyse(ver->minor, code, 5, 3, NULL, NULL, &s), -EINVAL);
		CHECK_INT(bytecode_analyse(ver->minor, code, 5, 4, NULL, NULL, &s), -EINVAL);
	}
}

static void analyse_patched(const struct bcfx_case *c, uint32_t unit, int opcode, struct bc_spot *s,
			    int *err)
{
	const struct bcfx_code *code = c->code;
	uint8_t *copy = malloc(2 * code->nunits);

	memcpy(copy, code->adaptive ? code->adaptive : code->code, 2 * code->nunits);
	copy[2 * unit] = (uint8_t)opcode;
	*err = bytecode_analyse(code->minor, copy, code->nunits, c->index, fx_name, (void *)code,
				s);
	free(copy);
}

/* 3.12+: INSTRUMENTED_<X> stands for X; INSTRUMENTED_LINE & co. hide the instruction. */
static void instrumented(void)
{
	for (int minor = 12; minor <= 13; minor++) {
		const struct bcfx_version *ver = version(minor);
		const struct bcfx_case *c = find_case(minor, "uncached: method #0");
		const struct bcfx_case *sup = find_case(minor, "sup: method #0");
		const int hiders[] = { ver->instrumented_line, ver->instrumented_instruction,
				       ver->enter_executor };
		struct bc_spot s;
		int err;

		CHECK(c && sup, "3.%d cases", minor);
		if (!c || !sup)
			continue;
		analyse_patched(c, c->loop_end, ver->instrumented_jump_backward, &s, &err);
		check_spot(c, &s, err, c->code->adaptive[2 * c->index], true);
		analyse_patched(sup, sup->index, ver->instrumented_load_super_attr, &s, &err);
		check_spot(sup, &s, err, (uint8_t)ver->instrumented_load_super_attr, true);
		for (size_t h = 0; h < sizeof(hiders) / sizeof(hiders[0]); h++) {
			if (hiders[h] < 0)
				continue;
			/* on the instruction: its fields are known, what it is is not */
			analyse_patched(c, c->index, hiders[h], &s, &err);
			CASE_INT(c, err, -EINVAL);
			CASE_INT(c, s.index, c->index);
			CASE_INT(c, s.opcode, hiders[h]);
			CASE_INT(c, s.family, BC_NONE);
			/* before it: nothing after can be placed */
			analyse_patched(c, 0, hiders[h], &s, &err);
			CASE_INT(c, err, -EINVAL);
			CASE_INT(c, s.index, 0);
			/* after it, inside the loop: the loop is not seen */
			analyse_patched(c, c->end, hiders[h], &s, &err);
			CASE_INT(c, err, 0);
			CASE_INT(c, s.family, c->family);
			CASE_INT(c, s.in_loop, false);
			CASE_INT(c, s.invariant, false);
			CASE_STR(c, s.receiver, c->receiver);
		}
	}
}

/* 3.11+: a LOAD_GLOBAL that also pushes NULL is no receiver (3.13 leaves the NULL on top). */
static void global_with_null(void)
{
	for (int minor = 11; minor <= 13; minor++) {
		const struct bcfx_case *c = find_case(minor, "glob: H #0");
		const struct bcfx_code *code = c ? c->code : NULL;
		uint8_t *copy;
		struct bc_spot s;

		CHECK(c != NULL, "3.%d case", minor);
		if (!c)
			continue;
		copy = malloc(2 * code->nunits);
		memcpy(copy, code->code, 2 * code->nunits);
		/* H.attr instead of the call after H (the walk loses its way after it: no loop) */
		copy[2 * c->end] = (uint8_t)version(minor)->load_attr;
		copy[2 * c->end + 1] = 0;
		CASE_INT(c,
			 bytecode_analyse(minor, copy, code->nunits, c->end, fx_name, (void *)code,
					  &s),
			 0);
		CASE_INT(c, s.family, BC_LOAD_ATTR);
		CASE_STR(c, s.receiver, "H");
		copy[2 * c->index + 1] |= 1;
		CASE_INT(c,
			 bytecode_analyse(minor, copy, code->nunits, c->end, fx_name, (void *)code,
					  &s),
			 0);
		CASE_STR(c, s.receiver, "");
		free(copy);
	}
}

static const char *long_name(void *ctx, enum bc_table t, uint32_t idx)
{
	return ctx;
}

/* Receivers longer than the field are cut, never inside a UTF-8 sequence. */
static void long_receivers(void)
{
	const struct bcfx_case *c = find_case(12, "chain: append #0");
	char ascii[101], utf8[122];
	struct bc_spot s;

	CHECK(c != NULL, "case");
	if (!c)
		return;
	memset(ascii, 'a', 100);
	ascii[100] = '\0';
	CHECK_INT(bytecode_analyse(12, c->code->code, c->code->nunits, c->index, long_name, ascii,
				   &s),
		  0);
	CHECK_INT(strlen(s.receiver), sizeof(s.receiver) - 1);
	CHECK(s.receiver[100] == '.' && s.receiver[101] == 'a', "%s", s.receiver);
	for (int i = 0; i < 40; i++)
		memcpy(utf8 + 3 * i, "\xe2\x82\xac", 3);	/* euro sign */
	utf8[120] = 'a';
	utf8[121] = '\0';
	CHECK_INT(
		bytecode_analyse(12, c->code->code, c->code->nunits, c->index, long_name, utf8, &s),
		0);
	/* 121 + "." + 5 bytes would end inside the second euro sign: it is left out */
	CHECK_INT(strlen(s.receiver), 125);
	CHECK(!memcmp(s.receiver + 120, "a.\xe2\x82\xac", 5), "%s", s.receiver);
	CHECK(s.invariant, "invariant");
}

/* Small deterministic generator for the junk tests. */
static uint32_t rnd(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*state >> 33);
}

static const char *junk_name(void *ctx, enum bc_table t, uint32_t idx)
{
	static char buf[200];

	switch (idx % 4) {
	case 0:
		return NULL;
	case 1:
		return "";
	case 2:
		memset(buf, 'x', sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = '\0';
		return buf;
	default:
		snprintf(buf, sizeof(buf), "n%u", idx);
		return buf;
	}
}

static void check_sane(int minor, const uint8_t *code, size_t n, int64_t at, int err,
		       const struct bc_spot *s, int *bad)
{
	bool ok = err == 0 || err == -ENOENT || err == -EINVAL;

	if (err == 0 || err == -ENOENT) {
		ok &= s->start <= at && s->start <= s->index && s->index < n &&
		      s->opcode == code[2 * s->index];
		ok &= (err == 0) == (s->family != BC_NONE);
		ok &= !s->in_loop ||
		      (s->loop_start <= s->start && s->loop_end >= s->index && s->loop_end < n);
		ok &= !s->invariant || s->in_loop;
	}
	ok &= memchr(s->receiver, '\0', sizeof(s->receiver)) != NULL;
	if (!ok && (*bad)++ < 5)
		printf("# 3.%d junk: at %lld err %d start %u index %u loop %u..%u\n", minor,
		       (long long)at, err, s->start, s->index, s->loop_start, s->loop_end);
}

/* Random code, every opcode of every version, and fixtures with random bytes flipped. */
static void junk(void)
{
	uint64_t state = 42;
	uint8_t code[2 * 64];
	struct bc_spot s;
	int bad = 0;

	for (int minor = 6; minor <= 13; minor++) {
		for (int i = 0; i < 20000; i++) {
			size_t n = rnd(&state) % 64;
			int64_t at = (int64_t)(rnd(&state) % (n + 4)) - 2;

			for (size_t k = 0; k < 2 * n; k++)
				code[k] = (uint8_t)rnd(&state);
			check_sane(minor, code, n, at,
				   bytecode_analyse(minor, code, n, at, junk_name, NULL, &s), &s,
				   &bad);
		}
		for (int op = 0; op < 256; op++) {
			for (size_t k = 0; k < 64; k++) {
				code[2 * k] = (uint8_t)op;
				code[2 * k + 1] = (uint8_t)(k * 7);
			}
			for (int64_t at = 0; at < 64; at += 7)
				check_sane(
					minor, code, 64, at,
					bytecode_analyse(minor, code, 64, at, junk_name, NULL, &s),
					&s, &bad);
		}
	}
	for (size_t i = 0; i < NCODES; i++) {
		const struct bcfx_code *c = &bcfx_codes[i];
		uint8_t *copy = malloc(2 * c->nunits);

		for (int round = 0; round < 20; round++) {
			int64_t at = rnd(&state) % c->nunits;

			memcpy(copy, c->adaptive ? c->adaptive : c->code, 2 * c->nunits);
			for (int k = 0; k < 3; k++)
				copy[rnd(&state) % (2 * c->nunits)] = (uint8_t)rnd(&state);
			check_sane(c->minor, copy, c->nunits, at,
				   bytecode_analyse(c->minor, copy, c->nunits, at, junk_name, NULL,
						    &s),
				   &s, &bad);
		}
		free(copy);
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	RUN(fixtures_cover_every_version);
	RUN(fixtures_every_unit_of_the_span);
	RUN(fixtures_quickened);
	RUN(fixtures_without_names);
	RUN(fixtures_every_unit);
	RUN(bounds_and_versions);
	RUN(family_names);
	RUN(extended_arg_prefixes);
	RUN(instrumented);
	RUN(global_with_null);
	RUN(long_receivers);
	RUN(junk);
	return UNIT_EXIT();
}
