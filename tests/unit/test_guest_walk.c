/* Unit tests for src/arch/x86/shadow/guest_walk.c over a fake 1 MiB guest-physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <arch/guest_walk.h>

#define MEM_SIZE 0x100000ULL
static u8 mem[MEM_SIZE];
static int writes; /* A/D writes seen */

static bool mem_read(void *ctx, u64 gpa, unsigned size, u64 *val)
{
	if (gpa + size > MEM_SIZE)
		return false;
	*val = 0;
	memcpy(val, mem + gpa, size);
	return true;
}

static bool mem_write(void *ctx, u64 gpa, unsigned size, u64 val)
{
	if (gpa + size > MEM_SIZE)
		return false;
	memcpy(mem + gpa, &val, size);
	writes++;
	return true;
}

static const struct guest_walk_ops ops = { mem_read, mem_write, NULL };

static void put(u64 gpa, u64 v) { memcpy(mem + gpa, &v, 8); }
static u64 get(u64 gpa) { u64 v; memcpy(&v, mem + gpa, 8); return v; }
static void put32(u64 gpa, u32 v) { memcpy(mem + gpa, &v, 4); }
static u32 get32(u64 gpa) { u32 v; memcpy(&v, mem + gpa, 4); return v; }

#define URW (GPTE_P | GPTE_RW | GPTE_US)

/*
 * 4-level layout: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.
 *   LA_4K 0x401123   → PML4[0] PDPT[0] PD[2] PT[1] → 0x80123
 *   LA_2M 0x623456   → PD[3] 2 MiB page at 0x200000
 *   LA_1G 0x40012345 → PDPT[1] 1 GiB page at 0xc0000000
 */
#define LA_4K 0x401123ULL
#define LA_2M 0x623456ULL
#define LA_1G 0x40012345ULL
#define PML4E 0x1000ULL
#define PDPTE 0x2000ULL
#define PDE (0x3000ULL + 2 * 8)
#define PTE (0x4000ULL + 1 * 8)
#define PDE_2M (0x3000ULL + 3 * 8)
#define PDPTE_1G (0x2000ULL + 1 * 8)

static struct guest_walk_cpu cpu4(void)
{
	return (struct guest_walk_cpu){ .mode = GUEST_PAGING_4LEVEL, .cr3 = 0x1000, .cr0_wp = true,
					.efer_nxe = true, .pdpe1gb = true, .maxphyaddr = 36 };
}

/* Build the 4-level tables: @p upper flags on the PML4E, PDPTE and PDE; @p leaf on the PTE. */
static void build4(u64 upper, u64 leaf)
{
	memset(mem, 0, sizeof(mem));
	writes = 0;
	put(PML4E, 0x2000 | upper);
	put(PDPTE, 0x3000 | upper);
	put(PDE, 0x4000 | upper);
	put(PTE, 0x80000 | leaf);
	put(PDE_2M, 0x200000 | GPTE_PS | leaf);
	put(PDPTE_1G, 0xc0000000ULL | GPTE_PS | leaf);
}

static struct guest_walk_result walk(const struct guest_walk_cpu *c, u64 la, u32 access, u32 flags)
{
	struct guest_walk_result r;
	enum guest_walk_status st = guest_walk(c, &ops, la, access, flags, &r);
	assert_int_equal(st, r.status);
	return r;
}

static void test_4level_4k(void **state)
{
	struct guest_walk_cpu c = cpu4();
	build4(URW, URW | GPTE_G);
	struct guest_walk_result r = walk(&c, LA_4K, GW_USER | GW_WRITE, 0);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0x80123);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.perms, GW_PERM_R | GW_PERM_W | GW_PERM_U | GW_PERM_X);
	assert_false(r.global); /* CR4.PGE = 0 */
	assert_int_equal(r.levels, 4);
	assert_int_equal(r.entry_gpa[0], PML4E);
	assert_int_equal(r.entry_gpa[3], PTE);
	assert_int_equal(r.entry[3], 0x80000 | URW | GPTE_G);
	c.cr4_pge = true;
	assert_true(walk(&c, LA_4K, 0, 0).global);
}

