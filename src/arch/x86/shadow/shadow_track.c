/**
 * @file shadow_track.c
 * @brief Which guest frames the shadows depend on, and where they are writable.
 *
 * A shadow leaf is derived from every guest entry on its walk (SDM Vol. 3A §5.5: PML4E,
 * PDPTE, PDE, PTE). If the guest changes one of them, the translations derived from it
 * must go, in every root, the inactive cached ones included: otherwise a root reused
 * after a CR3 switch would translate with the old entry. So every frame that served as
 * a guest page table is recorded here with the roots that read it, and write-protected
 * in all shadows; a store to it faults and is emulated (shadow_mmu.c), and
 * shadow_frame_written() drops the dependent shadow entries.
 *
 * Finding them: a frame remembers where it sits as a table — its level and the linear
 * address its entry 0 translates — so entry i of it translates the range
 * [base + i * span, base + (i + 1) * span). A frame used at two places (shared between
 * address spaces at different addresses, a table that maps itself, two paging modes) is
 * marked FRAME_MULTI, and a change to it drops whole roots instead.
 *
 * Protecting a frame that just became a table: its writable leaves are found through
 * wroots/wla, the roots and the linear page at which it was last mapped writable (a
 * frame mapped writable at several pages is FRAME_WMULTI: those roots are scanned).
 * Bits of a root that was freed and whose id was reused only cause a needless drop or
 * protect, never a missed one.
 */
#include "shadow_internal.h"
#include <arch/guest_mem.h>
#include <hvlab/partition.h>

static struct shadow_root *root_of(struct shadow_mmu *m, int id)
{
	return &m->root[id];
}

/** The tracking record of the guest frame holding @p gpa, or NULL if it is not guest RAM. */
struct shadow_frame *shadow_frame_of(struct shadow_mmu *m, u64 gpa)
{
	u64 base = m->part->ram_base;

	if (gpa < base || gpa - base >= m->part->mem_size)
		return NULL;
	return &m->frame[(gpa - base) >> 12];
}

/** Linear range one entry at @p level translates in paging mode @p mode. */
u64 shadow_entry_span(u8 mode, int level)
{
	if (mode == GUEST_PAGING_32BIT)
		return level == 2 ? MiB(4) : PAGE_SIZE; /* 1024 four-byte entries per table (§5.3) */
	return 1ULL << (12 + 9 * (level - 1));
}

static u64 table_span(u8 mode, int level)
{
	return shadow_entry_span(mode, level) * (mode == GUEST_PAGING_32BIT ? 1024 : 512);
}

/* Take away every writable shadow leaf of frame @fr (it is becoming a page table). */
static void protect_frame(struct shadow_mmu *m, struct shadow_frame *fr, u64 hpa)
{
	for (int id = 0; id < SHADOW_ROOTS && fr->wroots; id++) {
		if (!(fr->wroots & BIT(id)))
			continue;
		if (fr->flags & FRAME_WMULTI)
			shadow_root_write_protect(m, root_of(m, id), hpa);
		else
			shadow_leaf_write_protect(m, root_of(m, id), fr->wla);
	}
	fr->wroots = 0;
	fr->flags &= ~FRAME_WMULTI;
}

/**
 * Root @p root read a guest entry at @p entry_gpa, at @p level, while translating
 * linear address @p la: record the frame as one of its tables and write-protect it.
 */
void shadow_track_table(struct shadow_mmu *m, int root, u64 entry_gpa, int level, u64 la)
{
	struct shadow_frame *fr = shadow_frame_of(m, entry_gpa);
	struct shadow_root *r = root_of(m, root);
	u8 mode = r->mode;

	if (!fr)
		return; /* the walk reads RAM only (shadow_mmu.c) */
	fr->writes = 0; /* in use as a table: worth protecting */
	u64 base = la & LA_MASK & ~(table_span(mode, level) - 1);
	if (!fr->roots) {
		u64 hpa;
		if (gpa_to_hpa(m->part, entry_gpa & ~0xfffULL, &hpa))
			protect_frame(m, fr, hpa);
		fr->level = level, fr->mode = mode, fr->base = base, fr->flags &= ~FRAME_MULTI;
	} else if (fr->level != level || fr->mode != mode || fr->base != base) {
		fr->flags |= FRAME_MULTI;
	}
	if (fr->roots & BIT(root))
		return;
	fr->roots |= BIT(root);
	if (r->nframes < ROOT_FRAMES_MAX)
		r->frames[r->nframes++] = (u32)(fr - m->frame);
	else
		r->frames_overflow = true;
}

