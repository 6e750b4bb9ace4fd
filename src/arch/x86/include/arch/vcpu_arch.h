/**
 * @file vcpu_arch.h
 * @brief The x86/VMX part of a vCPU and of a partition.
 */
#ifndef ARCH_VCPU_ARCH_H
#define ARCH_VCPU_ARCH_H

#include <hvlab/types.h>
#include <arch/ept.h>
#include <arch/regs.h>
#include <hvlab/boot_state.h>
#include <arch/vlapic.h>
#include <arch/debug_vmx.h>

/**
 * Guest registers VMX does not keep in the VMCS, saved by vmentry.S on every exit.
 * Indexed by enum gpr (hardware encoding order); gpr[GPR_RSP] is unused (RSP lives in the
 * VMCS guest-state area, SDM Vol. 3C §25.4.1).
 */
struct shadow_mmu;

struct guest_regs {
	u64 gpr[16];
};

/** VMX state of one vCPU. */
struct arch_vcpu {
	struct guest_regs regs;   /**< must stay first: vmentry.S addresses it directly */
	u64 vmcs_pa;              /**< its VMCS region (SDM Vol. 3C §25.2) */
	bool launched;            /**< VMLAUNCH done: later entries use VMRESUME (§25.11.3) */
	bool reinit;              /**< soft reset (lifecycle.c): fill the VMCS again before entry */
	u64 xcr0;                 /**< the guest's XCR0, loaded while it runs */
	u64 cr8;                  /**< task priority, if CR8 accesses exit */
	struct boot_state boot;   /**< how vCPU 0 starts (filled by the image loader) */
	struct vlapic lapic;      /**< its virtual local APIC */
	u32 start_sipi;           /**< 0x100 | vector: start in real mode there at the next entry */
	u32 reinject_info;        /**< an event whose delivery an exit interrupted (IDT-vectoring info) */
	u32 reinject_error;
	u32 reinject_len;
	u64 switched_msrs[6];     /**< pass-through MSRs VMX does not switch (exit.c) */
	u32 pin_controls;         /**< its pin-based controls, without the preemption timer */
	u32 pin_written;          /**< the pin-based controls last written to its VMCS */
	bool intr_window;         /**< interrupt-window exiting is on in its VMCS */
	u32 proc2;                /**< its secondary controls (EPT and unrestricted guest off under shadow paging) */
	u64 cr2;                  /**< the guest's CR2, loaded while it runs (VMX does not switch CR2) */
	u64 guest_cr3;            /**< shadow paging: the CR3 the guest loaded (the CPU runs a shadow root) */
	bool guest_lme;           /**< shadow paging: EFER.LME as the guest wrote it (exit_shadow.c) */
	u64 msr_area_pa;          /**< without the EFER VMX controls: VM-entry/exit MSR-load areas (EFER) */
	struct vmx_debug_vcpu dbg; /**< the debugger's state of this vCPU (debug_vmx.c) */
};

/** VMX state of one partition. */
struct arch_partition {
	struct ept ept;           /**< guest-physical → host-physical */
	u64 io_bitmap_pa;         /**< two 4 KiB pages: ports 0-0x7fff, 0x8000-0xffff (§25.6.4) */
	u64 msr_bitmap_pa;        /**< one 4 KiB page (§25.6.9) */
	struct shadow_mmu *shadow; /**< shadow paging (shadow_mmu.h), NULL when EPT translates */
	const char *paging_why;   /**< why it runs on EPT or shadow tables, for the console */
};

#endif