static void test_4level_large(void **state)
{
	struct guest_walk_cpu c = cpu4();
	build4(URW, URW);
	struct guest_walk_result r = walk(&c, LA_2M, 0, 0);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0x223456);
	assert_int_equal(r.page_size, MiB(2));
	assert_int_equal(r.levels, 3);
	r = walk(&c, LA_1G, 0, 0);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0xc0012345ULL);
	assert_int_equal(r.page_size, GiB(1));
	assert_int_equal(r.levels, 2);
	/* Without 1 GiB page support a PDPTE's PS bit is reserved. */
	c.pdpe1gb = false;
	r = walk(&c, LA_1G, 0, 0);
	assert_int_equal(r.status, GW_FAULT);
	assert_int_equal(r.error_code, PFEC_P | PFEC_RSVD);
}

/* Not present at each level: P = 0, the access bits still describe the access. */
static void test_not_present(void **state)
{
	static const u64 where[] = { PML4E, PDPTE, PDE, PTE };
	static const struct { u32 access; u32 ec; } acc[] = {
		{ 0, 0 },
		{ GW_WRITE, PFEC_W },
		{ GW_FETCH, PFEC_I },
		{ GW_USER, PFEC_U },
		{ GW_USER | GW_WRITE, PFEC_U | PFEC_W },
		{ GW_USER | GW_FETCH, PFEC_U | PFEC_I },
		{ GW_USER | GW_IMPLICIT, 0 },
	};
	struct guest_walk_cpu c = cpu4();
	for (unsigned l = 0; l < 4; l++) {
		for (unsigned a = 0; a < sizeof(acc) / sizeof(acc[0]); a++) {
			build4(URW, URW);
			put(where[l], get(where[l]) & ~GPTE_P);
			struct guest_walk_result r = walk(&c, LA_4K, acc[a].access, GW_SET_AD);
			assert_int_equal(r.status, GW_FAULT);
			assert_int_equal(r.error_code, acc[a].ec);
			assert_int_equal(r.levels, l + 1);
			assert_int_equal(writes, 0);
		}
	}
	/* With neither SMEP nor NXE a fetch does not set I/D (§5.7). */
	c.efer_nxe = false;
	build4(URW, 0);
	assert_int_equal(walk(&c, LA_4K, GW_FETCH, 0).error_code, 0);
	c.cr4_smep = true;
	assert_int_equal(walk(&c, LA_4K, GW_FETCH, 0).error_code, PFEC_I);
}

/* Protection cases of §5.6 as a table: flags on the upper entries and the PTE, CPU state, access. */
struct prot_case {
	const char *name;
	u64 upper, leaf;
	bool wp, nxe, smep, smap, ac;
	u32 access;
	enum guest_walk_status status;
	u32 ec;
};

