// SPDX-License-Identifier: MIT
/*
 * The ELF reader on this test's own executable, whose symbols, bytes and
 * SystemTap notes are known (the notes are written below as <sys/sdt.h>
 * would); on a copy whose .stapsdt.base moved; on every prefix and on
 * mangled copies of it, where whatever the reader points at must lie in the
 * file; and on files that are no ELF at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "elffile.h"

/* Known contents: a word in .rodata, and two probes with a semaphore for the first. */
const uint64_t elffile_test_marker = 0x5079707265626500ULL;
const char elffile_test_string[] = "elffile-test-rodata";

__asm__(".pushsection .text\n"
	".globl elffile_test_probe\n"
	".type elffile_test_probe, @function\n"
	"elffile_test_probe:\n"
	"	nop\n"
	"	ret\n"
	".size elffile_test_probe, .-elffile_test_probe\n"
	".popsection\n"
	".pushsection .probes, \"aw\", \"progbits\"\n"
	".globl elffile_test_semaphore\n"
	".type elffile_test_semaphore, @object\n"
	".size elffile_test_semaphore, 2\n"
	"elffile_test_semaphore: .2byte 0\n"
	".popsection\n"
	".pushsection .note.stapsdt, \"\", \"note\"\n"
	".balign 4\n"
	".4byte 2f-1f, 4f-3f, 3\n"
	"1: .asciz \"stapsdt\"\n"
	"2: .balign 4\n"
	"3: .8byte elffile_test_probe, _.stapsdt.base, elffile_test_semaphore\n"
	".asciz \"pptest\"\n"
	".asciz \"probe1\"\n"
	".asciz \"-4@$5 8@%rdi\"\n"
	"4: .balign 4\n"
	".4byte 2f-1f, 4f-3f, 3\n"
	"1: .asciz \"stapsdt\"\n"
	"2: .balign 4\n"
	"3: .8byte elffile_test_probe + 1, _.stapsdt.base, 0\n"
	".asciz \"pptest\"\n"
	".asciz \"probe2\"\n"
	".asciz \"\"\n"
	"4: .balign 4\n"
	".popsection\n"
	".ifndef _.stapsdt.base\n"
	".pushsection .stapsdt.base, \"aG\", \"progbits\", .stapsdt.base, comdat\n"
	".weak _.stapsdt.base\n"
	".hidden _.stapsdt.base\n"
	"_.stapsdt.base: .space 1\n"
	".size _.stapsdt.base, 1\n"
	".popsection\n"
	".endif\n");

static uint8_t *self;
static size_t self_n;

static int read_self(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	int err = 0;

	if (fd < 0 || fstat(fd, &st))
		return -errno;
	self_n = st.st_size;
	self = malloc(self_n);
	if (!self || read(fd, self, self_n) != (ssize_t)self_n)
		err = -EIO;
	close(fd);
	return err;
}

