/**
 * @file vmx.c
 * @brief Deciding whether this machine can run hvlab, and entering VMX root operation.
 *
 * Every control is derived from the capability MSRs (SDM Vol. 3D Appendix A) by
 * vmx_adjust_ctl(), and every missing feature is named in words, so a student on a
 * laptop with VT-x disabled learns exactly what to change.
 */
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <hvlab/memory.h>
#include <hvlab/partition.h>

struct vmx_caps vmx_caps;
struct vmx_controls vmx_ctls;

/* What the hypervisor cannot run without, and what it uses when present. */
static const struct {
	enum vmx_ctl_field field;
	u32 required, optional;
} control_needs[] = {
	{ VMX_CTL_PIN, PIN_EXTINT_EXITING, 0 }, /* the preemption timer is switched per entry */
	{ VMX_CTL_PROC,
	  CPU_HLT_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_SECONDARY_CONTROLS, 0 },
	/* Without EPT every partition runs on shadow page tables (src/arch/x86/shadow/). */
	{ VMX_CTL_PROC2, 0,
	  CPU2_ENABLE_EPT | CPU2_ENABLE_RDTSCP | CPU2_ENABLE_INVPCID | CPU2_ENABLE_XSAVES | CPU2_WBINVD_EXITING |
	  CPU2_UNRESTRICTED_GUEST },
	/* Without the EFER controls (Core 2) EFER is switched through the MSR-load areas
	 * instead (vmcs_setup.c: vmx_set_guest_efer()). */
	/* The debug controls keep DR7 in the VMCS, for the debugger's hardware breakpoints
	 * (debug_vmx.c); without them GDB gets no hardware breakpoints or watchpoints. */
	{ VMX_CTL_EXIT, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT,
	  EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CTLS },
	{ VMX_CTL_ENTRY, ENTRY_IA32E_MODE_GUEST, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CTLS },
};

static u64 read_msr_cb(u32 msr)
{
	return rdmsr(msr);
}

static bool cpu_is_amd(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	return r.ebx == 0x68747541; /* "Auth" of "AuthenticAMD" */
}