#define SUP (GPTE_P | GPTE_RW)
#define URO (GPTE_P | GPTE_US)
static const struct prot_case prot_cases[] = {
	{ "user read of user page", URW, URW, 1, 1, 0, 0, 0, GW_USER, GW_OK, 0 },
	{ "user read of supervisor page", URW, SUP, 1, 1, 0, 0, 0, GW_USER, GW_FAULT, PFEC_P | PFEC_U },
	{ "user read, supervisor PDE", SUP, URW, 1, 1, 0, 0, 0, GW_USER, GW_FAULT, PFEC_P | PFEC_U },
	{ "user write to read-only", URW, URO, 1, 1, 0, 0, 0, GW_USER | GW_WRITE, GW_FAULT, PFEC_P | PFEC_W | PFEC_U },
	{ "user write to read-only, WP=0", URW, URO, 0, 1, 0, 0, 0, GW_USER | GW_WRITE, GW_FAULT, PFEC_P | PFEC_W | PFEC_U },
	{ "user write, read-only PDE", URO, URW, 0, 1, 0, 0, 0, GW_USER | GW_WRITE, GW_FAULT, PFEC_P | PFEC_W | PFEC_U },
	{ "supervisor write to read-only, WP=1", URW, GPTE_P, 1, 1, 0, 0, 0, GW_WRITE, GW_FAULT, PFEC_P | PFEC_W },
	{ "supervisor write to read-only, WP=0", URW, GPTE_P, 0, 1, 0, 0, 0, GW_WRITE, GW_OK, 0 },
	{ "supervisor write, read-only PML4 path, WP=1", URO, URW, 1, 1, 0, 0, 0, GW_WRITE, GW_FAULT, PFEC_P | PFEC_W },
	{ "supervisor read of user page", URW, URW, 1, 1, 0, 0, 0, 0, GW_OK, 0 },
	{ "fetch from NX page, NXE", URW, URW | GPTE_XD, 1, 1, 0, 0, 0, GW_FETCH, GW_FAULT, PFEC_P | PFEC_I },
	{ "user fetch, NX PDE, NXE", URW | GPTE_XD, URW, 1, 1, 0, 0, 0, GW_USER | GW_FETCH, GW_FAULT,
	  PFEC_P | PFEC_U | PFEC_I },
	{ "read of NX page", URW, URW | GPTE_XD, 1, 1, 0, 0, 0, GW_USER, GW_OK, 0 },
	{ "XD with NXE=0 is reserved", URW, URW | GPTE_XD, 1, 0, 0, 0, 0, 0, GW_FAULT, PFEC_P | PFEC_RSVD },
	{ "supervisor fetch of user page", URW, URW, 1, 1, 0, 0, 0, GW_FETCH, GW_OK, 0 },
	{ "SMEP: supervisor fetch of user page", URW, URW, 1, 1, 1, 0, 0, GW_FETCH, GW_FAULT, PFEC_P | PFEC_I },
	{ "SMEP, NXE=0: I/D still set", URW, URW, 1, 0, 1, 0, 0, GW_FETCH, GW_FAULT, PFEC_P | PFEC_I },
	{ "SMEP: supervisor fetch of supervisor page", SUP, SUP, 1, 1, 1, 0, 0, GW_FETCH, GW_OK, 0 },
	{ "SMEP: user fetch of user page", URW, URW, 1, 1, 1, 0, 0, GW_USER | GW_FETCH, GW_OK, 0 },
	{ "SMAP: supervisor read, AC=0", URW, URW, 1, 1, 0, 1, 0, 0, GW_FAULT, PFEC_P },
	{ "SMAP: supervisor write, AC=0", URW, URW, 1, 1, 0, 1, 0, GW_WRITE, GW_FAULT, PFEC_P | PFEC_W },
	{ "SMAP: supervisor read, AC=1", URW, URW, 1, 1, 0, 1, 1, 0, GW_OK, 0 },
	{ "SMAP: implicit read, AC=1", URW, URW, 1, 1, 0, 1, 1, GW_IMPLICIT, GW_FAULT, PFEC_P },
	{ "SMAP: implicit at CPL3", URW, URW, 1, 1, 0, 1, 1, GW_USER | GW_IMPLICIT, GW_FAULT, PFEC_P },
	{ "SMAP: supervisor page unaffected", SUP, SUP, 1, 1, 0, 1, 0, GW_WRITE, GW_OK, 0 },
	{ "SMAP: user access unaffected", URW, URW, 1, 1, 0, 1, 0, GW_USER | GW_WRITE, GW_OK, 0 },
	{ "implicit at CPL3 reads supervisor page", SUP, SUP, 1, 1, 0, 0, 0, GW_USER | GW_IMPLICIT, GW_OK, 0 },
	{ "implicit write to read-only, WP=1", SUP, GPTE_P, 1, 1, 0, 0, 0, GW_USER | GW_IMPLICIT | GW_WRITE,
	  GW_FAULT, PFEC_P | PFEC_W },
};

static void test_protection(void **state)
{
	for (unsigned i = 0; i < sizeof(prot_cases) / sizeof(prot_cases[0]); i++) {
		const struct prot_case *p = &prot_cases[i];
		struct guest_walk_cpu c = cpu4();
		c.cr0_wp = p->wp;
		c.efer_nxe = p->nxe;
		c.cr4_smep = p->smep;
		c.cr4_smap = p->smap;
		c.eflags_ac = p->ac;
		build4(p->upper, p->leaf);
		struct guest_walk_result r = walk(&c, LA_4K, p->access, 0);
		if (r.status != p->status || (p->status == GW_FAULT && r.error_code != p->ec))
			fail_msg("%s: status %d ec %#x, want %d %#x", p->name, r.status, r.error_code, p->status, p->ec);
	}
}

