/**
 * @file vmx_caps.c
 * @brief Reading what this CPU's VMX can do, and naming every control bit.
 *
 * SDM Vol. 3D Appendix A ("VMX Capability Reporting Facility"). Each 32-bit control field
 * has a capability MSR whose low half says which bits must be 1 and whose high half says
 * which bits may be 1 (§A.3.1). The hypervisor asks for controls by name and this file
 * turns the request into a legal value — and into words when the CPU lacks something.
 */
#include <arch/vmx_caps.h>
#include <hvlab/lib.h>

#define CPUID1_ECX_VMX BIT(5)
#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX BIT(2)
#define VMX_BASIC_TRUE_CTLS BIT(55)

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D §A.10). */
#define EPT_CAP_4LEVEL BIT(6)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)

struct vmx_ctl_cap vmx_ctl_cap_from_msr(u64 msr_value)
{
	return (struct vmx_ctl_cap){ .allowed0 = (u32)msr_value, .allowed1 = (u32)(msr_value >> 32) };
}

/*
 * The order matters: every MSR read here exists only if an earlier value says so, and
 * reading an absent MSR raises #GP.
 */
void vmx_caps_read(struct vmx_caps *caps, u32 cpuid1_ecx, vmx_rdmsr_fn rdmsr)
{
	memset(caps, 0, sizeof(*caps));
	caps->vmx = (cpuid1_ecx & CPUID1_ECX_VMX) != 0;
	if (!caps->vmx)
		return; /* no VMX: the VMX MSRs do not exist */

	/* SDM Vol. 3C §24.7: VMXON outside SMX needs bit 2 once firmware has set the lock bit. */
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	caps->feature_locked_off = (fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX);

	/* §A.1: revision identifier in bits 30:0, VMCS region size in bits 44:32. */
	caps->basic = rdmsr(MSR_IA32_VMX_BASIC);
	caps->vmcs_revision = (u32)(caps->basic & 0x7fffffff);
	caps->vmcs_size = (u32)((caps->basic >> 32) & 0x1fff);

	/* §A.2: with bit 55 set, the TRUE_ MSRs also report which default-1 bits may be 0. */
	caps->true_ctls = (caps->basic & VMX_BASIC_TRUE_CTLS) != 0;
	bool t = caps->true_ctls;
	caps->pin = vmx_ctl_cap_from_msr(rdmsr(t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS));
	caps->proc = vmx_ctl_cap_from_msr(rdmsr(t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS));
	caps->exit = vmx_ctl_cap_from_msr(rdmsr(t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS));
	caps->entry = vmx_ctl_cap_from_msr(rdmsr(t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS));

	/* §A.6 miscellaneous data; §A.7, §A.8 fixed CR0/CR4 bits. */
	caps->misc = rdmsr(MSR_IA32_VMX_MISC);
	caps->preemption_timer_shift = (u32)(caps->misc & 0x1f);
	caps->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	/* §A.3.3: the secondary controls MSR exists only if primary bit 31 may be 1. */
	if (caps->proc.allowed1 & CPU_SECONDARY_CONTROLS)
		caps->proc2 = vmx_ctl_cap_from_msr(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2));

	/* §A.10: EPT_VPID_CAP exists only if "enable EPT" or "enable VPID" may be 1. */
	if (caps->proc2.allowed1 & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID))
		caps->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);

	/* Derived flags: what the hypervisor actually branches on. */
	u64 cap = caps->ept_vpid_cap;
	caps->ept = (caps->proc2.allowed1 & CPU2_ENABLE_EPT) != 0;
	caps->vpid = (caps->proc2.allowed1 & CPU2_ENABLE_VPID) != 0;
	caps->unrestricted_guest = (caps->proc2.allowed1 & CPU2_UNRESTRICTED_GUEST) != 0;
	caps->mtf = (caps->proc.allowed1 & CPU_MONITOR_TRAP_FLAG) != 0;
	caps->preemption_timer = (caps->pin.allowed1 & PIN_PREEMPTION_TIMER) != 0;
	caps->ept_4level = (cap & EPT_CAP_4LEVEL) != 0;
	caps->ept_wb = (cap & EPT_CAP_WB) != 0;
	caps->ept_2m = (cap & EPT_CAP_2M) != 0;
	caps->ept_1g = (cap & EPT_CAP_1G) != 0;
	caps->invept = (cap & EPT_CAP_INVEPT) != 0;
	caps->ept_ad = (cap & EPT_CAP_AD) != 0;
	caps->invept_single = (cap & EPT_CAP_INVEPT_SINGLE) != 0;
	caps->invept_all = (cap & EPT_CAP_INVEPT_ALL) != 0;
}

/* §A.3.1: a control may be 0 iff its allowed-0 bit is 0, may be 1 iff its allowed-1 bit is 1. */
u32 vmx_adjust_ctl(struct vmx_ctl_cap cap, u32 required, u32 optional, u32 *missing)
{
	if (missing)
		*missing = required & ~cap.allowed1;
	return cap.allowed0 | ((required | optional) & cap.allowed1);
}

u64 vmx_fix_cr(u64 value, u64 fixed0, u64 fixed1)
{
	return (value | fixed0) & fixed1;
}

