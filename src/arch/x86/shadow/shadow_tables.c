/**
 * @file shadow_tables.c
 * @brief The shadow page tables: a bounded pool, filling leaves, dropping ranges.
 *
 * A shadow hierarchy is in the CPU's own format, walked by the CPU: 4-level paging
 * (SDM Vol. 3A §5.5) for a guest in IA-32e mode, PAE paging (§5.4) otherwise. Each root
 * owns its tables (no table is shared between roots), so dropping a root frees exactly
 * its tables. Upper-level entries grant everything (present, writable, user); a leaf
 * carries the combined rights of the guest's path, so the CPU checks the guest's
 * permissions on the leaf alone. PAE PDPTEs have no rights bits: only P and the address
 * (§5.4.1, Table 5-8; reserved bits make VM entry fail).
 *
 * Tables come from the partition's shadow pool (PFN_PAGETABLE frames owned by it), at
 * most pool_limit pages: when the pool is dry the caller reclaims roots (shadow_mmu.c).
 */
#include "shadow_internal.h"
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

/* Index of @la in a table at @level of a hierarchy with @levels levels. */
static unsigned index_of(u64 la, int level, int levels)
{
	unsigned idx = (la >> (12 + 9 * (level - 1))) & 511;
	return levels == 3 && level == 3 ? idx & 3 : idx; /* the PAE PDPT has 4 entries */
}

static u64 span_of(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

static unsigned entries_of(int level, int levels)
{
	return levels == 3 && level == 3 ? 4 : 512;
}

static u64 *table_at(u64 hpa)
{
	return phys_to_virt(hpa & SPTE_ADDR);
}

/** A zeroed page from the partition's shadow pool; 0 when the pool is dry. */
u64 shadow_table_alloc(struct shadow_mmu *m)
{
	if (m->pool_used >= m->pool_limit)
		return 0;
	u64 pa = frames_alloc(1, PAGE_SIZE, PFN_PAGETABLE, m->part->id); /* zeroed */
	if (!pa)
		return 0;
	m->pool_used++;
	return pa;
}

static void table_free(struct shadow_mmu *m, u64 pa)
{
	frames_free(pa, 1);
	m->pool_used--;
}

/* Free the table at @pa (a table at @level) and every table below it. */
static void free_subtree(struct shadow_mmu *m, u64 pa, int level, int levels)
{
	if (level > 1) {
		u64 *t = table_at(pa);
		for (unsigned i = 0; i < entries_of(level, levels); i++)
			if (t[i] & SPTE_P)
				free_subtree(m, t[i] & SPTE_ADDR, level - 1, levels);
	}
	table_free(m, pa);
}

/** Free every table of root @p r, the top-level one included. */
void shadow_root_free_tables(struct shadow_mmu *m, struct shadow_root *r)
{
	free_subtree(m, r->hpa, r->levels, r->levels);
	r->hpa = 0;
}

/* An entry that points to a lower table: all rights, the leaf decides (PDPTE: P only). */
static u64 table_entry(u64 pa, int level, int levels)
{
	if (levels == 3 && level == 3)
		return pa | SPTE_P;
	return pa | SPTE_P | SPTE_RW | SPTE_US | SPTE_A;
}

/**
 * Install @p leaf as the 4 KiB translation of @p la in root @p r, creating the tables
 * on the way. Returns 0, or -1 when the pool is dry (nothing was changed but tables
 * created on the way, which stay for the retry).
 */
int shadow_map_leaf(struct shadow_mmu *m, struct shadow_root *r, u64 la, u64 leaf)
{
	u64 *t = table_at(r->hpa);

	for (int level = r->levels; level > 1; level--) {
		u64 *e = &t[index_of(la, level, r->levels)];
		if (!(*e & SPTE_P)) {
			u64 pa = shadow_table_alloc(m);
			if (!pa)
				return -1;
			*e = table_entry(pa, level, r->levels);
		}
		t = table_at(*e);
	}
	t[index_of(la, 1, r->levels)] = leaf;
	m->stats.leaves_filled++;
	return 0;
}

/* Drop the entries of table @t (at @level, translating from @base) that lie in [start, end). */
static void zap_table(struct shadow_mmu *m, struct shadow_root *r, u64 *t, int level, u64 base, u64 start,
		      u64 end)
{
	u64 span = span_of(level);
	u64 entries = entries_of(level, r->levels);
	u64 table_end = base + entries * span;

	if (end <= base || start >= table_end)
		return;
	/* Only the entries that overlap [start, end): a one-page drop visits one per level. */
	u64 first = start > base ? (start - base) / span : 0;
	u64 last = end < table_end ? (end - 1 - base) / span : entries - 1;
	for (u64 i = first; i <= last; i++) {
		u64 lo = base + i * span, hi = lo + span;
		if (!(t[i] & SPTE_P))
			continue;
		if (level == 1) {
			t[i] = 0;
		} else if (start <= lo && hi <= end) {
			free_subtree(m, t[i] & SPTE_ADDR, level - 1, r->levels);
			t[i] = 0;
		} else {
			zap_table(m, r, table_at(t[i]), level - 1, lo, start, end);
			continue;
		}
		m->stats.entries_zapped++;
	}
}

/**
 * Drop every shadow translation of root @p r for linear addresses in [start, end)
 * (48-bit), freeing tables that fall wholly inside. The CPU may still cache them: VM
 * entries without VPID flush the TLB (SDM Vol. 3C §29.4.3.1), and this runs in exits.
 */
void shadow_zap_range(struct shadow_mmu *m, struct shadow_root *r, u64 start, u64 end)
{
	if (r->live && r->hpa)
		zap_table(m, r, table_at(r->hpa), r->levels, 0, start, end);
}

/** Make the leaf for @p la in root @p r read-only, if there is one. */
void shadow_leaf_write_protect(struct shadow_mmu *m, struct shadow_root *r, u64 la)
{
	if (!r->live)
		return;
	u64 *t = table_at(r->hpa);
	for (int level = r->levels; level > 1; level--) {
		u64 e = t[index_of(la, level, r->levels)];
		if (!(e & SPTE_P))
			return;
		t = table_at(e);
	}
	t[index_of(la, 1, r->levels)] &= ~SPTE_RW;
}

static void protect_table(u64 *t, int level, int levels, u64 hpa)
{
	for (unsigned i = 0; i < entries_of(level, levels); i++) {
		if (!(t[i] & SPTE_P))
			continue;
		if (level > 1)
			protect_table(table_at(t[i]), level - 1, levels, hpa);
		else if ((t[i] & SPTE_ADDR) == hpa)
			t[i] &= ~SPTE_RW;
	}
}

/** Make every leaf of root @p r that maps host frame @p hpa read-only (a full scan). */
void shadow_root_write_protect(struct shadow_mmu *m, struct shadow_root *r, u64 hpa)
{
	if (r->live)
		protect_table(table_at(r->hpa), r->levels, r->levels, hpa);
}
