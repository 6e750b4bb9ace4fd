/*
 * paging_modes.c — the paging modes a guest passes through while it boots, checked
 * from inside a 32-bit Multiboot kernel.
 *
 * Why: a 64-bit guest of the hvlab library starts in long mode and never sees the
 * other modes; but a real kernel (Linux, GRUB's payloads, kvm-unit-tests) is entered in
 * protected mode with paging off and then builds its way up. Under EPT the processor
 * does every mode itself. Under shadow paging (issue 4) the hypervisor must present
 * each one: paging off (on a CPU without unrestricted guest it runs the guest on an
 * identity shadow), 32-bit paging with its 4 MiB pages, PAE paging with its PDPTE
 * registers and XD bit. This kernel walks the same path, in this order:
 *
 *   off      CR0.PG = 0: linear = physical, CR3 is loaded but not used (SDM Vol. 3A §5.1)
 *   32-bit   CR0.PG = 1, CR4.PAE = 0 (§5.3): 4 KiB pages; the PS flag ignored while
 *            CR4.PSE = 0 and a 4 MiB page once it is 1; reserved bit 21; fault error codes
 *            and CR2 (§5.7) for not-present pages, CR0.WP, U/S from ring 3 (I/D stays 0:
 *            no XD without PAE); A and D (§5.8); INVLPG; CR3 switches (§5.10.4)
 *   PAE      CR4.PAE = 1 (§5.4): 4 KiB and 2 MiB pages, PDPTEs loaded by MOV to CR3 and
 *            not re-read until the next one (§5.4.1), bit 63 reserved until EFER.NXE = 1,
 *            then XD (§5.6) with I/D = 1 on fetches; A and D; INVLPG
 *   off      paging turned off again: linear = physical once more
 *
 * One "ok - NAME" line per check and "results: N ok, M failed" (images/guest/bootcheck),
 * exit status = failures (port 0xf4). The output is deterministic (names only, no
 * addresses), so a run under EPT is the reference for a run under shadow paging.
 *
 * Scenario: images/scenarios/paging_modes.cfg (32 MiB, keep RAM_END in step).
 */
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "../bootcheck/check.h"

#define RAM_END 0x02000000u      /* 32 MiB: the scenario's `memory` */
#define SPECIAL_PT 0x01000000u   /* 16 MiB: a 4 MiB-aligned page table (check 4) */
#define SLOT32(n) (0x80000000u + (u32)(n) * 0x400000u) /* one 32-bit PDE each */
#define SLOTPAE(n) (0x80000000u + (u32)(n) * 0x200000u) /* one PAE PDE each */

/* Paging-entry flags, the same bits in 32-bit and PAE entries (SDM Vol. 3A §5.3, §5.4). */
#define E_P 0x1u
#define E_W 0x2u
#define E_U 0x4u
#define E_A 0x20u
#define E_D 0x40u
#define E_PS 0x80u
#define E_XD (1ull << 63)
#define ADDR_PAE 0x000ffffffffff000ull

/* Page-fault error code (§5.7, Figure 5-12). */
#define ERR_P 0x1u
#define ERR_W 0x2u
#define ERR_U 0x4u
#define ERR_RSVD 0x8u
#define ERR_I 0x10u
#define VEC_PF 14

#define SEL_CODE0 0x08

typedef volatile u32 e32_t; /* the CPU sets A and D behind the compiler's back */
typedef volatile u64 e64_t;

/* ---- Control registers, 32-bit (arch/cpu.h's accessors are 64-bit) ------------------ */

/* cr0_read() ... cr4_write(): one MOV each, with 32-bit operands as this mode needs. */
#define CR_ACCESSORS(n)                                                                   \
	static inline u32 cr##n##_read(void)                                              \
	{                                                                                 \
		u32 v;                                                                    \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                         \
		return v;                                                                 \
	}                                                                                 \
	static inline void cr##n##_write(u32 v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
CR_ACCESSORS(0)
CR_ACCESSORS(2)
CR_ACCESSORS(3)
CR_ACCESSORS(4)

