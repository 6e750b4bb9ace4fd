/**
 * @file loader_elf.c
 * @brief The raw 64-bit image loader: ELF64 executables (System V gABI, "Program Header").
 *
 * Every size and offset is checked against the image and the partition, so a corrupt or
 * hostile image is refused with a reason instead of writing outside guest memory.
 */
#include <hvlab/loader.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

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

#define PT_LOAD 1
#define EM_X86_64 62
#define ET_EXEC 2

int load_elf64(struct partition *p, const void *image, u64 size, u64 *entry, char *err, size_t errlen)
{
	const struct elf64_ehdr *eh = image;

	if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) != 0) {
		snprintf(err, errlen, "not an ELF file");
		return -1;
	}
	if (eh->ident[4] != 2 || eh->machine != EM_X86_64 || eh->type != ET_EXEC) {
		snprintf(err, errlen, "not an x86-64 ELF executable");
		return -1;
	}
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
	    (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff) {
		snprintf(err, errlen, "program headers lie outside the file");
		return -1;
	}
	const struct elf64_phdr *ph = (const void *)((const u8 *)image + eh->phoff);
	u8 *ram = phys_to_virt(p->mem_hpa);
	int loaded = 0;
	bool entry_inside = false;

	for (u16 i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		if (ph[i].filesz > ph[i].memsz || ph[i].offset > size || ph[i].filesz > size - ph[i].offset) {
			snprintf(err, errlen, "segment %u lies outside the file", i);
			return -1;
		}
		if (ph[i].paddr < HVLAB_GUEST_LOAD_MIN || ph[i].paddr > p->mem_size ||
		    ph[i].memsz > p->mem_size - ph[i].paddr) {
			snprintf(err, errlen, "segment %u at 0x%lx+0x%lx does not fit in %lu MiB of guest RAM",
				 i, ph[i].paddr, ph[i].memsz, p->mem_size >> 20);
			return -1;
		}
		memcpy(ram + ph[i].paddr, (const u8 *)image + ph[i].offset, ph[i].filesz);
		memset(ram + ph[i].paddr + ph[i].filesz, 0, ph[i].memsz - ph[i].filesz);
		if (eh->entry >= ph[i].vaddr && eh->entry < ph[i].vaddr + ph[i].memsz)
			entry_inside = true;
		loaded++;
	}
	if (!loaded || !entry_inside) {
		snprintf(err, errlen, loaded ? "entry point 0x%lx is outside every segment" : "no loadable segment",
			 eh->entry);
		return -1;
	}
	*entry = eh->entry;
	return 0;
}
