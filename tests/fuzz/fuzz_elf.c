// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ELF reader (elffile.h) on arbitrary files, every part
 * of its interface, and target inspection's ELF steps on top of it (symbols,
 * version, collector functions, USDT sites), whose static functions are
 * reached by including pyinspect.c. Whatever the reader points at must lie
 * in the file, and a file offset it gives must be one.
 */
#include "../../daemon/target/pyinspect.c"
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *image;
static size_t image_n;

static void in_file(const void *p, size_t n)
{
	const char *c = p;

	if (c < image || c > image + image_n || n > (size_t)(image + image_n - c))
		__builtin_trap();
}

/* Bytes at vaddr, as the reader gives them. */
static void at_vaddr(const struct elffile *ef, uint64_t vaddr)
{
	uint64_t word, off;
	size_t avail;
	const void *p = elffile__vaddr_bytes(ef, vaddr, &avail);

	if (p)
		in_file(p, avail);
	if (elffile__vaddr_to_offset(ef, vaddr, &off) == 0 && off >= image_n)
		__builtin_trap();
	elffile__read_vaddr(ef, vaddr, &word, sizeof(word));
}

static void exercise(const struct elffile *ef)
{
	static const uint32_t types[] = { SHT_SYMTAB, SHT_DYNSYM };
	const struct elf_segment *segs;
	struct elf_usdt u;
	const char *name;
	const void *p;
	uint64_t addr;
	GElf_Phdr ph;
	GElf_Sym sym;
	size_t n, pos;

	segs = elffile__segments(ef, &n);
	for (size_t i = 0; i < n; i++) {
		at_vaddr(ef, segs[i].vaddr);
		at_vaddr(ef, segs[i].vaddr + segs[i].filesz - 1);
	}
	if (elffile__phdr(ef, PT_GNU_EH_FRAME, &ph) == 0 &&
	    (p = elffile__bytes(ef, ph.p_offset, ph.p_filesz)))
		in_file(p, ph.p_filesz);
	for (size_t t = 0; t < LEN(types); t++) {
		pos = 0;
		while (elffile__next_sym(ef, types[t], &pos, &sym, &name) == 0) {
			if (!strlen(name))
				__builtin_trap();
			at_vaddr(ef, sym.st_value);
		}
	}
	pos = 0;
	while (elffile__next_usdt(ef, &pos, &u) == 0) {
		if (strlen(u.provider) + strlen(u.name) + strlen(u.args) > image_n)
			__builtin_trap();
		at_vaddr(ef, u.pc);
	}
	p = elffile__section_bytes(ef, ".eh_frame_hdr", SHT_NULL, &n, &addr);
	if (p && !n)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[256], version[32] = "";
	struct pyinfo pi;
	struct inspect in = { .pi = &pi, .msg = msg, .msglen = sizeof(msg) };
	unsigned micro = 0;
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	memset(&pi, 0, sizeof(pi));
	in.ef = elffile__open_fd(fd);
	close(fd);	/* the reader keeps its own */
	if (in.ef) {
		image_n = size;
		image = elffile__bytes(in.ef, 0, size);
		if (!image)
			__builtin_trap();	/* the whole file is in the image */
		exercise(in.ef);
		snprintf(in.mi.path, sizeof(in.mi.path), "/fuzz/libpython3.11.so.1.0");
		snprintf(pi.exe, sizeof(pi.exe), "/fuzz/python3.11");
		read_interp_symbols(&in);
		read_version(&in);
		find_version_string(in.ef, 3, 11, &micro, version, sizeof(version));
		find_gc_funcs(&in);
		find_gc_usdt(&in);
	}
	elffile__free(in.ef);
	return 0;
}
