/**
 * @file gdt.h
 * @brief The guest's own GDT and TSS (replacing the hypervisor's boot GDT at 0x1000).
 *
 * Selectors are the same as at entry (guest_abi.h), so nothing else changes:
 *   0x08  64-bit code (CS)       0x10  data (DS, ES, SS, FS, GS)
 *   0x18  the TSS (16 bytes, two slots), which holds the IST stacks
 */
#ifndef GUEST_GDT_H
#define GUEST_GDT_H

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

/** Interrupt-stack-table slot used for #DF, NMI and #MC: they get a known-good stack
 *  even when the fault was caused by a broken stack. */
#define IST_CRITICAL 1

/** Build and load the GDT, reload every segment register, and load the TSS. */
void gdt_init(void);

/** Load the GDT built by gdt_init() on this processor (each AP calls it): reload the
 *  segment registers and the task register. */
void gdt_load(void);

#endif
