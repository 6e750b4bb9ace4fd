/**
 * @file shadow_cache.h
 * @brief The shadow page-table cache: guest page-table root → shadow root, bounded, LRU.
 *
 * Implements the first Hitachi VMM technique of ../shared/design/MECHANISMS.md §4: the
 * hypervisor keeps several shadow page tables, each associated with a guest page table
 * (guest CR3). On a guest CR3 write it looks up a shadow root for the new guest root; if
 * found it skips rebuilding and loads that root into the CPU; if not it allocates one,
 * builds it, loads it and records the association.
 *
 * Policy and bound: at most @c capacity (≤ SHADOW_CACHE_MAX) associations live at
 * once. A miss takes a free slot if there is one, otherwise evicts the least recently
 * used association (smallest last-use stamp; every hit and insert refreshes it). Evicted
 * and invalidated roots are handed back through ops.free_root so the caller frees their
 * shadow tables. If allocation fails, further LRU entries are evicted and the
 * allocation retried until it succeeds or the cache is empty. Disabled, the cache keeps
 * only the root in use: every lookup misses and each insert frees the previous root
 * (the "no cache" baseline of the benchmark).
 *
 * Pure logic: shadow tables are built and freed by the caller's callbacks, so host unit
 * tests run it with fake roots. One cache serves one address-space owner; a shadow MMU
 * shared by several vCPUs must keep a root that another vCPU still runs from alive
 * (for example by not freeing it in free_root until that vCPU reloads CR3).
 */
#ifndef ARCH_SHADOW_CACHE_H
#define ARCH_SHADOW_CACHE_H

#include <hvlab/types.h>
#include <arch/guest_walk.h>

#define SHADOW_CACHE_MAX 64 /**< largest capacity a cache can be given */

/** How the cache gets and gives back shadow roots. */
struct shadow_cache_ops {
	/** Allocate and build the shadow tables for @p key; store the root's host-physical address. 0 or -1 (out of memory). */
	int (*alloc_root)(void *ctx, u64 key, u64 *shadow_root);
	/** Zap and free the shadow tables under @p shadow_root, built for @p key. */
	void (*free_root)(void *ctx, u64 key, u64 shadow_root);
	void *ctx;
};

/** One association. */
struct shadow_cache_entry {
	u64 key;         /**< guest root with paging-mode tag: shadow_cache_key() */
	u64 shadow_root; /**< host-physical address of the shadow top-level table */
	u64 last_use;    /**< cache clock at the last hit or insert */
	bool valid;
};

/** Counters for the console and the benchmark. */
struct shadow_cache_stats {
	u64 hits;          /**< lookups that found a valid association */
	u64 misses;        /**< lookups that did not (always, when disabled) */
	u64 evictions;     /**< associations dropped to make room (LRU, or disabled mode) */
	u64 invalidations; /**< associations dropped by shadow_cache_invalidate*() */
};

/** A bounded set of guest-root → shadow-root associations. */
struct shadow_cache {
	struct shadow_cache_ops ops;
	struct shadow_cache_entry entry[SHADOW_CACHE_MAX];
	unsigned capacity; /**< 1..SHADOW_CACHE_MAX */
	u64 clock;         /**< advances on every hit and insert */
	bool enabled;
	struct shadow_cache_stats stats;
};

/**
 * The cache key for a guest root: the table address from @p cr3 as @p mode reads it
 * (bits 31:5 for PAE, 51:12 otherwise; PCID, PWT and PCD dropped), tagged with the mode
 * in bits 1:0 and @p role in bits 63:56. @p role is the caller's summary of the control
 * bits its shadow entries depend on (CR0.WP, CR4.SMEP/SMAP/PSE, EFER.NXE...), so that a
 * change of those bits finds a different shadow.
 */
u64 shadow_cache_key(u64 cr3, enum guest_paging_mode mode, u8 role);

/** Initialize an empty, enabled cache holding at most @p capacity roots (clamped to 1..SHADOW_CACHE_MAX). */
void shadow_cache_init(struct shadow_cache *c, const struct shadow_cache_ops *ops, unsigned capacity);

/**
 * Look up @p key. On a hit store the shadow root in @p shadow_root, refresh its last-use
 * stamp and return true; on a miss (always when disabled) return false. Counts either.
 */
bool shadow_cache_lookup(struct shadow_cache *c, u64 key, u64 *shadow_root);

/**
 * Record a new association for @p key after a miss: drop any old one for the same key,
 * take a free slot or evict the LRU entry (ops.free_root), allocate through
 * ops.alloc_root (evicting more on failure) and store the root in @p shadow_root.
 * Disabled, first frees every cached root. Returns 0, or -1 when allocation fails with
 * the cache empty.
 */
int shadow_cache_insert(struct shadow_cache *c, u64 key, u64 *shadow_root);

/**
 * Lookup then, on a miss, insert: the CR3-load path. Returns 1 on a hit, 0 on a miss
 * served by a new root (which the caller's alloc_root has built), -1 when out of memory.
 */
int shadow_cache_get(struct shadow_cache *c, u64 key, u64 *shadow_root);

/** Drop the association for @p key, freeing its root (the guest's tables changed). Returns true if there was one. */
bool shadow_cache_invalidate(struct shadow_cache *c, u64 key);

/** Drop every association, freeing their roots (guest paging-mode change, cache teardown). */
void shadow_cache_invalidate_all(struct shadow_cache *c);

/** Turn the cache on or off; turning it off drops every association (counted as invalidations). */
void shadow_cache_set_enabled(struct shadow_cache *c, bool enabled);

/** Number of valid associations. */
unsigned shadow_cache_count(const struct shadow_cache *c);

#endif
