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
 *     paging  = auto            # auto | ept | shadow; auto: EPT when the CPU has it
 *     shadow_cache = on         # on | off: keep shadow roots per guest CR3 (paging = shadow)
 *     cmdline = "text"          # given to the guest
 *     format  = auto            # auto | elf64 | multiboot | multiboot2 | linux
 *     initrd  = MODULE          # boot module given to the guest as its initrd
 *     on_fault = end            # end | reset
 *     identity = no             # yes: guest-physical == host-physical, exclusive
 *     address  = 0x40000000     # identity = yes: host-physical base, 2 MiB aligned
 *     cpu_mode = shared         # shared | dedicated: the cpus belong to this partition alone
 *     interception = on         # on | off: external-interrupt exiting on its CPUs;
 *                               #   off needs cpu_mode = dedicated
 *     devices  = uart0:shared, rtc:dedicated   # NAME[:dedicated|:shared], default shared
 *     controls = b, c            # partitions it may pause/resume/reset/destroy (hypercall)
 *
 * An identity-mapped partition's RAM is [address, address + memory) in both guest- and
 * host-physical space (ROADMAP "What to keep in mind now": such a partition can run with
 * no VM exits in steady state). Dedicated CPUs and devices become exclusive entries of the
 * resource database (src/core/resdb_config.c, MECHANISMS.md §2), shared ones shared.
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
#define CONFIG_MAX_DEVICES 8
#define CONFIG_DEVICE_LEN 16    /**< device names, with the NUL (as RESDB_NAME_LEN) */
#define CONFIG_MAX_KEYS 16      /**< rows of the key table in config.c */
#define CONFIG_IDENTITY_ALIGN MiB(2)

enum paging_mode { PAGING_AUTO = 0, PAGING_EPT = 1, PAGING_SHADOW = 2 };
enum fault_action { FAULT_END = 0, FAULT_RESET = 1 };
enum cpu_mode { CPU_SHARED = 0, CPU_DEDICATED = 1 };
enum device_mode { DEVICE_SHARED = 0, DEVICE_DEDICATED = 1 };

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
	u8 shadow_cache;              /**< 1: shadow page-table cache on (the default) */
	u8 on_fault;                  /**< enum fault_action */
	u8 identity;                  /**< 1: GPA == HPA, RAM at [address, address + memory) */
	u8 cpu_mode;                  /**< enum cpu_mode, for every CPU in cpus[] */
	u8 interception;              /**< 1: external-interrupt exiting on (the default) */
	u64 address;                  /**< identity only: host-physical base, 2 MiB aligned */
	u32 ndevices;
	char devices[CONFIG_MAX_DEVICES][CONFIG_DEVICE_LEN]; /**< device names, "uart0" */
	u8 device_mode[CONFIG_MAX_DEVICES]; /**< enum device_mode of each */
	char controls[CONFIG_STR_LEN]; /**< "b, c": partitions it may control (src/core/lifecycle.c) */
	u32 line;                     /**< line of the section header, for later messages */
	u32 key_line[CONFIG_MAX_KEYS]; /**< line of each key, 0 = not given: config_key_line() */
};

/** A whole scenario. */
struct hv_config {
	struct partition_config part[CONFIG_MAX_PARTITIONS];
	u32 nparts;
	char filename[CONFIG_STR_LEN]; /**< as given to config_parse(), for later messages */
};

/**
 * Parse @p len bytes of @p text (need not be NUL-terminated) named @p filename.
 * Returns 0 and fills @p out; or -1 with "FILE:LINE: problem" in @p err (NUL-terminated,
 * at most @p errlen bytes). Checks the file alone: unknown sections or keys, bad values,
 * duplicate names, missing image or memory, keys that contradict each other. Checks
 * against the machine (memory available, CPUs present, modules present, devices known,
 * resources claimed twice) are the caller's: resdb_claim_config() does most of them.
 */
int config_parse(const char *text, size_t len, const char *filename, struct hv_config *out,
		 char *err, size_t errlen);

/** Parse a size "16M", "4096", "1G", "64K" into bytes. Returns 0 or -1. */
int config_parse_size(const char *s, u64 *out);

/**
 * The line where key @p key ("cpus") was set in partition @p p, or the line of its
 * section header when the key was not given (or is not a key): for messages about the
 * partition that come after parsing ("FILE:LINE: partition 'a': CPU 3 is not online").
 */
u32 config_key_line(const struct partition_config *p, const char *key);

#endif
