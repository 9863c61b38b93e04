/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_PROCMAPS_H
#define PYPROBED_PROCMAPS_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * The target's memory mappings (/proc/PID/maps), and the files behind them
 * opened the way the target sees them.
 *
 * A path in the maps is the file's path as the reader (the daemon, on the
 * host) sees it. That is the path inside the target's root when the target
 * is in a mount namespace whose root the host cannot reach (Docker, Podman,
 * Kubernetes), the host path when it is chrooted in the host's namespace,
 * and the old path of a file deleted or replaced since it was mapped
 * (" (deleted)"). So the path alone names no file reliably:
 * procmaps__open_file() opens the mapping's own file instead.
 */
struct procmap {
	uint64_t start, end, off;
	uint64_t ino;			/* 0 for anonymous mappings */
	unsigned int dev_major, dev_minor;
	char perms[5];			/* "r-xp" */
	bool deleted;			/* the path ended in " (deleted)", which is stripped */
	char path[PATH_MAX];		/* "" when anonymous; "[heap]" and the like kept */
};

/* One maps line (with or without its newline) into m: 0, or -EINVAL. Pure. */
int procmaps__parse_line(const char *line, struct procmap *m);

/* Reading a process's maps a line at a time. */
struct procmaps {
	FILE *f;
	char line[PATH_MAX + 128];
};

/* Open pid's maps: 0 or -errno (-ENOENT/-ESRCH: gone, -EACCES/-EPERM: not ours to read). */
int procmaps__open(struct procmaps *pm, pid_t pid);
/* The next mapping: 0, -ENOENT at the end, or -errno. Malformed lines are skipped. */
int procmaps__next(struct procmaps *pm, struct procmap *m);
void procmaps__close(struct procmaps *pm);

/* How procmaps__open_file() reached the file. */
enum procmaps_via {
	VIA_MAP_FILES,	/* /proc/PID/map_files/START-END: the mapped file itself */
	VIA_ROOT,	/* the path under /proc/PID/root: a container's own view */
	VIA_HOST,	/* the path as is: a chroot in the host's mount namespace */
};

/*
 * Open the file behind mapping m of process pid, read-only: through
 * map_files (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; reaches deleted
 * and replaced files and any namespace), else the path under the target's
 * root, else the path as the host sees it, the last two only when the
 * file's inode is the mapping's (a same-named file is not the mapped one).
 * Writes into kpath a path the kernel resolves to the same file (for
 * uprobes) and into *via how it got there, either may be NULL. Returns the
 * descriptor, or -errno: -ESTALE when the file was replaced or deleted and
 * only map_files could reach it, -ENOENT when no way found it.
 */
int procmaps__open_file(pid_t pid, const struct procmap *m, char *kpath, size_t klen,
			enum procmaps_via *via);

/* "map_files", "root", "host": for replies and logs. */
const char *procmaps_via_name(enum procmaps_via via);

#endif
