/**
 * @file paging.h
 * @brief The guest's own page tables: 4-level, 4 KiB pages, one struct per address space.
 *
 * x86-64 translates a virtual address with four tables (SDM Vol. 3A §5.5, Figure 5-8):
 *
 *    63    48 47    39 38    30 29    21 20    12 11        0
 *   | sign   | PML4   | PDPT   | PD     | PT     | offset    |
 *
 * CR3 holds the physical address of the PML4 (level 4). Each 9-bit field picks one of
 * the 512 8-byte entries of a table; the entry gives the physical address of the next
 * table, and the PT entry (level 1) gives the page frame. Bits 63:48 must copy bit 47
 * ("canonical"), or any access raises #GP.
 *
 * An address space here is just its PML4. The tables themselves come from page_alloc()
 * and are reached through the identity map (physical address = pointer), so the RAM that
 * holds them must stay identity-mapped in whatever address space is active.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <hvlab/types.h>

/* Bits of a page-table entry (SDM Vol. 3A §5.5.4, Tables 5-15 to 5-20). */
#define PTE_P BIT(0)   /**< present: without it the CPU ignores every other bit */
#define PTE_W BIT(1)   /**< writable (ring 0 too, as CR0.WP = 1) */
#define PTE_U BIT(2)   /**< user-mode (ring 3) access allowed */
#define PTE_PWT BIT(3) /**< page-level write-through */
#define PTE_PCD BIT(4) /**< page-level cache disable */
#define PTE_A BIT(5)   /**< accessed: set by the CPU on first use */
#define PTE_D BIT(6)   /**< dirty: set by the CPU on first write (leaf entries only) */
#define PTE_PS BIT(7)  /**< page size: in a PDPT/PD entry, maps a 1 GiB / 2 MiB page */
#define PTE_G BIT(8)   /**< global: kept in the TLB across CR3 writes when CR4.PGE = 1 */
#define PTE_NX BIT(63) /**< no-execute (needs EFER.NXE) */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL /**< the frame / next-table address */

/** PCD + PWT with the default PAT: uncacheable, what device registers need. */
#define PTE_UC (PTE_PCD | PTE_PWT)

/** One address space: the physical address of its top-level table (what CR3 holds). */
struct address_space {
	u64 root;
};

/** The address space guest_entry() builds and switches to (see paging_init()). */
extern struct address_space kernel_as;

/**
 * Build kernel_as and load it into CR3: RAM [@p ram_base, + @p mem_size) identity-mapped
 * (from 4 KiB when ram_base is 0; else also [4 KiB, 1 MiB), an identity partition's low RAM),
 * writable; page 0 left unmapped so a NULL dereference faults; the test-device page
 * (HVLAB_TESTDEV_BASE) identity-mapped uncacheable. Page tables and later page_alloc()
 * calls use the RAM above the image. Ends the partition if RAM runs out.
 */
void paging_init(u64 ram_base, u64 mem_size);

/** A new, empty address space (maps nothing). 0, or -1 if out of memory. */
int as_create(struct address_space *as);

/** Free the tables of @p as (not the pages it maps). It must not be active. */
void as_destroy(struct address_space *as);

/** Switch to @p as (write CR3, which also flushes its non-global TLB entries). */
void as_activate(struct address_space *as);

/** Is @p as the address space most recently given to as_activate()? */
bool as_is_active(const struct address_space *as);

/**
 * Map the 4 KiB page at virtual @p va to physical @p pa with @p flags (PTE_W, PTE_U,
 * PTE_NX, PTE_UC, PTE_G; PTE_P is added). Replaces any previous mapping of @p va.
 * Returns 0, or -1 if @p va / @p pa is not page-aligned, @p va is not canonical, or
 * a table could not be allocated.
 */
int gpt_map(struct address_space *as, u64 va, u64 pa, u64 flags);

/** gpt_map() for every page of [@p va, @p va + @p size). */
int gpt_map_range(struct address_space *as, u64 va, u64 pa, u64 size, u64 flags);

/** Remove the mapping of @p va. Returns 0, or -1 if it was not mapped. */
int gpt_unmap(struct address_space *as, u64 va);

/** Change the flags of the mapping of @p va, keeping its frame. 0, or -1 if not mapped. */
int gpt_protect(struct address_space *as, u64 va, u64 flags);

/**
 * The level-1 entry for @p va, or NULL if a table on the way is missing. The entry may
 * be not present (check PTE_P). Whoever changes it directly must call gpt_invalidate().
 */
u64 *gpt_lookup(struct address_space *as, u64 va);

/** Drop the TLB entry of @p va (INVLPG) if @p as is the active address space. */
void gpt_invalidate(struct address_space *as, u64 va);

#endif
