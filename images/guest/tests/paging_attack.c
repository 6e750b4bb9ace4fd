/*
 * paging_attack.c — a guest that uses its own page tables to reach memory not its own.
 *
 * A guest controls its page tables completely: any PTE may hold any physical address.
 * What keeps it inside its partition is the second stage of translation. Under EPT the
 * address in a guest PTE is a *guest*-physical address, which the CPU translates once
 * more through the hypervisor's EPT (SDM Vol. 3C §29.3); an address outside the
 * partition's EPT ends in an EPT violation, and hvlab stops the partition with a line
 *
 *	hvlab: partition NAME stopped: EPT violation: read of guest-physical 0x... at RIP ...
 *
 * (Under shadow paging, issue 4, the hypervisor reads the guest PTEs itself and must
 * refuse the same addresses, including those of the shadow tables it keeps in host
 * memory: they lie outside the partition's RAM like everything else of the host.)
 *
 * The command line picks one trick, "attack=N" (the table below). The first trick that
 * is stopped ends the partition, so the scenario (paging_isolation.cfg) runs each in a
 * partition of its own. If an access comes back with a value, the guest reached memory
 * it should not have: it prints "ERROR:" and exits with status 1.
 *
 * Attack 8 is the one that looks dangerous and is not: the hypervisor's code is linked at
 * host-physical 0x200000, but a guest that maps "physical 0x200000" gets guest-physical
 * 0x200000, which is its own RAM (host 0x200000 + wherever its RAM starts). It proves this
 * by writing through the alias and reading the same bytes through its identity map, then
 * exits 0.
 *
 * Attack 9 is not an access at all: it looks for a leak. Under shadow paging the real CR3
 * holds the host address of a shadow table, not the guest's value; a MOV from CR3 must
 * still return exactly what the guest loaded (with "CR3-store exiting", SDM Vol. 3C
 * §26.1.3, the hypervisor answers MOV from CR3 itself), or the guest learns where host
 * memory is. It loads several CR3 values (its own tables, with PWT/PCD), reads each back,
 * also after a VM exit and after memory accesses, prints how many matched, and exits 0.
 */
#include "guest.h"

#define ATTACK_VA 0x200000000000ULL /* 32 TiB: nothing else maps here */
#define GIB 0x40000000ULL

static u64 ram_end(void)
{
	return boot_info->ram_base + boot_info->mem_size;
}

/* The entry of @va at @level (4 = PML4E ... 1 = PTE) of kernel_as, whose tables down to
 * @level + 1 must exist (a gpt_map() of a neighbour creates them). */
