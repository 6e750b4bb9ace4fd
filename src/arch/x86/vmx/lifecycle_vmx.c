/**
 * @file lifecycle_vmx.c
 * @brief The VMX side of pausing, resetting and destroying a partition (src/core/lifecycle.c).
 *
 * A VMCS may be active on one CPU at a time, and the CPU may keep parts of it inside
 * itself until VMCLEAR writes them back (SDM Vol. 3C §25.11.1, "Software Use of the VMCS
 * and Related Structures"). So a vCPU is first parked on its own CPU (VMCLEAR there);
 * from then on its VMCS is plain memory that any CPU may clear for a reset or free.
 */
#include <arch/lifecycle_arch.h>
#include <arch/partition_arch.h>
#include <arch/vmx.h>
#include <arch/vmx_caps.h>
#include <arch/shadow_mmu.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>
#include <hvlab/irq.h>
#include <hvlab/lifecycle.h>

void arch_vcpu_park(struct vcpu *v)
{
	vmx_vcpu_put(v);
}

void arch_vcpu_reset(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	/* The registers and events of the old run; the loader fills a->boot again and the
	 * local APIC is reset when the devices are attached again. */
	memset(&a->regs, 0, sizeof(a->regs));
	memset(&a->boot, 0, sizeof(a->boot));
	memset(a->switched_msrs, 0, sizeof(a->switched_msrs));
	a->launched = false;
	a->xcr0 = 1; /* x87 only, the power-on value */
	a->cr8 = 0;
	a->start_sipi = 0;
	a->reinject_info = a->reinject_error = a->reinject_len = 0;
	a->cr2 = 0;
	if (v->id == 0)
		shadow_mmu_reset(v->part); /* the guest's tables are gone with its old memory */
	if (a->vmcs_pa) {
		/* A fresh region, as frame_alloc_hv() gave it: zero, then the revision identifier
		 * (§25.2); vmx_vcpu_init() runs again before the next entry. */
		memset(phys_to_virt(a->vmcs_pa), 0, PAGE_SIZE);
		*(u32 *)phys_to_virt(a->vmcs_pa) = vmx_caps.vmcs_revision;
		a->reinit = true;
	}
}

void arch_partition_teardown(struct partition *p)
{
	struct ept_walk w;

	for (u32 i = 0; i < p->nvcpus; i++) {
		if (p->vcpu[i].arch.vmcs_pa)
			frames_free(p->vcpu[i].arch.vmcs_pa, 1);
		if (p->vcpu[i].arch.msr_area_pa)
			frames_free(p->vcpu[i].arch.msr_area_pa, 1);
		p->vcpu[i].arch.vmcs_pa = p->vcpu[i].arch.msr_area_pa = 0;
	}
	/* The resource view is a hypervisor page mapped read-only (resources_publish_views()). */
	if (p->arch.ept.root && ept_translate(&p->arch.ept, HVLAB_RESDB_VIEW_GPA, &w))
		frames_free(w.hpa & ~(u64)(PAGE_SIZE - 1), 1);
	arch_partition_destroy(p);
	p->arch.io_bitmap_pa = p->arch.msr_bitmap_pa = 0;
}

int arch_vcpu_with_vmcs(struct vcpu *v, int (*fn)(struct vcpu *v, void *ctx), void *ctx)
{
	struct cpu *c = this_cpu();
	struct vcpu *mine = c->current;
	struct partition *p = v->part;
	u32 bit = BIT(v->id);
	u8 ok;

	/* A parked vCPU's VMCS is clear (VMCLEAR on its CPU), so any CPU may load it
	 * (SDM Vol. 3C §25.11.1); a running one's lives inside its CPU. Marking it borrowed
	 * under the partition lock keeps its own CPU from taking it back meanwhile
	 * (lifecycle_vcpu_may_run()), should the partition be resumed now. */
	spin_lock(&p->lock);
	bool usable = (p->lc.parked & bit) && !(p->lc.borrowed & bit) && v->arch.vmcs_pa && !v->arch.reinit &&
		      mine != v;
	if (usable)
		p->lc.borrowed |= bit;
	spin_unlock(&p->lock);
	if (!usable)
		return -1;
	__asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(v->arch.vmcs_pa) : "cc", "memory");
	int result = ok ? fn(v, ctx) : -1;
	/* Write it back and make it clear again for its own CPU (which VMLAUNCHes it, as
	 * after any park), then make this CPU's own vCPU current again, launch state intact. */
	if (ok)
		__asm__ volatile("vmclear %0" : : "m"(v->arch.vmcs_pa) : "cc", "memory");
	v->arch.launched = false;
	if (mine)
		__asm__ volatile("vmptrld %0" : : "m"(mine->arch.vmcs_pa) : "cc", "memory");
	spin_lock(&p->lock);
	p->lc.borrowed &= ~bit;
	spin_unlock(&p->lock);
	lifecycle_borrow_done(p); /* a reset or destroy may have waited for it */
	vcpu_kick(v); /* its CPU may have found it borrowed and gone idle */
	return result;
}
