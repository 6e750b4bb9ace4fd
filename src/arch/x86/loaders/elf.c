/**
 * @file elf.c
 * @brief Loading ELF executables (System V gABI, "Program Header"), 32- and 64-bit.
 *
 * Every size and offset is checked against the image and the partition, so a corrupt or
 * hostile image is refused with a reason instead of writing outside guest memory.
 */
#include <arch/loader.h>
#include <hvlab/partition.h>
#include <hvlab/lib.h>

#define EI_CLASS 4
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

struct elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

/** One program header, whatever the class. */
struct segment {
	u32 type;
	u64 offset, vaddr, paddr, filesz, memsz;
};

bool elf_probe(const void *image, u64 size, int elf_class)
{
	const u8 *id = image;

	if (size < sizeof(struct elf64_ehdr) || memcmp(id, "\177ELF", 4) != 0 || id[EI_CLASS] != elf_class)
		return false;
	if (elf_class == ELFCLASS64) {
		const struct elf64_ehdr *eh = image;
		return eh->machine == EM_X86_64 && eh->type == ET_EXEC;
	}
	const struct elf32_ehdr *eh = image;
	return eh->machine == EM_386 && eh->type == ET_EXEC;
}

/* Program header @i as a struct segment; false if it lies outside the image. */
static bool read_segment(const void *image, u64 size, int elf_class, u16 i, struct segment *s)
{
	if (elf_class == ELFCLASS64) {
		const struct elf64_ehdr *eh = image;
		if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
		    (u64)(i + 1) * sizeof(struct elf64_phdr) > size - eh->phoff)
			return false;
		const struct elf64_phdr *ph = (const void *)((const u8 *)image + eh->phoff) ;
		*s = (struct segment){ ph[i].type, ph[i].offset, ph[i].vaddr, ph[i].paddr, ph[i].filesz, ph[i].memsz };
	} else {
		const struct elf32_ehdr *eh = image;
		if (eh->phentsize != sizeof(struct elf32_phdr) || eh->phoff > size ||
		    (u64)(i + 1) * sizeof(struct elf32_phdr) > size - eh->phoff)
			return false;
		const struct elf32_phdr *ph = (const void *)((const u8 *)image + eh->phoff);
		*s = (struct segment){ ph[i].type, ph[i].offset, ph[i].vaddr, ph[i].paddr, ph[i].filesz, ph[i].memsz };
	}
	return true;
}

int elf_load_segments(struct partition *p, const void *image, u64 size, u64 min_addr, u64 *entry,
		      char *err, size_t errlen)
{
	int elf_class = elf_probe(image, size, ELFCLASS64) ? ELFCLASS64 :
			elf_probe(image, size, ELFCLASS32) ? ELFCLASS32 : 0;
	if (!elf_class) {
		snprintf(err, errlen, "not an x86 ELF executable");
		return -1;
	}
	u16 phnum = elf_class == ELFCLASS64 ? ((const struct elf64_ehdr *)image)->phnum
					    : ((const struct elf32_ehdr *)image)->phnum;
	u64 e_entry = elf_class == ELFCLASS64 ? ((const struct elf64_ehdr *)image)->entry
					      : ((const struct elf32_ehdr *)image)->entry;
	int loaded = 0;
	bool entry_inside = false;

	for (u16 i = 0; i < phnum; i++) {
		struct segment s;
		if (!read_segment(image, size, elf_class, i, &s)) {
			snprintf(err, errlen, "program headers lie outside the file");
			return -1;
		}
		if (s.type != PT_LOAD)
			continue;
		if (s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset) {
			snprintf(err, errlen, "segment %u lies outside the file", i);
			return -1;
		}
		u8 *dest = s.paddr >= min_addr ? guest_ram(p, s.paddr, s.memsz) : NULL;
		if (!dest) {
			snprintf(err, errlen, "segment %u at 0x%lx+0x%lx does not fit in guest RAM [0x%lx, %lu MiB)",
				 i, s.paddr, s.memsz, min_addr, p->mem_size >> 20);
			return -1;
		}
		memcpy(dest, (const u8 *)image + s.offset, s.filesz);
		memset(dest + s.filesz, 0, s.memsz - s.filesz);
		if (e_entry >= s.vaddr && e_entry < s.vaddr + s.memsz) {
			entry_inside = true;
			e_entry += s.paddr - s.vaddr; /* entered with paging off or identity-mapped */
		}
		loaded++;
	}
	if (!loaded || !entry_inside) {
		snprintf(err, errlen, loaded ? "entry point is outside every segment" : "no loadable segment");
		return -1;
	}
	*entry = e_entry;
	return 0;
}
