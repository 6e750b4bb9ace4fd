/**
 * @file raw64.c
 * @brief The raw 64-bit image loader: an ELF64 executable entered in 64-bit mode, in the
 * state src/include/hvlab/guest_abi.h promises (boot GDT, identity page tables, boot info).
 */
#include <arch/loader.h>
#include <arch/boot.h>
#include <arch/regs.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>

static bool raw64_probe(const void *image, u64 size)
{
	return elf_probe(image, size, 2);
}

/* Write the GDT, the 4 GiB identity map and the boot information of guest_abi.h. */
static void write_boot_structures(struct partition *p)
{
	/* GDT: null, 64-bit code at 0x08, data at 0x10 (the selectors guest_abi.h names). */
	u64 *gdt = guest_ram(p, HVLAB_BOOT_GDT, 3 * 8);
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;
	gdt[2] = 0x00cf92000000ffffULL;

	/* Page tables: PML4[0] → PDPT, PDPT[0..3] → four PDs of 512 2 MiB pages = 4 GiB. */
	u64 *pml4 = guest_ram(p, HVLAB_BOOT_PML4, PAGE_SIZE);
	u64 *pdpt = guest_ram(p, HVLAB_BOOT_PDPT, PAGE_SIZE);
	u64 *pd = guest_ram(p, HVLAB_BOOT_PD, 4 * PAGE_SIZE);
	pml4[0] = HVLAB_BOOT_PDPT | PTE_P | PTE_W;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (HVLAB_BOOT_PD + i * PAGE_SIZE) | PTE_P | PTE_W;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;

	struct hvlab_boot_info *bi = guest_ram(p, HVLAB_BOOT_INFO, sizeof(*bi));
	memset(bi, 0, sizeof(*bi));
	bi->magic = HVLAB_BOOT_MAGIC;
	bi->mem_size = p->mem_size;
	bi->ram_base = p->ram_base;
	bi->vcpu_id = 0;
	bi->nvcpus = p->nvcpus;
	bi->partition_id = p->id;
	snprintf(bi->name, sizeof(bi->name), "%s", p->name);
	snprintf(bi->cmdline, sizeof(bi->cmdline), "%s", p->cfg->cmdline);
}

static int raw64_load(struct partition *p, const struct loader_input *in, struct boot_state *bs,
		      char *err, size_t errlen)
{
	u64 entry;

	if (elf_load_segments(p, in->image, in->size, HVLAB_GUEST_LOAD_MIN, &entry, err, errlen) < 0)
		return -1;
	write_boot_structures(p);
	bs->mode = BOOT_LONG64;
	bs->rip = entry;
	bs->cr3 = HVLAB_BOOT_PML4;
	bs->gdt_base = HVLAB_BOOT_GDT;
	bs->gdt_limit = 3 * 8 - 1;
	bs->gpr[GPR_RDI] = HVLAB_BOOT_INFO;
	return 0;
}

IMAGE_LOADER(raw64_loader) = { "elf64", 10, raw64_probe, raw64_load };
