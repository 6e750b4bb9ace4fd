/**
 * @file partition_arch.c
 * @brief A partition's x86 side: its EPT and its VMX bitmaps.
 */
#include <arch/partition_arch.h>
#include <arch/vmx.h>
#include <arch/direct_irq.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>

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
	if (ept_map(&p->arch.ept, p->ram_base, p->mem_hpa, ALIGN_UP(p->mem_size, PAGE_SIZE), EPT_RWX,
		    EPT_MT_WB) < 0)
		return -1;
	if (p->identity && ept_map(&p->arch.ept, 0, p->low_hpa, IDENTITY_LOW_RAM, EPT_RWX, EPT_MT_WB) < 0)
		return -1;
	if (vmx_partition_init(p) < 0)
		return -1;
	return p->direct_irqs ? direct_irq_partition_init(p) : 0;
}

int arch_map_readonly(struct partition *p, u64 gpa, u64 hpa)
{
	return ept_map(&p->arch.ept, gpa, hpa, PAGE_SIZE, EPT_R, EPT_MT_WB);
}

void arch_partition_destroy(struct partition *p)
{
	ept_destroy(&p->arch.ept);
	if (p->arch.io_bitmap_pa)
		frames_free(p->arch.io_bitmap_pa, 2);
	if (p->arch.msr_bitmap_pa)
		frames_free(p->arch.msr_bitmap_pa, 1);
}

enum vcpu_run_result arch_run_vcpu(struct vcpu *v, u64 deadline)
{
	return vmx_run_vcpu(v, deadline);
}