/* A memfd holding n bytes of data. */
static int memfd_of(const uint8_t *data, size_t n)
{
	int fd = memfd_create("test-elffile", MFD_CLOEXEC);

	if (fd >= 0 && write(fd, data, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return fd;
}

static int sym(const struct elffile *ef, const char *want, GElf_Sym *out)
{
	static const uint32_t types[] = { SHT_SYMTAB, SHT_DYNSYM };
	const char *name;

	for (int t = 0; t < 2; t++) {
		size_t pos = 0;

		while (elffile__next_sym(ef, types[t], &pos, out, &name) == 0)
			if (out->st_shndx != SHN_UNDEF && !strcmp(name, want))
				return 0;
	}
	return -ENOENT;
}

static void self_exe(void)
{
	struct elffile *ef = elffile__open("/proc/self/exe");
	const struct elf_segment *segs;
	uint64_t word = 0, off = 0, end = 0;
	const char *rodata;
	size_t n, avail = 0;
	GElf_Sym s;

	CHECK(ef != NULL, "open /proc/self/exe: %s", strerror(errno));
	if (!ef)
		return;
	CHECK_INT(elffile__ehdr(ef)->e_ident[EI_CLASS], ELFCLASS64);
	segs = elffile__segments(ef, &n);
	CHECK(n >= 2 && segs, "%zu PT_LOAD segments", n);
	CHECK(elffile__nsyms(ef, SHT_SYMTAB) > 10, "%zu in .symtab",
	      elffile__nsyms(ef, SHT_SYMTAB));
	CHECK_INT(elffile__nsyms(ef, SHT_PROGBITS), 0);

	CHECK_INT(sym(ef, "elffile_test_marker", &s), 0);
	CHECK_INT(s.st_size, 8);
	CHECK_INT(elffile__read_vaddr(ef, s.st_value, &word, sizeof(word)), 0);
	CHECK(word == elffile_test_marker, "read %#llx", (unsigned long long)word);
	CHECK_INT(elffile__vaddr_to_offset(ef, s.st_value, &off), 0);
	CHECK(off + 8 <= self_n && !memcmp(self + off, &elffile_test_marker, 8), "offset %#llx",
	      (unsigned long long)off);
	CHECK(elffile__vaddr_bytes(ef, s.st_value, &avail) == elffile__bytes(ef, off, 8) &&
		      avail >= 8,
	      "vaddr_bytes and bytes disagree (%zu available)", avail);
	/* the end of the file, and past it */
	CHECK(elffile__bytes(ef, 0, self_n) != NULL, "the whole file");
	CHECK(elffile__bytes(ef, self_n, 0) != NULL, "empty, at the end");
	CHECK(elffile__bytes(ef, 1, self_n) == NULL, "one byte past the end");
	CHECK(elffile__bytes(ef, UINT64_MAX, 2) == NULL, "wrapping");
	/* past the end of the highest segment's file contents, and across it */
	for (size_t i = 0; i < n; i++)
		if (segs[i].vaddr + segs[i].filesz > end)
			end = segs[i].vaddr + segs[i].filesz;
	CHECK_INT(elffile__read_vaddr(ef, end, &word, 1), -ENOENT);
	CHECK_INT(elffile__read_vaddr(ef, end - 4, &word, 4), 0);
	CHECK_INT(elffile__read_vaddr(ef, end - 4, &word, 8), -ENOENT);
	CHECK_INT(elffile__vaddr_to_offset(ef, UINT64_MAX, &off), -ENOENT);

	rodata = elffile__section_bytes(ef, ".rodata", SHT_PROGBITS, &n, NULL);
	CHECK(rodata && memmem(rodata, n, elffile_test_string, sizeof(elffile_test_string)),
	      ".rodata has the string");
	CHECK(elffile__section_bytes(ef, ".rodata", SHT_NOTE, &n, NULL) == NULL, "not a note");
	CHECK(elffile__section(ef, ".bss", SHT_NULL, NULL) != NULL, ".bss, any type");
	CHECK(elffile__section_bytes(ef, ".bss", SHT_NULL, &n, NULL) == NULL, ".bss has no bytes");
	CHECK(elffile__section(ef, ".no-such-section", SHT_NULL, NULL) == NULL, "no such section");
	elffile__free(ef);
}

/* The two probes of this file; base_moved: what .stapsdt.base's linked address was made less. */
static void check_probes(struct elffile *ef, uint64_t base_moved)
{
	struct elf_usdt u[4];
	size_t pos = 0;
	int n = 0;
	GElf_Sym probe, sema;

	CHECK_INT(sym(ef, "elffile_test_probe", &probe), 0);
	CHECK_INT(sym(ef, "elffile_test_semaphore", &sema), 0);
	while (n < 4 && elffile__next_usdt(ef, &pos, &u[n]) == 0)
		if (!strcmp(u[n].provider, "pptest"))
			n++;
	CHECK_INT(n, 2);
	if (n != 2)
		return;
	CHECK_STR(u[0].name, "probe1");
	CHECK_STR(u[0].args, "-4@$5 8@%rdi");
	CHECK(u[0].pc == probe.st_value + base_moved, "pc %#llx, function at %#llx",
	      (unsigned long long)u[0].pc, (unsigned long long)probe.st_value);
	CHECK(u[0].semaphore == sema.st_value + base_moved, "semaphore %#llx, variable at %#llx",
	      (unsigned long long)u[0].semaphore, (unsigned long long)sema.st_value);
	CHECK_STR(u[1].name, "probe2");
	CHECK_STR(u[1].args, "");
	CHECK(u[1].pc == probe.st_value + 1 + base_moved, "pc %#llx", (unsigned long long)u[1].pc);
	CHECK_INT(u[1].semaphore, 0);
}

static void usdt_notes(void)
{
	static const char needle[] = "stapsdt\0\0";
	struct elffile *ef = elffile__open("/proc/self/exe");
	GElf_Shdr sh;
	uint8_t *copy = NULL;
	int fd = -1, moved = 0;

	CHECK(ef != NULL, "open: %s", strerror(errno));
	if (!ef)
		return;
	check_probes(ef, 0);
	/*
	 * A copy whose notes say .stapsdt.base was linked 0x1000 higher than it
	 * is: every address moves down by as much, a missing semaphore stays 0.
	 */
	if (!elffile__section(ef, ".note.stapsdt", SHT_NOTE, &sh) || sh.sh_offset > self_n ||
	    sh.sh_size > self_n - sh.sh_offset) {
		CHECK(0, "no .note.stapsdt in the file");
		goto cleanup;
	}
	copy = malloc(self_n);
	if (!copy)
		goto cleanup;
	memcpy(copy, self, self_n);
	for (size_t o = sh.sh_offset; o + 8 + 24 + 7 <= sh.sh_offset + sh.sh_size; o++) {
		uint64_t base;

		/* the owner, then pc, base, semaphore and the provider */
		if (memcmp(copy + o, needle, 8) || memcmp(copy + o + 8 + 24, "pptest", 7))
			continue;
		memcpy(&base, copy + o + 16, 8);
		base += 0x1000;
		memcpy(copy + o + 16, &base, 8);
		moved++;
	}
	CHECK_INT(moved, 2);
	elffile__free(ef);
	ef = NULL;
	fd = memfd_of(copy, self_n);
	if (fd >= 0)
		ef = elffile__open_fd(fd);
	CHECK(ef != NULL, "open the copy");
	if (fd >= 0)
		close(fd);	/* the reader has its own */
	if (ef)
		check_probes(ef, -0x1000ULL);
cleanup:
	elffile__free(ef);
	free(copy);
}

/* Whatever ef points at lies in the file's n bytes. */
static bool contained(const struct elffile *ef, size_t n)
{
	static const uint32_t types[] = { SHT_SYMTAB, SHT_DYNSYM };
	const char *img = elffile__bytes(ef, 0, n), *p, *name;
	const struct elf_segment *segs;
	struct elf_usdt u;
	size_t nsegs, avail, pos;
	uint64_t off;
	GElf_Sym s;
	bool ok = img != NULL;

#define INSIDE(q, len) ((const char *)(q) >= img && (size_t)((const char *)(q) - img) <= n && \
			(len) <= n - (size_t)((const char *)(q) - img))
	segs = elffile__segments(ef, &nsegs);
	for (size_t i = 0; ok && i < nsegs; i++) {
		p = elffile__vaddr_bytes(ef, segs[i].vaddr, &avail);
		ok = !p || INSIDE(p, avail);
		if (ok && elffile__vaddr_to_offset(ef, segs[i].vaddr, &off) == 0)
			ok = off < n;
	}
	for (int t = 0; ok && t < 2; t++) {
		pos = 0;
		while (ok && elffile__next_sym(ef, types[t], &pos, &s, &name) == 0) {
			ok = name[0] != 0;
			p = elffile__vaddr_bytes(ef, s.st_value, &avail);
			ok = ok && (!p || INSIDE(p, avail));
		}
	}
	pos = 0;
	while (ok && elffile__next_usdt(ef, &pos, &u) == 0)
		ok = strlen(u.provider) < n && strlen(u.name) < n && strlen(u.args) < n;
	p = elffile__section_bytes(ef, ".rodata", SHT_PROGBITS, &avail, NULL);
	ok = ok && (!p || INSIDE(p, avail));
#undef INSIDE
	return ok;
}

static void hostile_copies(void)
{
	size_t opened = 0, refused = 0, bad = 0;
	uint8_t *copy = malloc(self_n);
	unsigned int seed = 4242;
	uint64_t shdrs;

	if (!copy)
		return;
	/* every prefix: the section headers are at the end, so most have none */
	for (size_t n = 0; n <= self_n; n += n < 256 ? 1 : 509) {
		int fd = memfd_of(self, n);
		struct elffile *ef = fd >= 0 ? elffile__open_fd(fd) : NULL;

		if (ef) {
			opened++;
			bad += !contained(ef, n);
		} else {
			refused++;
			CHECK(errno == ENOEXEC, "prefix %zu: %s", n, strerror(errno));
		}
		elffile__free(ef);
		if (fd >= 0)
			close(fd);
	}
	CHECK(opened > 0 && refused > 0, "%zu prefixes opened, %zu refused", opened, refused);
	/* bytes mangled in the headers and anywhere */
	memcpy(&shdrs, self + offsetof(Elf64_Ehdr, e_shoff), sizeof(shdrs));
	for (int round = 0; round < 600; round++) {
		int fd;
		struct elffile *ef;

		memcpy(copy, self, self_n);
		for (int k = 0; k < 1 + round % 16; k++) {
			size_t i;

			switch (rand_r(&seed) % 3) {
			case 0:
				i = (size_t)rand_r(&seed) % 64;	/* the ELF header */
				break;
			case 1:
				/* the section headers */
				i = shdrs < self_n ? shdrs + rand_r(&seed) % (self_n - shdrs) : 0;
				break;
			default:
				i = (size_t)rand_r(&seed) % self_n;
			}
			if (i < self_n)
				copy[i] = (uint8_t)rand_r(&seed);
		}
		fd = memfd_of(copy, self_n);
		ef = fd >= 0 ? elffile__open_fd(fd) : NULL;
		if (ef)
			bad += !contained(ef, self_n);
		elffile__free(ef);
		if (fd >= 0)
			close(fd);
	}
	CHECK_INT(bad, 0);
	free(copy);
}

static void not_elf(void)
{
	static const uint8_t text[] = "#!/bin/sh\necho this is no ELF file\n";
	struct elffile *ef;
	int fd;

	errno = 0;
	CHECK(elffile__open("/nonexistent/elffile") == NULL && errno == ENOENT, "errno %d", errno);
	errno = 0;
	CHECK(elffile__open_fd(-1) == NULL && errno == EBADF, "errno %d", errno);
	fd = memfd_of(text, sizeof(text));
	errno = 0;
	ef = fd >= 0 ? elffile__open_fd(fd) : NULL;
	CHECK(ef == NULL && errno == ENOEXEC, "a shell script: errno %d", errno);
	elffile__free(ef);
	if (fd >= 0)
		close(fd);
	elffile__free(NULL);
}

int main(void)
{
	int err = read_self();

	if (err) {
		printf("Bail out! cannot read /proc/self/exe: %s\n", strerror(-err));
		return 1;
	}
	RUN(self_exe);
	RUN(usdt_notes);
	RUN(hostile_copies);
	RUN(not_elf);
	printf("1..%d\n", unit_tests_run);
	free(self);
	return UNIT_EXIT();
}