/** Root @p root now maps frame @p gpa writable at linear page @p la: remember where. */
void shadow_track_writable(struct shadow_mmu *m, int root, u64 gpa, u64 la)
{
	struct shadow_frame *fr = shadow_frame_of(m, gpa);

	if (!fr)
		return;
	la &= LA_MASK & ~0xfffULL;
	if (!fr->wroots)
		fr->wla = la, fr->flags &= ~FRAME_WMULTI;
	else if (fr->wla != la)
		fr->flags |= FRAME_WMULTI;
	fr->wroots |= BIT(root);
}

/* Drop, in every root that read frame @fr, the translations derived from its entries
 * [first, last]; a frame used at several places drops those roots' translations entirely. */
static void drop_dependents(struct shadow_mmu *m, struct shadow_frame *fr, u64 first, u64 last)
{
	u64 span = shadow_entry_span(fr->mode, fr->level);

	for (int id = 0; id < SHADOW_ROOTS; id++) {
		if (!(fr->roots & BIT(id)))
			continue;
		struct shadow_root *r = root_of(m, id);
		if (fr->flags & FRAME_MULTI)
			shadow_zap_range(m, r, 0, LA_END);
		else
			shadow_zap_range(m, r, fr->base + first * span, fr->base + (last + 1) * span);
	}
}

/** The guest changed @p size bytes at @p gpa: drop what was derived from those entries. */
void shadow_frame_written(struct shadow_mmu *m, u64 gpa, unsigned size)
{
	struct shadow_frame *fr = shadow_frame_of(m, gpa);

	if (!fr || !fr->roots || !size)
		return;
	unsigned entry_size = fr->mode == GUEST_PAGING_32BIT ? 4 : 8;
	u64 offset = gpa & 0xfff;
	drop_dependents(m, fr, offset / entry_size, (offset + size - 1) / entry_size);
}

/** Stop treating the frame of @p gpa as a page table: drop everything derived from it. */
void shadow_frame_untrack(struct shadow_mmu *m, u64 gpa)
{
	struct shadow_frame *fr = shadow_frame_of(m, gpa);

	if (!fr || !fr->roots)
		return;
	unsigned entries = fr->mode == GUEST_PAGING_32BIT ? 1024 : 512;
	drop_dependents(m, fr, 0, entries - 1);
	fr->roots = 0;
	fr->flags &= ~FRAME_MULTI;
}

/* A frame written this many times with no walk reading it in between is no page table
 * any more (a freed table being zeroed or reused as data, say): stop protecting it, so
 * the rest of the writes run natively instead of exiting one by one. */
#define FLOOD_WRITES 8

/** Count an emulated store to the frame of @p gpa; true once it is flooded (and untracked). */
bool shadow_frame_flooded(struct shadow_mmu *m, u64 gpa)
{
	struct shadow_frame *fr = shadow_frame_of(m, gpa);

	if (!fr || !fr->roots || ++fr->writes < FLOOD_WRITES)
		return false;
	shadow_frame_untrack(m, gpa);
	fr->writes = 0;
	return true;
}

/** Root @p root is being freed: its bit leaves every frame it set it in. */
void shadow_root_untrack(struct shadow_mmu *m, int root)
{
	struct shadow_root *r = root_of(m, root);

	if (r->frames_overflow) {
		for (u64 i = 0; i < m->nframes; i++)
			m->frame[i].roots &= ~BIT(root);
	} else {
		for (u32 i = 0; i < r->nframes; i++)
			m->frame[r->frames[i]].roots &= ~BIT(root);
	}
	r->nframes = 0;
	r->frames_overflow = false;
}
