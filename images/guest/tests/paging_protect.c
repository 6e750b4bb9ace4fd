/*
 * paging_protect.c — the supervisor-mode protections of paging, checked from inside.
 *
 * What paging_torture.c leaves out: CR4.SMEP (no supervisor fetches from user-mode
 * addresses), CR4.SMAP (no supervisor data accesses to them unless EFLAGS.AC = 1, which
 * STAC and CLAC set and clear), both combined with CR0.WP = 0 (SDM Vol. 3A §5.6 "Access
 * Rights", §5.7 error codes); clearing CR4.PGE; a live page table mapped read-only at a
 * second address. A "user-mode address" is one with U/S = 1 at every level of its walk.
 *
 * Shadow paging (docs/design/shadow-paging.md) must give line for line what the CPU gives
 * under EPT. The tricky part: a supervisor write under CR0.WP = 0 to a read-only user
 * page is granted by the shadow as a supervisor-only writable leaf, yet the page remains
 * a user-mode address for SMEP and SMAP ("wp=0: ..." checks).
 *
 * Not covered: implicit supervisor accesses (GDT, IDT, TSS on a user page), which SMAP
 * forbids even with EFLAGS.AC = 1 — the fault would be delivered through those tables.
 */
#include "guest.h"

#define TEST_BASE 0x100000000000ULL  /* 16 TiB: PML4 entry 32, used by this test only */
#define SLOT(n) (TEST_BASE + (u64)(n) * 0x200000ULL) /* one page table per test */

/* ---- Helpers (as in paging_torture.c) ------------------------------------------------ */

typedef volatile u64 entry_t;

/* The entry of @va at @level (2 = PDE, 1 = PTE) in kernel_as; the walk must exist. */
static entry_t *entry_of(u64 va, int level)
{
	entry_t *table = (entry_t *)kernel_as.root;

	for (int l = 4; l > level; l--)
		table = (entry_t *)(table[(va >> (12 + 9 * (l - 1))) & 511] & PTE_ADDR_MASK);
	return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

/* Map @va to a fresh frame (identity-mapped, supervisor) holding @value. Returns it. */
static u64 map_new(u64 va, u64 value, u64 flags)
{
	u64 pa = page_alloc();

	if (pa) {
		*(volatile u64 *)pa = value;
		gpt_map(&kernel_as, va, pa, flags);
	}
	return pa;
}

static u64 rd(u64 va) { return *(volatile u64 *)va; }
static void wr(u64 va, u64 v) { *(volatile u64 *)va = v; }
static void stac(void) { __asm__ volatile("stac" ::: "memory", "cc"); }
static void clac(void) { __asm__ volatile("clac" ::: "memory", "cc"); }

/* One supervisor access for guest_try(): a read, a write or a call (instruction fetch),
 * with EFLAGS.AC = 1 around it if @ac (on a fault, guest_try() restores RFLAGS). */
struct access {
	u64 va, value;
	bool ac;
};
static void do_read(void *p)
{
	struct access *a = p;
	if (a->ac)
		stac();
	a->value = rd(a->va);
	if (a->ac)
		clac();
}
static void do_write(void *p)
{
	struct access *a = p;
	if (a->ac)
		stac();
	wr(a->va, a->value);
	if (a->ac)
		clac();
}
static void do_call(void *p) { ((struct access *)p)->value = ((u64(*)(void))((struct access *)p)->va)(); }

static int try_read(u64 va, bool ac, u64 *value, struct fault_info *fi)
{
	struct access a = { va, 0, ac };
	int vec = guest_try(do_read, &a, fi);
	if (value)
		*value = a.value;
	return vec;
}

static int try_write(u64 va, u64 value, bool ac, struct fault_info *fi)
{
	struct access a = { va, value, ac };
	return guest_try(do_write, &a, fi);
}

static int try_call(u64 va, u64 *result, struct fault_info *fi)
{
	struct access a = { va, 0, false };
	int vec = guest_try(do_call, &a, fi);
	*result = a.value;
	return vec;
}

/* Control-register bits on or off; each test leaves CR0 and CR4 as it found them. */
static void cr4_set(u64 bits, bool on) { write_cr4(on ? read_cr4() | bits : read_cr4() & ~bits); }
static void set_wp(bool on) { write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~(u64)CR0_WP); }

