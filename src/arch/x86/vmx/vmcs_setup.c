/**
 * @file vmcs_setup.c
 * @brief Filling a VMCS: controls, host state, and the guest's entry state.
 *
 * The VMCS layout is SDM Vol. 3C Chapter 25; the checks VM entry makes on it are
 * Chapter 27 (§27.2 controls and host state, §27.3 guest state). The guest entry state
 * is the one src/include/hvlab/guest_abi.h promises.
 */
#include <arch/vmx.h>
#include <arch/vmcs.h>
#include <arch/vmexit.h>
#include <arch/trap.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/memory.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>

/* Segment access rights in VMCS format (SDM Vol. 3C §25.4.1, Table 25-2). */
#define AR_CODE64 0xa09b    /* present, S, type 0xb (execute/read, accessed), L = 1, G = 1 */
#define AR_DATA 0xc093      /* present, S, type 3 (read/write, accessed), D/B = 1, G = 1 */
#define AR_TSS64_BUSY 0x008b
#define AR_UNUSABLE 0x10000

/* MSRs the guest may access directly: VMX switches them through the VMCS guest-state
 * area (FS/GS base, SYSENTER) or the hypervisor never uses them (SYSCALL MSRs, TSC_AUX). */
static const u32 passthrough_msrs[] = {
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,
	MSR_IA32_LSTAR, 0xc0000083 /* CSTAR */, MSR_IA32_FMASK, MSR_IA32_TSC_AUX,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* Clear the read and write intercept bits of @msr (SDM Vol. 3C §25.6.9: read-low at 0,
 * read-high at 1024, write-low at 2048, write-high at 3072). */
static void msr_passthrough(u8 *bitmap, u32 msr)
{
	u32 base = msr >= 0xc0000000 ? 1024 : 0;
	u32 bit = msr & 0x1fff;

	bitmap[base + bit / 8] &= ~(1 << (bit % 8));
	bitmap[2048 + base + bit / 8] &= ~(1 << (bit % 8));
}

int vmx_partition_init(struct partition *p)
{
	/* Every port and MSR exits unless listed otherwise: a guest sees only what is emulated. */
	p->arch.io_bitmap_pa = frames_alloc(2, PAGE_SIZE, PFN_HYPERVISOR, 0);
	p->arch.msr_bitmap_pa = frames_alloc(1, PAGE_SIZE, PFN_HYPERVISOR, 0);
	if (!p->arch.io_bitmap_pa || !p->arch.msr_bitmap_pa)
		return -1;
	memset(phys_to_virt(p->arch.io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	u8 *msr_bitmap = phys_to_virt(p->arch.msr_bitmap_pa);
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msr_passthrough(msr_bitmap, passthrough_msrs[i]);
	return 0;
}

/* One entry of a VM-entry or VM-exit MSR-load area (SDM Vol. 3C §25.7.2, Table 25-15). */
struct msr_entry {
	u32 index, reserved;
	u64 value;
};
#define EXIT_AREA_OFFSET 2048 /* the VM-exit load area shares the page with the entry one */

/* Without the EFER VMX controls the CPU loads EFER.LMA/LME from the IA-32e mode controls
 * and keeps the other bits (NXE, SCE) across VM entry and exit (SDM Vol. 3C §27.3.2.1,
 * §28.5.1): the guest's whole EFER is loaded at entry and the host's at exit through
 * the MSR-load areas instead. */
static int setup_efer_switching(struct vcpu *v)
{
	if (vmx_ctls.entry & ENTRY_LOAD_EFER)
		return 0;
	if (!v->arch.msr_area_pa && !(v->arch.msr_area_pa = frame_alloc_hv()))
		return -1;
	struct msr_entry *entry = phys_to_virt(v->arch.msr_area_pa);
	struct msr_entry *exit = phys_to_virt(v->arch.msr_area_pa + EXIT_AREA_OFFSET);
	*entry = (struct msr_entry){ MSR_IA32_EFER, 0, 0 };
	*exit = (struct msr_entry){ MSR_IA32_EFER, 0, rdmsr(MSR_IA32_EFER) };
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, v->arch.msr_area_pa);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1);
	vmwrite(VM_EXIT_MSR_LOAD_ADDR, v->arch.msr_area_pa + EXIT_AREA_OFFSET);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 1);
	return 0;
}

u64 vmx_guest_efer(struct vcpu *v)
{
	if (vmx_ctls.entry & ENTRY_LOAD_EFER)
		return vmread(GUEST_IA32_EFER);
	return ((struct msr_entry *)phys_to_virt(v->arch.msr_area_pa))->value;
}

