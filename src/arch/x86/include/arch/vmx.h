/**
 * @file vmx.h
 * @brief VMX root operation: the checks before it, VMXON on each CPU, running a vCPU.
 */
#ifndef ARCH_VMX_H
#define ARCH_VMX_H

#include <hvlab/types.h>
#include <arch/vmx_caps.h>
#include <arch/percpu.h>
#include <arch/partition_arch.h>

struct vcpu;
struct partition;

/** The controls every VMCS starts from, computed once from the capability MSRs. */
struct vmx_controls {
	u32 pin, proc, proc2, exit, entry;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/** The capabilities of this machine's VMX and the controls derived from them. */
extern struct vmx_caps vmx_caps;
extern struct vmx_controls vmx_ctls;

/**
 * On the bootstrap processor: read the VMX capabilities and derive every control the
 * hypervisor needs. When VMX is absent, disabled by firmware, or a required control is
 * missing, print each problem in words ("hvlab: cannot start: ...") and return -1.
 */
int vmx_global_init(void);

/**
 * On the calling CPU: set CR4.VMXE and the CR0/CR4 fixed bits, and execute VMXON with a
 * fresh VMXON region (SDM Vol. 3C §24.7, §25.11.5). Returns 0, or -1 after printing why.
 */
int vmx_cpu_enable(struct cpu *c);

/** The CR0 bits @p v must keep set: VMX's fixed-0 bits, without PE and PG when its
 *  unrestricted-guest control is on. */
u64 vmx_guest_cr0_fixed0(const struct vcpu *v);

/** True when this CPU's VMX has usable EPT (otherwise every partition uses shadow paging). */
static inline bool vmx_has_ept(void)
{
	return (vmx_ctls.proc2 & CPU2_ENABLE_EPT) != 0;
}

/** Drop cached translations derived from the EPT hierarchy @p eptp (SDM Vol. 3C §29.4.3.1):
 *  after changing a partition's EPT, on every CPU that runs it. */
void vmx_invept(u64 eptp);

/** The EFER @p v's guest runs with (what the CPU has, not necessarily what the guest wrote). */
u64 vmx_guest_efer(struct vcpu *v);

/** Set the EFER @p v's guest runs with: the VMCS field, or the VM-entry MSR-load area on
 *  CPUs without the "load IA32_EFER" entry control (SDM Vol. 3C §25.8.2, §27.4). */
void vmx_set_guest_efer(struct vcpu *v, u64 value);

/** Set up the VMCS of @p v for its partition's entry state. Returns 0 or -1. */
int vmx_vcpu_init(struct vcpu *v);

/** On @p v's CPU: save its pass-through MSRs, VMCLEAR its VMCS and forget it as this
 *  CPU's current one, so it can be reset, freed, or loaded again later (lifecycle). */
void vmx_vcpu_put(struct vcpu *v);

/** Build what a partition's VMCSs point to (I/O and MSR bitmaps). Returns 0 or -1. */
int vmx_partition_init(struct partition *p);

/**
 * Run @p v on this CPU: enter the guest, dispatch each VM exit to its handler
 * (src/arch/x86/vmx/exit.c), repeat, until @p deadline (TSC, 0 = none), a halt, an INIT,
 * or the end of its partition.
 */
enum vcpu_run_result vmx_run_vcpu(struct vcpu *v, u64 deadline);

/** Put @p v (its VMCS current) in the real-mode state a STARTUP IPI with @p vector gives
 *  (SDM Vol. 3A §9.4.4.1: CS = vector << 8, IP = 0). */
void vmx_vcpu_enter_real_mode(struct vcpu *v, u8 vector);

/** Low-level entry (vmentry.S): returns 0 after a VM exit, 1/2 when VM entry failed. */
int vmx_enter(void *regs, int launched);

/** Where the CPU continues after a VM exit (vmentry.S); the VMCS HOST_RIP. */
void vmx_exit_entry(void);

#endif
