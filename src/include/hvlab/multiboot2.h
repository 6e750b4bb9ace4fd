/**
 * @file multiboot2.h
 * @brief Reading the Multiboot2 boot information GRUB hands the hypervisor.
 *
 * Format: Multiboot2 specification §3.6 ("Boot information format"). The parser is pure
 * logic and checks every size against the total it was given, so a malformed structure
 * yields an error, never an out-of-bounds read.
 */
#ifndef HVLAB_MULTIBOOT2_H
#define HVLAB_MULTIBOOT2_H

#include <hvlab/types.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /**< in EAX at entry (spec §3.2) */
#define MB2_MAX_MODULES 32
#define MB2_MAX_MMAP 64

/* Tag types (spec §3.6). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOTLOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

/* Memory map entry types (spec §3.6.8). */
#define MB2_MMAP_AVAILABLE 1
#define MB2_MMAP_RESERVED 2
#define MB2_MMAP_ACPI_RECLAIMABLE 3
#define MB2_MMAP_NVS 4
#define MB2_MMAP_BADRAM 5

/** A boot module (a guest image or the configuration). */
struct mb2_module {
	u64 start;           /**< physical address of the first byte */
	u64 end;             /**< physical address one past the last byte */
	const char *cmdline; /**< NUL-terminated string GRUB gave after the file name */
};

/** One memory map entry. */
struct mb2_mmap_entry {
	u64 base;
	u64 len;
	u32 type; /**< MB2_MMAP_* */
};

/** What the hypervisor uses from the boot information. */
struct mb2_info {
	const char *cmdline;    /**< hypervisor command line, "" when absent */
	const char *bootloader; /**< boot loader name, "" when absent */
	struct mb2_module modules[MB2_MAX_MODULES];
	u32 nmodules;
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
	u32 nmmap;
	const void *rsdp;  /**< copy of the ACPI RSDP inside the MBI, NULL when absent */
	u32 rsdp_len;
	u8 rsdp_revision;  /**< 0: ACPI 1.0 RSDP (old tag), 2: ACPI 2.0+ (new tag) */
	u64 mbi_size;      /**< total_size field */
};

/** Error codes of mb2_parse(). */
enum mb2_error {
	MB2_OK = 0,
	MB2_ERR_NULL = -1,        /**< no MBI pointer */
	MB2_ERR_SIZE = -2,        /**< total_size smaller than 16 or larger than the limit given */
	MB2_ERR_TAG_SIZE = -3,    /**< a tag's size runs past the end or is below 8 */
	MB2_ERR_NO_END = -4,      /**< no end tag */
	MB2_ERR_MMAP = -5,        /**< bad memory map entry size */
	MB2_ERR_TOO_MANY = -6,    /**< more modules or map entries than the limits above */
	MB2_ERR_STRING = -7,      /**< a string tag without its NUL */
	MB2_ERR_MODULE = -8,      /**< a module's end address is below its start */
};

/**
 * Parse the MBI at @p mbi, reading at most @p limit bytes. Returns MB2_OK and fills
 * @p out, or a negative enum mb2_error. Strings in @p out point into the MBI.
 */
int mb2_parse(const void *mbi, u64 limit, struct mb2_info *out);

/** A short description of an mb2_parse() error code. */
const char *mb2_strerror(int err);

/** Find the module whose command line's first word equals @p name; NULL if none. */
const struct mb2_module *mb2_find_module(const struct mb2_info *info, const char *name);

#endif
