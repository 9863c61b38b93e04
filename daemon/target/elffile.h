/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_ELFFILE_H
#define PYPROBED_ELFFILE_H
#include <gelf.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The one ELF reader of the target layer, on top of libelf. Files come from
 * the target's file system and are hostile: every pointer it returns lies
 * inside the file image, every length it gives is checked against the file,
 * and a malformed part reads as absent. Not named elf.h: that is <elf.h>.
 */
struct elffile;

/* A PT_LOAD segment as its program header gives it. */
struct elf_segment {
	uint64_t off, vaddr, filesz;
	uint32_t flags;		/* PF_X, PF_W, PF_R */
};

/* A SystemTap probe (.note.stapsdt). Strings point into the file image, NUL-terminated. */
struct elf_usdt {
	const char *provider, *name, *args;
	uint64_t pc;		/* probe address, adjusted for a moved .stapsdt.base */
	uint64_t semaphore;	/* its address, likewise adjusted; 0 without one */
};

/*
 * Open an ELF file: path, or fd (duplicated: the caller keeps its own; a
 * target's files are opened by procmaps__open_file()). Returns NULL and sets
 * errno: ENOEXEC if it is not an ELF file whose headers libelf can read,
 * else what open(2) or libelf said.
 */
struct elffile *elffile__open(const char *path);
struct elffile *elffile__open_fd(int fd);
/* Unmap and close; NULL is fine. Everything the reader returned becomes invalid. */
void elffile__free(struct elffile *ef);

/* The ELF header (e_type, e_ident[EI_CLASS], ...). */
const GElf_Ehdr *elffile__ehdr(const struct elffile *ef);

/* The file's bytes [off, off + len), or NULL unless they all lie in the file. */
const void *elffile__bytes(const struct elffile *ef, uint64_t off, uint64_t len);

/* The PT_LOAD segments in program-header order; *n of them. Owned by ef. */
const struct elf_segment *elffile__segments(const struct elffile *ef, size_t *n);
/* The first program header of type (PT_GNU_EH_FRAME, ...): 0 or -ENOENT. */
int elffile__phdr(const struct elffile *ef, uint32_t type, GElf_Phdr *out);
/*
 * The bytes at virtual address vaddr: from the first PT_LOAD whose file
 * contents hold it, up to their end (clipped to the file), *avail of them.
 * NULL if no segment's file contents hold vaddr.
 */
const void *elffile__vaddr_bytes(const struct elffile *ef, uint64_t vaddr, size_t *avail);
/* The file offset of vaddr (for uprobes): 0 or -ENOENT, as for elffile__vaddr_bytes. */
int elffile__vaddr_to_offset(const struct elffile *ef, uint64_t vaddr, uint64_t *off);
/* Copy len bytes at vaddr, all from one segment's file contents: 0 or -ENOENT. */
int elffile__read_vaddr(const struct elffile *ef, uint64_t vaddr, void *buf, size_t len);

/*
 * The first section called name, of type unless type is SHT_NULL (any).
 * Fills *sh unless it is NULL; NULL when there is none.
 */
Elf_Scn *elffile__section(const struct elffile *ef, const char *name, uint32_t type, GElf_Shdr *sh);
/*
 * That section's contents (libelf's elf_getdata: inside the file), *size
 * bytes, and its address in *addr unless addr is NULL. NULL for none, an
 * empty one or SHT_NOBITS.
 */
const void *elffile__section_bytes(const struct elffile *ef, const char *name, uint32_t type,
				   size_t *size, uint64_t *addr);

/*
 * Symbol tables: the first section of type SHT_SYMTAB or SHT_DYNSYM whose
 * entry size is the class's. elffile__nsyms is its number of entries, 0
 * without one. elffile__next_sym gives the next entry from *pos on (start
 * at 0) that has a name, defined or not, and advances *pos: 0, or -ENOENT
 * at the end. The name points into the file image.
 */
size_t elffile__nsyms(const struct elffile *ef, uint32_t type);
int elffile__next_sym(const struct elffile *ef, uint32_t type, size_t *pos, GElf_Sym *sym,
		      const char **name);

/*
 * The next well-formed SystemTap probe of .note.stapsdt from *pos on (start
 * at 0), advancing *pos: 0, or -ENOENT at the end or without the section.
 */
int elffile__next_usdt(const struct elffile *ef, size_t *pos, struct elf_usdt *out);

#endif
