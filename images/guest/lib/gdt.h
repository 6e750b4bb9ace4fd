/**
 * @file gdt.h
 * @brief The guest's own GDT and TSS (replacing the hypervisor's boot GDT at 0x1000).
 *
 * Selectors are the same as at entry (guest_abi.h), so nothing else changes:
 *   0x08  64-bit code (CS)       0x10  data (DS, ES, SS, FS, GS)
 *   0x18  the TSS (16 bytes, two slots), which holds the IST stacks
 * and two more for ring 3 (usermode.h), at descriptor privilege level 3:
 *   0x28  user data (SS)         0x30  user 64-bit code (CS)
 * (in this order, and right after 0x20, as SYSRET expects them: SDM Vol. 2B, SYSRET).
 */
#ifndef GUEST_GDT_H
#define GUEST_GDT_H

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18
#define GDT_SEL_USER_DATA 0x28
#define GDT_SEL_USER_CODE 0x30

/** A selector's requested privilege level (bits 1:0): ring 3 loads its selectors with 3. */
#define GDT_RPL3 3

/** Interrupt-stack-table slot used for #DF, NMI and #MC: they get a known-good stack
 *  even when the fault was caused by a broken stack. */
#define IST_CRITICAL 1

#ifndef __ASSEMBLY__

/** Build and load the GDT, reload every segment register, and load the TSS. */
void gdt_init(void);

/** Load the GDT built by gdt_init() on this processor (each AP calls it): reload the
 *  segment registers and the task register. */
void gdt_load(void);

#endif /* __ASSEMBLY__ */

#endif
