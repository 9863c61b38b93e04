// SPDX-License-Identifier: MIT
/*
 * Code objects to file / function / line, read from the target's memory.
 * Everything read is untrusted: sizes are bounded, strings checked, tables
 * decoded without ever leaving their buffer. Entries are keyed by the code
 * object's address and re-validated on every use (first line and file-name
 * pointer), so a freed and reused address is noticed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bytecode.h"
#include "pyinspect.h"
#include "pyoffsets.h"
#include "tmem.h"
#include "pysym.h"

#define CACHE_SIZE 4096		/* entries, power of two */
#define MAX_STR 512
#define MAX_TABLE 65536
#define MAX_NAMES (1 << 20)	/* entries of a names tuple worth indexing */
#define MAX_CODE_BYTES (8 << 20)	/* code units kept for all entries together */
#define NSCRATCH 4

struct entry {
	uint64_t code;		/* 0: empty */
	uint64_t filename_ptr;
	int firstline;
	int notcode;		/* 3.13: f_executable that is not a code object */
	char *file, *func;
	uint8_t *table;
	size_t ntable;
	uint8_t *bc;		/* the code units, read on the first pysym__attr; NULL before */
	size_t nunits;
	int bc_failed;		/* reading them failed: do not try again */
	/*
	 * The last instruction pysym__attr decoded here and its answer: hot
	 * loops are sampled on the same few instructions, and decoding walks
	 * the code and reads names from the target. memo_at is at + 1, 0 none.
	 */
	int64_t memo_at;
	int memo_err;
	struct pyattr memo;	/* name and receiver point into memo_name, memo_recv */
	char *memo_name, *memo_recv;
};

/*
 * Names of evicted entries outlive them: a stack's frames are resolved one
 * after the other, and two code objects of one stack may share a cache slot,
 * so the second would free the first's names while the caller still holds
 * them (found by tests/bats/090-hostile.bats under ASan). Each call evicts at
 * most one entry; names are freed RETIRED / 2 evictions later.
 */
#define RETIRED (4 * PP_MAX_FRAMES)

struct pysym {
	pid_t pid;
	const struct pyinfo *py;
	const struct py_offsets *o;
	uint64_t code_type;	/* PyCode_Type, learned from the first code object */
	char *retired[RETIRED];
	unsigned int nretired;
	char *scratch[NSCRATCH];	/* names read for pysym__attr, reused in turn */
	unsigned int nscratch;
	const struct entry *cur;	/* the entry bytecode_analyse asks names of */
	size_t code_bytes;		/* held in entries' bc: a target chooses how large its code is */
	struct entry cache[CACHE_SIZE];
};

struct pysym *pysym__new(pid_t pid, const struct pyinfo *py)
{
	struct pysym *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->pid = pid;
	ps->py = py;
	ps->o = py->off;
	return ps;
}

static void entry_clear(struct entry *e)
{
	free(e->file);
	free(e->func);
	free(e->table);
	free(e->bc);
	free(e->memo_name);
	free(e->memo_recv);
	memset(e, 0, sizeof(*e));
}

/* Evict e; its names stay valid for RETIRED / 2 more evictions. */
static void entry_retire(struct pysym *ps, struct entry *e)
{
	char *names[2] = { e->file, e->func };

	if (e->bc)
		ps->code_bytes -= e->nunits * 2;

	for (int i = 0; i < 2; i++) {
		char **slot = &ps->retired[ps->nretired++ % RETIRED];

		free(*slot);
		*slot = names[i];
	}
	e->file = e->func = NULL;
	entry_clear(e);
}

void pysym__free(struct pysym *ps)
{
	if (!ps)
		return;
	for (int i = 0; i < CACHE_SIZE; i++)
		entry_clear(&ps->cache[i]);
	for (int i = 0; i < RETIRED; i++)
		free(ps->retired[i]);
	for (int i = 0; i < NSCRATCH; i++)
		free(ps->scratch[i]);
	free(ps);
}

/*
 * Append code point c as UTF-8. Surrogates (lone ones are legal in a str:
 * surrogateescape'd file names) and values past U+10FFFF become U+FFFD: the
 * names end up in JSON, which refuses what is not UTF-8.
 */