void vmx_set_guest_efer(struct vcpu *v, u64 value)
{
	if (vmx_ctls.entry & ENTRY_LOAD_EFER)
		vmwrite(GUEST_IA32_EFER, value);
	else
		((struct msr_entry *)phys_to_virt(v->arch.msr_area_pa))->value = value;
}

/* Host state: what the CPU loads on every VM exit (SDM Vol. 3C §25.5, §28.5). */
static void setup_host_state(struct cpu *c)
{
	struct dtr gdtr, idtr;

	sgdt(&gdtr);
	sidt(&idtr);
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_CS_SELECTOR, GDT_CS64);
	vmwrite(HOST_SS_SELECTOR, GDT_DS);
	vmwrite(HOST_DS_SELECTOR, GDT_DS);
	vmwrite(HOST_ES_SELECTOR, GDT_DS);
	vmwrite(HOST_FS_SELECTOR, 0);
	vmwrite(HOST_GS_SELECTOR, 0);
	vmwrite(HOST_TR_SELECTOR, GDT_TSS);
	vmwrite(HOST_FS_BASE, 0);
	vmwrite(HOST_GS_BASE, (u64)(uintptr_t)c); /* this_cpu() must work in exit handlers */
	vmwrite(HOST_TR_BASE, (u64)(uintptr_t)&c->tss);
	vmwrite(HOST_GDTR_BASE, gdtr.base);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	vmwrite(HOST_IA32_SYSENTER_CS, 0);
	vmwrite(HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(HOST_IA32_SYSENTER_EIP, 0);
	if (vmx_ctls.exit & EXIT_LOAD_EFER)
		vmwrite(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_ctls.exit & EXIT_LOAD_PAT)
		vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(HOST_RIP, (u64)(uintptr_t)vmx_exit_entry);
}

static int setup_controls(struct vcpu *v)
{
	struct partition *p = v->part;

	u32 pin = vmx_ctls.pin, proc = vmx_ctls.proc;
	if (p->direct_irqs) {
		/* Interception off (direct_irq.c): physical interrupts and HLT stay in the guest;
		 * NMIs still exit, so the hypervisor can reach the CPU. */
		pin = (pin & ~(u32)PIN_EXTINT_EXITING) | PIN_NMI_EXITING;
		proc &= ~(u32)CPU_HLT_EXITING;
	}
	if ((pin & ~vmx_caps.pin.allowed1) || (~pin & vmx_caps.pin.allowed0) ||
	    (~proc & vmx_caps.proc.allowed0)) {
		partition_fault(p, "interception = off needs VMX to allow external-interrupt and HLT "
				"exiting off and NMI exiting on; this CPU does not");
		return -1;
	}
	u32 proc2 = vmx_ctls.proc2;
	u32 exceptions = 0; /* the guest handles its own exceptions */
	if (p->arch.shadow) {
		/* Shadow paging (exit_shadow.c): the guest's CR3 never reaches the CPU, and its
		 * page faults come first to the hypervisor (SDM Vol. 3C §25.6.2-3). */
		proc2 &= ~(u32)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
		proc |= CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING;
		exceptions |= BIT(EXC_PF);
	}
	v->arch.proc2 = proc2;
	v->arch.pin_controls = v->arch.pin_written = pin;
	v->arch.intr_window = false;
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmwrite(VM_EXIT_CONTROLS, vmx_ctls.exit);
	vmwrite(VM_ENTRY_CONTROLS, vmx_ctls.entry);
	vmwrite(EXCEPTION_BITMAP, exceptions);
	vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	if (setup_efer_switching(v) < 0)
		return -1;
	vmwrite(VM_ENTRY_INTR_INFO, 0);
	vmwrite(IO_BITMAP_A, p->arch.io_bitmap_pa);
	vmwrite(IO_BITMAP_B, p->arch.io_bitmap_pa + PAGE_SIZE);
	vmwrite(MSR_BITMAP, p->arch.msr_bitmap_pa);
	if (proc2 & CPU2_ENABLE_EPT)
		vmwrite(EPT_POINTER, ept_pointer(&p->arch.ept, false));
	vmwrite(VMCS_LINK_POINTER, ~0ULL); /* no shadow VMCS (SDM Vol. 3C §25.4.2) */

	/* CR0/CR4 bits the guest may not choose freely are owned by the hypervisor: the guest
	 * reads them from the shadow, and writing them exits (SDM Vol. 3C §25.6.6). CR4.VMXE
	 * is always owned, so the guest never sees VMX. */
	u64 cr0_owned = vmx_guest_cr0_fixed0(v) | ~vmx_ctls.cr0_fixed1;
	u64 cr4_owned = vmx_ctls.cr4_fixed0 | ~vmx_ctls.cr4_fixed1 | CR4_VMXE;
	if (p->arch.shadow) { /* every bit that changes how the guest's tables are read */
		cr0_owned |= CR0_PG | CR0_PE | CR0_WP;
		cr4_owned |= CR4_PAE | CR4_PSE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP;
	}
	vmwrite(CR0_GUEST_HOST_MASK, cr0_owned & 0xffffffffULL);
	vmwrite(CR4_GUEST_HOST_MASK, cr4_owned & 0xffffffffULL);
	return 0;
}

