/*
 * paging_bench.c — what address-space switches, demand faults and copy-on-write cost a
 * guest, in TSC ticks: the workload where EPT and shadow paging differ most.
 *
 * Why: under EPT a guest's CR3 writes, page faults and page-table writes are its own
 * business; the CPU handles them without a VM exit (SDM Vol. 3C §29.3). Under shadow
 * paging (issue 4) each can exit: a CR3 write makes the hypervisor find (shadow cache on)
 * or build (cache off) the shadow tables of the new address space; a #PF goes first to
 * the hypervisor, which either fills a shadow entry and resumes or passes the fault on
 * to the guest; a guest page-table write the hypervisor tracks exits too. A kernel that
 * switches processes often, maps pages on demand and forks (a shell running pipelines,
 * a build) pays all of it. This guest is such a kernel, in miniature:
 *
 *   fault   P processes (procs=N, default 16), each with an address space of its own (a
 *           CR3 of its own) that shares kernel_as's mappings as a kernel shares its half
 *           with every process. The first round touches PAGES pages of each, none mapped
 *           yet: each touch faults, and the #PF handler maps a fresh frame (demand paging).
 *   switch  R - 1 more rounds (rounds=N, default 20): CR3 to each process in turn, read
 *           and check each of its pages, write new values. No faults.
 *   cow     every process forks: parent and child share the frames read-only; the child
 *           writes each page and the #PF handler copies it; then the parent writes, and
 *           the handler, finding the parent the frame's only user left, just makes the
 *           page writable again (as Linux's do_wp_page() reuses a page).
 *
 * Timed with LFENCE-fenced RDTSC (as bench.c); deterministic under Bochs' sync=none. Output,
 * with LABEL from the command line (label=NAME, default "paging"):
 *   bench LABEL.total_ticks=N    the three phases, process creation included
 *   bench LABEL.fault_ticks=N    per demand fault (the touch that faulted included)
 *   bench LABEL.switch_ticks=N   per CR3 switch with its PAGES reads and writes
 *   bench LABEL.cow_ticks=N      per copy-on-write fault (the fork's PTE changes included)
 * The phases are also tests ("ok - ..."): each checks that every process saw its own
 * values and that the handler did exactly the work expected, so a small run
 * (paging_bench_smoke.cfg) is a correctness test of the same paths.
 */
#include "guest.h"

#define USER_BASE 0x100000000000ULL /* 16 TiB: PML4 entry 32, private to each process */
#define USER_SLOT ((USER_BASE >> 39) & 511)
#define PAGES 8                     /* pages each process touches */
#define MAX_PROCS 64
#define MAX_RAM (256ULL << 20)      /* frames covered by the reference counts */
#define PTE_COW BIT(9)              /* an ignored bit, free for software (§5.5.4) */

struct process {
	struct address_space as;
	u64 expect[PAGES]; /* the value each page's first word must hold */
};

static struct process procs[MAX_PROCS], children[MAX_PROCS];
static struct process *current;     /* the process whose CR3 is loaded */
static u8 refcount[MAX_RAM / PAGE_SIZE]; /* address spaces mapping each frame */
static u64 nprocs, nrounds;

/* What the #PF handler did, for the checks and the per-operation averages. */
static struct {
	u64 demand, copies, reuses, refused;
} stats;

/* Ticks of each phase, for the bench lines. */
static u64 ticks_fault, ticks_switch, ticks_cow, ticks_create;

/* RDTSC may run ahead of earlier instructions; LFENCE makes it wait (SDM Vol. 2B, RDTSC). */
static inline u64 tsc_fenced(void)
{
	__asm__ volatile("lfence" ::: "memory");
	u64 t = rdtsc();
	__asm__ volatile("lfence" ::: "memory");
	return t;
}

/* Where a process's page @page lives, and one read or write there (volatile: the
 * accesses are the workload, the compiler must not merge them). */
static u64 page_va(int page) { return USER_BASE + (u64)page * PAGE_SIZE; }
static u64 rd(u64 va) { return *(volatile u64 *)va; }
static void wr(u64 va, u64 v) { *(volatile u64 *)va = v; }

/* A distinct value per process, page and round; children have bit 63 set. */
static u64 value_of(u64 proc, int page, u64 round)
{
	return (proc << 32) | ((u64)page << 16) | round;
}

/* Switch to @p: the context switch of this miniature kernel. */
static void switch_to(struct process *p)
{
	current = p;
	as_activate(&p->as);
}

