/**
 * @file mb1.h
 * @brief What the Multiboot test kernel's two check tables (mb1.c, mb2.c) share.
 */
#ifndef MB1_MB1_H
#define MB1_MB1_H

#include <hvlab/types.h>

/* What the scenarios give this partition (keep in step with multiboot1.cfg and
 * multiboot2.cfg). */
#define EXPECTED_RAM MiB(32)
#define EXPECTED_CMDLINE "mb1 console=ttyS0 answer=42"
#define EXPECTED_MODULE "mb1_initrd"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/** The memory map both protocols must report (guest_abi.h's guest-physical map). */
static const struct { u64 base, len; u32 type; } expected_memory_map[] = {
	{ 0, 0x9f000, 1 },
	{ 0x9f000, 0x1000, 2 },
	{ 0xe0000, 0x20000, 2 },
	{ 0x100000, EXPECTED_RAM - 0x100000, 1 },
};

/* Set by start.S. */
extern u32 entry_eax, entry_ebx, entry_cr0, entry_eflags;
extern u16 entry_cs;
extern const char expected_initrd[], expected_initrd_end[], __image_start[], __image_end[];

/** A guest-physical address as a pointer (paging is off). */
static inline const void *phys(u32 addr)
{
	return (const void *)(uintptr_t)addr;
}

/** Protected mode, paging and interrupts off, CS 0x08 (both protocols' §3.2/§3.3). */
const char *check_machine_state(void);

/** The Multiboot2 checks (mb2.c); returns the number that failed. */
int run_mb2_checks(void);

#endif