static u64 *entry_at(u64 va, int level)
{
	u64 *table = (u64 *)kernel_as.root;

	for (int l = 4; l > level; l--)
		table = (u64 *)(table[(va >> (12 + 9 * (l - 1))) & 511] & PTE_ADDR_MASK);
	return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

/* Read 8 bytes at @va: with a plain MOV, so the hypervisor sees an ordinary read. If it
 * returns, the partition reached memory that is not its own. */
static int read_must_not_return(u64 va, const char *what)
{
	u64 v = mmio_read64(va);

	gprintf("ERROR: %s returned 0x%lx\n", what, v);
	return 1;
}

/* 1. A leaf PTE at the first page after our RAM. */
static int attack_beyond_ram(void)
{
	gpt_map(&kernel_as, ATTACK_VA, ram_end(), PTE_W);
	return read_must_not_return(ATTACK_VA, "read of the page after RAM");
}

/* 2. A leaf PTE at the highest page the CPU can address (MAXPHYADDR, CPUID 80000008H). */
static int attack_high_address(void)
{
	u32 maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
	u64 top = (1ULL << maxphyaddr) - PAGE_SIZE;

	gprintf("highest guest-physical page: 0x%lx (MAXPHYADDR %u)\n", top, maxphyaddr);
	gpt_map(&kernel_as, ATTACK_VA, top, PTE_W);
	return read_must_not_return(ATTACK_VA, "read of the highest page");
}

/* 3. A PDE whose "page table" lies beyond RAM: the CPU's own page walk reads it. */
static int attack_table_beyond_ram(void)
{
	gpt_map(&kernel_as, ATTACK_VA, 0x100000, PTE_W); /* creates the tables on the way */
	*entry_at(ATTACK_VA, 2) = ram_end() | PTE_P | PTE_W;
	invlpg(ATTACK_VA);
	return read_must_not_return(ATTACK_VA, "read through a page table beyond RAM");
}

/* 4. CR3 beyond RAM: the very next instruction fetch walks a PML4 that is not ours. */
static int attack_cr3_beyond_ram(void)
{
	write_cr3(ram_end());
	gprintf("ERROR: running with CR3 beyond RAM\n");
	return 1;
}

/* 5. A 1 GiB page over guest-physical [0, 1 GiB), read at 512 MiB, far above our RAM
 *    (or, without 1 GiB pages, a 2 MiB page just above RAM). */
static int attack_large_page(void)
{
	u64 va = ATTACK_VA + GIB;

	gpt_map(&kernel_as, ATTACK_VA, 0x100000, PTE_W); /* creates the PDPT */
	if (cpuid(0x80000001, 0).edx & BIT(26)) {
		*entry_at(va, 3) = 0 | PTE_P | PTE_W | PTE_PS;
		invlpg(va + GIB / 2);
		return read_must_not_return(va + GIB / 2, "read through a 1 GiB page");
	}
	va = ATTACK_VA + 0x200000; /* the next PDE after the one gpt_map() used */
	*entry_at(va, 2) = ALIGN_UP(ram_end(), 0x200000) | PTE_P | PTE_W | PTE_PS;
	invlpg(va);
	return read_must_not_return(va, "read through a 2 MiB page");
}

/* 6. A writable PTE for the hypervisor's read-only resource view: the guest's page
 *    tables grant the write, the EPT does not. */
static int attack_resdb_write(void)
{
	gpt_map(&kernel_as, ATTACK_VA, HVLAB_RESDB_VIEW_GPA, PTE_W);
	mmio_write64(ATTACK_VA, 0x0badc0de);
	gprintf("ERROR: write to the read-only resource view succeeded\n");
	return 1;
}

/* 7. An executable PTE for the test device's MMIO page: reads and writes there are
 *    emulated, instruction fetches are not (there is no memory to fetch from). */
static int attack_mmio_fetch(void)
{
	gpt_map(&kernel_as, ATTACK_VA, HVLAB_TESTDEV_BASE, PTE_UC);
	((void (*)(void))ATTACK_VA)();
	gprintf("ERROR: code ran from the test device page\n");
	return 1;
}

/* 8. "The hypervisor's frames": guest-physical 0x200000 is our own RAM (see the top). */
static int attack_hypervisor_frames(void)
{
	volatile u64 *alias = (volatile u64 *)ATTACK_VA, *own = (volatile u64 *)0x200000;
	u64 saved = *own;

	gpt_map(&kernel_as, ATTACK_VA, 0x200000, PTE_W);
	*alias = 0x5ca1ab1e;
	bool same = *own == 0x5ca1ab1e;
	*own = saved;
	gprintf("guest-physical 0x200000 %s\n",
		same ? "is my own RAM, not the hypervisor's" : "ERROR: is not my own RAM");
	return same ? 0 : 1;
}

/* 9. CR3 must read back as loaded, whatever the real CR3 holds (see the top). Every
 *    space copies all of kernel_as's top-level entries, so code, stack and data stay
 *    mapped whichever is loaded. */
static int attack_cr3_hidden(void)
{
	static struct address_space spaces[4];
	static const u64 flags[] = { 0, PTE_PWT, PTE_PCD, PTE_PWT | PTE_PCD };
	volatile u64 probe = 0;
	u64 n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(spaces); i++) {
		if (as_create(&spaces[i]) < 0) {
			gprintf("ERROR: out of memory\n");
			return 1;
		}
		memcpy((void *)spaces[i].root, (void *)kernel_as.root, PAGE_SIZE);
	}
	for (size_t i = 0; i < ARRAY_SIZE(spaces); i++) {
		for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
			u64 want = spaces[i].root | flags[f], got[3];
			write_cr3(want);
			got[0] = read_cr3();
			probe += got[0];                  /* a memory access in this space */
			got[1] = read_cr3();
			cpuid(HVLAB_CPUID_SIGNATURE, 0); /* a VM exit and back */
			got[2] = read_cr3();
			for (int k = 0; k < 3; k++) {
				if (got[k] != want) {
					as_activate(&kernel_as);
					gprintf("ERROR: cr3 loaded 0x%lx, read 0x%lx\n", want, got[k]);
					return 1;
				}
			}
			n++;
		}
	}
	as_activate(&kernel_as);
	if (read_cr3() != kernel_as.root) {
		gprintf("ERROR: cr3 loaded 0x%lx, read 0x%lx\n", kernel_as.root, read_cr3());
		return 1;
	}
	gprintf("cr3: %lu values read back exactly as loaded\n", n + 1);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} attacks[] = {
	[1] = { "leaf PTE at the page after RAM", attack_beyond_ram },
	[2] = { "leaf PTE at the highest guest-physical page", attack_high_address },
	[3] = { "PDE pointing at a page table beyond RAM", attack_table_beyond_ram },
	[4] = { "CR3 beyond RAM", attack_cr3_beyond_ram },
	[5] = { "large page reaching beyond RAM", attack_large_page },
	[6] = { "writable PTE for the read-only resource view", attack_resdb_write },
	[7] = { "executable PTE for the test device MMIO page", attack_mmio_fetch },
	[8] = { "PTE at guest-physical 0x200000 (the hypervisor's host address)",
		attack_hypervisor_frames },
	[9] = { "CR3 reads back as loaded (no shadow root leaks)", attack_cr3_hidden },
};

int main(const struct hvlab_boot_info *bi)
{
	u64 n = cmdline_get_u64("attack", 0);

	if (n == 0 || n >= ARRAY_SIZE(attacks)) {
		gprintf("ERROR: attack=%lu: pick 1-%lu\n", n, ARRAY_SIZE(attacks) - 1);
		return 2;
	}
	gprintf("attack %lu: %s\n", n, attacks[n].name);
	return attacks[n].fn();
}
