/**
 * @file exit_shadow.c
 * @brief Shadow paging on VMX: the guest's view of its paging controls, what the CPU
 *        really runs with, and the #PF exits.
 *
 * With EPT off the VMCS holds the CPU's real CR0, CR3, CR4 and EFER (SDM Vol. 3C
 * §25.4.1), and those must suit the shadow tables, not the guest: paging always on
 * (CR0.PE and PG are fixed to 1 without unrestricted guest, §24.8), CR0.WP on so
 * write-protected guest page tables stay protected from supervisor stores, CR4.PAE on
 * (the shadow is PAE or 4-level), no global pages. The guest reads what it wrote: owned
 * CR0/CR4 bits come from the read shadows (§25.6.6), CR3 from arch.guest_cr3 (CR3-load
 * and -store exiting, §26.1.3), EFER.LME from arch.guest_lme.
 *
 * The shadow MMU itself (src/arch/x86/shadow/) knows nothing of VMX; this file feeds it
 * the guest state and turns its answers into injections, MMIO and stops.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/trap.h>
#include <arch/insn_decode.h>
#include <arch/guest_mem.h>
#include <arch/shadow_mmu.h>
#include <hvlab/partition.h>

bool vcpu_shadow_paging(const struct vcpu *v)
{
	return v->part->arch.shadow != NULL;
}

void vcpu_paging_state(struct vcpu *v, struct shadow_guest_state *gs)
{
	u64 cr0_mask = vmread(CR0_GUEST_HOST_MASK), cr4_mask = vmread(CR4_GUEST_HOST_MASK);

	/* Bits the hypervisor owns read from the shadows, the others from the real registers. */
	gs->cr0 = (vmread(GUEST_CR0) & ~cr0_mask) | (vmread(CR0_READ_SHADOW) & cr0_mask);
	gs->cr4 = (vmread(GUEST_CR4) & ~cr4_mask) | (vmread(CR4_READ_SHADOW) & cr4_mask);
	gs->efer = vmx_guest_efer(v);
	gs->rflags = vmread(GUEST_RFLAGS);
	if (vcpu_shadow_paging(v)) {
		gs->cr3 = v->arch.guest_cr3;
		if (v->arch.guest_lme)
			gs->efer |= EFER_LME;
	} else {
		gs->cr3 = vmread(GUEST_CR3);
	}
}

u64 vcpu_real_cr0(const struct vcpu *v, u64 guest_cr0)
{
	u64 cr0 = guest_cr0 | CR0_NE;

	if (vcpu_shadow_paging(v))
		cr0 |= CR0_PE | CR0_PG | CR0_WP;
	return vmx_fix_cr(cr0, vmx_guest_cr0_fixed0(v), vmx_ctls.cr0_fixed1);
}

u64 vcpu_real_cr4(const struct vcpu *v, u64 guest_cr4)
{
	u64 cr4 = guest_cr4;

	if (vcpu_shadow_paging(v)) {
		/* SMEP and SMAP stay the guest's, enforced by the CPU on the shadow leaves. */
		cr4 = (cr4 & ~(u64)(CR4_PSE | CR4_PGE | CR4_PCIDE)) | CR4_PAE;
		if (!(vmread(CR0_READ_SHADOW) & CR0_PG))
			cr4 &= ~(u64)(CR4_SMEP | CR4_SMAP); /* paging off: no page protection at all */
	}
	return vmx_fix_cr(cr4, vmx_ctls.cr4_fixed0, vmx_ctls.cr4_fixed1);
}

int vcpu_shadow_reload(struct vcpu *v)
{
	struct shadow_guest_state gs;
	u64 root;

	vcpu_paging_state(v, &gs);
	int err = shadow_mmu_load(v, &gs, &root);
	if (err == -2 || err == -3) {
		partition_fault(v->part, err == -2 ? "shadow paging: the PAE page-directory-pointer table at "
						     "guest-physical 0x%lx is not RAM of this partition"
						   : "shadow paging: the host is out of memory for shadow tables "
						     "(CR3 0x%lx)",
				gs.cr3);
		return -2;
	}
	if (err == 0)
		vmwrite(GUEST_CR3, root);
	return err;
}