int vmx_global_init(void)
{
	struct cpuid_regs leaf1 = cpuid(1, 0);

	vmx_caps_read(&vmx_caps, leaf1.ecx, read_msr_cb);
	if (!vmx_caps.vmx) {
		printk("hvlab: cannot start: this CPU has no VMX (CPUID.1:ECX.VMX[bit 5] = 0)%s\n",
		       cpu_is_amd() ? "; it is an AMD CPU (SVM), which hvlab does not support" : "");
		return -1;
	}
	if (vmx_caps.feature_locked_off) {
		printk("hvlab: cannot start: VMX is disabled by the firmware (IA32_FEATURE_CONTROL "
		       "locked with VMXON outside SMX off); enable Intel VT-x in the firmware setup\n");
		return -1;
	}

	u32 *out[] = { [VMX_CTL_PIN] = &vmx_ctls.pin, [VMX_CTL_PROC] = &vmx_ctls.proc,
		       [VMX_CTL_PROC2] = &vmx_ctls.proc2, [VMX_CTL_EXIT] = &vmx_ctls.exit,
		       [VMX_CTL_ENTRY] = &vmx_ctls.entry };
	struct vmx_ctl_cap caps[] = { [VMX_CTL_PIN] = vmx_caps.pin, [VMX_CTL_PROC] = vmx_caps.proc,
				      [VMX_CTL_PROC2] = vmx_caps.proc2, [VMX_CTL_EXIT] = vmx_caps.exit,
				      [VMX_CTL_ENTRY] = vmx_caps.entry };
	int problems = 0;
	for (size_t i = 0; i < ARRAY_SIZE(control_needs); i++) {
		enum vmx_ctl_field f = control_needs[i].field;
		u32 missing;

		*out[f] = vmx_adjust_ctl(caps[f], control_needs[i].required, control_needs[i].optional,
					 &missing);
		for (int bit = 0; bit < 32; bit++) {
			if (!(missing & BIT(bit)))
				continue;
			const char *name = vmx_ctl_bit_name(f, bit);
			printk("hvlab: cannot start: VMX lacks the %s control '%s' (bit %d)\n",
			       vmx_ctl_field_name(f), name ? name : "?", bit);
			problems++;
		}
	}
	if (problems)
		return -1;

	/* ept_pointer() asks for a write-back, 4-level hierarchy (SDM Vol. 3C §25.6.11); an
	 * EPT without them is as good as none. */
	if ((vmx_ctls.proc2 & CPU2_ENABLE_EPT) && (!vmx_caps.ept_wb || !vmx_caps.ept_4level)) {
		printk("hvlab: vmx: EPT lacks %s (IA32_VMX_EPT_VPID_CAP = 0x%lx): not used\n",
		       !vmx_caps.ept_wb ? "the write-back memory type for its tables" : "4-level page walks",
		       vmx_caps.ept_vpid_cap);
		vmx_ctls.proc2 &= ~(u32)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	}
	if (!(vmx_ctls.proc2 & CPU2_ENABLE_EPT)) {
		/* Unrestricted guest requires EPT (SDM Vol. 3C §27.2.1.1). */
		vmx_ctls.proc2 &= ~(u32)CPU2_UNRESTRICTED_GUEST;
		printk("hvlab: vmx: no EPT: every partition runs on shadow page tables\n");
	}

	vmx_ctls.cr0_fixed0 = vmx_caps.cr0_fixed0;
	vmx_ctls.cr0_fixed1 = vmx_caps.cr0_fixed1;
	vmx_ctls.cr4_fixed0 = vmx_caps.cr4_fixed0;
	vmx_ctls.cr4_fixed1 = vmx_caps.cr4_fixed1;
	printk("hvlab: vmx: VMCS revision 0x%x, EPT %s%s%s, unrestricted guest %s, MTF %s, VPID %s\n",
	       vmx_caps.vmcs_revision, vmx_has_ept() ? "yes" : "no", vmx_caps.ept_2m ? " 2M" : "",
	       vmx_caps.ept_1g ? " 1G" : "",
	       vmx_ctls.proc2 & CPU2_UNRESTRICTED_GUEST ? "yes" : "no", vmx_caps.mtf ? "yes" : "no",
	       vmx_caps.vpid ? "yes" : "no");
	return 0;
}

int vmx_cpu_enable(struct cpu *c)
{
	/* SDM Vol. 3C §24.8 "Restrictions on VMX operation": CR0 and CR4 must respect the
	 * fixed bits, with CR4.VMXE set, before VMXON. */
	write_cr0(vmx_fix_cr(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1));
	write_cr4(vmx_fix_cr(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));

	/* The VMXON region starts with the VMCS revision identifier (SDM Vol. 3C §25.11.5). */
	c->vmxon_pa = frame_alloc_hv();
	*(u32 *)phys_to_virt(c->vmxon_pa) = vmx_caps.vmcs_revision;

	u8 ok;
	__asm__ volatile("vmxon %1; seta %0" : "=qm"(ok) : "m"(c->vmxon_pa) : "cc", "memory");
	if (!ok) {
		printk("hvlab: cpu%u: VMXON failed\n", c->index);
		return -1;
	}
	c->vmx_on = true;
	return 0;
}

u64 vmx_guest_cr0_fixed0(const struct vcpu *v)
{
	u64 fixed0 = vmx_ctls.cr0_fixed0;

	/* Unrestricted guest lets CR0.PE and CR0.PG be 0 in VMX non-root (SDM Vol. 3C §24.8). */
	if (v->arch.proc2 & CPU2_UNRESTRICTED_GUEST)
		fixed0 &= ~(CR0_PE | CR0_PG);
	return fixed0;
}

void vmx_invept(u64 eptp)
{
	/* The INVEPT descriptor: EPTP, then a reserved quadword (SDM Vol. 3C §31, INVEPT). */
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	u64 type = vmx_caps.invept_single ? 1 : 2; /* single-context, else all-context */

	if (!vmx_caps.invept)
		return; /* without INVEPT, VM entries flush EPT-derived translations themselves */
	__asm__ volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}