static size_t put_utf8(char *out, size_t pos, size_t cap, uint32_t c)
{
	if ((c >= 0xd800 && c <= 0xdfff) || c >= 0x110000)
		c = 0xfffd;
	if (c < 0x80 && pos + 1 < cap) {
		out[pos++] = c;
	} else if (c < 0x800 && pos + 2 < cap) {
		out[pos++] = 0xc0 | (c >> 6);
		out[pos++] = 0x80 | (c & 0x3f);
	} else if (c < 0x10000 && pos + 3 < cap) {
		out[pos++] = 0xe0 | (c >> 12);
		out[pos++] = 0x80 | ((c >> 6) & 0x3f);
		out[pos++] = 0x80 | (c & 0x3f);
	} else if (c >= 0x10000 && pos + 4 < cap) {
		out[pos++] = 0xf0 | (c >> 18);
		out[pos++] = 0x80 | ((c >> 12) & 0x3f);
		out[pos++] = 0x80 | ((c >> 6) & 0x3f);
		out[pos++] = 0x80 | (c & 0x3f);
	}
	return pos;
}

/* A compact str object as a malloc'ed UTF-8 string (truncated to MAX_STR code points). */
static char *read_str(struct pysym *ps, uint64_t obj)
{
	const struct py_offsets *o = ps->o;
	uint32_t state = 0;
	int64_t len = 0;
	unsigned kind;
	uint8_t raw[MAX_STR * 4];
	char *out;
	size_t pos = 0;

	if (!obj || tmem_read(ps->pid, obj + o->unicode_state, &state, sizeof(state)) ||
	    tmem_read(ps->pid, obj + o->unicode_length, &len, sizeof(len)) || len < 0)
		return NULL;
	if (!(state & 0x20))	/* not compact: never the case for names; refuse */
		return NULL;
	kind = (state >> 2) & 7;
	if (kind != 1 && kind != 2 && kind != 4)
		return NULL;
	if (len > MAX_STR)
		len = MAX_STR;
	if (len && tmem_read(ps->pid, obj + ((state & 0x40) ? o->unicode_ascii_size : o->unicode_compact_size),
			     raw, len * kind))
		return NULL;
	out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? raw[i] : kind == 2 ? ((uint16_t *)raw)[i] : ((uint32_t *)raw)[i];

		pos = put_utf8(out, pos, len * 4 + 1, c ? c : '?');
	}
	out[pos] = 0;
	return out;
}

/* A bytes object's contents (bounded). */
static uint8_t *read_bytes(struct pysym *ps, uint64_t obj, size_t *n)
{
	int64_t size = 0;
	uint8_t *buf;

	*n = 0;
	if (!obj || tmem_read(ps->pid, obj + ps->o->var_size, &size, sizeof(size)) || size < 0 ||
	    size > MAX_TABLE)
		return NULL;
	buf = malloc(size ? size : 1);
	if (!buf || (size && tmem_read(ps->pid, obj + ps->o->bytes_sval, buf, size))) {
		free(buf);
		return NULL;
	}
	*n = size;
	return buf;
}

static int is_code(struct pysym *ps, uint64_t code)
{
	uint64_t type = 0, name_ptr = 0;
	char name[8] = {};

	if (tmem_read_u64(ps->pid, code + ps->o->object_type, &type) || !type)
		return 0;
	if (ps->code_type)
		return type == ps->code_type;
	if (tmem_read_u64(ps->pid, type + ps->o->type_name, &name_ptr) ||
	    tmem_read(ps->pid, name_ptr, name, sizeof(name) - 1) || strcmp(name, "code") != 0)
		return 0;
	ps->code_type = type;
	return 1;
}

static int fill(struct pysym *ps, struct entry *e, uint64_t code)
{
	const struct py_offsets *o = ps->o;
	uint64_t name = 0, table = 0;
	int32_t first = 0;

	entry_retire(ps, e);
	e->code = code;
	if (ps->py->minor >= 13 && !is_code(ps, code)) {
		e->notcode = 1;
		return 0;
	}
	if (tmem_read_u64(ps->pid, code + o->code_filename, &e->filename_ptr) ||
	    tmem_read(ps->pid, code + o->code_firstlineno, &first, sizeof(first)) ||
	    tmem_read_u64(ps->pid, code + (o->code_qualname >= 0 ? o->code_qualname : o->code_name), &name) ||
	    tmem_read_u64(ps->pid, code + o->code_linetable, &table))
		goto bad;
	e->firstline = first;
	e->file = read_str(ps, e->filename_ptr);
	e->func = read_str(ps, name);
	e->table = read_bytes(ps, table, &e->ntable);
	if (!e->file || !e->func)
		goto bad;
	return 0;
bad:
	entry_clear(e);
	return -EFAULT;
}

/* Line arithmetic on untrusted tables: wrap instead of overflowing, report 0 when absurd. */
static int64_t add_wrap(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int line_ok(int64_t line)
{
	return line < 0 || line > INT32_MAX ? 0 : (int)line;
}

int pysym_line_lnotab(const uint8_t *t, size_t n, int firstline, int64_t off)
{
	int64_t line = firstline, addr = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		addr += t[i];
		if (addr > off)
			break;
		line += (int8_t)t[i + 1];
	}
	return line_ok(line);
}

