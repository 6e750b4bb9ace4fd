/**
 * @file exit_cr.c
 * @brief Control-register accesses that exit (exit reason 28).
 *
 * Bits of CR0 and CR4 the hypervisor owns (the guest/host masks, vmcs_setup.c) exit when
 * the guest writes them. The guest's intended value goes to the read shadow, so it reads
 * back what it wrote; the real register gets the value VMX requires (fixed bits) and,
 * under shadow paging, what the shadow tables need (exit_shadow.c). CR3 accesses exit
 * only under shadow paging (or where the CPU forces it).
 * Exit qualification: SDM Vol. 3C §28.2.1, Table 28-3.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/insn_decode.h>
#include <arch/shadow_mmu.h>
#include <hvlab/partition.h>

#define CRQ_NUMBER(q) ((q) & 0xf)
#define CRQ_TYPE(q) (((q) >> 4) & 3)
#define CRQ_GPR(q) (((q) >> 8) & 0xf)
#define CRQ_LMSW_SOURCE(q) ((u16)((q) >> 16))
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

/* CR4 bits a guest may set: the architectural ones this CPU knows, never VMXE/SMXE. */
#define CR4_GUEST_ALLOWED                                                                  \
	(CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |   \
	 CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_FSGSBASE | CR4_PCIDE |      \
	 CR4_OSXSAVE | CR4_SMEP | CR4_SMAP)

static u64 gpr_value(struct vcpu *v, int reg)
{
	return reg == GPR_RSP ? vmread(GUEST_RSP) : v->arch.regs.gpr[reg];
}

static void set_gpr(struct vcpu *v, int reg, u64 value)
{
	if (reg == GPR_RSP)
		vmwrite(GUEST_RSP, value);
	else
		v->arch.regs.gpr[reg] = value;
}

/* Shadow paging: turning paging on with EFER.LME set activates IA-32e mode, which the
 * CPU cannot do itself here because its CR0.PG never changes (SDM Vol. 3A §10.8.5). */
static bool shadow_enter_long_mode(struct vcpu *v, u64 old_cr0, u64 value)
{
	if ((old_cr0 & CR0_PG) || !(value & CR0_PG) || !v->arch.guest_lme)
		return true;
	if (!(vmread(CR4_READ_SHADOW) & CR4_PAE))
		return false; /* #GP: IA-32e mode needs PAE */
	vmx_set_guest_efer(v, vmx_guest_efer(v) | EFER_LME | EFER_LMA);
	vmwrite(VM_ENTRY_CONTROLS, vmread(VM_ENTRY_CONTROLS) | ENTRY_IA32E_MODE_GUEST);
	return true;
}

/* The paging controls changed: under shadow paging the CPU switches shadow root. */
static bool paging_changed(struct vcpu *v)
{
	return !vcpu_shadow_paging(v) || vcpu_shadow_reload(v) == 0;
}

