/**
 * @file memory.c
 * @brief Building the PFN database at boot, and the locked allocation interface over it.
 */
#include <hvlab/memory.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <hvlab/spinlock.h>

/* The boot page tables map the first 4 GiB (src/arch/x86/boot/entry.S); RAM above that
 * is not yet used. */
#define MAPPED_LIMIT GiB(4)
#define LOW_MEMORY MiB(1) /* BIOS data, real-mode IVT, option ROMs: never handed out */

struct pfn_db pfn_db;
static spinlock_t pfn_lock = SPINLOCK_INIT;
static u64 usable_bytes;

extern char _hv_start[], _hv_end[];

/** A physical range something already occupies at boot. */
struct busy_range {
	u64 start, end;
};

static bool overlaps(u64 a0, u64 a1, u64 b0, u64 b1)
{
	return a0 < b1 && b0 < a1;
}

/* Find room for @size bytes in usable RAM above 1 MiB, avoiding every busy range. */
static u64 find_room(const struct mb2_info *mb, u64 size, const struct busy_range *busy, int nbusy)
{
	for (u32 i = 0; i < mb->nmmap; i++) {
		const struct mb2_mmap_entry *e = &mb->mmap[i];
		if (e->type != MB2_MMAP_AVAILABLE)
			continue;
		u64 end = e->base + e->len < MAPPED_LIMIT ? e->base + e->len : MAPPED_LIMIT;
		u64 start = ALIGN_UP(e->base > LOW_MEMORY ? e->base : LOW_MEMORY, PAGE_SIZE);
		while (start + size <= end) {
			int j;
			for (j = 0; j < nbusy; j++)
				if (overlaps(start, start + size, busy[j].start, busy[j].end))
					break;
			if (j == nbusy)
				return start;
			start = ALIGN_UP(busy[j].end, PAGE_SIZE); /* skip past the obstacle */
		}
	}
	return 0;
}

static void claim(u64 start, u64 end, u8 kind)
{
	u64 first = start >> PAGE_SHIFT;
	pfn_db_set_range(&pfn_db, first, (ALIGN_UP(end, PAGE_SIZE) >> PAGE_SHIFT) - first, kind, 0);
}

void memory_init(const struct mb2_info *mb, u64 mbi, u64 mbi_size)
{
	/* 1. How many frames to track: up to the end of the highest usable RAM we map. */
	u64 top = 0;
	for (u32 i = 0; i < mb->nmmap; i++) {
		const struct mb2_mmap_entry *e = &mb->mmap[i];
		if (e->type == MB2_MMAP_AVAILABLE && e->base + e->len > top)
			top = e->base + e->len;
	}
	if (top > MAPPED_LIMIT) {
		printk("hvlab: memory: RAM above 4 GiB (%lu MiB) is not used yet\n",
		       (top - MAPPED_LIMIT) >> 20);
		top = MAPPED_LIMIT;
	}
	u64 nframes = top >> PAGE_SHIFT;

	/* 2. Place the table where nothing lives yet. */
	struct busy_range busy[MB2_MAX_MODULES + 2];
	int nbusy = 0;
	busy[nbusy++] = (struct busy_range){ virt_to_phys(_hv_start), virt_to_phys(_hv_end) };
	busy[nbusy++] = (struct busy_range){ mbi, mbi + mbi_size };
	for (u32 i = 0; i < mb->nmodules; i++)
		busy[nbusy++] = (struct busy_range){ mb->modules[i].start, mb->modules[i].end };
	u64 table_bytes = ALIGN_UP(nframes * sizeof(struct pfn_entry), PAGE_SIZE);
	u64 table = find_room(mb, table_bytes, busy, nbusy);
	if (!table)
		panic("memory: no room for the PFN database (%lu KiB)\n", table_bytes >> 10);

	/* 3. Everything reserved, then usable RAM free, then what is already in use claimed. */
	pfn_db_init(&pfn_db, phys_to_virt(table), nframes);
	for (u32 i = 0; i < mb->nmmap; i++) {
		const struct mb2_mmap_entry *e = &mb->mmap[i];
		if (e->type != MB2_MMAP_AVAILABLE)
			continue;
		u64 start = ALIGN_UP(e->base, PAGE_SIZE);
		u64 end = ALIGN_DOWN(e->base + e->len, PAGE_SIZE);
		if (end > top)
			end = top;
		if (start < end) {
			pfn_db_set_range(&pfn_db, start >> PAGE_SHIFT, (end - start) >> PAGE_SHIFT, PFN_FREE, 0);
			usable_bytes += end - start;
		}
	}
	claim(0, LOW_MEMORY, PFN_RESERVED);
	claim(virt_to_phys(_hv_start), virt_to_phys(_hv_end), PFN_HYPERVISOR);
	claim(table, table + table_bytes, PFN_HYPERVISOR);
	claim(ALIGN_DOWN(mbi, PAGE_SIZE), mbi + mbi_size, PFN_HYPERVISOR);
	for (u32 i = 0; i < mb->nmodules; i++)
		claim(ALIGN_DOWN(mb->modules[i].start, PAGE_SIZE), mb->modules[i].end, PFN_HYPERVISOR);

	printk("hvlab: memory: %lu MiB usable, PFN database of %lu frames at 0x%lx, %lu MiB free\n",
	       usable_bytes >> 20, nframes, table, memory_free() >> 20);
}

u64 frames_alloc(u64 count, u64 align, u8 kind, u16 id)
{
	spin_lock(&pfn_lock);
	u64 pa = count == 1 && align <= PAGE_SIZE ? pfn_alloc(&pfn_db, kind, id)
						  : pfn_alloc_contig(&pfn_db, count, align, kind, id);
	spin_unlock(&pfn_lock);
	if (pa)
		memset(phys_to_virt(pa), 0, count * PAGE_SIZE);
	return pa;
}

u64 frame_alloc_hv(void)
{
	u64 pa = frames_alloc(1, PAGE_SIZE, PFN_HYPERVISOR, 0);

	if (!pa)
		panic("memory: out of frames for the hypervisor\n");
	return pa;
}

void frames_free(u64 pa, u64 count)
{
	spin_lock(&pfn_lock);
	for (u64 i = 0; i < count; i++)
		if (!pfn_free(&pfn_db, pa + i * PAGE_SIZE))
			printk("hvlab: memory: bad free of frame 0x%lx\n", pa + i * PAGE_SIZE);
	spin_unlock(&pfn_lock);
}

u64 frames_free_owner(u8 kind, u16 id)
{
	spin_lock(&pfn_lock);
	u64 n = pfn_free_owner(&pfn_db, kind, id);
	spin_unlock(&pfn_lock);
	return n;
}

u64 memory_total(void)
{
	return usable_bytes;
}

u64 memory_free(void)
{
	return pfn_db.free_frames * PAGE_SIZE;
}