/* Reserved bits at each level (§5.7 RSVD): the walk stops there with P=1, RSVD=1. */
static void test_reserved(void **state)
{
	static const struct { const char *name; u64 at; u64 bit; u64 la; } cases[] = {
		{ "PML4E PS", PML4E, GPTE_PS, LA_4K },
		{ "PML4E above MAXPHYADDR", PML4E, BIT(36), LA_4K },
		{ "PDPTE above MAXPHYADDR", PDPTE, BIT(40), LA_4K },
		{ "PDE bit 51", PDE, BIT(51), LA_4K },
		{ "PTE above MAXPHYADDR", PTE, BIT(36), LA_4K },
		{ "2 MiB PDE bit 13", PDE_2M, BIT(13), LA_2M },
		{ "1 GiB PDPTE bit 29", PDPTE_1G, BIT(29), LA_1G },
	};
	struct guest_walk_cpu c = cpu4();
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build4(URW, URW);
		put(cases[i].at, get(cases[i].at) | cases[i].bit);
		struct guest_walk_result r = walk(&c, cases[i].la, GW_USER | GW_WRITE, GW_SET_AD);
		if (r.status != GW_FAULT || r.error_code != (PFEC_P | PFEC_RSVD | PFEC_W | PFEC_U))
			fail_msg("%s: status %d ec %#x", cases[i].name, r.status, r.error_code);
		assert_int_equal(writes, 0);
	}
	/* Ignored bits (58:52) and PAT (12 of a 2 MiB PDE) are not reserved. */
	build4(URW | BIT(55), URW);
	put(PDE_2M, get(PDE_2M) | BIT(12));
	assert_int_equal(walk(&c, LA_2M, 0, 0).status, GW_OK);
	/* Reserved bits win over a not-present entry further down. */
	build4(URW, 0);
	put(PDE, get(PDE) | BIT(45));
	assert_int_equal(walk(&c, LA_4K, 0, 0).error_code, PFEC_P | PFEC_RSVD);
}

/* §5.8: A on every entry used, D only on the leaf and only for writes; nothing on a fault. */
static void test_accessed_dirty(void **state)
{
	struct guest_walk_cpu c = cpu4();
	build4(URW, URW);
	walk(&c, LA_4K, GW_WRITE, 0);
	assert_int_equal(writes, 0); /* without GW_SET_AD nothing changes */

	walk(&c, LA_4K, 0, GW_SET_AD);
	assert_int_equal(get(PML4E), 0x2000 | URW | GPTE_A);
	assert_int_equal(get(PDPTE), 0x3000 | URW | GPTE_A);
	assert_int_equal(get(PDE), 0x4000 | URW | GPTE_A);
	assert_int_equal(get(PTE), 0x80000 | URW | GPTE_A);
	assert_int_equal(writes, 4);

	walk(&c, LA_4K, GW_WRITE, GW_SET_AD);
	assert_int_equal(get(PDE), 0x4000 | URW | GPTE_A);
	assert_int_equal(get(PTE), 0x80000 | URW | GPTE_A | GPTE_D);
	assert_int_equal(writes, 5); /* only the leaf needed a change */
	walk(&c, LA_4K, GW_WRITE, GW_SET_AD);
	assert_int_equal(writes, 5); /* flags already set: no writes */

	/* 2 MiB leaf: D on the PDE, A only above. */
	walk(&c, LA_2M, GW_WRITE, GW_SET_AD);
	assert_int_equal(get(PDE_2M), 0x200000 | GPTE_PS | URW | GPTE_A | GPTE_D);
	assert_int_equal(get(PDPTE), 0x3000 | URW | GPTE_A);

	/* A write that faults on protection leaves every flag alone. */
	build4(URW, URO);
	assert_int_equal(walk(&c, LA_4K, GW_USER | GW_WRITE, GW_SET_AD).status, GW_FAULT);
	assert_int_equal(writes, 0);
	assert_int_equal(get(PML4E), 0x2000 | URW);
}

/* Paging structures outside RAM: the hypervisor's problem, not a guest #PF. */
static void test_not_ram(void **state)
{
	struct guest_walk_cpu c = cpu4();
	build4(URW, URW);
	put(PDPTE, 0x10000000ULL | URW);
	struct guest_walk_result r = walk(&c, LA_4K, 0, 0);
	assert_int_equal(r.status, GW_NOT_RAM);
	assert_int_equal(r.gpa, 0x10000000ULL + 2 * 8);
	assert_int_equal(r.levels, 2);
	c.cr3 = 0x200000;
	r = walk(&c, LA_4K, 0, 0);
	assert_int_equal(r.status, GW_NOT_RAM);
	assert_int_equal(r.gpa, 0x200000);
	/* The leaf's page itself is not read: mapping MMIO is fine. */
	c.cr3 = 0x1000;
	build4(URW, URW);
	assert_int_equal(walk(&c, LA_1G, 0, 0).status, GW_OK);
}

