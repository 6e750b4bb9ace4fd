/**
 * @file debug_vmx.h
 * @brief The VMX side of the debugger, per vCPU: what the VM-entry path does for it
 * (src/arch/x86/vmx/debug_vmx.c tells how).
 *
 * The run loop calls vmx_debug_before_entry() right before every VM entry and
 * vmx_debug_after_exit() right after every exit. For a vCPU of a partition no debugger
 * ever touched both are one comparison: the partition's debug generation (debug.h,
 * struct debug_hot) equals what this vCPU applied, and nothing is active.
 */
#ifndef ARCH_DEBUG_VMX_H
#define ARCH_DEBUG_VMX_H

#include <hvlab/types.h>
#include <arch/debug_dr.h>

struct vcpu;

/** How a vCPU is being single-stepped (bits: MTF and TF may be armed together). */
enum vmx_step { VMX_STEP_NONE = 0, VMX_STEP_MTF = 1, VMX_STEP_TF = 2 };

/** Debugger state of one vCPU (inside struct arch_vcpu, field dbg). */
struct vmx_debug_vcpu {
	u32 applied_gen;   /**< the partition's debug generation last put into the VMCS */
	bool active;       /**< something below needs the slow path at entries */
	bool has_drs;      /**< DR0-DR3 hold the debugger's addresses while this vCPU runs */
	bool drs_loaded;   /**< they are loaded now; host_dr[] holds the CPU's own */
	bool dr7_owned;    /**< GUEST_DR7 is the debugger's; guest_dr7 is the guest's own */
	bool set_rf;       /**< enter with RFLAGS.RF: resume past an instruction breakpoint */
	bool guest_tf;     /**< TF stepping: the guest's own RFLAGS.TF */
	u8 step;           /**< enum vmx_step bits: how the current step runs */
	u64 step_rip;      /**< RIP when the step began */
	u64 guest_dr7;
	struct dr_plan plan;   /**< the debugger's DR0-DR3/DR7 and their requests */
	u64 host_dr[DR_COUNT];
};

/** Slow path of vmx_debug_before_entry(). */
bool vmx_debug_entry_slow(struct vcpu *v);
/** Slow path of vmx_debug_after_exit(). */
void vmx_debug_exit_slow(struct vcpu *v);

#endif
