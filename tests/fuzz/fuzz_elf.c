// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ELF reader of target inspection (libelf and our use of
 * it: symbol scan, section walk, virtual-address reads, version string search)
 * on arbitrary files. The reader's static functions are reached by including
 * its source.
 */
#include "../../daemon/target/pyinspect.c"
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfinfo e = { .fd = -1 };
	char path[64], version[32] = "";
	unsigned micro = 0;
	uint64_t hex = 0, off = 0;
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (elfinfo_open(&e, path) == 0) {
		if (e.found[S_PY_VERSION])
			elf_read_vaddr(&e, e.sym[S_PY_VERSION].st_value, &hex, sizeof(hex));
		find_version_string(&e, 3, 11, &micro, version, sizeof(version));
		for (int i = 0; i < e.ngc; i++)
			elf_vaddr_to_offset(&e, e.gc[i].value, &off);
		if (e.found[S_RUNTIME])
			elf_vaddr_to_offset(&e, e.sym[S_RUNTIME].st_value, &off);
	}
	elfinfo_close(&e);
	close(fd);
	return 0;
}
