/*
 * shadow_internal.h — what the three parts of the shadow MMU share:
 *
 *   shadow_tables.c  the shadow page tables themselves: a bounded pool, filling a leaf,
 *                    dropping the entries of a linear range, write-protecting a frame;
 *   shadow_track.c   which guest frames shadows were derived from (guest page tables,
 *                    write-protected) and which are mapped writable (to protect later);
 *   shadow_mmu.c     the MMU: roots per guest CR3 through the cache, #PF handling,
 *                    emulated stores.
 *
 * Linear addresses here are 48-bit (bits 63:48 dropped): the shadow index bits.
 */
#ifndef SHADOW_INTERNAL_H
#define SHADOW_INTERNAL_H

#include <arch/shadow_mmu.h>
#include <arch/shadow_cache.h>
#include <arch/guest_walk.h>

#define SHADOW_ROOTS SHADOW_CACHE_MAX      /* root ids 0..63: one bit each in a u64 mask */
#define SHADOW_POOL_PAGES 1024             /* shadow tables per partition (4 MiB) */
#define LA_BITS 48
#define LA_MASK ((1ULL << LA_BITS) - 1)
#define LA_END (1ULL << LA_BITS)

/* Shadow entry bits: the CPU's own paging-structure format (SDM Vol. 3A §5.4, §5.5). */
#define SPTE_P BIT(0)
#define SPTE_RW BIT(1)
#define SPTE_US BIT(2)
#define SPTE_A BIT(5)
#define SPTE_D BIT(6)
#define SPTE_XD BIT(63)
#define SPTE_ADDR 0x000ffffffffff000ULL

/* A guest frame the shadows depend on. */
#define FRAME_MULTI BIT(0)  /* used as a table at more than one (level, base, mode) */
#define FRAME_WMULTI BIT(1) /* mapped writable at more than one linear page */

struct shadow_frame {
	u64 roots;  /* roots whose shadow read an entry in this frame: it is write-protected */
	u64 wroots; /* roots that may hold a writable leaf to this frame */
	u64 base;   /* linear address that entry 0 of this frame, as a table, translates */
	u64 wla;    /* linear page of its writable leaf (unless FRAME_WMULTI) */
	u8 level;   /* its level as a table: 4 = PML4 ... 1 = page table */
	u8 mode;    /* enum guest_paging_mode it was walked in */
	u8 flags;
	u8 writes;  /* stores emulated since a walk last read it (write flooding, shadow_mmu.c) */
};

#define ROOT_FRAMES_MAX 1024 /* frames one root remembers; beyond, freeing it scans all */

/* One shadow root: a shadow hierarchy built for one cache key. */
struct shadow_root {
	bool live;
	u64 hpa;                 /* top-level table: PML4 (4-level) or PDPT (PAE) */
	u64 key;                 /* shadow_cache_key() it was built for */
	u8 mode;                 /* enum guest_paging_mode of the guest */
	u8 levels;               /* 4: the CPU walks it in 4-level paging; 3: in PAE paging */
	u64 pdpte[4];            /* guest PAE mode: the PDPTEs it was built from */
	u32 *frames;             /* frames it set its bit in (indexes into mmu->frame) */
	u32 nframes;
	bool frames_overflow;
};

struct shadow_mmu {
	struct partition *part;
	struct shadow_cache cache;
	struct shadow_root root[SHADOW_ROOTS];
	struct shadow_frame *frame; /* one per 4 KiB of guest RAM */
	u64 nframes;
	u64 frame_table_pages;
	u64 pool_used, pool_limit;
	int active;                 /* root id the CPU runs on, -1 before the first load */
	u64 pdpte[4];               /* guest PAE mode: PDPTEs loaded at its last CR3 load */
	u64 pending_key;            /* key being built by alloc_root */
	u8 pending_mode, pending_levels;
	u64 last_fault_la;          /* no-progress guard (shadow_mmu.c) */
	u32 fault_repeats;
	u64 unprotect_rip, unprotect_frame;
	u32 unprotect_repeats;
	struct shadow_stats stats;
};

/* shadow_tables.c */
u64 shadow_table_alloc(struct shadow_mmu *m);
void shadow_root_free_tables(struct shadow_mmu *m, struct shadow_root *r);
int shadow_map_leaf(struct shadow_mmu *m, struct shadow_root *r, u64 la, u64 leaf);
void shadow_zap_range(struct shadow_mmu *m, struct shadow_root *r, u64 start, u64 end);
void shadow_leaf_write_protect(struct shadow_mmu *m, struct shadow_root *r, u64 la);
void shadow_root_write_protect(struct shadow_mmu *m, struct shadow_root *r, u64 hpa);

/* shadow_track.c */
struct shadow_frame *shadow_frame_of(struct shadow_mmu *m, u64 gpa);
void shadow_track_table(struct shadow_mmu *m, int root, u64 entry_gpa, int level, u64 la);
void shadow_track_writable(struct shadow_mmu *m, int root, u64 gpa, u64 la);
void shadow_frame_written(struct shadow_mmu *m, u64 gpa, unsigned size);
void shadow_frame_untrack(struct shadow_mmu *m, u64 gpa);
bool shadow_frame_flooded(struct shadow_mmu *m, u64 gpa);
void shadow_root_untrack(struct shadow_mmu *m, int root);
u64 shadow_entry_span(u8 mode, int level);

#endif
