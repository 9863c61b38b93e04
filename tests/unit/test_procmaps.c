// SPDX-License-Identifier: MIT
/*
 * The maps reader: lines as the kernel writes them (anonymous, named,
 * deleted, blanks in the path, malformed); and opening a mapping's file on
 * this test's own mappings: a file deleted after it was mapped, through
 * map_files, and the fallbacks (the path under /proc/PID/root), which take
 * a file only when its inode is the mapping's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "procmaps.h"

static void parse_lines(void)
{
	struct procmap m;

	CHECK_INT(procmaps__parse_line("7f0000000000-7f0000021000 r-xp 00002000 fd:01 1234567      "
				       "/usr/lib/x86_64-linux-gnu/libc.so.6\n", &m), 0);
	CHECK_INT(m.start, 0x7f0000000000ULL);
	CHECK_INT(m.end, 0x7f0000021000ULL);
	CHECK_INT(m.off, 0x2000);
	CHECK_INT(m.dev_major, 0xfd);
	CHECK_INT(m.dev_minor, 1);
	CHECK_INT(m.ino, 1234567);
	CHECK_STR(m.perms, "r-xp");
	CHECK_STR(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	CHECK(!m.deleted, "not deleted");

	CHECK_INT(procmaps__parse_line("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0 ", &m), 0);
	CHECK_STR(m.path, "");
	CHECK_INT(m.ino, 0);
	CHECK_INT(procmaps__parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0                  [stack]", &m), 0);
	CHECK_STR(m.path, "[stack]");

	CHECK_INT(procmaps__parse_line("400000-401000 r-xp 00000000 08:02 42 /opt/my py/lib/libpython3.12.so.1.0 (deleted)",
				       &m), 0);
	CHECK_STR(m.path, "/opt/my py/lib/libpython3.12.so.1.0");
	CHECK(m.deleted, "deleted");
	/* Only a trailing " (deleted)" is the kernel's. */
	CHECK_INT(procmaps__parse_line("400000-401000 r-xp 00000000 08:02 42 /a (deleted)/b", &m), 0);
	CHECK_STR(m.path, "/a (deleted)/b");
	CHECK(!m.deleted, "a directory named so");

	CHECK_INT(procmaps__parse_line("", &m), -EINVAL);
	CHECK_INT(procmaps__parse_line("garbage", &m), -EINVAL);
	CHECK_INT(procmaps__parse_line("2000-1000 r-xp 00000000 08:02 42 /x", &m), -EINVAL);
	CHECK_INT(procmaps__parse_line("1000-2000 r-xpq 00000000 08:02 42 /x", &m), -EINVAL);
	CHECK_INT(procmaps__parse_line("1000-2000 r-xp 00000000 08:02", &m), -EINVAL);
}

/* The mapping of this process that starts at addr. */
static int find_self(const void *addr, struct procmap *out)
{
	struct procmaps pm;
	int err = procmaps__open(&pm, getpid());

	if (err)
		return err;
	while ((err = procmaps__next(&pm, out)) == 0)
		if (out->start == (uintptr_t)addr)
			break;
	procmaps__close(&pm);
	return err;
}

static void deleted_file(void)
{
	char path[] = "/tmp/pyprobe-test-procmaps.XXXXXX", kpath[PATH_MAX + 32], buf[8];
	enum procmaps_via via = VIA_HOST;
	struct procmap m;
	void *p;
	int fd = mkstemp(path), fd2;

	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd < 0)
		return;
	CHECK_INT(write(fd, "mapped!\n", 8), 8);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		return;
	/* Named: map_files as root, the path otherwise; both the same file. */
	CHECK_INT(find_self(p, &m), 0);
	CHECK_STR(m.path, path);
	CHECK(!m.deleted, "not yet deleted");
	fd2 = procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via);
	CHECK(fd2 >= 0, "open: %s", strerror(-fd2));
	if (fd2 >= 0) {
		CHECK_INT(pread(fd2, buf, 8, 0), 8);
		CHECK(!memcmp(buf, "mapped!\n", 8), "contents");
		close(fd2);
	}
	/* Deleted, then a new file of the same name: only the mapping itself is the file. */
	unlink(path);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0, "recreate: %s", strerror(errno));
	if (fd >= 0) {
		CHECK_INT(write(fd, "REPLACED", 8), 8);
		close(fd);
	}
	CHECK_INT(find_self(p, &m), 0);
	CHECK(m.deleted, "deleted: path '%s'", m.path);
	CHECK_STR(m.path, path);
	fd2 = procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via);
	if (geteuid() == 0) {
		CHECK(fd2 >= 0, "through map_files: %s", strerror(-fd2));
		CHECK_INT(via, VIA_MAP_FILES);
		CHECK(!strncmp(kpath, "/proc/", 6) && strstr(kpath, "/map_files/"), "kpath %s", kpath);
	} else {
		/* Without map_files the replacement must not pass for the mapped file. */
		CHECK_INT(fd2, -ESTALE);
	}
	if (fd2 >= 0) {
		CHECK_INT(pread(fd2, buf, 8, 0), 8);
		CHECK(!memcmp(buf, "mapped!\n", 8), "the mapped contents, not the replacement's");
		close(fd2);
		/* The kernel's path names that file too (uprobes attach by it). */
		fd2 = open(kpath, O_RDONLY | O_CLOEXEC);
		CHECK(fd2 >= 0, "open %s: %s", kpath, strerror(errno));
		if (fd2 >= 0) {
			CHECK_INT(pread(fd2, buf, 8, 0), 8);
			CHECK(!memcmp(buf, "mapped!\n", 8), "kpath contents");
			close(fd2);
		}
	}
	munmap(p, 4096);
	unlink(path);
}

/* No mapping at those addresses: the fallbacks, which check the inode. */
static void fallbacks(void)
{
	char exe[PATH_MAX], kpath[PATH_MAX + 32];
	enum procmaps_via via = VIA_MAP_FILES;
	struct procmap m = { .start = 0x1000, .end = 0x2000, .perms = "r-xp" };
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int fd;

	CHECK(n > 0, "readlink: %s", strerror(errno));
	if (n <= 0 || stat("/proc/self/exe", &st))
		return;
	exe[n] = 0;
	snprintf(m.path, sizeof(m.path), "%s", exe);
	m.ino = st.st_ino;
	fd = procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via);
	CHECK(fd >= 0, "right inode: %s", strerror(-fd));
	CHECK_INT(via, VIA_ROOT);
	if (fd >= 0)
		close(fd);
	m.ino = st.st_ino + 1;
	CHECK_INT(procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via), -ESTALE);
	snprintf(m.path, sizeof(m.path), "/nonexistent/pyprobe-procmaps");
	CHECK_INT(procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via), -ENOENT);
	m.deleted = true;
	CHECK_INT(procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via), -ESTALE);
	snprintf(m.path, sizeof(m.path), "[heap]");
	CHECK_INT(procmaps__open_file(getpid(), &m, kpath, sizeof(kpath), &via), -ENOENT);
}

int main(void)
{
	RUN(parse_lines);
	RUN(deleted_file);
	RUN(fallbacks);
	printf("1..%d\n", unit_tests_run);
	return UNIT_EXIT();
}
