/**
 * @file ept.h
 * @brief Extended page tables: building, changing and walking a partition's GPA→HPA map.
 *
 * Implements the EPT paging-structure formats of SDM Vol. 3C §29.3.2 (4-level EPT,
 * tables of 512 8-byte entries; 1 GiB pages at level 3, 2 MiB at level 2, 4 KiB at
 * level 1) and the EPT pointer of §25.6.11. Pure logic: tables are reached through the
 * allocator callbacks in struct ept_ops, so host unit tests run it over malloc'd memory.
 */
#ifndef ARCH_EPT_H
#define ARCH_EPT_H

#include <hvlab/types.h>

/* EPT entry bits (SDM Vol. 3C §29.3.2, Tables 29-1..29-6). */
#define EPT_R BIT(0)          /**< read access */
#define EPT_W BIT(1)          /**< write access */
#define EPT_X BIT(2)          /**< supervisor-mode execute */
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_SHIFT 3   /**< bits 5:3 of a leaf: memory type */
#define EPT_IGNORE_PAT BIT(6) /**< leaf: ignore guest PAT */
#define EPT_LARGE BIT(7)      /**< level 2/3: entry maps a page, not a table */
#define EPT_ACCESSED BIT(8)
#define EPT_DIRTY BIT(9)
#define EPT_ADDR_MASK 0x000ffffffffff000ULL

/* Memory types (SDM Vol. 3A §12.3, Table 12-2). */
#define EPT_MT_UC 0
#define EPT_MT_WB 6

/** Where EPT tables come from. In the hypervisor pa == va; in host tests they differ. */
struct ept_ops {
	/** Return a zeroed 4 KiB-aligned table and store its physical address in *pa; NULL if out of memory. */
	void *(*alloc_table)(void *ctx, u64 *pa);
	/** Give a table back (used by ept_unmap when a table empties, and ept_destroy). */
	void (*free_table)(void *ctx, void *table, u64 pa);
	/** Virtual address of the table at physical address pa. */
	void *(*phys_to_virt)(void *ctx, u64 pa);
	void *ctx;
};

/** One partition's EPT hierarchy. */
struct ept {
	struct ept_ops ops;
	u64 root_pa;      /**< physical address of the PML4-level table */
	u64 *root;        /**< its virtual address */
	bool allow_1g;    /**< CPU supports 1 GiB EPT pages (IA32_VMX_EPT_VPID_CAP bit 17) */
	bool allow_2m;    /**< CPU supports 2 MiB EPT pages (bit 16) */
};

/** The result of walking one guest-physical address. */
struct ept_walk {
	int levels;        /**< how many entries were read (1..4) */
	u64 entry[4];      /**< the entries read, from the PML4 level (index 0) down */
	bool mapped;       /**< a present leaf was found */
	u64 hpa;           /**< translated host-physical address (when mapped) */
	u64 page_size;     /**< 4 KiB, 2 MiB or 1 GiB (when mapped) */
	u32 perms;         /**< EPT_R|EPT_W|EPT_X of the leaf, ANDed over the path */
};

/** Create an empty hierarchy (one zeroed root table). Returns 0 or -1 when out of memory. */
int ept_init(struct ept *e, const struct ept_ops *ops, bool allow_2m, bool allow_1g);

/**
 * Map [gpa, gpa+size) to [hpa, hpa+size) with @p perms (EPT_R/W/X) and memory type
 * @p memtype. All three of gpa, hpa and size must be 4 KiB aligned. Uses the largest page
 * size that alignment and CPU support allow. Replaces existing mappings in the range
 * (splitting large pages as needed). Returns 0, or -1 on bad arguments or out of memory.
 */
int ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u32 perms, u8 memtype);

/** Remove every mapping in [gpa, gpa+size) (4 KiB aligned), splitting large pages at the edges. Returns 0 or -1. */
int ept_unmap(struct ept *e, u64 gpa, u64 size);

/** Walk @p gpa. Returns true when mapped, filling @p w in both cases. */
bool ept_translate(const struct ept *e, u64 gpa, struct ept_walk *w);

/** Build a leaf entry for level 1 (4 KiB), 2 (2 MiB, sets EPT_LARGE) or 3 (1 GiB). */
u64 ept_make_leaf(u64 hpa, u32 perms, u8 memtype, int level);

/** The EPT pointer for VMCS field EPT_POINTER: WB, 4-level walk, optional A/D (SDM §25.6.11). */
u64 ept_pointer(const struct ept *e, bool enable_ad);

/** Free every table of the hierarchy (not the mapped memory). */
void ept_destroy(struct ept *e);

#endif
