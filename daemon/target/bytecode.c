/* SPDX-License-Identifier: MIT */
/*
 * Instruction decoding and loop analysis of CPython bytecode copied out of a
 * target process (cpython-internals.md 3.3, 3.5, 3.6).
 *
 * The code is walked from unit 0 on every call: in 3.11+ the inline-cache
 * units after an instruction hold counters, type versions and pointers that
 * can look like any opcode, so an instruction boundary is only known by
 * walking from a known one. The walk, and everything else here, is O(n) in
 * the code size, allocation free, and reads nothing outside code[0 .. nunits).
 *
 * Opcodes whose real instruction is kept outside the code (INSTRUMENTED_LINE,
 * INSTRUMENTED_INSTRUCTION under sys.settrace / sys.monitoring in 3.12+,
 * ENTER_EXECUTOR in 3.13) hide how many cache units follow them, so the walk
 * cannot go past one. An `at` on or after such a unit gives -EINVAL (a caller
 * that reads _co_monitoring can put the original opcodes back into its copy
 * first); one later in the code only cuts the loop search short: in_loop stays
 * false unless a loop was found before it. The same holds for unknown opcodes.
 */
#include <errno.h>
#include <string.h>
#include "bytecode.h"
#include "bytecode_table.h"

#define CHAIN_MAX	4			/* attribute links in a receiver: a.b.c.d.e */
#define HIST		(CHAIN_MAX + 2)		/* instructions remembered before `at` */

/* One decoded instruction: [start, index] prefixes and opcode, then caches up to end. */
struct insn {
	uint32_t start, index, end, oparg;
	uint8_t opcode, kind;
};

struct walk {
	const uint8_t *code;
	uint32_t n, pos;
	const struct bc_op *ops;
};

/* Variable namespaces: co_varnames/localsplus, cells (<= 3.10 only), co_names. */
enum space { SP_FAST, SP_DEREF, SP_NAME };

struct var {
	enum space space;
	uint32_t idx;
};

/* What the analysed instruction's receiver was built from. */
struct recv {
	int nvars;
	struct var vars[2];			/* variables it depends on (2: super(C, self)) */
	int nlinks;
	uint32_t links[CHAIN_MAX];		/* co_names indices of its attribute links */
	int nconsumers;
	uint32_t consumers[CHAIN_MAX + 3];	/* starts that must not be jump targets */
	bool super_form, super_args;		/* super() / super(C, self) */
};

static const struct bc_version *version_of(int minor)
{
	for (size_t i = 0; i < sizeof(bc_versions) / sizeof(bc_versions[0]); i++) {
		if (bc_versions[i].minor == minor)
			return &bc_versions[i];
	}
	return NULL;
}

static bool opaque(uint8_t kind)
{
	return kind == BCK_UNKNOWN || kind == BCK_INSTRUMENTED_LINE ||
	       kind == BCK_INSTRUMENTED_INSTRUCTION || kind == BCK_ENTER_EXECUTOR;
}

/*
 * The next instruction, its EXTENDED_ARG prefixes folded into oparg: 1, or 0 at
 * the end of the code (trailing prefixes included). The walk ends after an
 * opaque instruction, whose end is not known (set to index + 1).
 */
static int walk_next(struct walk *w, struct insn *in)
{
	uint32_t acc = 0, start = w->pos;

	while (w->pos < w->n) {
		uint32_t i = w->pos;
		uint8_t op = w->code[2 * i], arg = w->code[2 * i + 1];
		const struct bc_op *o = &w->ops[op];

		w->pos++;
		if (o->kind == BCK_EXTENDED_ARG) {
			acc = (acc | arg) << 8;	/* wraps past 4 prefixes: garbage anyway */
			continue;
		}
		in->start = start;
		in->index = i;
		in->opcode = op;
		in->kind = o->kind;
		in->oparg = acc | arg;
		in->end = i + 1 + o->caches;
		if (opaque(o->kind))
			w->pos = w->n;
		else if (in->end < w->n)
			w->pos = in->end;
		else
			w->pos = w->n;
		return 1;
	}
	return 0;
}

static void walk_init(struct walk *w, const struct bc_version *v, const uint8_t *code, uint32_t n)
{
	w->code = code;
	w->n = n;
	w->pos = 0;
	w->ops = v->ops;
}

