/**
 * @file paging.c
 * @brief Building, changing and switching the guest's page tables (see paging.h).
 *
 * Every change to an entry of the active address space is followed by INVLPG: the CPU
 * caches translations in the TLB and does not notice later writes to the tables
 * (SDM Vol. 3A §5.10.4). Under shadow paging, those INVLPGs are also what tells the
 * hypervisor that a guest page table changed.
 */
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "console.h"
#include "exit.h"
#include "page_alloc.h"
#include "paging.h"
#include "lapic.h"

struct address_space kernel_as;

static u64 active_root; /* root of the address space in CR3 (as_activate()) */

extern char __image_end[]; /* guest.ld: first byte after the image, page-aligned */

/* Intermediate entries allow everything; the leaf entry alone decides the access rights
 * (the CPU combines all levels, SDM Vol. 3A §5.6), which keeps this code simple. */
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

/* The 9-bit index of @va in the table at @level (4 = PML4 ... 1 = PT). */
static unsigned int table_index(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* Bits 63:47 all equal: the only addresses x86-64 accepts (SDM Vol. 1 §3.3.7.1). */
static bool is_canonical(u64 va)
{
	return (u64)(((s64)va << 16) >> 16) == va;
}

static u64 *table_at(u64 entry)
{
	return (u64 *)(entry & PTE_ADDR_MASK);
}

/* Walk from the PML4 down to the PT entry of @va. If @create, allocate missing tables;
 * otherwise return NULL at the first missing one. Large pages (PS) are not walked into:
 * this library never makes them. */
static u64 *walk(struct address_space *as, u64 va, bool create)
{
	u64 *table = (u64 *)as->root;

	for (int level = 4; level > 1; level--) {
		u64 *entry = &table[table_index(va, level)];

		if (!(*entry & PTE_P)) {
			if (!create)
				return NULL;
			u64 pa = page_alloc();
			if (!pa)
				return NULL;
			*entry = pa | TABLE_FLAGS;
		} else if (*entry & PTE_PS) {
			return NULL;
		}
		table = table_at(*entry);
	}
	return &table[table_index(va, 1)];
}

void paging_init(u64 ram_base, u64 mem_size)
{
	u64 ram_end = ALIGN_DOWN(ram_base + mem_size, PAGE_SIZE);
	u64 free_start = (u64)__image_end;
	/* RAM below the main block (an identity-mapped partition's private first MiB). */
	u64 low_end = ram_base ? 0x100000 : 0;
	u64 map_start = ram_base ? ram_base : PAGE_SIZE; /* page 0 stays unmapped: NULL faults */

	/* 1. Hand the RAM above the image to the page allocator. */
	if (ram_end <= free_start) {
		gprintf("paging: %lu bytes of RAM end inside the image (ends at 0x%lx)\n",
			mem_size, free_start);
		guest_exit(GUEST_EXIT_NO_MEMORY);
	}
	page_alloc_init(free_start, ram_end);

	/* 2. Identity-map RAM, skipping page 0, and the device pages (test device, local
	 *    APIC, IOAPIC), uncached; the hypervisor's resource view, read-only. */
	if (as_create(&kernel_as) < 0 ||
	    gpt_map_range(&kernel_as, map_start, map_start, ram_end - map_start, PTE_W) < 0 ||
	    (low_end && gpt_map_range(&kernel_as, PAGE_SIZE, PAGE_SIZE, low_end - PAGE_SIZE, PTE_W) < 0) ||
	    gpt_map(&kernel_as, HVLAB_TESTDEV_BASE, HVLAB_TESTDEV_BASE, PTE_W | PTE_UC) < 0 ||
	    gpt_map(&kernel_as, GUEST_LAPIC_BASE, GUEST_LAPIC_BASE, PTE_W | PTE_UC) < 0 ||
	    gpt_map(&kernel_as, GUEST_IOAPIC_BASE, GUEST_IOAPIC_BASE, PTE_W | PTE_UC) < 0 ||
	    gpt_map(&kernel_as, HVLAB_RESDB_VIEW_GPA, HVLAB_RESDB_VIEW_GPA, 0) < 0) {
		gprintf("paging: out of memory building the page tables (%lu MiB of RAM)\n",
			mem_size >> 20);
		guest_exit(GUEST_EXIT_NO_MEMORY);
	}

	/* 3. Switch from the hypervisor's boot tables (CR3 = HVLAB_BOOT_PML4) to ours. */
	as_activate(&kernel_as);
}

int as_create(struct address_space *as)
{
	as->root = page_alloc();
	return as->root ? 0 : -1;
}

/* Free the table at @pa and, below level 2, the tables its entries point to. */
static void free_table(u64 pa, int level)
{
	u64 *table = (u64 *)pa;

	if (level > 1)
		for (int i = 0; i < 512; i++)
			if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
				free_table(table[i] & PTE_ADDR_MASK, level - 1);
	page_free(pa);
}

void as_destroy(struct address_space *as)
{
	free_table(as->root, 4);
	as->root = 0;
}

void as_activate(struct address_space *as)
{
	active_root = as->root;
	write_cr3(as->root);
}

bool as_is_active(const struct address_space *as)
{
	return as->root == active_root;
}

int gpt_map(struct address_space *as, u64 va, u64 pa, u64 flags)
{
	if ((va | pa) & (PAGE_SIZE - 1) || !is_canonical(va))
		return -1;

	u64 *pte = walk(as, va, true);
	if (!pte)
		return -1;
	*pte = pa | flags | PTE_P;
	gpt_invalidate(as, va);
	return 0;
}

int gpt_map_range(struct address_space *as, u64 va, u64 pa, u64 size, u64 flags)
{
	for (u64 off = 0; off < size; off += PAGE_SIZE)
		if (gpt_map(as, va + off, pa + off, flags) < 0)
			return -1;
	return 0;
}

int gpt_unmap(struct address_space *as, u64 va)
{
	u64 *pte = walk(as, va, false);

	if (!pte || !(*pte & PTE_P))
		return -1;
	*pte = 0;
	gpt_invalidate(as, va);
	return 0;
}

int gpt_protect(struct address_space *as, u64 va, u64 flags)
{
	u64 *pte = walk(as, va, false);

	if (!pte || !(*pte & PTE_P))
		return -1;
	*pte = (*pte & PTE_ADDR_MASK) | flags | PTE_P;
	gpt_invalidate(as, va);
	return 0;
}

u64 *gpt_lookup(struct address_space *as, u64 va)
{
	return walk(as, va, false);
}

void gpt_invalidate(struct address_space *as, u64 va)
{
	if (as_is_active(as))
		invlpg(va);
}
