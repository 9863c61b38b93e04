/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_UMLINK_H
#define PYPROBED_UMLINK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * uprobe_multi links (Linux 6.6): libbpf 1.1 has no API for them, nor do the
 * uapi headers of the machines it ships on, so the bpf() request is built
 * from the layout the running kernel's BTF gives for union bpf_attr. Offsets
 * in bytes; ok when every field was found.
 */
struct um_layout {
	bool ok;
	uint32_t attach_type;	/* BPF_TRACE_UPROBE_MULTI */
	uint32_t return_flag;	/* BPF_F_UPROBE_MULTI_RETURN */
	size_t size;		/* of union bpf_attr */
	size_t prog_fd, attach, path, offsets, ref_ctr_offsets, cookies, cnt, flags, pid;
};

/* The layout from the running kernel's BTF: 0, or -EOPNOTSUPP (no uprobe_multi). */
int umlink_layout(struct um_layout *um);

/* One uprobe_multi link: a program, the process, a file and n sites with their cookies. */
struct umlink_req {
	int prog_fd;
	pid_t pid;
	const char *path;
	const uint64_t *offsets, *ref_ctr_offsets, *cookies;	/* ref_ctr_offsets may be NULL */
	size_t n;
	bool ret;		/* return probes */
};

/*
 * The bpf_attr bytes of the BPF_LINK_CREATE request for r, into buf (of len
 * bytes, at least um->size). Pure: returns the size to pass, or -EINVAL.
 */
int umlink_build(const struct um_layout *um, const struct umlink_req *r, void *buf, size_t len);
/* Make the link: its fd (the caller closes it) or -errno. */
int umlink_create(const struct um_layout *um, const struct umlink_req *r);

#endif
