/**
 * @file exit_cpuid.c
 * @brief CPUID: what the guest is told about its processor (exit reason 10).
 *
 * CPUID always exits in VMX non-root operation (SDM Vol. 3C §26.1.2). The guest sees the
 * real processor, minus what it cannot use (VMX itself, MONITOR/MWAIT), plus the
 * "hypervisor present" bit, the virtual local APIC's x2APIC and TSC-deadline modes, its
 * APIC ID, and hvlab's own leaves (guest_abi.h).
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>

#define CPUID1_ECX_MONITOR BIT(3)
#define CPUID1_ECX_VMX BIT(5)
#define CPUID1_ECX_X2APIC BIT(21)
#define CPUID1_ECX_TSC_DEADLINE BIT(24)
#define CPUID1_ECX_OSXSAVE BIT(27)
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUID_80000001_EDX_PAGE1GB BIT(26)

static struct cpuid_regs hvlab_leaf(struct vcpu *v, u32 leaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf == HVLAB_CPUID_SIGNATURE) {
		r.eax = HVLAB_CPUID_INFO;
		r.ebx = 0x616c7668; /* "hvla" (little-endian bytes) */
		r.ecx = 0x6c766862; /* "bhvl" */
		r.edx = 0x76686261; /* "abhv": together "hvlabhvlabhv" */
	} else if (leaf == HVLAB_CPUID_INFO) {
		r.eax = HVLAB_ABI_VERSION;
		r.ebx = v->part->id;
		r.ecx = v->id;
	}
	return r;
}

/* The APIC ID the guest sees: its vCPU number, or with interception off the real one of
 * its CPU, whose local APIC it uses directly (direct_irq.c). */
static u32 apic_id(struct vcpu *v)
{
	return v->part->direct_irqs ? cpus[v->cpu].apic_id : v->id;
}

static enum exit_action handle_cpuid(struct vcpu *v, struct vmexit *e)
{
	u64 *gpr = v->arch.regs.gpr;
	u32 leaf = (u32)gpr[GPR_RAX], subleaf = (u32)gpr[GPR_RCX];
	struct cpuid_regs r;

	if (leaf >= 0x40000000 && leaf <= 0x4fffffff) {
		r = hvlab_leaf(v, leaf);
	} else {
		r = cpuid(leaf, subleaf);
		if (leaf == 1) {
			r.ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_MONITOR | CPUID1_ECX_OSXSAVE);
			/* The virtual local APIC has x2APIC mode and the TSC-deadline timer; a guest
			 * using its CPU's real xAPIC (interception off) is told neither. */
			r.ecx |= CPUID1_ECX_HYPERVISOR;
			if (!v->part->direct_irqs)
				r.ecx |= CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;
			else
				r.ecx &= ~(CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE);
			if (vmread(GUEST_CR4) & CR4_OSXSAVE) /* OSXSAVE mirrors the guest's CR4 */
				r.ecx |= CPUID1_ECX_OSXSAVE;
			r.ebx = (r.ebx & 0x00ffffff) | (apic_id(v) << 24);
		} else if (leaf == 0x80000001 && vcpu_shadow_paging(v)) {
			/* The shadow MMU walks guest tables in software and backs 1 GiB pages with
			 * 4 KiB leaves: a shadow-paged guest has them whatever the CPU. */
			r.edx |= CPUID_80000001_EDX_PAGE1GB;
		} else if (leaf == 0xb || leaf == 0x1f) {
			r.edx = apic_id(v); /* x2APIC ID of this logical processor */
		}
	}
	gpr[GPR_RAX] = r.eax;
	gpr[GPR_RBX] = r.ebx;
	gpr[GPR_RCX] = r.ecx;
	gpr[GPR_RDX] = r.edx;
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_CPUID, handle_cpuid);
