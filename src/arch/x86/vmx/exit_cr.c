/**
 * @file exit_cr.c
 * @brief Control-register accesses that exit (exit reason 28).
 *
 * Bits of CR0 and CR4 the hypervisor owns (the guest/host masks, vmcs_setup.c) exit when
 * the guest writes them. The guest's intended value goes to the read shadow, so it reads
 * back what it wrote; the real register gets the value VMX requires (fixed bits).
 * Exit qualification: SDM Vol. 3C §28.2.1, Table 28-3.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/insn_decode.h>
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

static bool guest_write_cr0(struct vcpu *v, u64 value)
{
	if (value >> 32 || ((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
		return false; /* #GP conditions of MOV to CR0 (SDM Vol. 2B) */
	if (!(value & CR0_PG) && (vmread(GUEST_IA32_EFER) & EFER_LMA))
		return false; /* leaving long mode needs unrestricted-guest handling (issue 4) */
	vmwrite(CR0_READ_SHADOW, value);
	vmwrite(GUEST_CR0, vmx_fix_cr(value | CR0_NE, vmx_guest_cr0_fixed0(), vmx_ctls.cr0_fixed1));
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
	if (!(value & CR4_PAE) && (vmread(GUEST_IA32_EFER) & EFER_LMA))
		return false; /* PAE may not be cleared in long mode */
	vmwrite(CR4_READ_SHADOW, value);
	vmwrite(GUEST_CR4, vmx_fix_cr(value, vmx_ctls.cr4_fixed0, vmx_ctls.cr4_fixed1));
	return true;
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
		else if (cr == 3) /* only if the CPU forces CR3-load exiting */
			vmwrite(GUEST_CR3, gpr_value(v, reg));
		else if (cr == 8)
			v->arch.cr8 = gpr_value(v, reg) & 0xf;
		else
			ok = false;
		break;
	case CR_MOV_FROM:
		if (cr == 3)
			set_gpr(v, reg, vmread(GUEST_CR3));
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
