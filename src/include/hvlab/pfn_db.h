/**
 * @file pfn_db.h
 * @brief The PFN database: the owner of every host page frame.
 *
 * One entry per 4 KiB host frame says who owns it: nobody (free), firmware or MMIO
 * (reserved), the hypervisor, or a partition. The frame allocator is a thin layer over
 * this table, so "who owns frame N" always has exactly one answer. Hot restart
 * (MECHANISMS.md §1 step 5, "logical software state") migrates this table to the new
 * hypervisor, so entries are plain data with no pointers.
 *
 * The code is pure logic: it never touches the frames themselves, only the table, and
 * builds for the host unit tests unchanged.
 */
#ifndef HVLAB_PFN_DB_H
#define HVLAB_PFN_DB_H

#include <hvlab/types.h>

/** Kinds of owner a frame can have. */
enum pfn_owner_kind {
	PFN_FREE = 0,     /**< usable RAM nobody owns */
	PFN_RESERVED = 1, /**< firmware, MMIO, holes: never allocated */
	PFN_HYPERVISOR = 2, /**< the hypervisor's image, stacks, tables */
	PFN_PARTITION = 3, /**< guest memory of partition `id` */
	PFN_PAGETABLE = 4, /**< hypervisor-owned translation tables (EPT/shadow) of partition `id` */
};

/** One PFN-database entry (4 bytes; 1 MiB of table per 1 GiB of RAM). */
struct pfn_entry {
	u8 kind;  /**< enum pfn_owner_kind */
	u8 flags; /**< reserved for later use (pinned, identity-mapped) */
	u16 id;   /**< partition id for PFN_PARTITION / PFN_PAGETABLE, else 0 */
};

/** The database: a table of entries covering frames [0, nframes). */
struct pfn_db {
	struct pfn_entry *entries; /**< nframes entries, storage owned by the caller */
	u64 nframes;               /**< number of frames covered (max physical address / 4 KiB) */
	u64 next_hint;             /**< where the next single-frame search starts (next fit) */
	u64 free_frames;           /**< number of entries with kind PFN_FREE */
};

/**
 * Initialise @p db over caller-provided storage. Every frame starts PFN_RESERVED: only
 * ranges the memory map declares usable are later freed with pfn_db_set_range().
 */
void pfn_db_init(struct pfn_db *db, struct pfn_entry *storage, u64 nframes);

/**
 * Set the owner of frames [first, first+count) unconditionally (boot-time bookkeeping:
 * memory map, hypervisor image, modules). Frames beyond the table are ignored.
 * Keeps free_frames exact.
 */
void pfn_db_set_range(struct pfn_db *db, u64 first, u64 count, u8 kind, u16 id);

/**
 * Allocate one free frame for (kind, id). Returns its physical address, or 0 when no
 * frame is free (frame 0 is never handed out: it is always reserved).
 */
u64 pfn_alloc(struct pfn_db *db, u8 kind, u16 id);

/**
 * Allocate @p count contiguous free frames whose first physical address is a multiple of
 * @p align (a power of two, at least 4 KiB). Returns the physical address or 0.
 */
u64 pfn_alloc_contig(struct pfn_db *db, u64 count, u64 align, u8 kind, u16 id);

/**
 * Claim exactly the frames [first, first+count) for (kind, id), all or nothing: succeeds
 * only when every one is free (identity-mapped partitions need specific frames).
 * Returns true on success; on failure nothing changes.
 */
bool pfn_claim_range(struct pfn_db *db, u64 first, u64 count, u8 kind, u16 id);

/**
 * Free the frame at physical address @p pa. Returns false (and changes nothing) when the
 * frame is outside the table, already free or reserved: a double free is reported, not
 * absorbed.
 */
bool pfn_free(struct pfn_db *db, u64 pa);

/** Free every frame owned by (kind, id); returns how many were freed. */
u64 pfn_free_owner(struct pfn_db *db, u8 kind, u16 id);

/** The entry for physical address @p pa, or NULL if outside the table. */
const struct pfn_entry *pfn_lookup(const struct pfn_db *db, u64 pa);

/** Count frames owned by (kind, id). */
u64 pfn_count_owner(const struct pfn_db *db, u8 kind, u16 id);

/** Human-readable name of an owner kind ("free", "hypervisor", ...). */
const char *pfn_kind_name(u8 kind);

#endif
