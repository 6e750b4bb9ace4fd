/**
 * @file ept.c
 * @brief Extended page tables: a partition's guest-physical → host-physical map.
 *
 * SDM Vol. 3C §29.3.2 ("EPT Translation Mechanism"). A guest-physical address is split
 * like a 4-level IA-32e linear address; each level indexes a 4 KiB table of 512 entries:
 *
 *     level 4 (PML4)  GPA bits 47:39   entry → level-3 table
 *     level 3 (PDPT)  GPA bits 38:30   entry → level-2 table, or a 1 GiB page (bit 7)
 *     level 2 (PD)    GPA bits 29:21   entry → level-1 table, or a 2 MiB page (bit 7)
 *     level 1 (PT)    GPA bits 20:12   entry → a 4 KiB page
 *
 * Every entry (Tables 29-1..29-6) has R/W/X in bits 2:0; an entry with all three clear is
 * "not present". A leaf adds the memory type in bits 5:3 and "ignore PAT" in bit 6. For
 * non-leaf entries bits 7:3 are reserved (must be 0), so they are just address | RWX:
 * the real permissions live in the leaves.
 *
 * Memory type choice: leaves never set EPT_IGNORE_PAT. With IPAT clear the CPU combines
 * the EPT memory type with the guest's PAT (SDM Vol. 3C §29.3.7.2): EPT UC makes an MMIO
 * page UC whatever the guest does, and EPT WB lets the guest choose for its own RAM.
 *
 * The recursion below works on "the table of level L": its 512 entries each cover
 * level_size(L) bytes. A table of level L is reached through an entry of level L+1.
 */
#include <arch/ept.h>
#include <hvlab/lib.h>

#define EPT_ENTRIES 512
#define EPT_LEVELS 4
#define EPT_GPA_LIMIT BIT(48) /* 4-level EPT translates 48-bit guest-physical addresses */
#define EPT_HPA_LIMIT BIT(52) /* MAXPHYADDR is at most 52 bits */

/* Bytes one entry of a table of level @p level covers: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static u64 level_size(int level)
{
	return PAGE_SIZE << (9 * (level - 1));
}

/* Index of @p gpa in a table of level @p level. */
static unsigned level_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static bool entry_present(u64 entry)
{
	return (entry & EPT_RWX) != 0;
}

/* A level-1 entry always maps a page; at levels 2 and 3 bit 7 says so. */
static bool entry_is_leaf(u64 entry, int level)
{
	return level == 1 || (entry & EPT_LARGE) != 0;
}

/* Host-physical address a leaf of @p level maps (bits below the page size are ignored). */
static u64 leaf_address(u64 entry, int level)
{
	return entry & EPT_ADDR_MASK & ~(level_size(level) - 1);
}

/* Memory types a leaf may carry: 2, 3 and 7 are reserved (EPT misconfiguration, §29.3.3.1). */
static bool memtype_valid(u8 memtype)
{
	return memtype == 0 || memtype == 1 || memtype == 4 || memtype == 5 || memtype == 6;
}

static u64 *table_at(const struct ept *e, u64 pa)
{
	return e->ops.phys_to_virt(e->ops.ctx, pa);
}

/* Free the table an entry of @p level points to, and every table below it. */
static void free_subtree(struct ept *e, u64 entry, int level)
{
	if (!entry_present(entry) || entry_is_leaf(entry, level))
		return;
	u64 pa = entry & EPT_ADDR_MASK;
	u64 *table = table_at(e, pa);
	for (int i = 0; i < EPT_ENTRIES; i++)
		free_subtree(e, table[i], level - 1);
	e->ops.free_table(e->ops.ctx, table, pa);
}

/*
 * Turn a large leaf at @p level into a table of 512 smaller leaves that map exactly the
 * same memory with the same permissions, memory type, IPAT and A/D bits, so the caller
 * can change one part of it. Returns the new table, or NULL when out of memory.
 */
