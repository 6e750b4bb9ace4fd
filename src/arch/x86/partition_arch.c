/**
 * @file partition_arch.c
 * @brief A partition's x86 side: its EPT and its VMX bitmaps.
 */
#include <arch/partition_arch.h>
#include <arch/vmx.h>
#include <arch/direct_irq.h>
#include <arch/shadow_mmu.h>
#include <hvlab/partition.h>
#include <hvlab/config.h>
#include <hvlab/console.h>
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

/* Shadow paging when configured, or when the CPU has no EPT (paging = auto). */
static bool wants_shadow(const struct partition_config *pc)
{
	return pc->paging == PAGING_SHADOW || (pc->paging == PAGING_AUTO && !vmx_has_ept());
}

const char *arch_paging_problem(const struct partition_config *pc)
{
	if (pc->paging == PAGING_EPT && !vmx_has_ept())
		return "paging = ept, but this CPU's VMX has no usable EPT (use paging = shadow or auto)";
	if (!wants_shadow(pc) || pc->paging == PAGING_SHADOW)
		return NULL; /* the explicit case was checked with the file (config.c) */
	if (pc->ncpus > 1)
		return "this CPU has no EPT, so the partition runs on shadow paging, which runs one vCPU "
		       "only (more need the unrestricted-guest control, which needs EPT)";
	if (pc->identity)
		return "this CPU has no EPT, and identity = yes needs it";
	return NULL;
}

void arch_partition_report(const struct partition *p)
{
	const struct shadow_cache_stats *cache;
	const struct shadow_stats *s = shadow_mmu_stats(p, &cache);
	u64 used, limit;

	if (!s)
		return;
	shadow_mmu_pool_usage(p, &used, &limit);
	printk("hvlab: partition %s: shadow paging: %lu page faults (%lu leaves filled, %lu the guest's own), "
	       "%lu page-table writes emulated, %lu frames unprotected (%lu after write floods), %lu entries "
	       "dropped; %lu CR3 loads: cache %lu hits, %lu misses, %lu evictions; pool %lu of %lu pages\n",
	       p->name, s->page_faults, s->leaves_filled, s->guest_faults, s->write_emulations,
	       s->unprotects + s->flood_unprotects, s->flood_unprotects, s->entries_zapped, s->cr3_loads, cache->hits, cache->misses, cache->evictions, used, limit);
}

const char *arch_paging_description(const struct partition *p)
{
	return p->arch.paging_why;
}

int arch_partition_init(struct partition *p)
{
	struct ept_ops ops = { ept_alloc_table, ept_free_table, ept_phys_to_virt, p };
	const struct partition_config *pc = p->cfg;

	/* Every partition gets an EPT hierarchy: the hardware walks it under EPT, and the
	 * shadow MMU reads it as the partition's guest-physical → host-physical map. */
	if (ept_init(&p->arch.ept, &ops, vmx_caps.ept_2m, vmx_caps.ept_1g) < 0)
		return -1;
	p->arch.paging_why = "ept";
	if (wants_shadow(pc)) {
		p->arch.paging_why = pc->paging == PAGING_SHADOW
					     ? (pc->shadow_cache ? "shadow (configured), cache on"
								 : "shadow (configured), cache off")
					     : (pc->shadow_cache ? "shadow (no EPT on this CPU), cache on"
								 : "shadow (no EPT on this CPU), cache off");
		if (shadow_mmu_init(p, pc->shadow_cache) < 0)
			return -1;
	}
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
	shadow_mmu_destroy(p);
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
