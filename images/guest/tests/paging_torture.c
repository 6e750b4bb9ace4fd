/*
 * paging_torture.c — architectural paging behaviour, checked from inside the guest.
 *
 * The plan: every rule of 4-level paging the hypervisor could get wrong when it
 * virtualizes memory (SDM Vol. 3A Chapter 5) is one entry of the table at the bottom:
 *   access rights   U/S, R/W with CR0.WP, XD (§5.6), in the leaf and in upper levels;
 *   page faults     the error code and CR2 of each kind of fault (§5.7);
 *   A and D flags   set when, and only when, the processor would (§5.8);
 *   the TLB         INVLPG, CR3 reloads, CR4.PGE and global pages (§5.10);
 *   address spaces  32 processes with their own CR3 (§5.5), page tables shared by two;
 *   large pages     2 MiB and 1 GiB pages (PS flag, §5.5.4);
 *   self-reference  page tables changed through a mapping of themselves;
 *   fork            copy-on-write done by a page-fault handler.
 * Under EPT the processor does all of this itself, so a run under EPT is the reference;
 * under shadow paging (issue 4) the hypervisor must reproduce it line for line. So the
 * output is deterministic: test names only, no addresses and no times. Where the
 * architecture allows two outcomes (a stale TLB entry may or may not be used before an
 * INVLPG, §5.10.4.3), the test looks but does not check.
 *
 * Each test maps what it needs in its own 2 MiB "slot" of a region nothing else uses
 * (TEST_BASE, one PML4 entry of its own), so it can change upper-level entries (the PDE
 * of its slot) without disturbing anything else.
 */
#include "guest.h"

#define TEST_BASE 0x100000000000ULL  /* 16 TiB: PML4 entry 32, used by this test only */
#define SLOT_SIZE 0x200000ULL        /* 2 MiB: one page table, one PDE per slot */
#define SLOT(n) (TEST_BASE + (u64)(n) * SLOT_SIZE)
#define GIB 0x40000000ULL
#define NPROCS 32                    /* "processes": address spaces of their own */
#define ROUNDS 8

/* ---- Helpers: page tables, frames, accesses ---------------------------------------- */

/* The entry of @va at @level (4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE) in @as. Missing
 * tables on the way are allocated (as paging.c does: P, W, U, so the lower level decides)
 * if @create, else NULL. A large page (PS) above @level ends the walk: NULL.
 * Volatile: the CPU sets A and D behind the compiler's back, so every read must really
 * read the entry (a plain u64 * lets the compiler reuse a value read before the access). */
typedef volatile u64 entry_t;

static entry_t *entry_at(struct address_space *as, u64 va, int level, bool create)
{
	entry_t *table = (entry_t *)as->root;

	for (int l = 4;; l--) {
		entry_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
		if (l == level)
			return e;
		if (!(*e & PTE_P)) {
			u64 pa = create ? page_alloc() : 0;
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W | PTE_U;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = (entry_t *)(*e & PTE_ADDR_MASK);
	}
}

static entry_t *pte_of(u64 va) { return entry_at(&kernel_as, va, 1, false); }
static entry_t *pde_of(u64 va) { return entry_at(&kernel_as, va, 2, true); }

/* A fresh frame whose first word is @value. Frames are identity-mapped: pa = pointer. */
static u64 new_frame(u64 value)
{
	u64 pa = page_alloc();

	if (pa)
		*(volatile u64 *)pa = value;
	return pa;
}

/* Map @va to a fresh frame holding @value, with @flags, in kernel_as. The PTE starts with
 * A and D clear (gpt_map writes it whole). Returns the frame. */
static u64 map_new(u64 va, u64 value, u64 flags)
{
	u64 pa = new_frame(value);

	if (!pa || gpt_map(&kernel_as, va, pa, flags) < 0)
		return 0;
	return pa;
}

static u64 rd(u64 va) { return *(volatile u64 *)va; }
static void wr(u64 va, u64 v) { *(volatile u64 *)va = v; }

/* One memory access for guest_try(): a read, a write or a call (instruction fetch). */
struct access {
	u64 va, value;
};
static void do_read(void *a) { ((struct access *)a)->value = rd(((struct access *)a)->va); }
static void do_write(void *a) { wr(((struct access *)a)->va, ((struct access *)a)->value); }
static void do_call(void *a) { ((struct access *)a)->value = ((u64(*)(void))((struct access *)a)->va)(); }

static int try_read(u64 va, struct fault_info *fi)
{
	struct access a = { va, 0 };
	return guest_try(do_read, &a, fi);
}

static int try_write(u64 va, u64 value, struct fault_info *fi)
{
	struct access a = { va, value };
	return guest_try(do_write, &a, fi);
}

static int try_call(u64 va, u64 *result, struct fault_info *fi)
{
	struct access a = { va, 0 };
	int vec = guest_try(do_call, &a, fi);
	*result = a.value;
	return vec;
}

static void set_wp(bool on)
{
	write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~(u64)CR0_WP);
}

