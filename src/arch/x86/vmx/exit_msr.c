/**
 * @file exit_msr.c
 * @brief RDMSR and WRMSR of intercepted MSRs (exit reasons 31 and 32).
 *
 * MSRs VMX switches itself pass through (vmcs_setup.c). The rest exit and are emulated
 * from this table; an MSR not in it raises #GP in the guest, as an MSR that does not
 * exist does on real hardware (SDM Vol. 2B, RDMSR: "#GP(0) if ECX specifies a reserved
 * or unimplemented MSR address").
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/insn_decode.h>
#include <hvlab/partition.h>

#define MSR_IA32_TSC 0x10
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_PLATFORM_ID 0x17

#define FEATURE_CONTROL_LOCKED BIT(0)

/** How one emulated MSR is read and written; write returns false to raise #GP. */
struct msr_emulation {
	u32 index;
	u64 (*read)(struct vcpu *v);
	bool (*write)(struct vcpu *v, u64 value);
};

/* Under shadow paging the CPU's EFER.LME must equal LMA while its CR0.PG is always 1
 * (SDM Vol. 3C §27.3.1.1), so the guest's LME lives in arch.guest_lme (exit_shadow.c). */
static u64 read_efer(struct vcpu *v)
{
	return vmx_guest_efer(v) | (vcpu_shadow_paging(v) && v->arch.guest_lme ? EFER_LME : 0);
}

static bool write_efer(struct vcpu *v, u64 value)
{
	u64 old = read_efer(v);
	u64 allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

	if (value & ~allowed)
		return false;
	/* LMA is read-only (the CPU sets it); LME may not change while paging is on (SDM Vol. 3A §10.8.5). */
	value = (value & ~EFER_LMA) | (old & EFER_LMA);
	u64 cr0 = vmread(vcpu_shadow_paging(v) ? CR0_READ_SHADOW : GUEST_CR0); /* the guest's PG */
	if ((cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
		return false;
	if (!vcpu_shadow_paging(v)) {
		vmx_set_guest_efer(v, value);
		return true;
	}
	v->arch.guest_lme = value & EFER_LME;
	vmx_set_guest_efer(v, (value & ~EFER_LME) | (value & EFER_LMA ? EFER_LME : 0));
	if ((value ^ old) & EFER_NXE) /* NX changes what shadow leaves may say */
		return vcpu_shadow_reload(v) == 0;
	return true;
}

static u64 pat_shadow[MAX_PARTITIONS][MAX_VCPUS];

static u64 read_pat(struct vcpu *v)
{
	if (vmx_ctls.entry & ENTRY_LOAD_PAT)
		return vmread(GUEST_IA32_PAT);
	return pat_shadow[v->part->id][v->id];
}

static bool write_pat(struct vcpu *v, u64 value)
{
	for (int i = 0; i < 8; i++) { /* each entry must be a valid memory type (SDM Vol. 3A §12.12.2) */
		u8 type = (value >> (i * 8)) & 0xff;
		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	if (vmx_ctls.entry & ENTRY_LOAD_PAT)
		vmwrite(GUEST_IA32_PAT, value);
	else
		pat_shadow[v->part->id][v->id] = value;
	return true;
}

static u64 read_tsc(struct vcpu *v) { return rdtsc(); }
static u64 read_zero(struct vcpu *v) { return 0; }
static bool write_ignore(struct vcpu *v, u64 value) { return true; }
static u64 read_feature_control(struct vcpu *v) { return FEATURE_CONTROL_LOCKED; /* VMX off */ }
static u64 read_misc_enable(struct vcpu *v) { return 1; /* fast strings */ }

static const struct msr_emulation msr_table[] = {
	{ MSR_IA32_EFER, read_efer, write_efer },
	{ MSR_IA32_PAT, read_pat, write_pat },
	{ MSR_IA32_TSC, read_tsc, NULL },
	{ MSR_IA32_FEATURE_CONTROL, read_feature_control, NULL },
	{ MSR_IA32_MTRRCAP, read_zero, NULL },          /* no MTRRs: memory is write-back */
	{ MSR_IA32_MTRR_DEF_TYPE, read_zero, write_ignore },
	{ MSR_IA32_MISC_ENABLE, read_misc_enable, write_ignore },
	{ MSR_IA32_PLATFORM_ID, read_zero, NULL },
	{ MSR_IA32_BIOS_SIGN_ID, read_zero, write_ignore },
	{ MSR_IA32_DEBUGCTL, read_zero, write_ignore },
};

static const struct msr_emulation *find_msr(u32 index)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].index == index)
			return &msr_table[i];
	return NULL;
}

/* The local APIC's MSRs: IA32_APIC_BASE, TSC_DEADLINE and the x2APIC range (vlapic.c). */
static bool is_apic_msr(u32 index)
{
	return index == MSR_IA32_APIC_BASE || index == 0x6e0 || (index >= 0x800 && index <= 0x8ff);
}

static enum exit_action handle_rdmsr(struct vcpu *v, struct vmexit *e)
{
	u64 *gpr = v->arch.regs.gpr;
	u32 index = (u32)gpr[GPR_RCX];
	const struct msr_emulation *m = find_msr(index);
	u64 value;

	if (is_apic_msr(index) ? !vlapic_rdmsr(v, index, &value) : (!m || !m->read)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	if (!is_apic_msr(index))
		value = m->read(v);
	gpr[GPR_RAX] = (u32)value;
	gpr[GPR_RDX] = value >> 32;
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_RDMSR, handle_rdmsr);

static enum exit_action handle_wrmsr(struct vcpu *v, struct vmexit *e)
{
	u64 *gpr = v->arch.regs.gpr;
	u32 index = (u32)gpr[GPR_RCX];
	const struct msr_emulation *m = find_msr(index);
	u64 value = (gpr[GPR_RDX] << 32) | (u32)gpr[GPR_RAX];

	if (is_apic_msr(index) ? !vlapic_wrmsr(v, index, value) : (!m || !m->write || !m->write(v, value))) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_WRMSR, handle_wrmsr);
