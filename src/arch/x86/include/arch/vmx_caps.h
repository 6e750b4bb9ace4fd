/**
 * @file vmx_caps.h
 * @brief What this CPU's VMX can do, read from CPUID and the VMX capability MSRs.
 *
 * Every VM-execution, VM-exit and VM-entry control the hypervisor uses is derived here
 * from the (TRUE_) capability MSRs (SDM Vol. 3D Appendix A.3-A.5), never hard-coded.
 * Pure logic: the MSRs come through a callback, so host unit tests feed synthetic values
 * (e.g. the values Bochs reports for tigerlake and core2_penryn_t9600).
 */
#ifndef ARCH_VMX_CAPS_H
#define ARCH_VMX_CAPS_H

#include <hvlab/types.h>

/* Capability MSRs (SDM Vol. 4 Table 2-2; Vol. 3D Appendix A). */
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* Pin-based controls (SDM Vol. 3C §25.6.1). */
#define PIN_EXTINT_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)

/* Primary processor-based controls (SDM Vol. 3C §25.6.2, Table 25-6). */
#define CPU_INTR_WINDOW_EXITING BIT(2)
#define CPU_USE_TSC_OFFSETTING BIT(3)
#define CPU_HLT_EXITING BIT(7)
#define CPU_INVLPG_EXITING BIT(9)
#define CPU_MWAIT_EXITING BIT(10)
#define CPU_RDPMC_EXITING BIT(11)
#define CPU_RDTSC_EXITING BIT(12)
#define CPU_CR3_LOAD_EXITING BIT(15)
#define CPU_CR3_STORE_EXITING BIT(16)
#define CPU_CR8_LOAD_EXITING BIT(19)
#define CPU_CR8_STORE_EXITING BIT(20)
#define CPU_USE_TPR_SHADOW BIT(21)
#define CPU_NMI_WINDOW_EXITING BIT(22)
#define CPU_MOV_DR_EXITING BIT(23)
#define CPU_UNCOND_IO_EXITING BIT(24)
#define CPU_USE_IO_BITMAPS BIT(25)
#define CPU_MONITOR_TRAP_FLAG BIT(27)
#define CPU_USE_MSR_BITMAPS BIT(28)
#define CPU_MONITOR_EXITING BIT(29)
#define CPU_PAUSE_EXITING BIT(30)
#define CPU_SECONDARY_CONTROLS BIT(31)

/* Secondary processor-based controls (SDM Vol. 3C §25.6.2, Table 25-7). */
#define CPU2_VIRT_APIC_ACCESSES BIT(0)
#define CPU2_ENABLE_EPT BIT(1)
#define CPU2_DESC_TABLE_EXITING BIT(2)
#define CPU2_ENABLE_RDTSCP BIT(3)
#define CPU2_VIRT_X2APIC BIT(4)
#define CPU2_ENABLE_VPID BIT(5)
#define CPU2_WBINVD_EXITING BIT(6)
#define CPU2_UNRESTRICTED_GUEST BIT(7)
#define CPU2_ENABLE_INVPCID BIT(12)
#define CPU2_ENABLE_XSAVES BIT(20)

/* VM-exit controls (SDM Vol. 3C §25.7.1, Table 25-13). */
#define EXIT_SAVE_DEBUG_CTLS BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_ACK_INTR_ON_EXIT BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
#define EXIT_SAVE_PREEMPT_TIMER BIT(22)

/* VM-entry controls (SDM Vol. 3C §25.8.1, Table 25-15). */
#define ENTRY_LOAD_DEBUG_CTLS BIT(2)
#define ENTRY_IA32E_MODE_GUEST BIT(9)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/** One 32-bit control field's capability: bits that must be 1, bits that may be 1. */
struct vmx_ctl_cap {
	u32 allowed0; /**< low half of the MSR: a 1 here means the control must be 1 */
	u32 allowed1; /**< high half: a 0 here means the control must be 0 */
};

/** Everything the hypervisor needs to know about this CPU's VMX. */
struct vmx_caps {
	bool vmx;              /**< CPUID.1:ECX.VMX[bit 5] */
	bool feature_locked_off; /**< IA32_FEATURE_CONTROL locked with VMXON outside SMX disabled */
	u64 basic;             /**< IA32_VMX_BASIC */
	u32 vmcs_revision;     /**< basic bits 30:0 */
	u32 vmcs_size;         /**< basic bits 44:32 */
	bool true_ctls;        /**< basic bit 55: the TRUE_ MSRs exist and are used */
	struct vmx_ctl_cap pin, proc, proc2, exit, entry;
	u64 misc;              /**< IA32_VMX_MISC */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap;      /**< 0 when secondary controls or EPT/VPID are absent */
	/* Derived feature flags. */
	bool ept, vpid, unrestricted_guest, mtf, preemption_timer;
	bool ept_2m, ept_1g, ept_ad, ept_wb, ept_4level, invept, invept_single, invept_all;
	u32 preemption_timer_shift; /**< timer counts down every 2^shift TSC ticks (misc bits 4:0) */
};

/** Reads one MSR (the hypervisor passes rdmsr; tests pass a table lookup). */
typedef u64 (*vmx_rdmsr_fn)(u32 msr);

/**
 * Fill @p caps from CPUID.1:ECX (@p cpuid1_ecx) and the capability MSRs read through
 * @p rdmsr. When VMX is absent, only caps->vmx (false) is meaningful and no VMX MSR is
 * read (reading them would #GP).
 */
void vmx_caps_read(struct vmx_caps *caps, u32 cpuid1_ecx, vmx_rdmsr_fn rdmsr);

/** Split a capability MSR value into its allowed-0 and allowed-1 halves (SDM Vol. 3D §A.3.1). */
struct vmx_ctl_cap vmx_ctl_cap_from_msr(u64 msr_value);

/**
 * Compute the value of a control field: every bit the CPU forces to 1, plus each bit of
 * @p required and @p optional the CPU allows. Bits of @p required the CPU does not allow
 * are stored in *@p missing (0 when all are there); optional ones are silently dropped.
 */
u32 vmx_adjust_ctl(struct vmx_ctl_cap cap, u32 required, u32 optional, u32 *missing);

/** Apply CR0/CR4 fixed bits (SDM Vol. 3D §A.7, A.8): (value | fixed0) & fixed1. */
u64 vmx_fix_cr(u64 value, u64 fixed0, u64 fixed1);

/** Which control field a name table describes, for messages about missing controls. */
enum vmx_ctl_field { VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY };

/** Name of bit @p bit of control field @p field ("enable EPT"), or NULL if unnamed. */
const char *vmx_ctl_bit_name(enum vmx_ctl_field field, int bit);

/** Name of the field itself ("secondary processor-based"). */
const char *vmx_ctl_field_name(enum vmx_ctl_field field);

#endif