/* CPUID.(EAX=07H,ECX=0):EBX.SMEP[bit 7] and .SMAP[bit 20]. A test needing one this CPU
 * lacks reports a skip. */
static bool need(bool smep, bool smap)
{
	u32 ebx = cpuid(0, 0).eax >= 7 ? cpuid(7, 0).ebx : 0;

	if (smep && !(ebx & BIT(7))) {
		test_skip("no SMEP (CPUID.07H:EBX[7] = 0)");
		return false;
	}
	if (smap && !(ebx & BIT(20))) {
		test_skip("no SMAP (CPUID.07H:EBX[20] = 0)");
		return false;
	}
	return true;
}

/* Machine code: "mov $42, %eax; ret", padded to 8 bytes (one u64 store writes it). */
static const u8 code_ret42[8] = { 0xb8, 42, 0, 0, 0, 0xc3, 0x90, 0x90 };

/* A user page (U/S = 1, read-only, executable) holding code_ret42. */
static u64 map_user_code(u64 va)
{
	u64 pa = map_new(va, 0, PTE_U);

	memcpy((void *)pa, code_ret42, sizeof(code_ret42));
	return pa;
}

/* ---- SMEP ------------------------------------------------------------------------------ */

/* §5.6: with CR4.SMEP = 1, supervisor-mode instruction fetches from user-mode addresses
 * are not allowed; §5.7: the #PF has P = 1 and I/D = 1 (set for fetches when SMEP = 1),
 * CR2 = RIP = the address. Supervisor pages still run (this code does). */
static void test_smep_fetch_faults(void)
{
	u64 va = SLOT(1), ret = 0;
	struct fault_info fi;
	int vec;

	if (!need(true, false))
		return;
	map_user_code(va);
	cr4_set(CR4_SMEP, true);
	vec = try_call(va, &ret, &fi);
	cr4_set(CR4_SMEP, false);
	CHECK_PF(vec, fi, va, PF_ERR_I | PF_ERR_P);
	CHECK_EQ(fi.rip, va);
}