/* Machine code: "mov $42, %eax; ret", copied to a page to run it from there. */
static const u8 code_ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };

/* ---- §5.6 access rights: U/S ---------------------------------------------------------- */

/* A user page is readable and writable from ring 3, and from ring 0 (no SMAP). */
static void test_us_user_page(void)
{
	u64 va = SLOT(1), v;
	struct fault_info fi;
	int vec;

	map_new(va, 0x1111, PTE_U | PTE_W);
	vec = user_read(va, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(v, 0x1111);
	vec = user_write(va, 0x2222, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(rd(va), 0x2222);
}

/* A supervisor page (U/S = 0) faults from ring 3 with U = 1, P = 1 (and W for a write),
 * and stays usable from ring 0. */
static void test_us_supervisor_page(void)
{
	u64 va = SLOT(2) + 0x18, v;
	struct fault_info fi;
	int vec;

	map_new(SLOT(2), 0, PTE_W);
	wr(va, 0x3333);
	vec = user_read(va, &v, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_P);
	vec = user_write(va, 0x4444, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_W | PF_ERR_P);
	CHECK_EQ(rd(va), 0x3333);
}

/* User access needs U/S = 1 at every level: a supervisor PDE hides a user PTE. */
static void test_us_upper_level(void)
{
	u64 va = SLOT(3), v;
	struct fault_info fi;
	int vec;

	map_new(va, 0x5555, PTE_U | PTE_W);
	*pde_of(va) &= ~(u64)PTE_U;
	invlpg(va);
	vec = user_read(va, &v, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_P);
	*pde_of(va) |= PTE_U;
	invlpg(va);
	vec = user_read(va, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(v, 0x5555);
}

/* ---- §5.6 access rights: R/W and CR0.WP ---------------------------------------------- */

/* With CR0.WP = 1 a supervisor write to a read-only page faults (W = 1, P = 1). */
static void test_rw_supervisor_wp1(void)
{
	u64 va = SLOT(4) + 0x100;
	struct fault_info fi;
	int vec;

	map_new(SLOT(4), 0, 0);
	CHECK(read_cr0() & CR0_WP, "CR0.WP is off");
	vec = try_write(va, 0x6666, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_W | PF_ERR_P);
	CHECK_EQ(rd(va), 0);
}

/* With CR0.WP = 0 the same supervisor write succeeds. */
static void test_rw_supervisor_wp0(void)
{
	u64 va = SLOT(5);
	struct fault_info fi;
	int vec;

	map_new(va, 0, 0);
	set_wp(false);
	vec = try_write(va, 0x7777, &fi);
	set_wp(true);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(rd(va), 0x7777);
}

/* A user write to a read-only page faults whatever CR0.WP says (U = 1, W = 1, P = 1). */
static void test_rw_user_any_wp(void)
{
	u64 va = SLOT(6), v;
	struct fault_info fi;
	int vec;

	map_new(va, 0x8888, PTE_U);
	for (int wp = 1; wp >= 0; wp--) {
		set_wp(wp);
		vec = user_write(va, 0x9999, &fi);
		set_wp(true);
		CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_W | PF_ERR_P);
	}
	vec = user_read(va, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(v, 0x8888);
}

/* Writes need R/W = 1 at every level: a read-only PDE protects a writable PTE. */
static void test_rw_upper_level(void)
{
	u64 va = SLOT(7);
	struct fault_info fi;
	int vec;

	map_new(va, 0, PTE_W);
	*pde_of(va) &= ~(u64)PTE_W;
	invlpg(va);
	vec = try_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_W | PF_ERR_P);
	*pde_of(va) |= PTE_W;
	invlpg(va);
	vec = try_write(va, 2, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(rd(va), 2);
}

/* ---- §5.6 access rights: execute-disable (EFER.NXE = 1) ------------------------------- */

/* Code runs from a page without XD. */
static void test_nx_executable(void)
{
	u64 va = SLOT(8), pa = map_new(va, 0, 0), ret = 0;
	struct fault_info fi;
	int vec;

	memcpy((void *)pa, code_ret42, sizeof(code_ret42));
	vec = try_call(va, &ret, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(ret, 42);
}

/* An instruction fetch from an XD page faults with I/D = 1, P = 1; RIP = CR2 = the page. */
static void test_nx_leaf(void)
{
	u64 va = SLOT(9), pa = map_new(va, 0, PTE_NX), ret;
	struct fault_info fi;
	int vec;

	CHECK(rdmsr(MSR_IA32_EFER) & EFER_NXE, "EFER.NXE is off");
	memcpy((void *)pa, code_ret42, sizeof(code_ret42));
	vec = try_call(va, &ret, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_I | PF_ERR_P);
	CHECK_EQ(fi.rip, va);
	CHECK_EQ(rd(va) & 0xff, 0xb8); /* still readable */
}

/* XD in the PDE forbids fetches from every page below it. */
static void test_nx_upper_level(void)
{
	u64 va = SLOT(10), pa = map_new(va, 0, 0), ret;
	struct fault_info fi;
	int vec;

	memcpy((void *)pa, code_ret42, sizeof(code_ret42));
	*pde_of(va) |= PTE_NX;
	invlpg(va);
	vec = try_call(va, &ret, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_I | PF_ERR_P);
	*pde_of(va) &= ~PTE_NX;
	invlpg(va);
	vec = try_call(va, &ret, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(ret, 42);
}

/* ---- §5.7 page-fault error codes for not-present pages --------------------------------- */

/* P = 0 in the PTE: reads, writes, fetches, user reads and writes each say what they
 * were (W, I/D, U) with P = 0, and CR2 is the exact faulting byte. */
static void test_not_present_pte(void)
{
	u64 va = SLOT(11) + 0x123, v;
	struct fault_info fi;
	int vec;

	map_new(SLOT(11), 0, PTE_W | PTE_U);
	gpt_unmap(&kernel_as, SLOT(11)); /* the page table stays, its entry is 0 */
	vec = try_read(va, &fi);
	CHECK_PF(vec, fi, va, 0);
	vec = try_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_W);
	vec = try_call(SLOT(11), &v, &fi);
	CHECK_PF(vec, fi, SLOT(11), PF_ERR_I);
	vec = user_read(va, &v, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U);
	vec = user_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_W);
}

/* P = 0 in an upper level (the PDE): the same error codes. */
static void test_not_present_pde(void)
{
	u64 va = SLOT(12) + 0x8, v;
	struct fault_info fi;
	int vec;

	map_new(SLOT(12), 0, PTE_W | PTE_U);
	*pde_of(va) &= ~(u64)PTE_P;
	invlpg(va);
	vec = try_read(va, &fi);
	CHECK_PF(vec, fi, va, 0);
	vec = user_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_W);
	*pde_of(va) |= PTE_P;
	invlpg(va);
	vec = user_read(va, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
}

/* ---- §5.7 reserved bits --------------------------------------------------------------- */

/* Bits above MAXPHYADDR in an entry are reserved (§5.5.4): with one set, the walk stops
 * with #PF, RSVD = 1 and P = 1. Bit 51 is reserved unless MAXPHYADDR is 52. */
static void test_rsvd(void)
{
	u64 va = SLOT(13), v;
	u32 maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
	struct fault_info fi;
	int vec;

	if (maxphyaddr >= 52) {
		test_skip("MAXPHYADDR is 52: no reserved address bits");
		return;
	}
	map_new(va, 0, PTE_W | PTE_U);
	*pte_of(va) |= BIT(51);
	invlpg(va);
	vec = try_read(va, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_RSVD | PF_ERR_P);
	vec = try_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_RSVD | PF_ERR_W | PF_ERR_P);
	vec = user_read(va, &v, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_RSVD | PF_ERR_U | PF_ERR_P);
	*pte_of(va) &= ~BIT(51);
	*pde_of(va) |= BIT(51); /* the same in an upper level */
	invlpg(va);
	vec = try_read(va, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_RSVD | PF_ERR_P);
	*pde_of(va) &= ~BIT(51);
	invlpg(va);
	vec = try_read(va, &fi);
	CHECK_NO_FAULT(vec, fi);
}

/* ---- §5.8 accessed and dirty flags ---------------------------------------------------- */

/* A read sets A in the leaf and not D; a write then sets D. */
static void test_ad_read_then_write(void)
{
	u64 va = SLOT(14);

	map_new(va, 0, PTE_W);
	entry_t *pte = pte_of(va);
	CHECK_EQ(*pte & (PTE_A | PTE_D), 0);
	(void)rd(va);
	CHECK_EQ(*pte & (PTE_A | PTE_D), PTE_A);
	wr(va, 1);
	CHECK_EQ(*pte & (PTE_A | PTE_D), PTE_A | PTE_D);
}

/* Software clears A and D and flushes the TLB entry; the next accesses set them again. */
static void test_ad_cleared_set_again(void)
{
	u64 va = SLOT(15);

	map_new(va, 0, PTE_W);
	entry_t *pte = pte_of(va);
	wr(va, 1);
	for (int round = 0; round < 3; round++) {
		*pte &= ~(PTE_A | PTE_D);
		invlpg(va);
		(void)rd(va);
		CHECK_EQ(*pte & (PTE_A | PTE_D), PTE_A);
		wr(va, round);
		CHECK_EQ(*pte & (PTE_A | PTE_D), PTE_A | PTE_D);
	}
}

/* A is set in every entry the walk uses: PML4E, PDPTE, PDE and PTE. */
static void test_ad_upper_levels(void)
{
	u64 va = SLOT(16);

	map_new(va, 0, PTE_W);
	for (int level = 4; level >= 1; level--)
		*entry_at(&kernel_as, va, level, false) &= ~PTE_A;
	invlpg(va); /* also drops cached upper-level entries (§5.10.4.1) */
	(void)rd(va);
	for (int level = 4; level >= 1; level--)
		CHECK(*entry_at(&kernel_as, va, level, false) & PTE_A, "A clear at level %d", level);
}

/* No D for reads of a read-only page, nor for a write that faults on it. */
static void test_ad_no_dirty_without_write(void)
{
	u64 va = SLOT(17);
	struct fault_info fi;

	map_new(va, 0, 0);
	entry_t *pte = pte_of(va);
	(void)rd(va);
	CHECK_EQ(*pte & (PTE_A | PTE_D), PTE_A);
	int vec = try_write(va, 1, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_W | PF_ERR_P);
	CHECK_EQ(*pte & PTE_D, 0);
}

/* ---- §5.10 the TLB -------------------------------------------------------------------- */

/* A PTE is pointed at another frame. Until INVLPG the old translation may still be used
 * (§5.10.4.3: either value is right, so neither is checked); after it, the new one is. */
static void test_invlpg_new_frame(void)
{
	u64 va = SLOT(18), b = new_frame(0xbbbb);

	map_new(va, 0xaaaa, PTE_W);
	CHECK_EQ(rd(va), 0xaaaa);
	*pte_of(va) = b | PTE_P | PTE_W;
	(void)rd(va); /* 0xaaaa (stale TLB entry) or 0xbbbb: both allowed */
	invlpg(va);
	CHECK_EQ(rd(va), 0xbbbb);
}

/* Writing CR3, even with the value it has, flushes all non-global translations. */
static void test_cr3_reload_flushes(void)
{
	u64 va = SLOT(19), b = new_frame(0xbbbb);

	map_new(va, 0xaaaa, PTE_W);
	CHECK_EQ(rd(va), 0xaaaa);
	*pte_of(va) = b | PTE_P | PTE_W;
	write_cr3(read_cr3());
	CHECK_EQ(rd(va), 0xbbbb);
}

/* A global page (G = 1, CR4.PGE = 1) may survive CR3 writes; INVLPG and toggling
 * CR4.PGE flush it (§5.10.4.1). */
static void test_global_page(void)
{
	u64 va = SLOT(20), b = new_frame(0xbbbb), c = new_frame(0xcccc);
	u64 cr4 = read_cr4();

	write_cr4(cr4 | CR4_PGE);
	map_new(va, 0xaaaa, PTE_W | PTE_G);
	CHECK_EQ(rd(va), 0xaaaa);
	*pte_of(va) = b | PTE_P | PTE_W | PTE_G;
	write_cr3(read_cr3());
	(void)rd(va); /* 0xaaaa or 0xbbbb: a global entry may survive the CR3 write */
	invlpg(va);
	CHECK_EQ(rd(va), 0xbbbb);
	*pte_of(va) = c | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4 & ~(u64)CR4_PGE);
	write_cr4(cr4 | CR4_PGE);
	CHECK_EQ(rd(va), 0xcccc);
	write_cr4(cr4);
}

/* ---- §5.5 many address spaces --------------------------------------------------------- */

/* A new address space that shares kernel_as's tables for everything but TEST_BASE (as a
 * kernel shares its half with every process), so code, stack and data stay mapped. */
static int process_create(struct address_space *as)
{
	if (as_create(as) < 0)
		return -1;
	u64 *mine = (u64 *)as->root, *kernel = (u64 *)kernel_as.root;
	for (int i = 0; i < 512; i++)
		if (i != ((TEST_BASE >> 39) & 511))
			mine[i] = kernel[i];
	return 0;
}

/* Destroy a process_create() space: unlink the shared tables first, so as_destroy()
 * frees only its own. */
static void process_destroy(struct address_space *as)
{
	u64 *mine = (u64 *)as->root;
	for (int i = 0; i < 512; i++)
		if (i != ((TEST_BASE >> 39) & 511))
			mine[i] = 0;
	as_destroy(as);
}

/* 32 processes map the same address to frames of their own. Switching among them in a
 * changing order, each sees (and updates) its own value, also after reloading its CR3. */
static void test_many_address_spaces(void)
{
	static struct address_space procs[NPROCS];
	u64 va = SLOT(21) + 0x40, frames[NPROCS], expect[NPROCS];
	int bad = 0;

	for (int i = 0; i < NPROCS; i++) {
		expect[i] = 0x5000 + i;
		frames[i] = new_frame(0);
		if (!CHECK(frames[i] && process_create(&procs[i]) == 0, "out of memory") ||
		    !CHECK(gpt_map(&procs[i], SLOT(21), frames[i], PTE_W) == 0, "out of memory"))
			return;
		wr(frames[i] + 0x40, expect[i]); /* through the identity map */
	}
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < NPROCS; k++) {
			int i = (k * 7 + r * 3) % NPROCS; /* a different order each round */
			as_activate(&procs[i]);
			bad += rd(va) != expect[i];
			expect[i] = 0x10000 * (r + 1) + i;
			wr(va, expect[i]);
			write_cr3(read_cr3()); /* the same CR3 again */
			bad += rd(va) != expect[i];
		}
	}
	as_activate(&kernel_as);
	CHECK_EQ(bad, 0);
	for (int i = 0; i < NPROCS; i++) {
		CHECK_EQ(rd(frames[i] + 0x40), expect[i]);
		process_destroy(&procs[i]);
		page_free(frames[i]);
	}
}

