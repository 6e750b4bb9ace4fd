/**
 * @file partition_arch.c
 * @brief A partition's x86 side: its EPT, its bitmaps, and the entry state its guest
 * finds in memory (src/include/hvlab/guest_abi.h).
 */
#include <arch/partition_arch.h>
#include <arch/vmx.h>
#include <arch/boot.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

/* EPT tables come from the PFN database, owned by the partition as page tables, so the
 * database always says whose they are. */
static void *ept_alloc_table(void *ctx, u64 *pa)
{
	struct partition *p = ctx;

	*pa = frames_alloc(1, PAGE_SIZE, PFN_PAGETABLE, p->id);
	return *pa ? phys_to_virt(*pa) : NULL;
}

static void ept_free_table(void *ctx, void *table, u64 pa)
{
	frames_free(pa, 1);
}

static void *ept_phys_to_virt(void *ctx, u64 pa)
{
	return phys_to_virt(pa);
}

int arch_partition_init(struct partition *p)
{
	struct ept_ops ops = { ept_alloc_table, ept_free_table, ept_phys_to_virt, p };

	if (ept_init(&p->arch.ept, &ops, vmx_caps.ept_2m, vmx_caps.ept_1g) < 0)
		return -1;
	/* Guest RAM only: everything else (devices, other partitions, the hypervisor) is
	 * absent, so touching it is an EPT violation the hypervisor sees. */
	if (ept_map(&p->arch.ept, 0, p->mem_hpa, p->mem_size, EPT_RWX, EPT_MT_WB) < 0)
		return -1;
	return vmx_partition_init(p);
}

void arch_partition_destroy(struct partition *p)
{
	ept_destroy(&p->arch.ept);
	if (p->arch.io_bitmap_pa)
		frames_free(p->arch.io_bitmap_pa, 2);
	if (p->arch.msr_bitmap_pa)
		frames_free(p->arch.msr_bitmap_pa, 1);
}

void arch_prepare_boot(struct partition *p)
{
	u8 *ram = phys_to_virt(p->mem_hpa);

	/* GDT: null, 64-bit code at 0x08, data at 0x10 (the selectors guest_abi.h names). */
	u64 *gdt = (u64 *)(ram + HVLAB_BOOT_GDT);
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;
	gdt[2] = 0x00cf92000000ffffULL;

	/* Page tables: PML4[0] → PDPT, PDPT[0..3] → four PDs of 512 2 MiB pages = 4 GiB. */
	u64 *pml4 = (u64 *)(ram + HVLAB_BOOT_PML4);
	u64 *pdpt = (u64 *)(ram + HVLAB_BOOT_PDPT);
	u64 *pd = (u64 *)(ram + HVLAB_BOOT_PD);
	pml4[0] = HVLAB_BOOT_PDPT | PTE_P | PTE_W;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (HVLAB_BOOT_PD + i * PAGE_SIZE) | PTE_P | PTE_W;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;

	struct hvlab_boot_info *bi = (struct hvlab_boot_info *)(ram + HVLAB_BOOT_INFO);
	memset(bi, 0, sizeof(*bi));
	bi->magic = HVLAB_BOOT_MAGIC;
	bi->mem_size = p->mem_size;
	bi->vcpu_id = 0;
	bi->nvcpus = p->nvcpus;
	bi->partition_id = p->id;
	snprintf(bi->name, sizeof(bi->name), "%s", p->name);
	snprintf(bi->cmdline, sizeof(bi->cmdline), "%s", p->cfg->cmdline);
	p->vcpu[0].arch.regs.gpr[7 /* RDI */] = HVLAB_BOOT_INFO;
}

void arch_run_vcpu(struct vcpu *v)
{
	vmx_run_vcpu(v);
}