/* A new address space sharing every kernel_as table except the private user slot. */
static int process_create(struct process *p)
{
	if (as_create(&p->as) < 0)
		return -1;
	u64 *mine = (u64 *)p->as.root, *kernel = (u64 *)kernel_as.root;
	for (int i = 0; i < 512; i++)
		if (i != USER_SLOT)
			mine[i] = kernel[i];
	return 0;
}

/* The #PF handler of this kernel. A not-present user page: map a fresh frame (demand
 * paging). A write to a copy-on-write page: copy the frame, or if nobody else maps it
 * any more, make it writable again. Anything else is not ours: false (fatal). */
static bool bench_fault(struct trap_frame *f)
{
	u64 va = ALIGN_DOWN(read_cr2(), PAGE_SIZE);
	struct address_space *as = &current->as;

	if (va < USER_BASE || va >= page_va(PAGES) || !as_is_active(as)) {
		stats.refused++;
		return false;
	}
	if (!(f->error_code & PF_ERR_P)) {
		u64 pa = page_alloc();
		if (!pa || pa >= MAX_RAM || gpt_map(as, va, pa, PTE_W) < 0)
			return false;
		refcount[pa / PAGE_SIZE] = 1;
		stats.demand++;
		return true;
	}
	u64 *pte = gpt_lookup(as, va);
	if (!(f->error_code & PF_ERR_W) || !pte || !(*pte & PTE_COW)) {
		stats.refused++;
		return false;
	}
	u64 old = *pte & PTE_ADDR_MASK;
	if (refcount[old / PAGE_SIZE] == 1) {
		gpt_protect(as, va, PTE_W);
		stats.reuses++;
		return true;
	}
	u64 copy = page_alloc();
	if (!copy || copy >= MAX_RAM)
		return false;
	memcpy((void *)copy, (void *)old, PAGE_SIZE);
	refcount[old / PAGE_SIZE]--;
	refcount[copy / PAGE_SIZE] = 1;
	gpt_map(as, va, copy, PTE_W);
	stats.copies++;
	return true;
}

/* Phase 1: create the processes, then the first round, every touch a demand fault. Each
 * process reads back what it wrote, and the handler mapped exactly P x PAGES frames. */
static void test_demand_faults(void)
{
	u64 bad = 0, t0 = tsc_fenced();

	for (u64 i = 0; i < nprocs; i++)
		if (!CHECK(process_create(&procs[i]) == 0, "out of memory"))
			return;
	u64 t1 = tsc_fenced();
	for (u64 i = 0; i < nprocs; i++) {
		switch_to(&procs[i]);
		for (int pg = 0; pg < PAGES; pg++) {
			procs[i].expect[pg] = value_of(i, pg, 0);
			wr(page_va(pg), procs[i].expect[pg]);
			bad += rd(page_va(pg)) != procs[i].expect[pg];
		}
	}
	u64 t2 = tsc_fenced();
	as_activate(&kernel_as);
	ticks_create = t1 - t0;
	ticks_fault = t2 - t1;
	CHECK_EQ(bad, 0);
	CHECK_EQ(stats.demand, nprocs * PAGES);
	CHECK_EQ(stats.refused, 0);
}

/* Phase 2: rounds of CR3 switches, no faults. Each process sees the values it wrote in
 * the previous round, not another's; at the end each frame, read through the identity
 * map, holds its own process's value (no two processes share a frame). */
static void test_switch_rounds(void)
{
	u64 bad = 0, demand = stats.demand, t0 = tsc_fenced();

	for (u64 r = 1; r < nrounds; r++) {
		for (u64 k = 0; k < nprocs; k++) {
			u64 i = (k + r) % nprocs; /* a different order each round */
			switch_to(&procs[i]);
			for (int pg = 0; pg < PAGES; pg++) {
				bad += rd(page_va(pg)) != procs[i].expect[pg];
				procs[i].expect[pg] = value_of(i, pg, r);
				wr(page_va(pg), procs[i].expect[pg]);
			}
		}
	}
	u64 t1 = tsc_fenced();
	as_activate(&kernel_as);
	ticks_switch = t1 - t0;
	CHECK_EQ(bad, 0);
	CHECK_EQ(stats.demand, demand);
	for (u64 i = 0; i < nprocs; i++)
		for (int pg = 0; pg < PAGES; pg++) {
			u64 *pte = gpt_lookup(&procs[i].as, page_va(pg));
			if (!CHECK(pte && (*pte & PTE_P), "process %lu page %d unmapped", i, pg))
				return;
			CHECK_EQ(rd(*pte & PTE_ADDR_MASK), procs[i].expect[pg]);
		}
}

