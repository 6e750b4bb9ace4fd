/**
 * @file config.h
 * @brief The scenario configuration: which partitions to create and what each gets.
 *
 * Read at boot from the Multiboot2 module named "config". Text format (docs/config.md):
 *
 *     # comment
 *     [partition NAME]
 *     image   = MODULE          # boot module holding the guest image
 *     memory  = 16M             # K, M or G suffix; multiple of 4 KiB
 *     cpus    = 0               # physical CPU(s) its vCPU(s) run on: "0" or "0,1"
 *     paging  = ept             # ept | shadow
 *     cmdline = "text"          # given to the guest
 *     format  = auto            # auto | elf64 | multiboot | multiboot2 | linux
 *     initrd  = MODULE          # boot module given to the guest as its initrd
 *     on_fault = end            # end | reset
 *
 * Keys are a table (src/core/config.c), so a later mechanism adds a key with one entry.
 * Pure logic: a bad file is refused with "FILE:LINE: problem", before any partition runs.
 */
#ifndef HVLAB_CONFIG_H
#define HVLAB_CONFIG_H

#include <hvlab/types.h>

#define CONFIG_MAX_PARTITIONS 16
#define CONFIG_MAX_VCPUS 8
#define CONFIG_NAME_LEN 32
#define CONFIG_STR_LEN 128

enum paging_mode { PAGING_EPT = 0, PAGING_SHADOW = 1 };
enum fault_action { FAULT_END = 0, FAULT_RESET = 1 };

/** One [partition NAME] section. */
struct partition_config {
	char name[CONFIG_NAME_LEN];
	char image[CONFIG_STR_LEN];   /**< boot module name */
	char cmdline[CONFIG_STR_LEN];
	char format[CONFIG_NAME_LEN]; /**< image loader name, "auto" = probe */
	char initrd[CONFIG_STR_LEN];  /**< boot module name, "" = none */
	u64 memory;                   /**< bytes */
	u32 ncpus;                    /**< number of vCPUs */
	u32 cpus[CONFIG_MAX_VCPUS];   /**< physical CPU of each vCPU */
	u8 paging;                    /**< enum paging_mode */
	u8 on_fault;                  /**< enum fault_action */
	u32 line;                     /**< line of the section header, for later messages */
};

/** A whole scenario. */
struct hv_config {
	struct partition_config part[CONFIG_MAX_PARTITIONS];
	u32 nparts;
};

/**
 * Parse @p len bytes of @p text (need not be NUL-terminated) named @p filename.
 * Returns 0 and fills @p out; or -1 with "FILE:LINE: problem" in @p err (NUL-terminated,
 * at most @p errlen bytes). Checks the file alone: unknown sections or keys, bad values,
 * duplicate names, missing image or memory. Checks against the machine (memory
 * available, CPUs present, modules present) are the caller's.
 */
int config_parse(const char *text, size_t len, const char *filename, struct hv_config *out,
		 char *err, size_t errlen);

/** Parse a size "16M", "4096", "1G", "64K" into bytes. Returns 0 or -1. */
int config_parse_size(const char *s, u64 *out);

#endif