static void set_segment(enum vmcs_field selector, u16 sel, u32 ar)
{
	/* Selector, base, limit and access-rights fields of one register are laid out with
	 * the same index in four groups: ES=0, CS=1, ... (SDM Vol. 3D Appendix B). */
	u32 index = (selector - GUEST_ES_SELECTOR) / 2;

	vmwrite(selector, sel);
	vmwrite(GUEST_ES_BASE + index * 2, 0);
	vmwrite(GUEST_ES_LIMIT + index * 2, ar == AR_UNUSABLE ? 0 : 0xffffffff);
	vmwrite(GUEST_ES_AR + index * 2, ar);
}

#define AR_CODE32 0xc09b    /* present, S, type 0xb, D/B = 1 (32-bit), G = 1 */

/* The guest state of a vCPU's first entry, from the struct boot_state its loader filled
 * (boot_state.h): 64-bit mode with paging, or 32-bit protected mode without. */
static int setup_guest_state(struct vcpu *v)
{
	const struct boot_state *bs = &v->arch.boot;
	bool long_mode = bs->mode == BOOT_LONG64;
	u64 cr0 = long_mode ? CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG : CR0_PE | CR0_ET;
	u64 cr4 = long_mode ? CR4_PAE : 0;

	if (!long_mode && !(v->arch.proc2 & CPU2_UNRESTRICTED_GUEST) && !v->part->arch.shadow) {
		partition_fault(v->part, "this guest starts with paging off, which needs the VMX "
				"unrestricted-guest control (absent on this CPU) or shadow paging");
		return -1;
	}
	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(GUEST_CR0, vcpu_real_cr0(v, cr0));
	vmwrite(CR4_READ_SHADOW, cr4);
	vmwrite(GUEST_CR4, vcpu_real_cr4(v, cr4));
	vmwrite(GUEST_CR3, long_mode ? bs->cr3 : 0);
	vmx_set_guest_efer(v, long_mode ? EFER_LME | EFER_LMA | EFER_NXE : 0);
	v->arch.guest_cr3 = long_mode ? bs->cr3 : 0;
	v->arch.guest_lme = long_mode;
	v->arch.cr2 = 0;
	if (v->part->arch.shadow && vcpu_shadow_reload(v) < 0) {
		if (!partition_ended(v->part))
			partition_fault(v->part, "shadow paging: cannot build the first shadow root (CR3 0x%lx)",
					bs->cr3);
		return -1;
	}
	if (!long_mode) /* the CPU keeps this control equal to EFER.LMA from now on (SDM §28.2) */
		vmwrite(VM_ENTRY_CONTROLS, vmx_ctls.entry & ~(u64)ENTRY_IA32E_MODE_GUEST);
	if (vmx_ctls.entry & ENTRY_LOAD_PAT)
		vmwrite(GUEST_IA32_PAT, 0x0007040600070406ULL); /* the power-on PAT (SDM Vol. 3A §12.12.4) */
	vmwrite(GUEST_IA32_DEBUGCTL, 0);

	u16 cs = bs->cs ? bs->cs : 0x08, ds = bs->ds ? bs->ds : 0x10;
	set_segment(GUEST_CS_SELECTOR, cs, long_mode ? AR_CODE64 : AR_CODE32);
	set_segment(GUEST_DS_SELECTOR, ds, AR_DATA);
	set_segment(GUEST_ES_SELECTOR, ds, AR_DATA);
	set_segment(GUEST_SS_SELECTOR, ds, AR_DATA);
	set_segment(GUEST_FS_SELECTOR, ds, AR_DATA);
	set_segment(GUEST_GS_SELECTOR, ds, AR_DATA);
	set_segment(GUEST_LDTR_SELECTOR, 0, AR_UNUSABLE);
	vmwrite(GUEST_TR_SELECTOR, 0);
	vmwrite(GUEST_TR_BASE, 0);
	vmwrite(GUEST_TR_LIMIT, 0x67);
	vmwrite(GUEST_TR_AR, AR_TSS64_BUSY); /* VM entry insists on a usable TR (SDM §27.3.1.2) */

	vmwrite(GUEST_GDTR_BASE, bs->gdt_base);
	vmwrite(GUEST_GDTR_LIMIT, bs->gdt_limit);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0);

	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_RSP, bs->rsp);
	vmwrite(GUEST_RIP, bs->rip);
	vmwrite(GUEST_RFLAGS, bs->rflags | RFLAGS_RESERVED1);
	for (int r = 0; r < GPR_COUNT; r++)
		if (r != GPR_RSP)
			v->arch.regs.gpr[r] = bs->gpr[r];
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	return 0;
}