static bool guest_write_cr0(struct vcpu *v, u64 value)
{
	u64 old = vmread(CR0_READ_SHADOW);

	if (value >> 32 || ((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
		return false; /* #GP conditions of MOV to CR0 (SDM Vol. 2B) */
	if (!(value & CR0_PG) && (vmx_guest_efer(v) & EFER_LMA))
		return false; /* leaving long mode is not supported: #GP, said in docs/design/shadow-paging.md */
	if (vcpu_shadow_paging(v) && !shadow_enter_long_mode(v, old, value))
		return false;
	u64 old_real = vmread(GUEST_CR0), old_efer = vmx_guest_efer(v);
	u64 old_entry = vmread(VM_ENTRY_CONTROLS);
	vmwrite(CR0_READ_SHADOW, value);
	vmwrite(GUEST_CR0, vcpu_real_cr0(v, value));
	if ((old ^ value) & (CR0_PG | CR0_WP)) {
		vmwrite(GUEST_CR4, vcpu_real_cr4(v, vmread(CR4_READ_SHADOW))); /* SMEP/SMAP follow PG */
		if (!paging_changed(v)) { /* #GP: the MOV did not happen */
			vmwrite(CR0_READ_SHADOW, old);
			vmwrite(GUEST_CR0, old_real);
			vmwrite(GUEST_CR4, vcpu_real_cr4(v, vmread(CR4_READ_SHADOW)));
			vmx_set_guest_efer(v, old_efer);
			vmwrite(VM_ENTRY_CONTROLS, old_entry);
			return false;
		}
	}
	return true;
}

static bool guest_write_cr4(struct vcpu *v, u64 value)
{
	static int has_xsave = -1; /* CPUID.1:ECX.XSAVE, asked once: guests write CR4 often */

	if (has_xsave < 0)
		has_xsave = (cpuid(1, 0).ecx >> 26) & 1;
	if (value & ~(u64)CR4_GUEST_ALLOWED)
		return false;
	if ((value & CR4_OSXSAVE) && !has_xsave)
		return false; /* no XSAVE on this CPU */
	if (!(value & CR4_PAE) && (vmx_guest_efer(v) & EFER_LMA))
		return false; /* PAE may not be cleared in long mode */
	if ((value & CR4_PCIDE) && vcpu_shadow_paging(v))
		return false; /* PCIDs are not shadowed: refused with #GP (docs/design/shadow-paging.md) */
	u64 old = vmread(CR4_READ_SHADOW);
	vmwrite(CR4_READ_SHADOW, value);
	vmwrite(GUEST_CR4, vcpu_real_cr4(v, value));
	if ((old ^ value) & (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP) && !paging_changed(v)) {
		vmwrite(CR4_READ_SHADOW, old); /* #GP: the MOV did not happen */
		vmwrite(GUEST_CR4, vcpu_real_cr4(v, old));
		return false;
	}
	return true;
}

/* MOV to CR3 under shadow paging: the guest's value is remembered, the CPU gets the
 * shadow root for it (found in the cache, or new). */
static bool guest_write_cr3(struct vcpu *v, u64 value)
{
	if (!vcpu_shadow_paging(v)) { /* only if the CPU forces CR3-load exiting */
		vmwrite(GUEST_CR3, value);
		return true;
	}
	u64 old = v->arch.guest_cr3;
	v->arch.guest_cr3 = value;
	if (vcpu_shadow_reload(v) == -1) {
		v->arch.guest_cr3 = old; /* #GP: the MOV did not happen */
		return false;
	}
	return true;
}

static u64 guest_read_cr3(struct vcpu *v)
{
	return vcpu_shadow_paging(v) ? v->arch.guest_cr3 : vmread(GUEST_CR3);
}

static enum exit_action handle_cr_access(struct vcpu *v, struct vmexit *e)
{
	u64 q = e->qualification;
	int cr = CRQ_NUMBER(q), reg = CRQ_GPR(q);
	bool ok = true;

	switch (CRQ_TYPE(q)) {
	case CR_MOV_TO:
		if (cr == 0)
			ok = guest_write_cr0(v, gpr_value(v, reg));
		else if (cr == 4)
			ok = guest_write_cr4(v, gpr_value(v, reg));
		else if (cr == 3)
			ok = guest_write_cr3(v, gpr_value(v, reg));
		else if (cr == 8)
			v->arch.cr8 = gpr_value(v, reg) & 0xf;
		else
			ok = false;
		break;
	case CR_MOV_FROM:
		if (cr == 3)
			set_gpr(v, reg, guest_read_cr3(v));
		else if (cr == 8)
			set_gpr(v, reg, v->arch.cr8);
		else
			ok = false;
		break;
	case CR_CLTS:
		ok = guest_write_cr0(v, vmread(CR0_READ_SHADOW) & ~CR0_TS);
		break;
	case CR_LMSW: /* LMSW changes only PE, MP, EM, TS and cannot clear PE */
		ok = guest_write_cr0(v, (vmread(CR0_READ_SHADOW) & ~0xeULL) | (CRQ_LMSW_SOURCE(q) & 0xf) |
					  (vmread(CR0_READ_SHADOW) & CR0_PE));
		break;
	}
	if (!ok) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_CR_ACCESS, handle_cr_access);
