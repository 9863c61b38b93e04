// SPDX-License-Identifier: MIT
/*
 * uprobe_multi requests: the bpf_attr layout read from the kernel's BTF (on
 * kernels that have the link type) and the bytes of the request built from it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "umlink.h"

static uint64_t get64(const char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, 8);
	return v;
}

static uint32_t get32(const char *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, 4);
	return v;
}

/* The request built from a layout: each field where the layout says. */
static void request_bytes(void)
{
	struct um_layout um = { .ok = true, .attach_type = 48, .return_flag = 1, .size = 168, .prog_fd = 0,
				.attach = 8, .path = 16, .offsets = 24, .ref_ctr_offsets = 32, .cookies = 40,
				.cnt = 48, .flags = 52, .pid = 56 };
	uint64_t offs[2] = { 0x1000, 0x2000 }, refs[2] = { 0, 0x3000 }, cookies[2] = { 1, 2 };
	struct umlink_req r = { 7, 4242, "/usr/bin/python3", offs, refs, cookies, 2, true };
	char buf[512];

	memset(buf, 0xa5, sizeof(buf));
	CHECK_INT(umlink_build(&um, &r, buf, sizeof(buf)), 168);
	CHECK_INT(get32(buf, 0), 7);
	CHECK_INT(get32(buf, 4), 0);	/* target_fd stays 0 */
	CHECK_INT(get32(buf, 8), 48);
	CHECK(get64(buf, 16) == (uint64_t)(uintptr_t)r.path, "path");
	CHECK(get64(buf, 24) == (uint64_t)(uintptr_t)offs, "offsets");
	CHECK(get64(buf, 32) == (uint64_t)(uintptr_t)refs, "ref_ctr_offsets");
	CHECK(get64(buf, 40) == (uint64_t)(uintptr_t)cookies, "cookies");
	CHECK_INT(get32(buf, 48), 2);
	CHECK_INT(get32(buf, 52), 1);
	CHECK_INT(get32(buf, 56), 4242);
	CHECK_INT(buf[167], 0);		/* the rest is zero */
	CHECK_INT((unsigned char)buf[168], 0xa5);	/* nothing past the size */
	r.ret = false;
	r.ref_ctr_offsets = NULL;
	CHECK_INT(umlink_build(&um, &r, buf, sizeof(buf)), 168);
	CHECK_INT(get32(buf, 52), 0);
	CHECK(get64(buf, 32) == 0, "no semaphores");
	/* Bad requests. */
	r.n = 0;
	CHECK_INT(umlink_build(&um, &r, buf, sizeof(buf)), -EINVAL);
	r.n = 65;
	CHECK_INT(umlink_build(&um, &r, buf, sizeof(buf)), -EINVAL);
	r.n = 1;
	CHECK_INT(umlink_build(&um, &r, buf, 100), -EINVAL);	/* buffer smaller than the attr */
	um.ok = false;
	CHECK_INT(umlink_build(&um, &r, buf, sizeof(buf)), -EINVAL);
}

/* This kernel's layout: the fields of struct { ... } uprobe_multi in link_create. */
static void kernel_layout(void)
{
	struct um_layout um;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		SKIP("no kernel BTF");
	}
	if (umlink_layout(&um) == -EOPNOTSUPP) {
		SKIP("this kernel has no uprobe_multi links");
	}
	CHECK(um.ok, "ok");
	CHECK_INT(um.attach_type, 48);	/* BPF_TRACE_UPROBE_MULTI since 6.6 */
	CHECK_INT(um.prog_fd, 0);
	CHECK_INT(um.attach, 8);
	CHECK_INT(um.path, 16);
	CHECK_INT(um.offsets, 24);
	CHECK_INT(um.ref_ctr_offsets, 32);
	CHECK_INT(um.cookies, 40);
	CHECK_INT(um.cnt, 48);
	CHECK_INT(um.flags, 52);
	CHECK_INT(um.pid, 56);
	CHECK(um.size >= 64, "size %zu", um.size);
}

int main(void)
{
	RUN(request_bytes);
	RUN(kernel_layout);
	return UNIT_EXIT();
}