/* A PTE changed while its address space is not active needs no INVLPG: loading its CR3
 * later flushes (§5.10.4.1). Two address spaces sharing one page table both see a change
 * made through either. */
static void test_inactive_and_shared_tables(void)
{
	struct address_space p, q;
	u64 va = SLOT(22), a = new_frame(0xaaaa), b = new_frame(0xbbbb), c = new_frame(0xcccc);

	if (!CHECK(process_create(&p) == 0 && process_create(&q) == 0, "out of memory"))
		return;
	gpt_map(&p, va, a, PTE_W);
	as_activate(&p);
	CHECK_EQ(rd(va), 0xaaaa);
	as_activate(&kernel_as);
	gpt_map(&p, va, b, PTE_W); /* p inactive: no INVLPG */
	as_activate(&p);
	CHECK_EQ(rd(va), 0xbbbb);

	/* q gets p's PDPT: the tables below it are now shared. */
	*entry_at(&q, va, 4, true) = *entry_at(&p, va, 4, false);
	as_activate(&q);
	CHECK_EQ(rd(va), 0xbbbb);
	gpt_map(&q, va, c, PTE_W); /* q active: INVLPG */
	as_activate(&p);
	CHECK_EQ(rd(va), 0xcccc);
	as_activate(&kernel_as);
	*entry_at(&q, va, 4, false) = 0;
	process_destroy(&q);
	process_destroy(&p);
}