/* Family and co_names index of an instruction, by the version's oparg layout. */
static enum bc_family family_of(int minor, const struct insn *in, uint32_t *name)
{
	switch (in->kind) {
	case BCK_LOAD_ATTR:
		if (minor < 12) {
			*name = in->oparg;
			return BC_LOAD_ATTR;
		}
		*name = in->oparg >> 1;
		return in->oparg & 1 ? BC_LOAD_METHOD : BC_LOAD_ATTR;
	case BCK_LOAD_METHOD:
		*name = in->oparg;
		return BC_LOAD_METHOD;
	case BCK_STORE_ATTR:
		*name = in->oparg;
		return BC_STORE_ATTR;
	case BCK_DELETE_ATTR:
		*name = in->oparg;
		return BC_DELETE_ATTR;
	case BCK_LOAD_GLOBAL:
		*name = minor >= 11 ? in->oparg >> 1 : in->oparg;
		return BC_LOAD_GLOBAL;
	case BCK_LOAD_SUPER_ATTR:
		*name = in->oparg >> 2;
		return BC_LOAD_SUPER_ATTR;
	default:
		return BC_NONE;
	}
}

/* The variable whose value a load pushes on top of the stack; false for other instructions. */
static bool pushed_var(int minor, const struct insn *in, struct var *v)
{
	switch (in->kind) {
	case BCK_LOAD_FAST:
	case BCK_LOAD_FAST_AND_CLEAR:
		*v = (struct var){ SP_FAST, in->oparg };
		return true;
	case BCK_LOAD_FAST_LOAD_FAST:
	case BCK_STORE_FAST_LOAD_FAST:
		*v = (struct var){ SP_FAST, in->oparg & 15 };
		return true;
	case BCK_LOAD_DEREF:
		/* 3.11+ index localsplus like LOAD_FAST; before, cell and free variables */
		*v = (struct var){ minor >= 11 ? SP_FAST : SP_DEREF, in->oparg };
		return true;
	case BCK_LOAD_NAME:
		*v = (struct var){ SP_NAME, in->oparg };
		return true;
	case BCK_LOAD_GLOBAL:
		if (minor < 11) {
			*v = (struct var){ SP_NAME, in->oparg };
			return true;
		}
		/* with the NULL bit, 3.13 leaves NULL on top; no attribute access follows one */
		if (in->oparg & 1)
			return false;
		*v = (struct var){ SP_NAME, in->oparg >> 1 };
		return true;
	default:
		return false;
	}
}

/* Whether the instruction rebinds variable v. */
static bool rebinds(int minor, const struct insn *in, const struct var *v)
{
	uint32_t hi = in->oparg >> 4, lo = in->oparg & 15;

	switch (in->kind) {
	case BCK_STORE_FAST:
	case BCK_LOAD_FAST_AND_CLEAR:
		return v->space == SP_FAST && in->oparg == v->idx;
	case BCK_STORE_FAST_STORE_FAST:
		return v->space == SP_FAST && (hi == v->idx || lo == v->idx);
	case BCK_STORE_FAST_LOAD_FAST:
		return v->space == SP_FAST && hi == v->idx;
	case BCK_STORE_DEREF:
		return v->space == (minor >= 11 ? SP_FAST : SP_DEREF) && in->oparg == v->idx;
	case BCK_STORE_NAME:
		return v->space == SP_NAME && in->oparg == v->idx;
	default:
		return false;
	}
}

/* Whether h (one of the instructions just before) is an attribute link: pushes o.name alone. */
static bool attr_link(int minor, const struct insn *h, uint32_t *name)
{
	if (h->kind != BCK_LOAD_ATTR || (minor >= 12 && (h->oparg & 1)))
		return false;
	*name = minor >= 12 ? h->oparg >> 1 : h->oparg;
	return true;
}

/*
 * Work out from the instructions just before (hist[nhist - 1] is the one right
 * before `in`) what the receiver is made of. False when it is not a variable,
 * an attribute chain on one, or super().
 */
