/**
 * @file pfn_db.c
 * @brief The PFN database: one owner per 4 KiB host frame, and the frame allocator on top.
 *
 * MECHANISMS.md §1 step 5 calls this table the hypervisor's "logical software state": hot
 * restart hands it to the new hypervisor as it is. So it is a flat array of plain entries,
 * and every function here only reads or writes that array, never the frames themselves.
 *
 * Invariants kept by every function:
 *  - frame 0 is PFN_RESERVED forever (pfn_alloc() uses 0 to mean "no frame");
 *  - db->free_frames equals the number of PFN_FREE entries;
 *  - an entry's id is 0 unless its kind is PFN_PARTITION or PFN_PAGETABLE.
 */
#include <hvlab/pfn_db.h>
#include <hvlab/lib.h>

/* Only partition memory and partition page tables record whose they are. */
static u16 owner_id(u8 kind, u16 id)
{
	return (kind == PFN_PARTITION || kind == PFN_PAGETABLE) ? id : 0;
}

/* Kinds an allocation may hand a frame to: FREE and RESERVED are not owners. */
static bool is_owner_kind(u8 kind)
{
	return kind == PFN_HYPERVISOR || kind == PFN_PARTITION || kind == PFN_PAGETABLE;
}

/* Give frame @p pfn to (kind, id), keeping free_frames exact. The one place entries change. */
static void set_entry(struct pfn_db *db, u64 pfn, u8 kind, u16 id)
{
	struct pfn_entry *e = &db->entries[pfn];

	if (pfn == 0)
		return; /* frame 0 stays reserved whatever the memory map says */
	if (e->kind == PFN_FREE)
		db->free_frames--;
	if (kind == PFN_FREE)
		db->free_frames++;
	e->kind = kind;
	e->flags = 0;
	e->id = owner_id(kind, id);
}

/* Is frame @p pfn inside the table and free? */
static bool frame_is_free(const struct pfn_db *db, u64 pfn)
{
	return pfn != 0 && pfn < db->nframes && db->entries[pfn].kind == PFN_FREE;
}

/* Are the frames [first, first+count) all inside the table and free? */
static bool range_is_free(const struct pfn_db *db, u64 first, u64 count)
{
	if (count == 0 || first >= db->nframes || count > db->nframes - first)
		return false;
	for (u64 i = 0; i < count; i++)
		if (!frame_is_free(db, first + i))
			return false;
	return true;
}

void pfn_db_init(struct pfn_db *db, struct pfn_entry *storage, u64 nframes)
{
	db->entries = storage;
	db->nframes = nframes;
	db->next_hint = 1;
	db->free_frames = 0;
	for (u64 i = 0; i < nframes; i++)
		storage[i] = (struct pfn_entry){ .kind = PFN_RESERVED, .flags = 0, .id = 0 };
}

void pfn_db_set_range(struct pfn_db *db, u64 first, u64 count, u8 kind, u16 id)
{
	if (first >= db->nframes)
		return;
	if (count > db->nframes - first)
		count = db->nframes - first; /* clip: frames beyond the table are ignored */
	for (u64 i = 0; i < count; i++)
		set_entry(db, first + i, kind, id);
}

/*
 * Next fit: start where the previous search stopped, wrap around once. Successive
 * allocations then walk forward through memory instead of rescanning the low frames
 * that are already taken.
 */
u64 pfn_alloc(struct pfn_db *db, u8 kind, u16 id)
{
	if (!is_owner_kind(kind) || db->free_frames == 0)
		return 0;
	u64 start = (db->next_hint == 0 || db->next_hint >= db->nframes) ? 1 : db->next_hint;
	u64 pfn = start;
	do {
		if (db->entries[pfn].kind == PFN_FREE) {
			set_entry(db, pfn, kind, id);
			db->next_hint = pfn + 1;
			return pfn << PAGE_SHIFT;
		}
		pfn = (pfn + 1 < db->nframes) ? pfn + 1 : 1; /* wrap, skipping frame 0 */
	} while (pfn != start);
	return 0;
}

/*
 * Try each candidate start that is a multiple of the alignment. When frame j of a
 * candidate is taken, no candidate before j can succeed either, so jump to the first
 * aligned start after j.
 */
u64 pfn_alloc_contig(struct pfn_db *db, u64 count, u64 align, u8 kind, u16 id)
{
	if (!is_owner_kind(kind) || count == 0 || count > db->free_frames)
		return 0;
	if (align < PAGE_SIZE || (align & (align - 1)) != 0)
		return 0;
	u64 step = align >> PAGE_SHIFT; /* alignment in frames */

	for (u64 first = step; first < db->nframes && count <= db->nframes - first;) {
		u64 taken = count; /* index of the first non-free frame, count if none */
		for (u64 i = 0; i < count; i++) {
			if (db->entries[first + i].kind != PFN_FREE) {
				taken = i;
				break;
			}
		}
		if (taken == count) {
			pfn_db_set_range(db, first, count, kind, id);
			return first << PAGE_SHIFT;
		}
		first = ALIGN_UP(first + taken + 1, step);
	}
	return 0;
}

bool pfn_claim_range(struct pfn_db *db, u64 first, u64 count, u8 kind, u16 id)
{
	if (!is_owner_kind(kind) || !range_is_free(db, first, count))
		return false; /* all or nothing: check everything before changing anything */
	pfn_db_set_range(db, first, count, kind, id);
	return true;
}

bool pfn_free(struct pfn_db *db, u64 pa)
{
	u64 pfn = pa >> PAGE_SHIFT;

	if (pfn >= db->nframes)
		return false;
	if (!is_owner_kind(db->entries[pfn].kind))
		return false; /* already free (double free) or reserved: report, change nothing */
	set_entry(db, pfn, PFN_FREE, 0);
	return true;
}

u64 pfn_free_owner(struct pfn_db *db, u8 kind, u16 id)
{
	u64 freed = 0;

	if (!is_owner_kind(kind))
		return 0; /* "free every reserved frame" would hand firmware memory out */
	id = owner_id(kind, id);
	for (u64 pfn = 1; pfn < db->nframes; pfn++) {
		if (db->entries[pfn].kind == kind && db->entries[pfn].id == id) {
			set_entry(db, pfn, PFN_FREE, 0);
			freed++;
		}
	}
	return freed;
}

const struct pfn_entry *pfn_lookup(const struct pfn_db *db, u64 pa)
{
	u64 pfn = pa >> PAGE_SHIFT;

	return pfn < db->nframes ? &db->entries[pfn] : NULL;
}

u64 pfn_count_owner(const struct pfn_db *db, u8 kind, u16 id)
{
	u64 n = 0;

	id = owner_id(kind, id);
	for (u64 pfn = 0; pfn < db->nframes; pfn++)
		if (db->entries[pfn].kind == kind && db->entries[pfn].id == id)
			n++;
	return n;
}

const char *pfn_kind_name(u8 kind)
{
	static const char *const names[] = {
		[PFN_FREE] = "free",
		[PFN_RESERVED] = "reserved",
		[PFN_HYPERVISOR] = "hypervisor",
		[PFN_PARTITION] = "partition",
		[PFN_PAGETABLE] = "page table",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "unknown";
}