/* ---- §5.5.4 large pages --------------------------------------------------------------- */

/* A 2 MiB page: a PDE with PS = 1 maps 2 MiB of RAM (here the 2 MiB around a frame we
 * own). Reads and writes go through it; A and D are set in the PDE, the leaf. INVLPG of
 * any address in the page flushes all of it. */
static void test_large_2m(void)
{
	u64 va = SLOT(23), frame = new_frame(0x2222);
	u64 base = ALIGN_DOWN(frame, SLOT_SIZE), off = frame - base;
	u64 ram_end = boot_info->ram_base + boot_info->mem_size;
	u64 other = base + SLOT_SIZE + SLOT_SIZE <= ram_end ? base + SLOT_SIZE : base - SLOT_SIZE;
	entry_t *pde = pde_of(va);

	*pde = base | PTE_P | PTE_W | PTE_PS;
	invlpg(va);
	CHECK_EQ(rd(va + off), 0x2222);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(rd(va + 0x1ff000), rd(base + 0x1ff000)); /* the last 4 KiB of it */
	wr(va + off, 0x2323);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(rd(frame), 0x2323);

	*pde = other | PTE_P | PTE_W | PTE_PS;
	invlpg(va + 0x123000); /* any address in the 2 MiB page */
	CHECK_EQ(rd(va + off), rd(other + off));
	CHECK_EQ(rd(va + 0x1ff000), rd(other + 0x1ff000));

	/* Bits 20:13 of a 2 MiB PDE are reserved (bit 12 is PAT): RSVD fault. */
	*pde = base | PTE_P | PTE_W | PTE_PS | BIT(13);
	invlpg(va);
	struct fault_info fi;
	int vec = try_read(va + off, &fi);
	CHECK_PF(vec, fi, va + off, PF_ERR_RSVD | PF_ERR_P);
	*pde = 0;
	invlpg(va);
}