static bool receiver_of(int minor, const struct insn *in, enum bc_family family,
			const struct insn *hist, int nhist, struct recv *r)
{
	memset(r, 0, sizeof(*r));
	if (family == BC_LOAD_GLOBAL) {
		/* the global is its own receiver */
		r->nvars = 1;
		r->vars[0] = (struct var){ SP_NAME, minor >= 11 ? in->oparg >> 1 : in->oparg };
		return true;
	}
	r->consumers[r->nconsumers++] = in->start;
	if (family == BC_LOAD_SUPER_ATTR) {
		/* stack: global super, class, self; the receiver depends on the last two */
		if (nhist < 2 || !pushed_var(minor, &hist[nhist - 1], &r->vars[1]) ||
		    !pushed_var(minor, &hist[nhist - 2], &r->vars[0]))
			return false;
		r->nvars = 2;
		r->consumers[r->nconsumers++] = hist[nhist - 1].start;
		r->super_form = true;
		r->super_args = in->oparg & 2;
		return true;
	}
	for (int k = nhist - 1; k >= 0; k--) {
		const struct insn *p = &hist[k];

		if (pushed_var(minor, p, &r->vars[0])) {
			r->nvars = 1;
			/* links were collected outermost first: reverse them */
			for (int i = 0; i < r->nlinks / 2; i++) {
				uint32_t t = r->links[i];

				r->links[i] = r->links[r->nlinks - 1 - i];
				r->links[r->nlinks - 1 - i] = t;
			}
			return true;
		}
		if (r->nlinks == CHAIN_MAX || !attr_link(minor, p, &r->links[r->nlinks]))
			return false;
		r->nlinks++;
		r->consumers[r->nconsumers++] = p->start;
	}
	return false;
}

/* Target code unit of a jump; false for other instructions. */
static bool jump_target(const struct bc_version *v, const struct insn *in, uint64_t *t)
{
	uint64_t d = v->jump_bytes ? in->oparg / 2 : in->oparg;

	switch (in->kind) {
	case BCK_JUMP_ABS:
		*t = d;
		return true;
	case BCK_JUMP_FWD:
		*t = in->end + d;
		return true;
	case BCK_JUMP_BACK:
		if (d > in->end)
			return false;
		*t = in->end - d;
		return true;
	default:
		return false;
	}
}

/* Appends s to buf (cap bytes); false when it did not fit whole (cut at a UTF-8 boundary). */
static bool append(char *buf, size_t cap, const char *s)
{
	size_t len = strlen(buf), n = strlen(s);

	if (len + n < cap) {
		memcpy(buf + len, s, n + 1);
		return true;
	}
	n = cap - 1 - len;
	memcpy(buf + len, s, n);
	len += n;
	if (((unsigned char)s[n] & 0xc0) == 0x80) {
		/* cut inside a sequence: drop its continuation bytes and lead byte */
		while (len > 0 && ((unsigned char)buf[len - 1] & 0xc0) == 0x80)
			len--;
		if (len > 0 && ((unsigned char)buf[len - 1] & 0xc0) == 0xc0)
			len--;
	}
	buf[len] = '\0';
	return false;
}

/* Source name of a variable load; NULL when unknown. */
static const char *var_name(const struct var *v, bc_name_fn name, void *ctx)
{
	if (v->space == SP_DEREF)
		return "<closure>";	/* <= 3.10: co_cellvars + co_freevars, not a table we get */
	return name(ctx, v->space == SP_FAST ? BC_LOCALS : BC_NAMES, v->idx);
}

/* Writes the receiver as source into out; "" when a name is unknown. */
static void receiver_text(const struct recv *r, bc_name_fn name, void *ctx, char *out, size_t cap)
{
	const char *s;

	out[0] = '\0';
	if (r->super_form && !r->super_args) {
		append(out, cap, "super()");
		return;
	}
	if (r->super_form) {
		append(out, cap, "super(");
		s = var_name(&r->vars[0], name, ctx);
		if (!s || !*s || !append(out, cap, s) || !append(out, cap, ", "))
			goto unknown;
		s = var_name(&r->vars[1], name, ctx);
		if (!s || !*s)
			goto unknown;
		if (append(out, cap, s))
			append(out, cap, ")");
		return;
	}
	s = var_name(&r->vars[0], name, ctx);
	if (!s || !*s)
		goto unknown;
	if (!append(out, cap, s))
		return;
	for (int i = 0; i < r->nlinks; i++) {
		s = name(ctx, BC_NAMES, r->links[i]);
		if (!s || !*s)
			goto unknown;
		if (!append(out, cap, ".") || !append(out, cap, s))
			return;
	}
	return;
unknown:
	out[0] = '\0';
}

const char *bytecode_family_name(enum bc_family f)
{
	switch (f) {
	case BC_LOAD_ATTR:
		return "load_attr";
	case BC_LOAD_METHOD:
		return "load_method";
	case BC_STORE_ATTR:
		return "store_attr";
	case BC_DELETE_ATTR:
		return "delete_attr";
	case BC_LOAD_GLOBAL:
		return "load_global";
	case BC_LOAD_SUPER_ATTR:
		return "load_super_attr";
	default:
		return "";
	}
}