/* Inject the guest's own page fault: CR2 gets the address (SDM Vol. 3A §5.7). A #PF
 * while delivering another #PF is a double fault (Vol. 3A §7.15, Table 7-5). */
static void inject_guest_page_fault(struct vcpu *v, u64 la, u32 error_code)
{
	u32 vectoring = v->arch.reinject_info;

	if ((vectoring & INTR_INFO_VALID) && (vectoring & 0x700) == INTR_TYPE_HW_EXCEPTION &&
	    (vectoring & 0xff) == EXC_PF) {
		vcpu_inject_exception(v, EXC_DF, true, 0);
		return;
	}
	v->arch.cr2 = la;
	vcpu_inject_exception(v, EXC_PF, true, error_code);
}

/* A store into a guest page table: decode it (64-bit MOV forms, insn_decode.h), do it
 * and drop what it invalidates; anything else runs natively after an unprotect. */
static enum exit_action emulate_pt_store(struct vcpu *v, struct vmexit *e, const struct shadow_guest_state *gs,
					 u64 la, u32 pfec, u64 gpa)
{
	u8 bytes[15];
	struct mmio_insn insn;
	u64 cs_ar = vmread(GUEST_CS_AR);
	bool long_code = cs_ar & BIT(13), code32 = !long_code && (cs_ar & BIT(14)); /* CS.L, CS.D */
	u64 cs_base = long_code ? 0 : vmread(GUEST_CS_BASE);
	size_t got = long_code || code32 ? guest_read_virt(v, cs_base + e->rip, bytes, sizeof(bytes)) : 0;

	if (got && insn_decode(bytes, got, long_code, &insn) == INSN_OK && insn.write &&
	    (gpa & 0xfff) + insn.size <= PAGE_SIZE) {
		u64 value = insn.reg < 0 ? insn.imm : v->arch.regs.gpr[insn.reg];
		if (insn.reg == GPR_RSP)
			value = vmread(GUEST_RSP);
		if (insn.high_byte)
			value >>= 8;
		if (shadow_mmu_emulated_store(v, gpa, insn.size, value) == 0) {
			e->insn_len = insn.len; /* a #PF exit does not provide it */
			vcpu_skip_instruction(v, e);
			return EXIT_RESUME;
		}
	}
	return shadow_mmu_unprotect(v, gs, la, pfec, gpa, e->rip) == SPF_STOP ? EXIT_STOP : EXIT_RESUME;
}

/* #PF exit (exception bitmap bit 14): exit qualification = linear address, the
 * interruption error code = the CPU's page-fault error code (SDM Vol. 3C §28.2.1-2). */
static enum exit_action handle_page_fault(struct vcpu *v, struct vmexit *e)
{
	struct shadow_guest_state gs;
	struct shadow_pf_out out;
	u64 la = e->qualification;
	u32 pfec = (u32)vmread(VM_EXIT_INTR_ERROR_CODE);

	if (!vcpu_shadow_paging(v)) {
		partition_fault(v->part, "page-fault exit without shadow paging (RIP 0x%lx)", e->rip);
		return EXIT_STOP;
	}
	vcpu_paging_state(v, &gs);
	switch (shadow_mmu_page_fault(v, &gs, la, pfec, &out)) {
	case SPF_RETRY:
		return EXIT_RESUME;
	case SPF_GUEST_FAULT:
		inject_guest_page_fault(v, la, out.error_code);
		return EXIT_RESUME;
	case SPF_PT_WRITE:
		/* A store made by event delivery (pushing an interrupt frame) is no instruction
		 * at RIP to decode: let it run natively, then the event is delivered again. */
		if (v->arch.reinject_info & INTR_INFO_VALID)
			return shadow_mmu_unprotect(v, &gs, la, pfec, out.gpa, e->rip) == SPF_STOP ? EXIT_STOP
												      : EXIT_RESUME;
		return emulate_pt_store(v, e, &gs, la, pfec, out.gpa);
	case SPF_NOT_MEMORY:
		return guest_memory_violation(v, e, out.gpa, out.write, out.fetch, "shadow paging");
	case SPF_STOP:
		break;
	}
	return EXIT_STOP;
}
EXCEPTION_HANDLER(EXC_PF, handle_page_fault);