/* A 1 GiB page: a PDPTE with PS = 1, here over guest-physical [0, 1 GiB), read and
 * written at a frame of ours. Only where CPUID.80000001H:EDX.Page1GB[bit 26] = 1. */
static void test_large_1g(void)
{
	u64 va = TEST_BASE + 4 * GIB, frame = new_frame(0x1616);

	if (!(cpuid(0x80000001, 0).edx & BIT(26))) {
		test_skip("no 1 GiB pages (CPUID.80000001H:EDX.Page1GB = 0)");
		return;
	}
	if (!CHECK(frame < GIB, "frame above 1 GiB"))
		return;
	entry_t *pdpte = entry_at(&kernel_as, va, 3, true);
	*pdpte = 0 | PTE_P | PTE_W | PTE_PS;
	invlpg(va);
	CHECK_EQ(rd(va + frame), 0x1616);
	CHECK_EQ(*pdpte & (PTE_A | PTE_D), PTE_A);
	wr(va + frame, 0x1717);
	CHECK_EQ(*pdpte & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(rd(frame), 0x1717);
	*pdpte = 0;
	invlpg(va + frame);
}

/* ---- Page tables changed through mappings of themselves ------------------------------- */

/* A page table mapped at a second address: a PTE written through that alias (then
 * INVLPG) changes the translation, and the CPU's A flag shows up through the alias. */
static void test_pt_alias(void)
{
	u64 va = SLOT(24), alias = SLOT(25), b = new_frame(0xbbbb);
	struct fault_info fi;

	map_new(va, 0xaaaa, PTE_W);
	u64 pt = *pde_of(va) & PTE_ADDR_MASK;
	gpt_map(&kernel_as, alias, pt, PTE_W);
	volatile u64 *entries = (volatile u64 *)alias;

	CHECK_EQ(rd(va), 0xaaaa);
	CHECK(entries[0] & PTE_A, "A not visible through the alias");
	entries[0] = b | PTE_P | PTE_W;
	invlpg(va);
	CHECK_EQ(rd(va), 0xbbbb);
	CHECK_EQ(entries[0], b | PTE_P | PTE_W | PTE_A);
	entries[0] = 0;
	invlpg(va);
	int vec = try_read(va, &fi);
	CHECK_PF(vec, fi, va, 0);
}

/* A page table whose entry 0 maps the table itself: the slot's first page *is* its page
 * table. Entries written through it take effect after INVLPG, even the one that maps it. */
static void test_pt_maps_itself(void)
{
	u64 va = SLOT(26), b = new_frame(0xbbbb), c = new_frame(0xcccc);

	map_new(va + PAGE_SIZE, 0, PTE_W); /* creates the page table */
	u64 pt = *pde_of(va) & PTE_ADDR_MASK;
	gpt_map(&kernel_as, va, pt, PTE_W);
	volatile u64 *self = (volatile u64 *)va;

	CHECK_EQ(self[0] & PTE_ADDR_MASK, pt);
	self[1] = b | PTE_P | PTE_W;
	invlpg(va + PAGE_SIZE);
	CHECK_EQ(rd(va + PAGE_SIZE), 0xbbbb);
	self[0] = c | PTE_P | PTE_W; /* the table unmaps itself: va now shows frame c */
	invlpg(va);
	CHECK_EQ(rd(va), 0xcccc);
	CHECK_EQ(*pte_of(va + PAGE_SIZE) & PTE_ADDR_MASK, b); /* the table, seen directly */
}

/* ---- Copy-on-write, as after fork() -------------------------------------------------- */

static struct {
	struct address_space *child;
	u64 va, copies, error_code, cr2;
} cow;

/* The #PF handler of the fork test: a write to the shared read-only page in the child
 * gets the child a private, writable copy; the write is then restarted (IRETQ). */
static bool cow_fault(struct trap_frame *f)
{
	u64 cr2 = read_cr2();

	if (!as_is_active(cow.child) || ALIGN_DOWN(cr2, PAGE_SIZE) != cow.va ||
	    f->error_code != (PF_ERR_W | PF_ERR_P))
		return false;
	u64 *old = gpt_lookup(cow.child, cow.va), copy = page_alloc();
	if (!copy)
		return false;
	memcpy((void *)copy, (void *)(*old & PTE_ADDR_MASK), PAGE_SIZE);
	gpt_map(cow.child, cow.va, copy, PTE_W); /* with INVLPG: the child is active */
	cow.copies++;
	cow.error_code = f->error_code;
	cow.cr2 = cr2;
	return true;
}

/* Parent and child share a frame read-only. The child's first write faults (W = 1,
 * P = 1), the handler copies, the write completes; the parent still sees the old data,
 * and a second shared page never written stays shared. */
static void test_cow_fork(void)
{
	struct address_space parent, child;
	u64 va = SLOT(27), shared = new_frame(0x9a7e), other = new_frame(0x0e0e);

	if (!CHECK(process_create(&parent) == 0 && process_create(&child) == 0, "out of memory"))
		return;
	gpt_map(&parent, va, shared, 0);
	gpt_map(&child, va, shared, 0);
	gpt_map(&parent, va + PAGE_SIZE, other, 0);
	gpt_map(&child, va + PAGE_SIZE, other, 0);
	cow = (typeof(cow)){ .child = &child, .va = va };
	idt_set_handler(EXC_PF, cow_fault);

	as_activate(&child);
	CHECK_EQ(rd(va), 0x9a7e);
	wr(va + 8, 0xc41d); /* faults once, the handler copies, the write is redone */
	wr(va + 16, 0xc41e); /* the copy is writable: no second fault */
	CHECK_EQ(rd(va), 0x9a7e);
	CHECK_EQ(rd(va + 8), 0xc41d);
	CHECK_EQ(rd(va + PAGE_SIZE), 0x0e0e);
	as_activate(&parent);
	CHECK_EQ(rd(va + 8), 0);
	CHECK_EQ(rd(va + PAGE_SIZE), 0x0e0e);
	as_activate(&kernel_as);
	idt_set_handler(EXC_PF, NULL);

	CHECK_EQ(cow.copies, 1);
	CHECK_EQ(cow.error_code, PF_ERR_W | PF_ERR_P);
	CHECK_EQ(cow.cr2, va + 8);
	CHECK_EQ(rd(shared + 8), 0);
	process_destroy(&child);
	process_destroy(&parent);
}

/* ---- The table ---------------------------------------------------------------------- */

static const struct guest_test tests[] = {
	{ "u/s: user page from ring 3", test_us_user_page },
	{ "u/s: supervisor page from ring 3 faults U=1 P=1", test_us_supervisor_page },
	{ "u/s: supervisor PDE hides a user PTE", test_us_upper_level },
	{ "r/w: supervisor write to read-only faults with CR0.WP=1", test_rw_supervisor_wp1 },
	{ "r/w: supervisor write to read-only succeeds with CR0.WP=0", test_rw_supervisor_wp0 },
	{ "r/w: user write to read-only faults with either CR0.WP", test_rw_user_any_wp },
	{ "r/w: read-only PDE protects a writable PTE", test_rw_upper_level },
	{ "nx: fetch from an executable page", test_nx_executable },
	{ "nx: fetch from an XD page faults I/D=1", test_nx_leaf },
	{ "nx: XD in the PDE", test_nx_upper_level },
	{ "not present: PTE error codes and CR2", test_not_present_pte },
	{ "not present: PDE", test_not_present_pde },
	{ "rsvd: reserved bit in PTE and PDE faults RSVD=1", test_rsvd },
	{ "a/d: read sets A, write sets D", test_ad_read_then_write },
	{ "a/d: cleared flags set again after INVLPG", test_ad_cleared_set_again },
	{ "a/d: A set on every level", test_ad_upper_levels },
	{ "a/d: no D without a completed write", test_ad_no_dirty_without_write },
	{ "tlb: INVLPG shows the new frame", test_invlpg_new_frame },
	{ "tlb: CR3 reload flushes", test_cr3_reload_flushes },
	{ "tlb: global page, INVLPG and CR4.PGE", test_global_page },
	{ "cr3: 32 processes x 8 rounds", test_many_address_spaces },
	{ "cr3: inactive change and shared page tables", test_inactive_and_shared_tables },
	{ "large: 2 MiB page", test_large_2m },
	{ "large: 1 GiB page", test_large_1g },
	{ "pt: page table changed through an alias", test_pt_alias },
	{ "pt: page table that maps itself", test_pt_maps_itself },
	{ "cow: fork-like copy on write", test_cow_fork },
};

int main(const struct hvlab_boot_info *bi)
{
	usermode_init();
	return run_tests(tests, ARRAY_SIZE(tests));
}