/*
 * PAE: PDPT at 0x5020 (32-byte aligned), PDPTE[1] → PD 0x6000;
 *   0x40005123 → PD[0] → PT 0x7000 [5] → 0x90123;  0x40212345 → PD[1] 2 MiB at 0x400000.
 */
static struct guest_walk_cpu build_pae(void)
{
	memset(mem, 0, sizeof(mem));
	writes = 0;
	put(0x5020 + 8, 0x6000 | GPTE_P);
	put(0x6000, 0x7000 | URW);
	put(0x6008, 0x400000 | GPTE_PS | URW);
	put(0x7000 + 5 * 8, 0x90000 | URW | GPTE_XD);
	return (struct guest_walk_cpu){ .mode = GUEST_PAGING_PAE, .cr3 = 0x5020, .cr0_wp = true,
					.efer_nxe = true, .maxphyaddr = 36 };
}

static void test_pae(void **state)
{
	struct guest_walk_cpu c = build_pae();
	struct guest_walk_result r = walk(&c, 0x40005123, GW_USER | GW_WRITE, GW_SET_AD);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0x90123);
	assert_int_equal(r.perms, GW_PERM_R | GW_PERM_W | GW_PERM_U); /* XD */
	assert_int_equal(r.levels, 3);
	assert_int_equal(get(0x5028), 0x6000 | GPTE_P); /* PDPTEs have no A flag */
	assert_int_equal(get(0x6000), 0x7000 | URW | GPTE_A);
	assert_int_equal(get(0x7028), 0x90000 | URW | GPTE_XD | GPTE_A | GPTE_D);
	r = walk(&c, 0x40212345, 0, 0);
	assert_int_equal(r.gpa, 0x412345);
	assert_int_equal(r.page_size, MiB(2));
	assert_int_equal(walk(&c, 0x40005123, GW_FETCH, 0).error_code, PFEC_P | PFEC_I);
	assert_int_equal(walk(&c, 0x00005123, 0, 0).error_code, 0); /* PDPTE[0] not present */
	/* PAE PDE/PTE bits 62:M are reserved. */
	put(0x6000, get(0x6000) | BIT(60));
	assert_int_equal(walk(&c, 0x40005123, 0, 0).error_code, PFEC_P | PFEC_RSVD);
	put(0x6000, get(0x6000) & ~BIT(60));

	/* PDPTEs loaded at CR3 load are used instead of memory (§5.4.1). */
	u64 pdpte[4];
	assert_int_equal(guest_walk_load_pdptes(&c, &ops, pdpte), 0);
	put(0x5028, 0);
	assert_int_equal(walk(&c, 0x40005123, 0, 0).status, GW_FAULT);
	c.pdpte = pdpte;
	assert_int_equal(walk(&c, 0x40005123, 0, 0).status, GW_OK);

	/* PDPTE reserved bits (2:1, 8:5, 63:M): #GP at load, RSVD in a walk from memory. */
	c.pdpte = NULL;
	put(0x5028, 0x6000 | GPTE_P | GPTE_RW);
	assert_int_equal(guest_walk_load_pdptes(&c, &ops, pdpte), -1);
	assert_int_equal(walk(&c, 0x40005123, 0, 0).error_code, PFEC_P | PFEC_RSVD);
	put(0x5028, 0x6000 | GPTE_P | GPTE_XD);
	assert_int_equal(walk(&c, 0x40005123, 0, 0).error_code, PFEC_P | PFEC_RSVD);
	c.cr3 = 0x200000;
	assert_int_equal(guest_walk_load_pdptes(&c, &ops, pdpte), -2);
}

/*
 * 32-bit paging: PD at 0x8000.
 *   0x00402034 → PD[1] → PT 0x9000 [2] → 0xa0034
 *   0x00812345 → PD[2] 4 MiB at 0x800000 (with CR4.PSE)
 *   0x00c12345 → PD[3] 4 MiB at 0x5_00c00000 (PSE-36: bits 39:32 in PDE bits 20:13)
 */
