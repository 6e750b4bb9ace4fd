/**
 * @file boot_state.h
 * @brief The state a guest loader leaves vCPU 0 in: where and how the guest starts.
 *
 * Each loader (src/arch/x86/loaders/) writes the image and its boot structures into guest RAM
 * and fills one struct boot_state; the VMX code (src/arch/x86/vmx/vmcs_setup.c) turns it
 * into the VMCS guest-state area. Modes:
 *  - BOOT_LONG64: 64-bit mode, paging on (CR3 given), flat CS 0x08 / data 0x10 in the
 *    GDT at gdt_base (raw ELF64 images, Linux 64-bit boot protocol).
 *  - BOOT_PROTECTED32: 32-bit protected mode, paging off, flat CS 0x08 / data 0x10
 *    (Multiboot1 and Multiboot2, spec §3.2 "Machine state"). Needs the unrestricted-guest
 *    control, or shadow paging (issue 4).
 */
#ifndef HVLAB_BOOT_STATE_H
#define HVLAB_BOOT_STATE_H

#include <hvlab/types.h>

enum boot_mode { BOOT_LONG64 = 0, BOOT_PROTECTED32 = 1 };

/** vCPU 0's first state. */
struct boot_state {
	u8 mode;          /**< enum boot_mode */
	u64 rip;
	u64 rsp;
	u64 rflags;       /**< 0x2 unless a protocol says otherwise */
	u64 gpr[16];      /**< general registers by enum gpr (RSP ignored: see rsp) */
	u64 cr3;          /**< BOOT_LONG64 only */
	u64 gdt_base;     /**< guest-physical address of a GDT with 0x08 code, 0x10 data */
	u16 gdt_limit;
	u16 cs, ds;       /**< code and data selectors in that GDT; 0 = 0x08 and 0x10 */
};

#endif