int pysym_line_linetable310(const uint8_t *t, size_t n, int firstline, int64_t off)
{
	int64_t line = firstline, start = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		int64_t end = start + t[i];
		int8_t ld = (int8_t)t[i + 1];

		if (ld != -128)
			line += ld;
		if (off >= start && off < end)
			return ld == -128 ? 0 : line_ok(line);
		start = end;
	}
	return 0;
}

/*
 * Varints of the 3.11+ location table: 6-bit groups, 0x40 continues. Garbage
 * can make them as long as it likes: unsigned arithmetic, and no group past
 * the 64th bit (found by tests/fuzz/fuzz_linetable.c).
 */
static uint64_t varint(const uint8_t *t, size_t n, size_t *i)
{
	uint64_t v = 0;
	int shift = 0;

	while (*i < n) {
		uint8_t b = t[(*i)++];

		if (shift < 64)
			v |= (uint64_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40))
			break;
	}
	return v;
}

static int64_t svarint(const uint8_t *t, size_t n, size_t *i)
{
	uint64_t v = varint(t, n, i);

	return (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

int pysym_line_locations(const uint8_t *t, size_t n, int firstline, int64_t unit)
{
	int64_t line = firstline, start = 0;
	size_t i = 0;

	while (i < n) {
		uint8_t b = t[i++];
		int code = (b >> 3) & 15, len = (b & 7) + 1, has_line = 1;

		if (!(b & 0x80))
			return 0;	/* not at an entry start: the table is not what we think */
		if (code == 15) {
			has_line = 0;
		} else if (code == 14) {
			line = add_wrap(line, svarint(t, n, &i));
			varint(t, n, &i);
			varint(t, n, &i);
			varint(t, n, &i);
		} else if (code == 13) {
			line = add_wrap(line, svarint(t, n, &i));
		} else if (code >= 10) {
			line = add_wrap(line, code - 10);
			i += 2;
		} else {
			i += 1;
		}
		if (unit >= start && unit < start + len)
			return has_line ? line_ok(line) : 0;
		start += len;
	}
	return 0;
}

int pysym__resolve(struct pysym *ps, uint64_t code, uint64_t instr, struct pyframe *out)
{
	const struct py_offsets *o = ps->o;
	struct entry *e = &ps->cache[(code >> 4) & (CACHE_SIZE - 1)];
	uint64_t fptr = 0, base, units;
	int32_t first = 0;
	int64_t lasti;
	int minor = ps->py->minor;

	memset(out, 0, sizeof(*out));
	if (!code)
		return -ENOENT;
	/* A cached entry is only trusted while the object still looks the same. */
	if (e->code == code && !e->notcode &&
	    (tmem_read_u64(ps->pid, code + o->code_filename, &fptr) ||
	     tmem_read(ps->pid, code + o->code_firstlineno, &first, sizeof(first)) || fptr != e->filename_ptr ||
	     first != e->firstline))
		e->code = 0;
	if (e->code != code && fill(ps, e, code))
		return -EFAULT;
	if (e->notcode)
		return -ENOENT;
	out->file = e->file;
	out->func = e->func;
	out->firstline = e->firstline;
	if (minor <= 10) {
		/* f_lasti is an int: the sampler sign-extends it; anything wider is not one. */
		lasti = (int32_t)instr;
		out->line = minor <= 9 ? pysym_line_lnotab(e->table, e->ntable, e->firstline, lasti) :
			    pysym_line_linetable310(e->table, e->ntable, e->firstline, 2 * lasti);
	} else {
		/*
		 * Code units from co_code_adaptive to the instruction pointer. Both are
		 * untrusted 64-bit values: unsigned arithmetic (the difference of two
		 * addresses overflows int64_t, found by tests/bats/090-hostile.bats),
		 * and an instruction before the code counts as its first unit.
		 */
		base = code + (uint64_t)o->code_code_adaptive;
		units = instr >= base ? (instr - base) / 2 : 0;
		out->line = pysym_line_locations(e->table, e->ntable, e->firstline, (int64_t)units);
	}
	return 0;
}

/* The code units of e, as they are now (3.11+: quickened; specialisation keeps each instruction's family). */
static int load_code(struct pysym *ps, struct entry *e)
{
	const struct py_offsets *o = ps->o;
	uint64_t obj = 0;
	int64_t units = 0;
	size_t n;

	if (e->bc)
		return 0;
	if (e->bc_failed)
		return -EFAULT;
	if (ps->code_bytes >= MAX_CODE_BYTES)
		return -ENOSPC;	/* tried again once older entries are evicted */
	e->bc_failed = 1;
	if (ps->py->minor <= 10) {
		if (o->code_code < 0 || tmem_read_u64(ps->pid, e->code + o->code_code, &obj))
			return -EFAULT;
		e->bc = read_bytes(ps, obj, &n);
		if (!e->bc || n < 2) {
			free(e->bc);
			e->bc = NULL;
			return -EFAULT;
		}
		e->nunits = n / 2;
	} else {
		if (o->code_code_adaptive < 0 || o->code_ob_size < 0 ||
		    tmem_read(ps->pid, e->code + o->code_ob_size, &units, sizeof(units)) || units <= 0 ||
		    units > MAX_TABLE / 2)
			return -EFAULT;
		e->bc = malloc(units * 2);
		if (!e->bc || tmem_read(ps->pid, e->code + o->code_code_adaptive, e->bc, units * 2)) {
			free(e->bc);
			e->bc = NULL;
			return -EFAULT;
		}
		e->nunits = units;
	}
	e->bc_failed = 0;
	ps->code_bytes += e->nunits * 2;
	return 0;
}

/* Entry idx of a tuple of str in the code object being analysed, into a scratch buffer. */
static const char *code_name(void *ctx, enum bc_table t, uint32_t idx)
{
	struct pysym *ps = ctx;
	const struct py_offsets *o = ps->o;
	int off = t == BC_NAMES ? o->code_names : o->code_varnames;
	uint64_t tuple = 0, item = 0;
	int64_t size = 0;
	char **slot;

	if (off <= 0 || !ps->cur || tmem_read_u64(ps->pid, ps->cur->code + off, &tuple) || !tuple ||
	    tmem_read(ps->pid, tuple + o->var_size, &size, sizeof(size)) || size < 0 || size > MAX_NAMES ||
	    idx >= size || tmem_read_u64(ps->pid, tuple + o->tuple_item + 8 * (uint64_t)idx, &item))
		return NULL;
	slot = &ps->scratch[ps->nscratch++ % NSCRATCH];
	free(*slot);
	*slot = read_str(ps, item);
	return *slot;
}

/* Line of code unit `unit` of e (0 when unknown). */
static int unit_line(const struct pysym *ps, const struct entry *e, int64_t unit)
{
	int minor = ps->py->minor;

	if (minor <= 9)
		return pysym_line_lnotab(e->table, e->ntable, e->firstline, 2 * unit);
	if (minor == 10)
		return pysym_line_linetable310(e->table, e->ntable, e->firstline, 2 * unit);
	return pysym_line_locations(e->table, e->ntable, e->firstline, unit);
}

int pysym__attr(struct pysym *ps, uint64_t code, uint64_t instr, struct pyattr *out)
{
	struct entry *e = &ps->cache[(code >> 4) & (CACHE_SIZE - 1)];
	int minor = ps->py->minor, err;
	struct bc_spot spot;
	struct pyframe f;
	int64_t at;
	const char *name;

	memset(out, 0, sizeof(*out));
	err = pysym__resolve(ps, code, instr, &f);	/* validates (or fills) the entry */
	if (err)
		return err;
	if (e->code != code)
		return -EFAULT;
	err = load_code(ps, e);
	if (err)
		return err;
	if (minor <= 10) {
		int32_t lasti = (int32_t)instr;

		if (lasti < 0)
			return -ENOENT;	/* not started */
		at = minor <= 9 ? lasti / 2 : lasti;
	} else {
		uint64_t base = code + (uint64_t)ps->o->code_code_adaptive;

		if (instr < base)
			return -ENOENT;
		at = (int64_t)((instr - base) / 2);
	}
	if (e->memo_at != at + 1) {
		ps->cur = e;
		err = bytecode_analyse(minor, e->bc, e->nunits, at, code_name, ps, &spot);
		name = !err && spot.name >= 0 ? code_name(ps, BC_NAMES, spot.name) : NULL;
		ps->cur = NULL;
		free(e->memo_name);
		free(e->memo_recv);
		e->memo_name = name ? strdup(name) : NULL;
		e->memo_recv = err ? NULL : strdup(spot.receiver);
		e->memo = (struct pyattr){ .family = spot.family, .in_loop = spot.in_loop,
					   .invariant = spot.invariant, .makes = spot.makes };
		if (!err && spot.in_loop)
			e->memo.loop_line = unit_line(ps, e, spot.loop_start);
		if (!err && !e->memo_recv)
			err = -ENOMEM;
		e->memo_err = err;
		e->memo_at = err == -ENOMEM ? 0 : at + 1;
	}
	if (e->memo_err) {
		out->makes = e->memo.makes;	/* what another instruction makes */
		return e->memo_err;
	}
	*out = e->memo;
	out->name = e->memo_name ? e->memo_name : "?";
	out->receiver = e->memo_recv;
	return 0;
}