/* Pin-based VM-execution controls, SDM Vol. 3C §25.6.1 (Table 25-5). */
static const char *const pin_names[32] = {
	[0] = "external-interrupt exiting",
	[3] = "NMI exiting",
	[5] = "virtual NMIs",
	[6] = "activate VMX-preemption timer",
	[7] = "process posted interrupts",
};

/* Primary processor-based VM-execution controls, SDM Vol. 3C §25.6.2 (Table 25-6). */
static const char *const proc_names[32] = {
	[2] = "interrupt-window exiting",
	[3] = "use TSC offsetting",
	[7] = "HLT exiting",
	[9] = "INVLPG exiting",
	[10] = "MWAIT exiting",
	[11] = "RDPMC exiting",
	[12] = "RDTSC exiting",
	[15] = "CR3-load exiting",
	[16] = "CR3-store exiting",
	[17] = "activate tertiary controls",
	[19] = "CR8-load exiting",
	[20] = "CR8-store exiting",
	[21] = "use TPR shadow",
	[22] = "NMI-window exiting",
	[23] = "MOV-DR exiting",
	[24] = "unconditional I/O exiting",
	[25] = "use I/O bitmaps",
	[27] = "monitor trap flag",
	[28] = "use MSR bitmaps",
	[29] = "MONITOR exiting",
	[30] = "PAUSE exiting",
	[31] = "activate secondary controls",
};

/* Secondary processor-based VM-execution controls, SDM Vol. 3C §25.6.2 (Table 25-7). */
static const char *const proc2_names[32] = {
	[0] = "virtualize APIC accesses",
	[1] = "enable EPT",
	[2] = "descriptor-table exiting",
	[3] = "enable RDTSCP",
	[4] = "virtualize x2APIC mode",
	[5] = "enable VPID",
	[6] = "WBINVD exiting",
	[7] = "unrestricted guest",
	[8] = "APIC-register virtualization",
	[9] = "virtual-interrupt delivery",
	[10] = "PAUSE-loop exiting",
	[11] = "RDRAND exiting",
	[12] = "enable INVPCID",
	[13] = "enable VM functions",
	[14] = "VMCS shadowing",
	[15] = "enable ENCLS exiting",
	[16] = "RDSEED exiting",
	[17] = "enable PML",
	[18] = "EPT-violation #VE",
	[19] = "conceal VMX from PT",
	[20] = "enable XSAVES/XRSTORS",
	[22] = "mode-based execute control for EPT",
	[23] = "sub-page write permissions for EPT",
	[24] = "Intel PT uses guest physical addresses",
	[25] = "use TSC scaling",
	[26] = "enable user wait and pause",
	[28] = "enable ENCLV exiting",
};

/* Primary VM-exit controls, SDM Vol. 3C §25.7.1 (Table 25-13). */
static const char *const exit_names[32] = {
	[2] = "save debug controls",
	[9] = "host address-space size",
	[12] = "load IA32_PERF_GLOBAL_CTRL",
	[15] = "acknowledge interrupt on exit",
	[18] = "save IA32_PAT",
	[19] = "load IA32_PAT",
	[20] = "save IA32_EFER",
	[21] = "load IA32_EFER",
	[22] = "save VMX-preemption timer value",
	[23] = "clear IA32_BNDCFGS",
	[24] = "conceal VMX from PT",
	[25] = "clear IA32_RTIT_CTL",
	[26] = "clear IA32_LBR_CTL",
	[28] = "load CET state",
	[29] = "load PKRS",
	[30] = "save IA32_PERF_GLOBAL_CTL",
	[31] = "activate secondary controls",
};

/* VM-entry controls, SDM Vol. 3C §25.8.1 (Table 25-15). */
static const char *const entry_names[32] = {
	[2] = "load debug controls",
	[9] = "IA-32e mode guest",
	[10] = "entry to SMM",
	[11] = "deactivate dual-monitor treatment",
	[13] = "load IA32_PERF_GLOBAL_CTRL",
	[14] = "load IA32_PAT",
	[15] = "load IA32_EFER",
	[16] = "load IA32_BNDCFGS",
	[17] = "conceal VMX from PT",
	[18] = "load IA32_RTIT_CTL",
	[20] = "load CET state",
	[21] = "load guest IA32_LBR_CTL",
	[22] = "load PKRS",
};

/* One row per control field: its name and its bit-name table. */
static const struct {
	const char *name;
	const char *const *bits;
} ctl_fields[] = {
	[VMX_CTL_PIN] = { "pin-based", pin_names },
	[VMX_CTL_PROC] = { "primary processor-based", proc_names },
	[VMX_CTL_PROC2] = { "secondary processor-based", proc2_names },
	[VMX_CTL_EXIT] = { "VM-exit", exit_names },
	[VMX_CTL_ENTRY] = { "VM-entry", entry_names },
};

const char *vmx_ctl_bit_name(enum vmx_ctl_field field, int bit)
{
	if ((unsigned)field >= ARRAY_SIZE(ctl_fields) || bit < 0 || bit > 31)
		return NULL;
	return ctl_fields[field].bits[bit];
}

const char *vmx_ctl_field_name(enum vmx_ctl_field field)
{
	if ((unsigned)field >= ARRAY_SIZE(ctl_fields))
		return "unknown";
	return ctl_fields[field].name;
}
