/**
 * @file exit_vmcall.c
 * @brief VMCALL (exit reason 18): the hypercall instruction (docs/hypercalls.md).
 *
 * ABI: RAX = hypercall number, RDI, RSI, RDX = arguments; the result comes back in RAX.
 * A VMCALL from guest user mode (CPL 3) gets #UD, so only the guest kernel can call.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/insn_decode.h>
#include <hvlab/hypercall.h>
#include <hvlab/partition.h>

static enum exit_action handle_vmcall(struct vcpu *v, struct vmexit *e)
{
	u64 *gpr = v->arch.regs.gpr;

	if (((vmread(GUEST_SS_AR) >> 5) & 3) != 0) { /* CPL is SS.DPL (SDM Vol. 3C §27.3.1.5) */
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return EXIT_RESUME;
	}
	gpr[GPR_RAX] = (u64)hypercall_dispatch(v, gpr[GPR_RAX], gpr[GPR_RDI], gpr[GPR_RSI], gpr[GPR_RDX]);
	if (partition_ended(v->part))
		return EXIT_STOP;
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_VMCALL, handle_vmcall);