/* INVLPG with a 32-bit address operand. */
static inline void invlpg32(u32 va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* ---- Exceptions: trap_handler() and guarded calls (start.S) -------------------------- */

/* What isr_common pushed: PUSHAL, vector, error code, then the CPU's frame. */
struct trap_frame {
	u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	u32 vector, error, eip, cs, eflags;
};

/* Shared with start.S: the state of the guarded_call() in progress. */
u32 guard_active, guard_esp, guard_vector, guard_value;
static u32 guard_error, guard_cr2, guard_eip;

int guarded_call(u32 (*fn)(void *), void *arg);
u32 enter_user(void *args);
void trap_handler(struct trap_frame *f);
void pm_main(void);
extern const char guard_recover[], user_page[], user_read32[], user_write32[];
extern char user_stack[], __image_end[];

/* Every exception and INT 0x80 land here. Inside guarded_call(), record it and resume
 * at guard_recover (INT 0x80 is ring 3 coming back: a normal return, value in EAX);
 * anywhere else it is a bug of this kernel or of the hypervisor: report and exit. */
void trap_handler(struct trap_frame *f)
{
	if (!guard_active) {
		boot_printf("unexpected exception %u err 0x%x eip 0x%x cr2 0x%x\n", f->vector,
			    f->error, f->eip, cr2_read());
		boot_exit(0xe0 + (f->vector & 0x1f));
	}
	guard_vector = f->vector == 0x80 ? (u32)-1 : f->vector;
	guard_value = f->eax;
	guard_error = f->error;
	guard_cr2 = cr2_read();
	guard_eip = f->eip;
	f->eip = (u32)(uintptr_t)guard_recover;
	f->cs = SEL_CODE0; /* back to ring 0, even from ring 3 */
	f->eflags = 0x2;
}

/* One access for guarded_call(): its address and the value read or to write. */
struct access {
	u32 va, value;
};

/* Ring-0 read and write, run under guarded_call(). */
static u32 do_read(void *p)
{
	struct access *a = p;
	a->value = *(volatile u32 *)(uintptr_t)a->va;
	return 0;
}

static u32 do_write(void *p)
{
	struct access *a = p;
	*(volatile u32 *)(uintptr_t)a->va = a->value;
	return 0;
}

/* Each try_* returns -1 when the access completed, else the vector; the fault's error
 * code, CR2 and EIP are in guard_*. */
static int try_read(u32 va, u32 *value)
{
	struct access a = { va, 0 };
	int vec = guarded_call(do_read, &a);
	*value = a.value;
	return vec;
}

static int try_write(u32 va, u32 value)
{
	struct access a = { va, value };
	return guarded_call(do_write, &a);
}

/* Call the code at @va (an instruction fetch from that page); its EAX in *@ret. */
static int try_call(u32 va, u32 *ret)
{
	int vec = guarded_call((u32(*)(void *))(uintptr_t)va, NULL);
	*ret = guard_value;
	return vec;
}

/* Run a ring-3 stub (start.S) with EAX = @a0, ECX = @a1; its EAX in *@ret. */
static int try_user(const char *stub, u32 a0, u32 a1, u32 *ret)
{
	u32 args[3] = { (u32)(uintptr_t)stub, a0, a1 };
	int vec = guarded_call(enter_user, args);
	*ret = guard_value;
	return vec;
}

/* Failure reasons with the line, the way the checks below read best. */
#define EXPECT(cond, ...)                                                         \
	do {                                                                      \
		if (!(cond))                                                      \
			return why("line %d: " __VA_ARGS__);                      \
	} while (0)
#define EXPECT_EQ(a, b)                                                                   \
	do {                                                                              \
		u64 a_ = (a), b_ = (b);                                                   \
		if (a_ != b_)                                                             \
			return why("line %d: %s = 0x%llx, expected 0x%llx", __LINE__, #a, a_, b_); \
	} while (0)
/* The access completed. */
#define EXPECT_DONE(vec) \
	EXPECT((vec) < 0, "vector %d err 0x%x cr2 0x%x", __LINE__, vec, guard_error, guard_cr2)
/* The access raised #PF with error code @err at CR2 = @va. */
#define EXPECT_PF(vec, va, err)                                                            \
	EXPECT((vec) == VEC_PF && guard_error == (err) && guard_cr2 == (va),               \
	       "vector %d err 0x%x cr2 0x%x, expected #PF err 0x%x cr2 0x%x", __LINE__, vec, \
	       guard_error, guard_cr2, (u32)(err), (u32)(va))

/* One 32-bit read or write at linear @va, never merged or dropped by the compiler. */
static u32 rd(u32 va) { return *(volatile u32 *)(uintptr_t)va; }
static void wr(u32 va, u32 v) { *(volatile u32 *)(uintptr_t)va = v; }

/* Machine code: "mov $42, %eax; ret", the same bytes in 32-bit mode as in 64-bit. */
static const u8 code_ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };

/* ---- Frames and page tables ---------------------------------------------------------- */

static u32 next_frame; /* bump allocator over [__image_end, SPECIAL_PT) */

/* A zeroed frame whose first word is @value; paging is either off or identity over RAM,
 * so the frame's address is also a pointer. */
static u32 new_frame(u32 value)
{
	u32 pa = next_frame;

	if (pa >= SPECIAL_PT) {
		boot_printf("out of frames\n");
		boot_exit(0xd1);
	}
	next_frame += 4096;
	memset((void *)(uintptr_t)pa, 0, 4096);
	wr(pa, value);
	return pa;
}

/* A frame holding code_ret42. */
static u32 code_frame(void)
{
	u32 pa = new_frame(0);
	memcpy((void *)(uintptr_t)pa, code_ret42, sizeof(code_ret42));
	return pa;
}

static e32_t *pd32, *pd32_other; /* 32-bit page directories (1024 entries) */
static e64_t *pdpt, *pd_low, *pd_test; /* PAE: PDPT, PDs for [0, 1 GiB) and [2, 3 GiB) */

/* 32-bit paging: the PDE of @va in @pd, and its PTE (the page table made on demand,
 * P | W | U so the PTE decides). */
static e32_t *pde32_in(e32_t *pd, u32 va) { return &pd[va >> 22]; }
static e32_t *pde32(u32 va) { return pde32_in(pd32, va); }

static e32_t *pte32_in(e32_t *pd, u32 va)
{
	e32_t *pde = pde32_in(pd, va);

	if (!(*pde & E_P))
		*pde = new_frame(0) | E_P | E_W | E_U;
	return &((e32_t *)(uintptr_t)(*pde & ~0xfffu))[(va >> 12) & 1023];
}

/* The PTE of @va in pd32, the directory of most checks. */
static e32_t *pte32(u32 va) { return pte32_in(pd32, va); }

/* Map 4 KiB at @va to @pa in pd32 (A and D clear) and drop any stale TLB entry. */
static void map32(u32 va, u32 pa, u32 flags)
{
	*pte32(va) = pa | flags | E_P;
	invlpg32(va);
}

/* PAE paging: PDE and PTE of @va (PDs exist for PDPT slots 0 and 2 only). */
static e64_t *pdpae(u32 va)
{
	return (va >> 30) == 2 ? pd_test : pd_low;
}

/* The PDE of @va, and its PTE (the page table made on demand, P | W | U). */
static e64_t *pde_pae(u32 va) { return &pdpae(va)[(va >> 21) & 511]; }

static e64_t *pte_pae(u32 va)
{
	e64_t *pde = pde_pae(va);

	if (!(*pde & E_P))
		*pde = new_frame(0) | E_P | E_W | E_U;
	return &((e64_t *)(uintptr_t)(u32)(*pde & ADDR_PAE))[(va >> 12) & 511];
}

/* Map 4 KiB at @va to @pa in the PAE tables (A and D clear), then INVLPG. */
static void map_pae(u32 va, u32 pa, u64 flags)
{
	*pte_pae(va) = pa | flags | E_P;
	invlpg32(va);
}

/* The user-accessible pages: ring-3 stubs and ring-3 stack (start.S). */
static u32 user_flag(u32 pa)
{
	return (pa == (u32)(uintptr_t)user_page || pa == (u32)(uintptr_t)user_stack) ? E_U : 0;
}

/* ---- The frames the off/32-bit/PAE/off story follows ---------------------------------- */

static u32 frame_a, frame_b; /* A: a page whose linear address is remapped to frame B */
static u32 val_a, val_b;     /* what each holds now */

/* ==== Paging off ====================================================================== */

/* Multiboot 0.6.96 §3.2: protected mode, paging off; nothing in CR4 asks for a mode. */
static const char *check_off_entry(void)
{
	u32 cr0 = cr0_read();

	EXPECT((cr0 & CR0_PE) && !(cr0 & CR0_PG), "CR0 = 0x%x: want PE, not PG", __LINE__, cr0);
	EXPECT_EQ(cr4_read() & (CR4_PSE | CR4_PAE | CR4_PGE), 0);
	return NULL;
}

/* Build the 32-bit tables: RAM identity-mapped (from 4 KiB), except that linear A maps
 * frame B. Load CR3 with them but leave CR0.PG clear: A still reads A (§5.1: with
 * paging off, linear addresses are physical addresses; CR3 is not used). */
static const char *check_off_linear(void)
{
	next_frame = (u32)ALIGN_UP((uintptr_t)__image_end, 4096);
	pd32 = (e32_t *)(uintptr_t)new_frame(0);
	for (u32 pa = 4096; pa < RAM_END; pa += 4096)
		*pte32(pa) = pa | E_P | E_W | user_flag(pa);
	val_a = 0xa0a0a0a0;
	val_b = 0xb0b0b0b0;
	frame_a = new_frame(val_a);
	frame_b = new_frame(val_b);
	*pte32(frame_a) = frame_b | E_P | E_W;

	cr3_write((u32)(uintptr_t)pd32);
	EXPECT_EQ(cr3_read(), (u32)(uintptr_t)pd32);
	EXPECT_EQ(cr0_read() & CR0_PG, 0);
	EXPECT_EQ(rd(frame_a), val_a);
	val_a = 0xa1a1a1a1;
	wr(frame_a, val_a);
	EXPECT_EQ(rd(frame_a), val_a);
	EXPECT_EQ(rd(frame_b), val_b);
	return NULL;
}

/* ==== 32-bit paging =================================================================== */

/* CR0.PG = 1 with CR4.PAE = 0: 32-bit paging. Linear A now reaches frame B, a write
 * through A lands in B, and after A's PTE is made identity (plus INVLPG) A reads A. */
static const char *check_32_on(void)
{
	cr0_write(cr0_read() | CR0_PG);
	EXPECT(cr0_read() & CR0_PG, "CR0.PG reads 0", __LINE__);
	EXPECT_EQ(cr3_read(), (u32)(uintptr_t)pd32);
	EXPECT_EQ(rd(frame_a), val_b);
	val_b = 0xb1b1b1b1;
	wr(frame_a, val_b);
	EXPECT_EQ(rd(frame_b), val_b);
	map32(frame_a, frame_a, E_W);
	EXPECT_EQ(rd(frame_a), val_a);
	return NULL;
}

/* With CR4.PSE = 0 the PS flag of a PDE is ignored (§5.3, Table 5-5): the PDE still
 * points at a page table. That table sits at 16 MiB, 4 MiB-aligned, so check 5 can read
 * the very same PDE as a 4 MiB page. */
static const char *check_32_ps_ignored(void)
{
	u32 va = SLOT32(0), fx = new_frame(0x4444);
	e32_t *pt = (e32_t *)(uintptr_t)SPECIAL_PT;

	memset((void *)pt, 0, 4096);
	pt[0] = fx | E_P | E_W;
	*pde32(va) = SPECIAL_PT | E_P | E_W | E_PS;
	invlpg32(va);
	EXPECT_EQ(cr4_read() & CR4_PSE, 0);
	EXPECT_EQ(rd(va), 0x4444);
	EXPECT_EQ(pt[0], fx | E_P | E_W | E_A);
	return NULL;
}

/* CR4.PSE = 1: the same PDE now maps the 4 MiB page at 16 MiB, whose first word is the
 * page table's entry 0 (changing PSE flushes nothing, §5.10.4.1, hence the INVLPG). A
 * second 4 MiB page over one of our frames: A on a read, D on a write, in the PDE. */
static const char *check_32_4m(void)
{
	u32 va = SLOT32(0), big = SLOT32(1), f = new_frame(0x4545);
	u32 base = f & ~0x3fffffu, off = f - base;
	e32_t *pde = pde32(big);

	cr4_write(cr4_read() | CR4_PSE);
	invlpg32(va);
	EXPECT_EQ(rd(va) & ~0xfffu, ((e32_t *)(uintptr_t)SPECIAL_PT)[0] & ~0xfffu);
	EXPECT_EQ(rd(va), ((e32_t *)(uintptr_t)SPECIAL_PT)[0]);

	*pde = base | E_P | E_W | E_PS;
	invlpg32(big);
	EXPECT_EQ(rd(big + off), 0x4545);
	EXPECT_EQ(*pde & (E_A | E_D), E_A);
	EXPECT_EQ(rd(big + 0x3ff000), rd(base + 0x3ff000)); /* its last 4 KiB */
	wr(big + off + 8, 0x4646);
	EXPECT_EQ(*pde & (E_A | E_D), E_A | E_D);
	EXPECT_EQ(rd(f + 8), 0x4646);
	return NULL;
}

/* Bit 21 of a 4 MiB PDE is reserved (§5.3, Table 5-4): #PF with RSVD = 1, P = 1. */
static const char *check_32_rsvd(void)
{
	u32 va = SLOT32(2) + 0x10, v;
	e32_t *pde = pde32(va);

	*pde = (u32)(next_frame & ~0x3fffffu) | E_P | E_W | E_PS | (1u << 21);
	invlpg32(va);
	int vec = try_read(va, &v);
	EXPECT_PF(vec, va, ERR_RSVD | ERR_P);
	*pde = 0;
	invlpg32(va);
	vec = try_read(va, &v);
	EXPECT_PF(vec, va, 0);
	return NULL;
}

/* Not-present PTE: read, write, fetch, ring-3 read and write each report what they
 * were, with P = 0 and CR2 = the exact byte. A fetch sets no I/D: 32-bit paging has no
 * XD, and I/D needs PAE with EFER.NXE (or SMEP) (§5.7). */
static const char *check_32_not_present(void)
{
	u32 page = SLOT32(3), va = page + 0x123, v;
	int vec;

	map32(page, new_frame(0), E_W | E_U);
	*pte32(page) = 0;
	invlpg32(page);
	vec = try_read(va, &v);
	EXPECT_PF(vec, va, 0);
	vec = try_write(va, 1);
	EXPECT_PF(vec, va, ERR_W);
	vec = try_call(page, &v);
	EXPECT_PF(vec, page, 0);
	EXPECT_EQ(guard_eip, page);
	vec = try_user(user_read32, va, 0, &v);
	EXPECT_PF(vec, va, ERR_U);
	vec = try_user(user_write32, va, 1, &v);
	EXPECT_PF(vec, va, ERR_U | ERR_W);
	return NULL;
}

/* CR0.WP = 1 (the loader left it 0): a supervisor write to a read-only page faults
 * with W = 1, P = 1 and changes nothing (§5.6). */
static const char *check_32_wp1(void)
{
	u32 page = SLOT32(4), va = page + 0x40, f = new_frame(0x5151);
	int vec;

	map32(page, f, 0);
	cr0_write(cr0_read() | CR0_WP);
	EXPECT(cr0_read() & CR0_WP, "CR0.WP reads 0", __LINE__);
	vec = try_write(va, 0x5252);
	EXPECT_PF(vec, va, ERR_W | ERR_P);
	EXPECT_EQ(rd(f + 0x40), 0);
	EXPECT_EQ(rd(page), 0x5151);
	return NULL;
}

/* CR0.WP = 0: the same supervisor write succeeds. */
static const char *check_32_wp0(void)
{
	u32 page = SLOT32(4), va = page + 0x40;
	int vec;

	cr0_write(cr0_read() & ~CR0_WP);
	vec = try_write(va, 0x5353);
	cr0_write(cr0_read() | CR0_WP);
	EXPECT_DONE(vec);
	EXPECT_EQ(rd(va), 0x5353);
	return NULL;
}

/* Ring 3: a supervisor page faults U = 1, P = 1 (W for a write); a user page is
 * readable; a read-only user page faults a ring-3 write with either CR0.WP. */
static const char *check_32_user(void)
{
	u32 sup = SLOT32(5) + 0x18, usr = SLOT32(5) + 0x1000, v;
	int vec;

	map32(SLOT32(5), new_frame(0), E_W);
	map32(usr, new_frame(0x6161), E_U);
	wr(sup, 0x6060);
	vec = try_user(user_read32, sup, 0, &v);
	EXPECT_PF(vec, sup, ERR_U | ERR_P);
	vec = try_user(user_write32, sup, 1, &v);
	EXPECT_PF(vec, sup, ERR_U | ERR_W | ERR_P);
	EXPECT_EQ(rd(sup), 0x6060);
	vec = try_user(user_read32, usr, 0, &v);
	EXPECT_DONE(vec);
	EXPECT_EQ(v, 0x6161);
	for (int wp = 1; wp >= 0; wp--) {
		cr0_write(wp ? cr0_read() | CR0_WP : cr0_read() & ~CR0_WP);
		vec = try_user(user_write32, usr, 2, &v);
		cr0_write(cr0_read() | CR0_WP);
		EXPECT_PF(vec, usr, ERR_U | ERR_W | ERR_P);
	}
	EXPECT_EQ(rd(usr), 0x6161);
	return NULL;
}

/* U/S must be 1 in the PDE too: clearing it hides a user PTE from ring 3. */
static const char *check_32_user_pde(void)
{
	u32 va = SLOT32(6), v;
	e32_t *pde;
	int vec;

	map32(va, new_frame(0x6262), E_U | E_W);
	pde = pde32(va);
	*pde &= ~E_U;
	invlpg32(va);
	vec = try_user(user_read32, va, 0, &v);
	EXPECT_PF(vec, va, ERR_U | ERR_P);
	*pde |= E_U;
	invlpg32(va);
	vec = try_user(user_read32, va, 0, &v);
	EXPECT_DONE(vec);
	EXPECT_EQ(v, 0x6262);
	return NULL;
}

/* A read sets A in the PDE and the PTE, not D; a write then sets D in the PTE (§5.8). */
static const char *check_32_ad(void)
{
	u32 va = SLOT32(7);

	map32(va, new_frame(0x7070), E_W);
	e32_t *pde = pde32(va), *pte = pte32(va);
	EXPECT_EQ(*pde & E_A, 0);
	EXPECT_EQ(*pte & (E_A | E_D), 0);
	EXPECT_EQ(rd(va), 0x7070);
	EXPECT_EQ(*pde & E_A, E_A);
	EXPECT_EQ(*pte & (E_A | E_D), E_A);
	wr(va, 0x7171);
	EXPECT_EQ(*pte & (E_A | E_D), E_A | E_D);
	*pte &= ~(E_A | E_D); /* cleared by software and flushed: set again */
	invlpg32(va);
	wr(va, 0x7272);
	EXPECT_EQ(*pte & (E_A | E_D), E_A | E_D);
	return NULL;
}

/* A PTE pointed at another frame: after INVLPG the new frame shows (§5.10.4.1). The
 * value read before the INVLPG may be either (a stale TLB entry is allowed): not checked. */
static const char *check_32_invlpg(void)
{
	u32 va = SLOT32(8), b = new_frame(0x8b8b);

	map32(va, new_frame(0x8a8a), E_W);
	EXPECT_EQ(rd(va), 0x8a8a);
	*pte32(va) = b | E_P | E_W;
	(void)rd(va);
	invlpg32(va);
	EXPECT_EQ(rd(va), 0x8b8b);
	return NULL;
}

/* Two page directories sharing the identity page tables but mapping one address to
 * different frames: each CR3 load shows its own frame, and CR3 reads back as loaded. */
static const char *check_32_cr3_switch(void)
{
	u32 va = SLOT32(9), x = new_frame(0x9a9a), y = new_frame(0x9b9b);

	map32(va, x, E_W);
	pd32_other = (e32_t *)(uintptr_t)new_frame(0);
	for (int i = 0; i < 1024; i++)
		pd32_other[i] = pd32[i];
	pde32_in(pd32_other, va)[0] = 0;
	*pte32_in(pd32_other, va) = y | E_P | E_W;
	for (int round = 0; round < 4; round++) {
		cr3_write((u32)(uintptr_t)pd32_other);
		EXPECT_EQ(cr3_read(), (u32)(uintptr_t)pd32_other);
		EXPECT_EQ(rd(va), 0x9b9b + round);
		wr(va, 0x9b9b + round + 1);
		cr3_write((u32)(uintptr_t)pd32);
		EXPECT_EQ(cr3_read(), (u32)(uintptr_t)pd32);
		EXPECT_EQ(rd(va), 0x9a9a + round);
		wr(va, 0x9a9a + round + 1);
	}
	return NULL;
}

/* ==== PAE paging ====================================================================== */

/* Off, CR4.PAE = 1, CR3 = a PDPT, on: PAE paging (§5.4). The new tables identity-map RAM
 * with 4 KiB pages and map linear A to frame B again. PDPTEs have only P (bits 1, 2 and
 * 5-8 are reserved in them, §5.4.1). */
static const char *check_pae_on(void)
{
	pdpt = (e64_t *)(uintptr_t)new_frame(0);
	pd_low = (e64_t *)(uintptr_t)new_frame(0);
	pd_test = (e64_t *)(uintptr_t)new_frame(0);
	pdpt[0] = (u32)(uintptr_t)pd_low | E_P;
	pdpt[2] = (u32)(uintptr_t)pd_test | E_P;
	for (u32 pa = 4096; pa < RAM_END; pa += 4096)
		*pte_pae(pa) = pa | E_P | E_W | user_flag(pa);
	*pte_pae(frame_a) = frame_b | E_P | E_W;

	cr0_write(cr0_read() & ~CR0_PG);
	cr4_write(cr4_read() | CR4_PAE);
	cr3_write((u32)(uintptr_t)pdpt);
	cr0_write(cr0_read() | CR0_PG);
	EXPECT_EQ(cr4_read() & (CR4_PAE | CR4_PSE), CR4_PAE | CR4_PSE);
	EXPECT_EQ(cr3_read(), (u32)(uintptr_t)pdpt);
	EXPECT_EQ(rd(frame_a), val_b);
	EXPECT_EQ(rd(frame_b), val_b);
	return NULL;
}

/* The four PDPTEs are loaded into registers by MOV to CR3 and not re-read from memory
 * until the next such load (§5.4.1); INVLPG does not reload them. So a PDPTE changed in
 * memory takes effect only at the next CR3 write. */
static const char *check_pae_pdpte_regs(void)
{
	u32 va = SLOTPAE(1), x = new_frame(0xa1a1), y = new_frame(0xa2a2);
	e64_t *pd_alt = (e64_t *)(uintptr_t)new_frame(0), *pt_alt = (e64_t *)(uintptr_t)new_frame(0);

	map_pae(va, x, E_W);
	for (int i = 0; i < 512; i++)
		pd_alt[i] = pd_test[i];
	pt_alt[(va >> 12) & 511] = y | E_P | E_W;
	pd_alt[(va >> 21) & 511] = (u32)(uintptr_t)pt_alt | E_P | E_W | E_U;
	EXPECT_EQ(rd(va), 0xa1a1);
	pdpt[2] = (u32)(uintptr_t)pd_alt | E_P;
	invlpg32(va);
	EXPECT_EQ(rd(va), 0xa1a1);
	cr3_write(cr3_read());
	EXPECT_EQ(rd(va), 0xa2a2);
	pdpt[2] = (u32)(uintptr_t)pd_test | E_P;
	cr3_write(cr3_read());
	EXPECT_EQ(rd(va), 0xa1a1);
	return NULL;
}

/* With EFER.NXE = 0, bit 63 of a PAE entry is reserved: #PF RSVD = 1, P = 1 (§5.4.2).
 * A fetch from a not-present page reports I/D = 0 (§5.7). */
static const char *check_pae_xd_reserved(void)
{
	u32 va = SLOTPAE(2), v;
	int vec;

	EXPECT_EQ(rdmsr(MSR_IA32_EFER) & EFER_NXE, 0);
	map_pae(va, new_frame(0xb0b0), E_W | E_XD);
	vec = try_read(va, &v);
	EXPECT_PF(vec, va, ERR_RSVD | ERR_P);
	vec = try_call(va + 0x1000, &v);
	EXPECT_PF(vec, va + 0x1000, 0);
	*pte_pae(va) &= ~E_XD;
	invlpg32(va);
	EXPECT_EQ(rd(va), 0xb0b0);
	return NULL;
}

/* EFER.NXE = 1: a fetch from an XD page faults with I/D = 1, P = 1 at EIP = CR2 = the
 * page, which stays readable; a fetch from a not-present page now sets I/D too (§5.6). */
static const char *check_pae_xd_leaf(void)
{
	u32 va = SLOTPAE(3), v;
	int vec;

	if (!(cpuid(0x80000001, 0).edx & BIT(20))) {
		boot_note("skip: no XD (CPUID.80000001H:EDX.NX = 0)");
		return NULL;
	}
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
	EXPECT_EQ(rdmsr(MSR_IA32_EFER) & EFER_NXE, EFER_NXE);
	map_pae(va, code_frame(), E_XD);
	vec = try_call(va, &v);
	EXPECT_PF(vec, va, ERR_I | ERR_P);
	EXPECT_EQ(guard_eip, va);
	EXPECT_EQ(rd(va) & 0xff, 0xb8);
	vec = try_call(va + 0x1000, &v);
	EXPECT_PF(vec, va + 0x1000, ERR_I);
	*pte_pae(va) &= ~E_XD;
	invlpg32(va);
	vec = try_call(va, &v);
	EXPECT_DONE(vec);
	EXPECT_EQ(v, 42);
	return NULL;
}

/* XD in the PDE forbids fetches from every page under it. */
static const char *check_pae_xd_pde(void)
{
	u32 va = SLOTPAE(4), v;
	int vec;

	if (!(rdmsr(MSR_IA32_EFER) & EFER_NXE)) {
		boot_note("skip: no XD");
		return NULL;
	}
	map_pae(va, code_frame(), 0);
	*pde_pae(va) |= E_XD;
	invlpg32(va);
	vec = try_call(va, &v);
	EXPECT_PF(vec, va, ERR_I | ERR_P);
	*pde_pae(va) &= ~E_XD;
	invlpg32(va);
	vec = try_call(va, &v);
	EXPECT_DONE(vec);
	EXPECT_EQ(v, 42);
	return NULL;
}

/* A 2 MiB page (PDE with PS = 1, §5.4.2) over one of our frames: A on a read, D on a
 * write, in the PDE; bits 20:13 are reserved in it. */
static const char *check_pae_2m(void)
{
	u32 va = SLOTPAE(5), f = new_frame(0xc0c0), v;
	u32 base = f & ~0x1fffffu, off = f - base;
	e64_t *pde = pde_pae(va);
	int vec;

	*pde = base | E_P | E_W | E_PS;
	invlpg32(va);
	EXPECT_EQ(rd(va + off), 0xc0c0);
	EXPECT_EQ(*pde & (E_A | E_D), E_A);
	EXPECT_EQ(rd(va + 0x1ff000), rd(base + 0x1ff000));
	wr(va + off + 4, 0xc1c1);
	EXPECT_EQ(*pde & (E_A | E_D), E_A | E_D);
	EXPECT_EQ(rd(f + 4), 0xc1c1);
	*pde = base | E_P | E_W | E_PS | (1u << 13);
	invlpg32(va);
	vec = try_read(va + off, &v);
	EXPECT_PF(vec, va + off, ERR_RSVD | ERR_P);
	*pde = 0;
	invlpg32(va);
	return NULL;
}

/* A read sets A in the PDE and the PTE; a write sets D in the PTE. */
static const char *check_pae_ad(void)
{
	u32 va = SLOTPAE(6);

	map_pae(va, new_frame(0xd0d0), E_W);
	e64_t *pde = pde_pae(va), *pte = pte_pae(va);
	EXPECT_EQ(*pde & E_A, 0);
	EXPECT_EQ(*pte & (E_A | E_D), 0);
	EXPECT_EQ(rd(va), 0xd0d0);
	EXPECT_EQ(*pde & E_A, E_A);
	EXPECT_EQ(*pte & (E_A | E_D), E_A);
	wr(va, 0xd1d1);
	EXPECT_EQ(*pte & (E_A | E_D), E_A | E_D);
	return NULL;
}

/* INVLPG shows the new frame of a changed PAE PTE. */
static const char *check_pae_invlpg(void)
{
	u32 va = SLOTPAE(7), b = new_frame(0xe1e1);

	map_pae(va, new_frame(0xe0e0), E_W);
	EXPECT_EQ(rd(va), 0xe0e0);
	*pte_pae(va) = b | E_P | E_W;
	(void)rd(va);
	invlpg32(va);
	EXPECT_EQ(rd(va), 0xe1e1);
	return NULL;
}

/* ==== Paging off again ================================================================ */

/* CR0.PG = 0 once more (the PAE tables still map A to B): linear = physical again. */
static const char *check_off_again(void)
{
	cr0_write(cr0_read() & ~CR0_PG);
	EXPECT_EQ(cr0_read() & CR0_PG, 0);
	EXPECT_EQ(rd(frame_a), val_a);
	EXPECT_EQ(rd(frame_b), val_b);
	val_a = 0xa2a2a2a2;
	wr(frame_a, val_a);
	EXPECT_EQ(rd(frame_b), val_b);
	cr4_write(cr4_read() & ~(CR4_PAE | CR4_PSE));
	EXPECT_EQ(rd(frame_a), val_a);
	return NULL;
}

static const struct boot_check checks[] = {
	{ "off: entered in protected mode with paging off", check_off_entry },
	{ "off: linear = physical, cr3 unused while cr0.pg = 0", check_off_linear },
	{ "32-bit: cr0.pg on, 4 KiB pages translate", check_32_on },
	{ "32-bit: ps ignored while cr4.pse = 0", check_32_ps_ignored },
	{ "32-bit: 4 MiB pages with cr4.pse, A and D in the pde", check_32_4m },
	{ "32-bit: reserved bit 21 of a 4 MiB pde faults RSVD=1", check_32_rsvd },
	{ "32-bit: not present: error codes and cr2, fetch I/D=0", check_32_not_present },
	{ "32-bit: supervisor write to read-only faults with cr0.wp=1", check_32_wp1 },
	{ "32-bit: supervisor write to read-only succeeds with cr0.wp=0", check_32_wp0 },
	{ "32-bit: u/s and r/w from ring 3", check_32_user },
	{ "32-bit: supervisor pde hides a user pte", check_32_user_pde },
	{ "32-bit: read sets A, write sets D", check_32_ad },
	{ "32-bit: invlpg shows the new frame", check_32_invlpg },
	{ "32-bit: cr3 switches between two page directories", check_32_cr3_switch },
	{ "pae: cr4.pae on, 4 KiB pages translate", check_pae_on },
	{ "pae: pdptes loaded by mov to cr3 only", check_pae_pdpte_regs },
	{ "pae: bit 63 reserved and fetch I/D=0 while efer.nxe = 0", check_pae_xd_reserved },
	{ "pae: xd page faults a fetch with I/D=1", check_pae_xd_leaf },
	{ "pae: xd in the pde", check_pae_xd_pde },
	{ "pae: 2 MiB page, A and D in the pde", check_pae_2m },
	{ "pae: read sets A, write sets D", check_pae_ad },
	{ "pae: invlpg shows the new frame", check_pae_invlpg },
	{ "off again: cr0.pg cleared, linear = physical", check_off_again },
};

/** Called by start.S once the descriptor tables are loaded: run the checks, exit. */
void pm_main(void)
{
	boot_console_init();
	boot_printf("paging_modes: 32-bit kernel at 0x%x, off -> 32-bit -> PAE -> off\n",
		    (u32)(uintptr_t)pm_main & ~0xfffffu);
	boot_exit((u32)run_checks(checks, ARRAY_SIZE(checks)));
}
