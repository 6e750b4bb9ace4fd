/**
 * @file exit_misc.c
 * @brief The small exits: HLT, INVD/WBINVD, XSETBV, triple fault, NMIs, and VMX
 * instructions executed by a guest.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/cpu.h>
#include <arch/insn_decode.h>
#include <hvlab/partition.h>

#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)

/* HLT (exit reason 12): the vCPU sleeps until an interrupt it can take (or, with RFLAGS.IF
 * clear, an NMI or INIT) arrives; the scheduler runs something else meanwhile. */
static enum exit_action handle_hlt(struct vcpu *v, struct vmexit *e)
{
	vcpu_skip_instruction(v, e);
	v->halted_with_if = vmread(GUEST_RFLAGS) & RFLAGS_IF;
	v->state = VCPU_HALTED;
	return EXIT_YIELD;
}
EXIT_HANDLER(EXIT_REASON_HLT, handle_hlt);

/* INVD would discard dirty cache lines of every partition: do a WBINVD instead, which is
 * what the guest can observe anyway (SDM Vol. 2A, INVD: "use with care"). */
static enum exit_action handle_cache_flush(struct vcpu *v, struct vmexit *e)
{
	__asm__ volatile("wbinvd" ::: "memory");
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_INVD, handle_cache_flush);
EXIT_HANDLER(EXIT_REASON_WBINVD, handle_cache_flush);

/* XSETBV (exit reason 55): check as the CPU would (SDM Vol. 2C, XSETBV), then remember the
 * value; vmx_run_vcpu() loads it while this vCPU runs. */
static enum exit_action handle_xsetbv(struct vcpu *v, struct vmexit *e)
{
	u64 *gpr = v->arch.regs.gpr;
	u64 value = (gpr[GPR_RDX] << 32) | (u32)gpr[GPR_RAX];
	struct cpuid_regs xsave = cpuid(0xd, 0);
	u64 supported = ((u64)xsave.edx << 32) | xsave.eax;

	if ((u32)gpr[GPR_RCX] != 0 || !(value & XCR0_X87) || (value & ~supported) ||
	    ((value & XCR0_AVX) && !(value & XCR0_SSE)) || !(vmread(GUEST_CR4) & CR4_OSXSAVE)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	v->arch.xcr0 = value;
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_XSETBV, handle_xsetbv);

/* Triple fault (exit reason 2): on bare metal the machine would reset; here only this
 * partition ends. */
static enum exit_action handle_triple_fault(struct vcpu *v, struct vmexit *e)
{
	partition_fault(v->part, "triple fault on vCPU %u at RIP 0x%lx", v->id, e->rip);
	return EXIT_STOP;
}
EXIT_HANDLER(EXIT_REASON_TRIPLE_FAULT, handle_triple_fault);

/* VMX instructions in a guest (exit reasons 19-27, 50, 53, 59): the guest was told it has
 * no VMX, so they are invalid opcodes for it. */
static enum exit_action handle_vmx_instruction(struct vcpu *v, struct vmexit *e)
{
	vcpu_inject_exception(v, EXC_UD, false, 0);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_VMCLEAR, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMLAUNCH, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMPTRLD, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMPTRST, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMREAD, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMRESUME, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMWRITE, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMXOFF, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMXON, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_INVEPT, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_INVVPID, handle_vmx_instruction);
EXIT_HANDLER(EXIT_REASON_VMFUNC, handle_vmx_instruction);