/* Fork @parent into @child: both map the parent's frames read-only, marked COW. Runs in
 * the parent (its PTEs change under its own CR3: gpt_protect() does the INVLPG). */
static bool fork_process(struct process *parent, struct process *child)
{
	if (process_create(child) < 0)
		return false;
	switch_to(parent);
	for (int pg = 0; pg < PAGES; pg++) {
		u64 va = page_va(pg), pa = *gpt_lookup(&parent->as, va) & PTE_ADDR_MASK;
		gpt_protect(&parent->as, va, PTE_COW);
		if (gpt_map(&child->as, va, pa, PTE_COW) < 0)
			return false;
		refcount[pa / PAGE_SIZE]++;
		child->expect[pg] = parent->expect[pg];
	}
	return true;
}

/* Phase 3: fork every process; the child first sees the parent's values, then writes
 * its own (a copy per page), then the parent writes (no copy: the frame is its own
 * again). Afterwards parent and child each see their own values. */
static void test_cow(void)
{
	u64 bad = 0, t0 = tsc_fenced();

	for (u64 i = 0; i < nprocs; i++) {
		struct process *parent = &procs[i], *child = &children[i];
		if (!CHECK(fork_process(parent, child), "out of memory"))
			return;
		switch_to(child);
		for (int pg = 0; pg < PAGES; pg++) {
			bad += rd(page_va(pg)) != child->expect[pg];
			child->expect[pg] = value_of(i, pg, nrounds) | BIT(63);
			wr(page_va(pg), child->expect[pg]);
		}
		switch_to(parent);
		for (int pg = 0; pg < PAGES; pg++) {
			bad += rd(page_va(pg)) != parent->expect[pg];
			parent->expect[pg] = value_of(i, pg, nrounds);
			wr(page_va(pg), parent->expect[pg]);
		}
	}
	u64 t1 = tsc_fenced();
	ticks_cow = t1 - t0;
	for (u64 i = 0; i < nprocs; i++) {
		for (int who = 0; who < 2; who++) {
			struct process *p = who ? &children[i] : &procs[i];
			switch_to(p);
			for (int pg = 0; pg < PAGES; pg++)
				bad += rd(page_va(pg)) != p->expect[pg];
		}
	}
	as_activate(&kernel_as);
	CHECK_EQ(bad, 0);
	CHECK_EQ(stats.copies, nprocs * PAGES);
	CHECK_EQ(stats.reuses, nprocs * PAGES);
	CHECK_EQ(stats.refused, 0);
}

static const struct guest_test tests[] = {
	{ "bench: demand faults map each process its own pages", test_demand_faults },
	{ "bench: cr3 switches, each process sees its own values", test_switch_rounds },
	{ "bench: copy on write, parent and child values differ", test_cow },
};

/* ticks / n, or 0 when nothing was counted. */
static u64 per(u64 ticks, u64 n)
{
	return n ? ticks / n : 0;
}

int main(const struct hvlab_boot_info *bi)
{
	char label[32] = "paging";
	size_t len;
	const char *l = cmdline_find(bi->cmdline, "label", &len);

	if (l && len > 0 && len < sizeof(label)) {
		memcpy(label, l, len);
		label[len] = '\0';
	}
	nprocs = cmdline_get_u64("procs", 16);
	nrounds = cmdline_get_u64("rounds", 20);
	if (nprocs < 1 || nprocs > MAX_PROCS || nrounds < 2 ||
	    bi->ram_base + bi->mem_size > MAX_RAM) {
		gprintf("ERROR: procs=%lu (1-%d), rounds=%lu (2 or more), RAM below %llu MiB\n",
			nprocs, MAX_PROCS, nrounds, MAX_RAM >> 20);
		return 2;
	}
	gprintf("%lu processes x %d pages, %lu rounds\n", nprocs, PAGES, nrounds);

	idt_set_handler(EXC_PF, bench_fault);
	int failed = run_tests(tests, ARRAY_SIZE(tests));
	idt_set_handler(EXC_PF, NULL);

	u64 switches = nprocs * (nrounds - 1);
	u64 total = ticks_create + ticks_fault + ticks_switch + ticks_cow;
	gprintf("bench %s.total_ticks=%lu\n", label, total);
	gprintf("bench %s.fault_ticks=%lu\n", label, per(ticks_fault, stats.demand));
	gprintf("bench %s.switch_ticks=%lu\n", label, per(ticks_switch, switches));
	gprintf("bench %s.cow_ticks=%lu\n", label, per(ticks_cow, stats.copies + stats.reuses));
	return failed;
}
