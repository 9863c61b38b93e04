// SPDX-License-Identifier: MIT
/* uprobe_multi links through the bpf() system call (umlink.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/btf.h>
#include "umlink.h"

#define UMLINK_MAX_SITES 64

/* Bit offset of member name in type id, looking into anonymous members; -1 when absent. */
static long member_bits(const struct btf *btf, __u32 id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	const struct btf_member *m;

	if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
		return -1;
	m = btf_members(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);
		long inner;

		if (n && *n && !strcmp(n, name))
			return btf_member_bit_offset(t, i);
		if ((!n || !*n) && (inner = member_bits(btf, m->type, name)) >= 0)
			return btf_member_bit_offset(t, i) + inner;
	}
	return -1;
}

/* The type of member name (found as member_bits does), or 0. */
static __u32 member_type(const struct btf *btf, __u32 id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	const struct btf_member *m;

	if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
		return 0;
	m = btf_members(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);
		__u32 inner;

		if (n && *n && !strcmp(n, name))
			return m->type;
		if ((!n || !*n) && (inner = member_type(btf, m->type, name)))
			return inner;
	}
	return 0;
}

static bool enum_value(const struct btf *btf, const char *type, const char *name, uint32_t *out)
{
	__s32 id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_enum *e;

	if (!t)
		return false;
	e = btf_enum(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, e++) {
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name)) {
			*out = e->val;
			return true;
		}
	}
	return false;
}

/*
 * The link_create part of union bpf_attr and its uprobe_multi member, from
 * the running kernel's BTF. Not ok on kernels without uprobe_multi.
 */
int umlink_layout(struct um_layout *um)
{
	struct btf *btf = btf__load_vmlinux_btf();
	__s32 attr = btf ? btf__find_by_name_kind(btf, "bpf_attr", BTF_KIND_UNION) : -1;
	__u32 lc, um_t;
	long base, b;
	const char *fields[] = { "path", "offsets", "ref_ctr_offsets", "cookies", "cnt", "flags", "pid" };
	size_t *outs[] = { &um->path, &um->offsets, &um->ref_ctr_offsets, &um->cookies, &um->cnt, &um->flags,
			   &um->pid };

	memset(um, 0, sizeof(*um));
	if (attr <= 0 || !enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI", &um->attach_type))
		goto out;
	um->return_flag = 1;	/* BPF_F_UPROBE_MULTI_RETURN: an anonymous enum, stable since 6.6 */
	/* link_create: prog_fd, attach_type and, in its per-type union, uprobe_multi. */
	base = member_bits(btf, attr, "link_create");
	lc = member_type(btf, attr, "link_create");
	if (base < 0 || base % 8 || !lc)
		goto out;
	um->size = btf__resolve_size(btf, attr);
	b = member_bits(btf, lc, "prog_fd");
	if (b < 0 || b % 8)
		goto out;
	um->prog_fd = (base + b) / 8;
	b = member_bits(btf, lc, "attach_type");
	if (b < 0 || b % 8)
		goto out;
	um->attach = (base + b) / 8;
	b = member_bits(btf, lc, "uprobe_multi");
	um_t = member_type(btf, lc, "uprobe_multi");
	if (b < 0 || b % 8 || !um_t)
		goto out;
	base += b;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		b = member_bits(btf, um_t, fields[i]);
		if (b < 0 || b % 8)
			goto out;
		*outs[i] = (base + b) / 8;
	}
	um->ok = um->size > um->pid + 4;
out:
	btf__free(btf);
	return um->ok ? 0 : -EOPNOTSUPP;
}

static void put32(char *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static void put64(char *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

int umlink_build(const struct um_layout *um, const struct umlink_req *r, void *buf, size_t len)
{
	char *attr = buf;

	if (!um->ok || um->size > len || !r->n || r->n > UMLINK_MAX_SITES || !r->path || !r->offsets ||
	    !r->cookies || r->prog_fd < 0)
		return -EINVAL;
	memset(attr, 0, um->size);
	put32(attr, um->prog_fd, (uint32_t)r->prog_fd);
	put32(attr, um->attach, um->attach_type);
	put64(attr, um->path, (uint64_t)(uintptr_t)r->path);
	put64(attr, um->offsets, (uint64_t)(uintptr_t)r->offsets);
	put64(attr, um->ref_ctr_offsets, (uint64_t)(uintptr_t)r->ref_ctr_offsets);
	put64(attr, um->cookies, (uint64_t)(uintptr_t)r->cookies);
	put32(attr, um->cnt, (uint32_t)r->n);
	put32(attr, um->flags, r->ret ? um->return_flag : 0);
	put32(attr, um->pid, (uint32_t)r->pid);
	return (int)um->size;
}

int umlink_create(const struct um_layout *um, const struct umlink_req *r)
{
	char attr[512];
	int size = umlink_build(um, r, attr, sizeof(attr)), fd;

	if (size < 0)
		return size;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, attr, size);
	return fd < 0 ? -errno : fd;
}
