/**
 * @file memory.h
 * @brief Host memory: the PFN database built from the boot memory map, and frame allocation.
 *
 * The hypervisor runs with physical == virtual addresses (identity map), so a frame's
 * physical address is also where the hypervisor reads and writes it.
 */
#ifndef HVLAB_MEMORY_H
#define HVLAB_MEMORY_H

#include <hvlab/types.h>
#include <hvlab/pfn_db.h>
#include <hvlab/multiboot2.h>

/** The one PFN database of the machine (hot restart migrates it). */
extern struct pfn_db pfn_db;

/**
 * Build the PFN database from the Multiboot2 memory map: usable RAM free, everything else
 * reserved, then the hypervisor image, the boot information at [@p mbi, @p mbi + size) and
 * every boot module claimed. Panics if no room for the table is found.
 */
void memory_init(const struct mb2_info *mb, u64 mbi, u64 mbi_size);

/**
 * Allocate @p count contiguous zeroed frames aligned to @p align for (kind, id).
 * Returns the physical address, or 0 when memory is exhausted. Safe on every CPU.
 */
u64 frames_alloc(u64 count, u64 align, u8 kind, u16 id);

/** One zeroed hypervisor frame; panics when memory is exhausted (boot-time needs). */
u64 frame_alloc_hv(void);

/** Free @p count frames starting at @p pa. */
void frames_free(u64 pa, u64 count);

/** Free every frame owned by (kind, id), e.g. a destroyed partition's memory. Returns the count. */
u64 frames_free_owner(u8 kind, u16 id);

/** Total usable RAM in bytes, and how much of it is free now. */
u64 memory_total(void);
u64 memory_free(void);

/** Where the hypervisor reads physical address @p pa (identity map). */
static inline void *phys_to_virt(u64 pa) { return (void *)(uintptr_t)pa; }
/** The physical address of hypervisor pointer @p p. */
static inline u64 virt_to_phys(const void *p) { return (u64)(uintptr_t)p; }

#endif
