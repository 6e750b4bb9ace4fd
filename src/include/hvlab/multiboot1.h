/**
 * @file multiboot1.h
 * @brief The Multiboot 0.6.96 structures: shared by the hypervisor's Multiboot loader
 * (src/arch/x86/loaders/multiboot1.c) and the test kernel that checks it
 * (images/guest/mb1/mb1.c). Section numbers are the specification's.
 */
#ifndef HVLAB_MULTIBOOT1_H
#define HVLAB_MULTIBOOT1_H

#include <hvlab/types.h>

#define MB1_HEADER_MAGIC 0x1BADB002u     /**< in the OS image header (§3.1.1) */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u /**< in EAX at entry (§3.2) */
#define MB1_SEARCH_BYTES 8192            /**< the header lies in the first 8 KiB */

/* Information flags (§3.3): which fields of struct mb1_info are valid. */
#define MBI_MEMORY BIT(0)      /**< mem_lower, mem_upper */
#define MBI_CMDLINE BIT(2)
#define MBI_MODS BIT(3)
#define MBI_MMAP BIT(6)
#define MBI_LOADER_NAME BIT(9)

/** The Multiboot information (§3.3), up to the boot loader name. */
struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;   /**< KiB below 640 KiB, KiB from 1 MiB */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
};

/** One module (§3.3 "mods"). */
struct mb1_module {
	u32 mod_start, mod_end, string, reserved;
};

/** One memory map entry (§3.3 "mmap"): size counts the bytes after itself (20), and the
 *  next entry starts size + 4 bytes further on. */
struct mb1_mmap_entry {
	u32 size;
	u64 base_addr, length;
	u32 type;
} __attribute__((packed));

#endif