/*
 * Loop and receiver analysis of the instruction `in`, found by the caller's
 * walk: pass 1 over the whole code for jumps (loops around `in`, jumps into the
 * receiver's expression), pass 2 over the loop for rebinding stores. Returns
 * false when a jump lands inside the receiver's expression: then the
 * instructions before `in` need not be what pushed its receiver.
 */
static bool analyse_loop(const struct bc_version *v, const uint8_t *code, uint32_t n,
			 const struct insn *in, bool have_recv, const struct recv *r,
			 struct bc_spot *out)
{
	struct walk w;
	struct insn j;
	uint64_t t;
	bool entered = false, rebound = false;

	walk_init(&w, v, code, n);
	while (walk_next(&w, &j) && !opaque(j.kind)) {
		if (!jump_target(v, &j, &t))
			continue;
		for (int i = 0; have_recv && i < r->nconsumers; i++)
			entered |= t == r->consumers[i];
		if (j.index >= in->index && t <= in->start &&
		    (!out->in_loop || j.index - t < out->loop_end - out->loop_start)) {
			out->in_loop = true;
			out->loop_start = (uint32_t)t;
			out->loop_end = j.index;
		}
	}
	if (!have_recv || entered || !out->in_loop)
		return !entered;
	walk_init(&w, v, code, n);
	while (!rebound && walk_next(&w, &j) && j.index <= out->loop_end) {
		if (j.index < out->loop_start)
			continue;
		for (int i = 0; i < r->nvars; i++)
			rebound |= rebinds(v->minor, &j, &r->vars[i]);
		if (j.kind == BCK_STORE_ATTR || j.kind == BCK_DELETE_ATTR) {
			for (int i = 0; i < r->nlinks; i++)
				rebound |= j.oparg == r->links[i];
			/* o.count += 1: the loaded attribute itself changes, a local copy would go stale. */
			rebound |= (out->family == BC_LOAD_ATTR || out->family == BC_LOAD_METHOD) &&
				   out->name >= 0 && j.oparg == (uint32_t)out->name;
		}
	}
	out->invariant = !rebound;
	return true;
}

int bytecode_analyse(int minor, const uint8_t *code, size_t nunits, int64_t at, bc_name_fn name,
		     void *ctx, struct bc_spot *out)
{
	const struct bc_version *v = version_of(minor);
	struct insn hist[HIST], in;
	int nhist = 0;
	uint32_t idx = 0;
	struct walk w;
	struct recv r;
	bool have_recv;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->name = -1;
	if (!v)
		return -ENOTSUP;
	if (!code || at < 0 || (uint64_t)at >= nunits || nunits > INT32_MAX)
		return -EINVAL;

	walk_init(&w, v, code, (uint32_t)nunits);
	for (;;) {
		if (!walk_next(&w, &in))
			return -EINVAL;	/* at is on EXTENDED_ARG prefixes ending the code */
		if ((uint64_t)at < in.end || opaque(in.kind))
			break;
		if (nhist == HIST)
			memmove(hist, hist + 1, sizeof(hist) - sizeof(hist[0]));
		else
			nhist++;
		hist[nhist - 1] = in;
	}
	if (opaque(in.kind)) {
		/* span unknown: at is on it (its fields are right), in its caches, or after it */
		if ((uint64_t)at <= in.index) {
			out->start = in.start;
			out->index = in.index;
			out->opcode = in.opcode;
			out->oparg = in.oparg;
		}
		return -EINVAL;
	}
	out->start = in.start;
	out->index = in.index;
	out->opcode = in.opcode;
	out->oparg = in.oparg;
	out->makes = (enum bc_makes)v->ops[in.opcode].makes;
	out->family = family_of(minor, &in, &idx);
	if (out->family == BC_NONE)
		return -ENOENT;
	if (idx > INT32_MAX) {
		out->family = BC_NONE;
		return -EINVAL;	/* more names than a tuple holds: not real code */
	}
	out->name = (int32_t)idx;

	have_recv = receiver_of(minor, &in, out->family, hist, nhist, &r);
	if (analyse_loop(v, code, (uint32_t)nunits, &in, have_recv, &r, out) && have_recv && name)
		receiver_text(&r, name, ctx, out->receiver, sizeof(out->receiver));
	return 0;
}