static u64 *split_leaf(struct ept *e, u64 *slot, int level)
{
	u64 pa;
	u64 *table = e->ops.alloc_table(e->ops.ctx, &pa);
	if (!table)
		return NULL;

	u64 base = leaf_address(*slot, level);
	u64 attrs = *slot & ~(EPT_ADDR_MASK | EPT_LARGE);
	u64 child_size = level_size(level - 1);
	for (int i = 0; i < EPT_ENTRIES; i++) {
		table[i] = (base + (u64)i * child_size) | attrs;
		if (level - 1 > 1)
			table[i] |= EPT_LARGE; /* 1 GiB splits into 2 MiB leaves */
	}
	*slot = pa | EPT_RWX;
	return table;
}

/*
 * The table below entry @p slot of @p level: the existing one, a new empty one when the
 * entry is not present, or the result of splitting a large leaf. NULL when out of memory.
 */
static u64 *child_table(struct ept *e, u64 *slot, int level)
{
	u64 pa;

	if (!entry_present(*slot)) {
		u64 *table = e->ops.alloc_table(e->ops.ctx, &pa);
		if (table)
			*slot = pa | EPT_RWX; /* non-leaf: allow all, the leaf decides */
		return table;
	}
	if (entry_is_leaf(*slot, level))
		return split_leaf(e, slot, level);
	return table_at(e, *slot & EPT_ADDR_MASK);
}

/* May a leaf be placed at @p level? 4 KiB always; 2 MiB and 1 GiB if the CPU has them. */
static bool leaf_allowed(const struct ept *e, int level)
{
	return level == 1 || (level == 2 && e->allow_2m) || (level == 3 && e->allow_1g);
}

/* Map [gpa, end) → hpa.. into the table of @p level. */
static int map_range(struct ept *e, u64 *table, int level, u64 gpa, u64 end, u64 hpa,
		     u32 perms, u8 memtype)
{
	u64 size = level_size(level);

	while (gpa < end) {
		u64 *slot = &table[level_index(gpa, level)];
		u64 entry_end = ALIGN_DOWN(gpa, size) + size;
		u64 chunk_end = end < entry_end ? end : entry_end;

		/* The whole entry is covered and both sides are aligned: one leaf does it. */
		if (leaf_allowed(e, level) && (gpa & (size - 1)) == 0 && chunk_end == entry_end &&
		    (hpa & (size - 1)) == 0) {
			free_subtree(e, *slot, level);
			*slot = ept_make_leaf(hpa, perms, memtype, level);
		} else {
			u64 *child = child_table(e, slot, level);
			if (!child)
				return -1;
			if (map_range(e, child, level - 1, gpa, chunk_end, hpa, perms, memtype) < 0)
				return -1;
		}
		hpa += chunk_end - gpa;
		gpa = chunk_end;
	}
	return 0;
}

static bool table_is_empty(const u64 *table)
{
	for (int i = 0; i < EPT_ENTRIES; i++)
		if (table[i] != 0)
			return false;
	return true;
}

/* Unmap [gpa, end) from the table of @p level, freeing tables that become empty. */
static int unmap_range(struct ept *e, u64 *table, int level, u64 gpa, u64 end)
{
	u64 size = level_size(level);

	while (gpa < end) {
		u64 *slot = &table[level_index(gpa, level)];
		u64 entry_end = ALIGN_DOWN(gpa, size) + size;
		u64 chunk_end = end < entry_end ? end : entry_end;

		if (!entry_present(*slot)) {
			/* nothing mapped here */
		} else if ((gpa & (size - 1)) == 0 && chunk_end == entry_end) {
			free_subtree(e, *slot, level); /* the whole entry goes */
			*slot = 0;
		} else {
			/* Part of the entry goes: split a large leaf so the rest stays mapped. */
			u64 *child = child_table(e, slot, level);
			if (!child)
				return -1;
			if (unmap_range(e, child, level - 1, gpa, chunk_end) < 0)
				return -1;
			if (table_is_empty(child)) {
				e->ops.free_table(e->ops.ctx, child, *slot & EPT_ADDR_MASK);
				*slot = 0;
			}
		}
		gpa = chunk_end;
	}
	return 0;
}