/* §5.6: with CR4.SMEP = 0, supervisor code may run from a user-mode address. */
static void test_smep_off_runs(void)
{
	u64 va = SLOT(2), ret = 0;
	struct fault_info fi;
	int vec;

	if (!need(true, false))
		return;
	map_user_code(va);
	cr4_set(CR4_SMEP, true);
	vec = try_call(va, &ret, &fi); /* faults, as above */
	cr4_set(CR4_SMEP, false);
	CHECK_EQ(vec, EXC_PF);
	vec = try_call(va, &ret, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(ret, 42);
}

/* ---- SMAP ------------------------------------------------------------------------------ */

/* §5.6: with CR4.SMAP = 1 and EFLAGS.AC = 0, supervisor-mode data reads and writes of
 * user-mode addresses are not allowed; §5.7: P = 1, W = 1 for the write, U/S = 0. */
static void test_smap_faults(void)
{
	u64 va = SLOT(3) + 0x28, pa = map_new(SLOT(3), 0, PTE_U | PTE_W), v;
	struct fault_info fi;
	int rvec, wvec;

	if (!need(false, true))
		return;
	wr(pa + 0x28, 0x5a5a);
	cr4_set(CR4_SMAP, true);
	rvec = try_read(va, false, &v, &fi);
	CHECK_PF(rvec, fi, va, PF_ERR_P);
	wvec = try_write(va, 0x6b6b, false, &fi);
	cr4_set(CR4_SMAP, false);
	CHECK_PF(wvec, fi, va, PF_ERR_W | PF_ERR_P);
	CHECK_EQ(rd(pa + 0x28), 0x5a5a);
}

/* §5.6: with EFLAGS.AC = 1 (STAC) explicit supervisor accesses to user-mode addresses
 * are allowed under SMAP; after CLAC they fault again (AC is checked per access, not
 * cached in the TLB). */
static void test_smap_ac(void)
{
	u64 va = SLOT(4), pa = map_new(va, 0x1111, PTE_U | PTE_W), v = 0;
	struct fault_info fi;
	int rvec, wvec, again;

	if (!need(false, true))
		return;
	cr4_set(CR4_SMAP, true);
	rvec = try_read(va, true, &v, &fi);
	wvec = try_write(va, 0x2222, true, &fi);
	again = try_read(va, false, NULL, &fi);
	cr4_set(CR4_SMAP, false);
	CHECK_NO_FAULT(rvec, fi);
	CHECK_EQ(v, 0x1111);
	CHECK_NO_FAULT(wvec, fi);
	CHECK_EQ(rd(pa), 0x2222);
	CHECK_PF(again, fi, va, PF_ERR_P);
}

/* ---- Both, and the user side --------------------------------------------------------- */

/* §5.6: an address is user-mode only if U/S = 1 at every level. A user PTE under a
 * supervisor PDE is a supervisor address: SMEP and SMAP let ring 0 use it. */
static void test_upper_level_supervisor(void)
{
	u64 va = SLOT(5), pa = map_user_code(va), ret = 0, v = 0;
	struct fault_info fi;
	int cvec, rvec, uvec;

	if (!need(true, true))
		return;
	*entry_of(va, 2) &= ~(u64)PTE_U;
	invlpg(va);
	cr4_set(CR4_SMEP | CR4_SMAP, true);
	cvec = try_call(va, &ret, &fi);
	rvec = try_read(va, false, &v, &fi);
	cr4_set(CR4_SMEP | CR4_SMAP, false);
	CHECK_NO_FAULT(cvec, fi);
	CHECK_EQ(ret, 42);
	CHECK_NO_FAULT(rvec, fi);
	CHECK_EQ(v, rd(pa));
	uvec = user_read(va, &v, &fi); /* and ring 3 may not */
	CHECK_PF(uvec, fi, va, PF_ERR_U | PF_ERR_P);
}

/* §5.6: SMEP and SMAP restrict supervisor-mode accesses only: ring 3 still runs its code
 * (the user page of usermode.S), reads and writes user pages. */
static void test_user_unaffected(void)
{
	u64 va = SLOT(6), pa = map_new(va, 0x3333, PTE_U | PTE_W), v = 0;
	struct fault_info fi;
	int rvec, wvec;

	if (!need(true, true))
		return;
	cr4_set(CR4_SMEP | CR4_SMAP, true);
	rvec = user_read(va, &v, &fi);
	wvec = user_write(va, 0x4444, &fi);
	cr4_set(CR4_SMEP | CR4_SMAP, false);
	CHECK_NO_FAULT(rvec, fi);
	CHECK_EQ(v, 0x3333);
	CHECK_NO_FAULT(wvec, fi);
	CHECK_EQ(rd(pa), 0x4444);
}

/* ---- CR0.WP = 0 with SMAP and SMEP ---------------------------------------------------- */

/* §5.6: CR0.WP = 0 lets supervisor writes ignore R/W, not U/S: under SMAP with AC = 0 a
 * supervisor write to a read-only user page faults (W = 1, P = 1), as does a read. With
 * SMAP off, the same write succeeds. */
static void test_wp0_smap_faults(void)
{
	u64 va = SLOT(7), pa = map_new(va, 0x5555, PTE_U);
	struct fault_info fi, wfi, rfi;
	int wvec, rvec, offvec;

	if (!need(false, true))
		return;
	set_wp(false);
	cr4_set(CR4_SMAP, true);
	wvec = try_write(va, 0x6666, false, &wfi);
	rvec = try_read(va, false, NULL, &rfi);
	cr4_set(CR4_SMAP, false);
	offvec = try_write(va, 0x7777, false, &fi);
	set_wp(true);
	CHECK_PF(wvec, wfi, va, PF_ERR_W | PF_ERR_P);
	CHECK_PF(rvec, rfi, va, PF_ERR_P);
	CHECK_NO_FAULT(offvec, fi);
	CHECK_EQ(rd(pa), 0x7777);
}

/* §5.6: with CR0.WP = 0, SMAP and AC = 1 a supervisor write to a read-only user page
 * succeeds; the page is still a user-mode address, so after CLAC reads and writes fault
 * (P = 1), and ring 3 may read it but not write it (R/W = 0 binds ring 3 whatever WP). */
static void test_wp0_smap_after_write(void)
{
	u64 va = SLOT(8), pa = map_new(va, 0x8888, PTE_U), v = 0;
	struct fault_info fi, rfi, wfi;
	int vec, rvec, wvec;

	if (!need(false, true))
		return;
	set_wp(false);
	cr4_set(CR4_SMAP, true);
	vec = try_write(va, 0x9999, true, &fi);
	rvec = try_read(va, false, NULL, &rfi);
	wvec = try_write(va, 0xaaaa, false, &wfi);
	cr4_set(CR4_SMAP, false);
	set_wp(true);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(rd(pa), 0x9999);
	CHECK_PF(rvec, rfi, va, PF_ERR_P);
	CHECK_PF(wvec, wfi, va, PF_ERR_W | PF_ERR_P);
	vec = user_read(va, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(v, 0x9999);
	vec = user_write(va, 0xbbbb, &fi);
	CHECK_PF(vec, fi, va, PF_ERR_U | PF_ERR_W | PF_ERR_P);
}

/* §5.6: the same for SMEP: with CR0.WP = 0 ring 0 writes code into a read-only user
 * page; fetching from it still faults under SMEP (I/D = 1, P = 1), and runs without. */
static void test_wp0_smep_after_write(void)
{
	u64 va = SLOT(9), pa = map_user_code(va), code, ret = 0;
	struct fault_info fi, cfi;
	int wvec, cvec, offvec;

	if (!need(true, false))
		return;
	memcpy(&code, code_ret42, sizeof(code));
	wr(pa, 0); /* the write below puts the code back */
	set_wp(false);
	cr4_set(CR4_SMEP, true);
	wvec = try_write(va, code, false, &fi);
	cvec = try_call(va, &ret, &cfi);
	cr4_set(CR4_SMEP, false);
	offvec = try_call(va, &ret, &fi);
	set_wp(true);
	CHECK(wvec < 0, "write #%d err=0x%lx", wvec, fi.error_code);
	CHECK_EQ(rd(pa), code);
	CHECK_PF(cvec, cfi, va, PF_ERR_I | PF_ERR_P);
	CHECK_EQ(cfi.rip, va);
	CHECK_NO_FAULT(offvec, fi);
	CHECK_EQ(ret, 42);
}

/* ---- CR4.PGE ---------------------------------------------------------------------------- */

/* §5.10.2.4/§5.10.4.1: with CR4.PGE = 0 the G flag is ignored, so a CR3 write flushes a
 * G = 1 page; a MOV to CR4 that clears PGE flushes global entries too. */
static void test_pge(void)
{
	u64 va = SLOT(10), b = page_alloc(), c = page_alloc(), cr4 = read_cr4();

	wr(b, 0xbbbb);
	wr(c, 0xcccc);
	write_cr4(cr4 & ~(u64)CR4_PGE);
	map_new(va, 0xaaaa, PTE_W | PTE_G);
	CHECK_EQ(rd(va), 0xaaaa);
	*entry_of(va, 1) = b | PTE_P | PTE_W | PTE_G;
	write_cr3(read_cr3());
	CHECK_EQ(rd(va), 0xbbbb);
	write_cr4(cr4 | CR4_PGE);
	invlpg(va);
	CHECK_EQ(rd(va), 0xbbbb); /* now a global translation */
	*entry_of(va, 1) = c | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4 & ~(u64)CR4_PGE);
	CHECK_EQ(rd(va), 0xcccc);
	write_cr4(cr4);
}

/* ---- A page table mapped read-only ------------------------------------------------------- */

/* A live page table mapped read-only at a supervisor and at a user alias. Reads through
 * them see the entries (with the A flag the walk set); a write through them is the
 * guest's own fault (§5.6: W = 1, P = 1; from ring 3 U = 1 too), not a table update; a
 * write through the writable identity map changes the translation after INVLPG, and so
 * does a supervisor write through the read-only alias with CR0.WP = 0. */
static void test_pt_read_only_alias(void)
{
	u64 va = SLOT(11), alias = SLOT(12), ualias = SLOT(12) + PAGE_SIZE;
	u64 b = page_alloc(), c = page_alloc(), v = 0;
	struct fault_info fi;
	int vec;

	wr(b, 0xbbbb);
	wr(c, 0xcccc);
	map_new(va, 0xaaaa, PTE_W);
	u64 pt = *entry_of(va, 2) & PTE_ADDR_MASK;
	gpt_map(&kernel_as, alias, pt, 0);
	gpt_map(&kernel_as, ualias, pt, PTE_U);

	CHECK_EQ(rd(va), 0xaaaa);
	u64 pte = rd(alias);
	CHECK(pte & PTE_A, "A not visible through the alias");
	vec = try_write(alias, b | PTE_P | PTE_W, false, &fi);
	CHECK_PF(vec, fi, alias, PF_ERR_W | PF_ERR_P);
	vec = user_write(ualias, b | PTE_P | PTE_W, &fi);
	CHECK_PF(vec, fi, ualias, PF_ERR_U | PF_ERR_W | PF_ERR_P);
	vec = user_read(ualias, &v, &fi);
	CHECK_NO_FAULT(vec, fi);
	CHECK_EQ(v, pte);
	CHECK_EQ(rd(va), 0xaaaa);

	wr(pt, b | PTE_P | PTE_W); /* through the identity map */
	invlpg(va);
	CHECK_EQ(rd(va), 0xbbbb);
	CHECK_EQ(rd(alias), b | PTE_P | PTE_W | PTE_A);

	set_wp(false);
	vec = try_write(alias, c | PTE_P | PTE_W, false, &fi);
	set_wp(true);
	CHECK_NO_FAULT(vec, fi);
	invlpg(va);
	CHECK_EQ(rd(va), 0xcccc);
	CHECK_EQ(rd(pt), c | PTE_P | PTE_W | PTE_A);
}

/* ---- The table ------------------------------------------------------------------------ */

static const struct guest_test tests[] = {
	{ "smep: supervisor fetch from a user page faults I/D=1 P=1", test_smep_fetch_faults },
	{ "smep: without CR4.SMEP the same fetch runs", test_smep_off_runs },
	{ "smap: supervisor read and write of a user page fault P=1", test_smap_faults },
	{ "smap: EFLAGS.AC=1 (stac) allows them, clac forbids again", test_smap_ac },
	{ "smep/smap: user PTE under a supervisor PDE is a supervisor address", test_upper_level_supervisor },
	{ "smep/smap: user-mode accesses unaffected", test_user_unaffected },
	{ "wp=0: supervisor write to a read-only user page faults under SMAP", test_wp0_smap_faults },
	{ "wp=0: after a write with AC=1, SMAP still guards the page", test_wp0_smap_after_write },
	{ "wp=0: after a write to a user code page, SMEP still forbids fetching it", test_wp0_smep_after_write },
	{ "pge: G ignored with CR4.PGE=0, clearing PGE flushes global pages", test_pge },
	{ "pt: page table mapped read-only, written elsewhere", test_pt_read_only_alias },
};

int main(const struct hvlab_boot_info *bi)
{
	usermode_init();
	return run_tests(tests, ARRAY_SIZE(tests));
}
