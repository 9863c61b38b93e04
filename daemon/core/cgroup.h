/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_CGROUP_H
#define PYPROBED_CGROUP_H
#include <stdbool.h>
#include <stddef.h>

/*
 * What the text of /proc/PID/cgroup says, pure: one "ID:CONTROLLERS:PATH"
 * line per hierarchy (cgroup v2: the one line "0::PATH"; hybrid hosts have
 * both). Paths are as the reader's cgroup namespace shows them.
 */

/* The process's cgroup: the v2 line's path, else the first line's; "" when there is none. */
void cgroup_path(const char *text, char *out, size_t len);

/*
 * Does the process belong to unit, the way systemd decides it: in a path
 * of any line, the slices come first and the first component that is not
 * a slice is the unit owning the process. So "web.service" does not match
 * a user's web.service nested under user@1000.service, and "batch.slice"
 * matches every unit inside it.
 */
bool cgroup_in_unit(const char *text, const char *unit);

/* The unit owning a process in cgroup path (cgroup_path's): the first component that is not a slice. */
bool cgroup_unit(const char *path, char *out, size_t len);

/*
 * Is the process in cgroup path or below it, on any line: "/a/b" matches
 * "/a/b" and "/a/b/c", not "/a/bc". A path with glob characters matches as
 * a glob (fnmatch, '/' only matched by '/') against the whole path or any
 * of its ancestors. "/" matches everything.
 */
bool cgroup_under(const char *text, const char *path);

/*
 * The container the process runs in, as runtimes name their cgroups: a
 * component of 64 hexadecimal digits, alone (Docker's cgroupfs driver,
 * Kubernetes) or as "docker-", "libpod-", "cri-containerd-", "crio-" ...
 * "ID.scope" (systemd driver). The innermost such component of the
 * process's cgroup (cgroup_path) wins. Writes the 64 digits into out
 * (len >= 65) and returns true, else writes "" and returns false.
 */
bool cgroup_container_id(const char *text, char *out, size_t len);

#endif