/* Common checks of ept_map()/ept_unmap(): 4 KiB aligned, non-empty, within 48 bits. */
static bool range_valid(u64 gpa, u64 size)
{
	return size != 0 && (gpa & (PAGE_SIZE - 1)) == 0 && (size & (PAGE_SIZE - 1)) == 0 &&
	       gpa < EPT_GPA_LIMIT && size <= EPT_GPA_LIMIT - gpa;
}

int ept_init(struct ept *e, const struct ept_ops *ops, bool allow_2m, bool allow_1g)
{
	e->ops = *ops;
	e->allow_2m = allow_2m;
	e->allow_1g = allow_1g;
	e->root = ops->alloc_table(ops->ctx, &e->root_pa);
	return e->root ? 0 : -1;
}

/*
 * Refused as bad arguments: misaligned or empty ranges, addresses beyond 48 (guest) or 52
 * (host) bits, permissions outside R/W/X, no permission at all, write without read, and
 * reserved memory types — the last three would be EPT misconfigurations (§29.3.3.1).
 * When memory runs out part way, the part already done stays mapped.
 */
int ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u32 perms, u8 memtype)
{
	if (!range_valid(gpa, size) || (hpa & (PAGE_SIZE - 1)) != 0 || hpa >= EPT_HPA_LIMIT ||
	    size > EPT_HPA_LIMIT - hpa)
		return -1;
	if ((perms & ~EPT_RWX) != 0 || (perms & EPT_RWX) == 0 ||
	    ((perms & EPT_W) && !(perms & EPT_R)) || !memtype_valid(memtype))
		return -1;
	return map_range(e, e->root, EPT_LEVELS, gpa, gpa + size, hpa, perms, memtype);
}

int ept_unmap(struct ept *e, u64 gpa, u64 size)
{
	if (!range_valid(gpa, size))
		return -1;
	return unmap_range(e, e->root, EPT_LEVELS, gpa, gpa + size);
}

/* The walk of §29.3.2, one entry per level, with permissions ANDed along the path. */
bool ept_translate(const struct ept *e, u64 gpa, struct ept_walk *w)
{
	memset(w, 0, sizeof(*w));
	if (gpa >= EPT_GPA_LIMIT || !e->root) /* no hierarchy: destroyed, or never built */
		return false;

	const u64 *table = e->root;
	u32 perms = EPT_RWX;
	for (int level = EPT_LEVELS; level >= 1; level--) {
		u64 entry = table[level_index(gpa, level)];
		w->entry[w->levels++] = entry;
		perms &= entry & EPT_RWX;
		if (!entry_present(entry))
			return false;
		if (entry_is_leaf(entry, level)) {
			w->mapped = true;
			w->page_size = level_size(level);
			w->hpa = leaf_address(entry, level) | (gpa & (w->page_size - 1));
			w->perms = perms;
			return true;
		}
		table = table_at(e, entry & EPT_ADDR_MASK);
	}
	return false; /* not reached: level 1 entries are always leaves */
}

u64 ept_make_leaf(u64 hpa, u32 perms, u8 memtype, int level)
{
	if (level < 1 || level > 3)
		return 0;
	u64 entry = (hpa & EPT_ADDR_MASK & ~(level_size(level) - 1)) | (perms & EPT_RWX) |
		    ((u64)(memtype & 7) << EPT_MEMTYPE_SHIFT);
	if (level > 1)
		entry |= EPT_LARGE;
	return entry;
}

/* SDM Vol. 3C §25.6.11: bits 2:0 memory type of the tables, 5:3 walk length - 1, bit 6 A/D. */
u64 ept_pointer(const struct ept *e, bool enable_ad)
{
	u64 eptp = (e->root_pa & EPT_ADDR_MASK) | EPT_MT_WB | ((u64)(EPT_LEVELS - 1) << 3);
	if (enable_ad)
		eptp |= BIT(6);
	return eptp;
}

void ept_destroy(struct ept *e)
{
	if (!e->root)
		return;
	for (int i = 0; i < EPT_ENTRIES; i++)
		free_subtree(e, e->root[i], EPT_LEVELS);
	e->ops.free_table(e->ops.ctx, e->root, e->root_pa);
	e->root = NULL;
	e->root_pa = 0;
}