static struct guest_walk_cpu build_32(void)
{
	memset(mem, 0, sizeof(mem));
	writes = 0;
	put32(0x8000 + 1 * 4, 0x9000 | URW);
	put32(0x9000 + 2 * 4, 0xa0000 | URW | GPTE_G);
	put32(0x8000 + 2 * 4, 0x800000 | GPTE_PS | GPTE_P | GPTE_RW);
	put32(0x8000 + 3 * 4, 0xc00000 | (5 << 13) | GPTE_PS | URW);
	return (struct guest_walk_cpu){ .mode = GUEST_PAGING_32BIT, .cr3 = 0x8000, .cr0_wp = true,
					.cr4_pge = true, .maxphyaddr = 36 };
}

static void test_32bit(void **state)
{
	struct guest_walk_cpu c = build_32();
	struct guest_walk_result r = walk(&c, 0x00402034, GW_USER | GW_WRITE, GW_SET_AD);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0xa0034);
	assert_int_equal(r.perms, GW_PERM_R | GW_PERM_W | GW_PERM_U | GW_PERM_X);
	assert_true(r.global);
	assert_int_equal(get32(0x8004), 0x9000 | URW | GPTE_A);
	assert_int_equal(get32(0x9008), 0xa0000 | URW | GPTE_G | GPTE_A | GPTE_D);
	assert_int_equal(get32(0x8008), 0x800000 | GPTE_PS | GPTE_P | GPTE_RW); /* 4-byte writes only */
	/* A fetch fault has no I/D without SMEP (no NX in 32-bit paging). */
	put32(0x9008, 0);
	assert_int_equal(walk(&c, 0x00402034, GW_USER | GW_FETCH, 0).error_code, PFEC_U);

	/* Without CR4.PSE, PS is ignored: the PDE points to a "table" at 0x800000, not RAM. */
	assert_int_equal(walk(&c, 0x00812345, 0, 0).status, GW_NOT_RAM);
	c.cr4_pse = true;
	r = walk(&c, 0x00812345, 0, 0);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0x812345);
	assert_int_equal(r.page_size, MiB(4));
	assert_int_equal(walk(&c, 0x00812345, GW_USER, 0).error_code, PFEC_P | PFEC_U);
	r = walk(&c, 0x00c12345, 0, 0);
	assert_int_equal(r.gpa, 0x500c12345ULL);
	/* 4 MiB PDE: bit 21 reserved, and address bits above MAXPHYADDR. */
	put32(0x800c, get32(0x800c) | BIT(21));
	assert_int_equal(walk(&c, 0x00c12345, 0, 0).error_code, PFEC_P | PFEC_RSVD);
	put32(0x800c, 0xc00000 | (0x10 << 13) | GPTE_PS | URW); /* bit 36 of the address */
	assert_int_equal(walk(&c, 0x00c12345, 0, 0).error_code, PFEC_P | PFEC_RSVD);
	c.maxphyaddr = 40;
	assert_int_equal(walk(&c, 0x00c12345, 0, 0).gpa, 0x1000c12345ULL);
}

static void test_paging_off_and_mode(void **state)
{
	struct guest_walk_cpu c = { .mode = GUEST_PAGING_NONE };
	struct guest_walk_result r = walk(&c, 0x12345678, GW_USER | GW_WRITE, GW_SET_AD);
	assert_int_equal(r.status, GW_OK);
	assert_int_equal(r.gpa, 0x12345678);
	assert_int_equal(r.levels, 0);
	assert_int_equal(guest_paging_mode_of(false, true, true), GUEST_PAGING_NONE);
	assert_int_equal(guest_paging_mode_of(true, false, false), GUEST_PAGING_32BIT);
	assert_int_equal(guest_paging_mode_of(true, true, false), GUEST_PAGING_PAE);
	assert_int_equal(guest_paging_mode_of(true, true, true), GUEST_PAGING_4LEVEL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4level_4k),
		cmocka_unit_test(test_4level_large),
		cmocka_unit_test(test_not_present),
		cmocka_unit_test(test_protection),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_accessed_dirty),
		cmocka_unit_test(test_not_ram),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_paging_off_and_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