void vmx_vcpu_enter_real_mode(struct vcpu *v, u8 vector)
{
	u64 cr0 = CR0_ET;

	vmwrite(GUEST_CR0, vmx_fix_cr(cr0, vmx_guest_cr0_fixed0(v), vmx_ctls.cr0_fixed1));
	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(GUEST_CR4, vmx_fix_cr(0, vmx_ctls.cr4_fixed0, vmx_ctls.cr4_fixed1));
	vmwrite(CR4_READ_SHADOW, 0);
	vmwrite(GUEST_CR3, 0);
	vmx_set_guest_efer(v, 0);
	vmwrite(VM_ENTRY_CONTROLS, vmx_ctls.entry & ~(u64)ENTRY_IA32E_MODE_GUEST);
	/* Real-mode segments: base = selector << 4, limit 64 KiB (SDM Vol. 3C §27.3.1.2). */
	static const enum vmcs_field data_segs[] = { GUEST_DS_SELECTOR, GUEST_ES_SELECTOR, GUEST_SS_SELECTOR,
						     GUEST_FS_SELECTOR, GUEST_GS_SELECTOR };
	for (size_t i = 0; i < ARRAY_SIZE(data_segs); i++) {
		u32 index = (data_segs[i] - GUEST_ES_SELECTOR) / 2;
		vmwrite(data_segs[i], 0);
		vmwrite(GUEST_ES_BASE + index * 2, 0);
		vmwrite(GUEST_ES_LIMIT + index * 2, 0xffff);
		vmwrite(GUEST_ES_AR + index * 2, 0x93);
	}
	vmwrite(GUEST_CS_SELECTOR, (u64)vector << 8);
	vmwrite(GUEST_CS_BASE, (u64)vector << 12);
	vmwrite(GUEST_CS_LIMIT, 0xffff);
	vmwrite(GUEST_CS_AR, 0x9b);
	vmwrite(GUEST_GDTR_BASE, 0);
	vmwrite(GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	for (int r = 0; r < GPR_COUNT; r++)
		v->arch.regs.gpr[r] = 0;
	v->arch.xcr0 = 1;
}

int vmx_vcpu_init(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (!v->arch.vmcs_pa) {
		v->arch.vmcs_pa = frame_alloc_hv();
		/* Revision identifier first; VMCLEAR initialises the rest (SDM Vol. 3C §25.11.3). */
		*(u32 *)phys_to_virt(v->arch.vmcs_pa) = vmx_caps.vmcs_revision;
	}
	u8 ok;
	__asm__ volatile("vmclear %1; seta %0" : "=qm"(ok) : "m"(v->arch.vmcs_pa) : "cc", "memory");
	if (ok)
		__asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(v->arch.vmcs_pa) : "cc", "memory");
	if (!ok) {
		printk("hvlab: cpu%u: VMCLEAR/VMPTRLD of the VMCS at 0x%lx failed\n", c->index, v->arch.vmcs_pa);
		return -1;
	}
	c->current = v;
	v->arch.launched = false;
	v->arch.xcr0 = 1; /* x87 only, the power-on value */
	/* A fresh VMCS has none of a debugger's settings: they are applied again at entry. */
	memset(&v->arch.dbg, 0, sizeof(v->arch.dbg));

	if (setup_controls(v) < 0)
		return -1;
	setup_host_state(c);
	/* This CPU may hold translations from an earlier hierarchy with the same EPTP. */
	vmx_invept(ept_pointer(&v->part->arch.ept, false));
	return setup_guest_state(v);
}
