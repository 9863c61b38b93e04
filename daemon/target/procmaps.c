// SPDX-License-Identifier: MIT
/* The target's mappings, and the files behind them as the target sees them (procmaps.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procmaps.h"

#define DELETED " (deleted)"

int procmaps__parse_line(const char *line, struct procmap *m)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	int n = 0;
	size_t len;
	const char *path;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, m->perms, &off, &maj, &min,
		   &ino, &n) != 7 || start > end || strlen(m->perms) != 4)
		return -EINVAL;
	m->start = start;
	m->end = end;
	m->off = off;
	m->dev_major = maj;
	m->dev_minor = min;
	m->ino = ino;
	for (path = line + n; *path == ' ' || *path == '\t'; path++)
		;
	len = strcspn(path, "\n");
	if (len >= sizeof(m->path))
		return -EINVAL;
	memcpy(m->path, path, len);
	m->path[len] = 0;
	if (len > strlen(DELETED) && !strcmp(m->path + len - strlen(DELETED), DELETED)) {
		m->path[len - strlen(DELETED)] = 0;
		m->deleted = true;
	}
	return 0;
}

int procmaps__open(struct procmaps *pm, pid_t pid)
{
	char fn[64];

	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
	pm->f = fopen(fn, "re");
	return pm->f ? 0 : -errno;
}

int procmaps__next(struct procmaps *pm, struct procmap *m)
{
	while (fgets(pm->line, sizeof(pm->line), pm->f)) {
		size_t len = strlen(pm->line);

		/* A line longer than the buffer: skip its rest, and it. */
		if (len && pm->line[len - 1] != '\n' && !feof(pm->f)) {
			int c;

			while ((c = fgetc(pm->f)) != EOF && c != '\n')
				;
			continue;
		}
		if (procmaps__parse_line(pm->line, m) == 0)
			return 0;
	}
	return ferror(pm->f) ? -(errno ? errno : EIO) : -ENOENT;
}

void procmaps__close(struct procmaps *pm)
{
	if (pm->f)
		fclose(pm->f);
	pm->f = NULL;
}

const char *procmaps_via_name(enum procmaps_via via)
{
	switch (via) {
	case VIA_MAP_FILES:
		return "map_files";
	case VIA_ROOT:
		return "root";
	case VIA_HOST:
		return "host";
	}
	return "?";
}

/* Open fn if it is a regular file and, when the mapping names an inode, that inode. */
static int open_checked(const char *fn, const struct procmap *m)
{
	struct stat st;
	int fd = open(fn, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (m->ino && st.st_ino != m->ino)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int procmaps__open_file(pid_t pid, const struct procmap *m, char *kpath, size_t klen,
			enum procmaps_via *via)
{
	char fn[PATH_MAX + 32];
	int fd, stale = 0;
	struct stat st;

	if (m->path[0] != '/')
		return -ENOENT;
	/* The mapped file itself, whatever became of its name. */
	snprintf(fn, sizeof(fn), "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)m->start,
		 (unsigned long long)m->end);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			if (kpath)
				snprintf(kpath, klen, "%s", fn);
			if (via)
				*via = VIA_MAP_FILES;
			return fd;
		}
		close(fd);
	}
	if (fd < 0 && (errno == ESRCH || (errno == ENOENT && kill(pid, 0) && errno == ESRCH)))
		return -ESRCH;
	/* Without map_files: the path in the target's root, then as the host sees it. */
	for (int i = 0; i < 2; i++) {
		if (i == 0 && snprintf(fn, sizeof(fn), "/proc/%d/root%s", (int)pid, m->path) >= (int)sizeof(fn))
			continue;
		if (i == 1)
			snprintf(fn, sizeof(fn), "%s", m->path);
		fd = open_checked(fn, m);
		if (fd >= 0) {
			if (kpath)
				snprintf(kpath, klen, "%s", fn);
			if (via)
				*via = i == 0 ? VIA_ROOT : VIA_HOST;
			return fd;
		}
		if (fd == -ESTALE)
			stale = 1;
	}
	return m->deleted || stale ? -ESTALE : -ENOENT;
}
