/**
 * @file acpi.h
 * @brief Finding the CPUs and interrupt controllers in the firmware's ACPI tables.
 *
 * RSDP → RSDT/XSDT → MADT ("APIC", ACPI 6.x §5.2.12). Pure logic over memory the caller
 * can read at physical == virtual addresses (true in the hypervisor, and true for tables
 * a host unit test builds in its own memory).
 */
#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H

#include <hvlab/types.h>

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8

/** What the MADT says about the machine. */
struct madt_info {
	u64 lapic_base;              /**< local APIC MMIO base (override applied) */
	u32 ncpus;                   /**< enabled (or online-capable) processors */
	u32 apic_id[ACPI_MAX_CPUS];  /**< their APIC IDs; index 0 is the first listed */
	u32 nioapics;
	struct { u32 id; u64 base; u32 gsi_base; } ioapic[ACPI_MAX_IOAPICS];
	bool pic_present;            /**< MADT flags bit 0 (PCAT_COMPAT) */
};

/** Error codes. */
enum acpi_error {
	ACPI_OK = 0,
	ACPI_ERR_NO_RSDP = -1,    /**< no RSDP given or bad signature/checksum */
	ACPI_ERR_NO_MADT = -2,    /**< no MADT in RSDT/XSDT */
	ACPI_ERR_CHECKSUM = -3,   /**< a table's checksum is wrong */
	ACPI_ERR_MALFORMED = -4,  /**< a length field runs past its table */
};

/** Sum of @p len bytes mod 256 (a valid ACPI table sums to 0). */
u8 acpi_checksum(const void *p, u64 len);

/**
 * Find the table with 4-character @p signature through the RSDP at @p rsdp (XSDT when
 * revision >= 2, else RSDT). Returns the table's address or NULL.
 */
const void *acpi_find_table(const void *rsdp, const char *signature);

/** Parse the MADT at @p madt into @p out. Returns ACPI_OK or a negative enum acpi_error. */
int madt_parse(const void *madt, struct madt_info *out);

/** Short description of an enum acpi_error. */
const char *acpi_strerror(int err);

#endif
