/**
 * @file guest_walk.c
 * @brief The architectural walk of a guest's page tables (SDM Vol. 3A Chapter 5).
 *
 * A linear address is split into table indexes, one per level, from the top:
 *
 *     4-level (§5.5)  PML4 47:39 → PDPT 38:30 → PD 29:21 → PT 20:12   8-byte entries
 *     PAE     (§5.4)              PDPTE 31:30 → PD 29:21 → PT 20:12   8-byte entries
 *     32-bit  (§5.3)                           PD 31:22 → PT 21:12    4-byte entries
 *
 * Levels are numbered like the SDM's tables: 1 is the page table, 2 the page directory,
 * 3 the PDPT, 4 the PML4. A PDE with PS = 1 maps a 2 MiB page (4 MiB in 32-bit paging,
 * when CR4.PSE = 1); a 4-level PDPTE with PS = 1 maps a 1 GiB page.
 *
 * The walk stops at the first entry with P = 0 (a not-present fault) or with a reserved
 * bit set (a RSVD fault, §5.7). Otherwise it combines the rights of every entry on the
 * path (R/W and U/S are ANDed, XD is ORed: §5.6) and checks the access against them.
 * Only a successful translation updates accessed and dirty flags (§5.8), the way a
 * processor that faults leaves the leaf's flags untouched.
 */
#include <arch/guest_walk.h>
#include <hvlab/lib.h>

/* Bits hi..lo set (hi >= lo - 1; an empty range when hi < lo). */
static u64 bits(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	u64 upto_hi = hi >= 63 ? ~0ULL : BIT(hi + 1) - 1;
	return upto_hi & ~(BIT(lo) - 1);
}

/* Address bits (MAXPHYADDR-1):12 of a PAE or 4-level entry. */
static u64 phys_mask(const struct guest_walk_cpu *cpu)
{
	return bits(cpu->maxphyaddr - 1, 12);
}

/*
 * Reserved bits of a present entry at @p level (SDM Vol. 3A Tables 5-4..5-20 and
 * §5.7 "RSVD"). Returns true when @p e sets any of them.
 */
static bool reserved_bits_set(const struct guest_walk_cpu *cpu, u64 e, int level)
{
	unsigned m = cpu->maxphyaddr;
	u64 rsvd = 0;

	switch (cpu->mode) {
	case GUEST_PAGING_4LEVEL:
		/* Bits 51:M in every entry; XD (bit 63) unless EFER.NXE = 1. */
		rsvd = bits(51, m);
		if (!cpu->efer_nxe)
			rsvd |= GPTE_XD;
		if (level == 4)
			rsvd |= GPTE_PS; /* Table 5-15: PML4E bit 7 is reserved */
		if (level == 3 && (e & GPTE_PS)) {
			if (!cpu->pdpe1gb)
				return true; /* Table 5-16 needs 1-GByte page support */
			rsvd |= bits(29, 13);
		}
		if (level == 2 && (e & GPTE_PS))
			rsvd |= bits(20, 13); /* Table 5-18: between PAT (12) and the address */
		break;
	case GUEST_PAGING_PAE:
		if (level == 3) /* Table 5-8: PDPTE bits 2:1, 8:5 and 63:M */
			return (e & (bits(63, m) | bits(2, 1) | bits(8, 5))) != 0;
		rsvd = bits(62, m); /* Tables 5-9..5-11 */
		if (!cpu->efer_nxe)
			rsvd |= GPTE_XD;
		if (level == 2 && (e & GPTE_PS))
			rsvd |= bits(20, 13);
		break;
	case GUEST_PAGING_32BIT:
		/* Table 5-4: a 4 MiB PDE holds address bits 39:32 in 20:13 (PSE-36), bit 21 is
		 * reserved, and so are the bits above min(MAXPHYADDR, 40). No other entry has any. */
		if (level == 2 && (e & GPTE_PS) && cpu->cr4_pse) {
			unsigned m40 = m < 40 ? m : 40;
			rsvd = BIT(21) | bits(20, m40 - 19);
		}
		break;
	case GUEST_PAGING_NONE:
		break;
	}
	return (e & rsvd) != 0;
}

/* Does this present entry map a page rather than point to a table? */
static bool entry_is_leaf(const struct guest_walk_cpu *cpu, u64 e, int level)
{
	if (level == 1)
		return true;
	if (!(e & GPTE_PS))
		return false;
	if (cpu->mode == GUEST_PAGING_32BIT)
		return cpu->cr4_pse; /* without CR4.PSE the PS bit is ignored (§5.3) */
	return level <= 3; /* level 4 PS is reserved and caught before */
}

/* Physical address of the page or table an entry refers to. */
static u64 entry_address(const struct guest_walk_cpu *cpu, u64 e, int level, u64 page_size)
{
	if (cpu->mode == GUEST_PAGING_32BIT) {
		if (level == 2 && page_size)
			return (e & 0xffc00000ULL) | (((e >> 13) & 0xff) << 32); /* Table 5-4 */
		return e & 0xfffff000ULL;
	}
	return e & phys_mask(cpu) & ~(page_size ? page_size - 1 : 0);
}

/* The page-fault error code for this access with @p base (0, P or P|RSVD) (§5.7). */
static u32 fault_code(const struct guest_walk_cpu *cpu, u32 access, u32 base)
{
	u32 ec = base;
	if (access & GW_WRITE)
		ec |= PFEC_W;
	if ((access & GW_USER) && !(access & GW_IMPLICIT))
		ec |= PFEC_U;
	/* I/D is set for fetches only if SMEP = 1, or PAE/4-level paging with NXE = 1. */
	bool pae_nx = cpu->mode != GUEST_PAGING_32BIT && cpu->efer_nxe;
	if ((access & GW_FETCH) && (cpu->cr4_smep || pae_nx))
		ec |= PFEC_I;
	return ec;
}

/*
 * Access rights (SDM Vol. 3A §5.6). @p perms is the GW_PERM_* combination over the path.
 * Returns true when the access is allowed.
 */
static bool access_allowed(const struct guest_walk_cpu *cpu, u32 access, u32 perms)
{
	bool user_addr = perms & GW_PERM_U;
	bool writable = perms & GW_PERM_W;
	bool executable = perms & GW_PERM_X;

	if ((access & GW_USER) && !(access & GW_IMPLICIT)) {
		/* User-mode access: only user-mode addresses; writes need R/W = 1 whatever CR0.WP. */
		if (!user_addr)
			return false;
		if ((access & GW_WRITE) && !writable)
			return false;
		if ((access & GW_FETCH) && !executable)
			return false;
		return true;
	}
	/* Supervisor-mode access (CPL < 3, or an implicit access). */
	if (access & GW_FETCH)
		return executable && !(user_addr && cpu->cr4_smep);
	/* SMAP: data accesses to user-mode addresses need EFLAGS.AC = 1 and an explicit access. */
	if (user_addr && cpu->cr4_smap && (!cpu->eflags_ac || (access & GW_IMPLICIT)))
		return false;
	/* CR0.WP = 1: supervisor writes honour R/W; with WP = 0 they may write read-only pages. */
	if ((access & GW_WRITE) && cpu->cr0_wp && !writable)
		return false;
	return true;
}

static enum guest_walk_status fail(struct guest_walk_result *out, enum guest_walk_status st, u64 gpa, u32 ec)
{
	out->status = st;
	out->gpa = gpa;
	out->error_code = ec;
	return st;
}

/*
 * Set A in every entry used and D in the leaf on writes (§5.8). The PAE PDPTEs have no
 * accessed flag (they are loaded with CR3, §5.4.1), so that level is skipped.
 */
static bool set_accessed_dirty(const struct guest_walk_cpu *cpu, const struct guest_walk_ops *ops,
			       struct guest_walk_result *out, bool write)
{
	unsigned esize = cpu->mode == GUEST_PAGING_32BIT ? 4 : 8;
	int first = cpu->mode == GUEST_PAGING_PAE ? 1 : 0;
	for (int i = first; i < out->levels; i++) {
		u64 want = out->entry[i] | GPTE_A;
		if (write && i == out->levels - 1)
			want |= GPTE_D;
		if (want != out->entry[i] && !ops->write(ops->ctx, out->entry_gpa[i], esize, want)) {
			out->gpa = out->entry_gpa[i];
			return false;
		}
	}
	return true;
}

/* Read one entry, record it in the path. False when not RAM. */
static bool read_entry(const struct guest_walk_ops *ops, struct guest_walk_result *out, u64 gpa,
		       unsigned esize, u64 *e)
{
	if (!ops->read(ops->ctx, gpa, esize, e))
		return false;
	out->entry[out->levels] = *e;
	out->entry_gpa[out->levels] = gpa;
	out->levels++;
	return true;
}

enum guest_walk_status guest_walk(const struct guest_walk_cpu *cpu, const struct guest_walk_ops *ops,
				  u64 la, u32 access, u32 flags, struct guest_walk_result *out)
{
	memset(out, 0, sizeof(*out));

	/* Paging off: the linear address (32 bits wide, §5.1.1) is the physical address. */
	if (cpu->mode == GUEST_PAGING_NONE) {
		out->status = GW_OK;
		out->gpa = la & 0xffffffffULL;
		out->page_size = PAGE_SIZE;
		out->perms = GW_PERM_R | GW_PERM_W | GW_PERM_U | GW_PERM_X;
		return GW_OK;
	}

	/* Step 1: the top-level table, from CR3 (§5.3, §5.4.1, §5.5). */
	unsigned esize = 8, index_bits = 9;
	int level;
	u64 table, e;
	if (cpu->mode == GUEST_PAGING_32BIT) {
		esize = 4;
		index_bits = 10;
		level = 2;
		table = cpu->cr3 & 0xfffff000ULL;
	} else if (cpu->mode == GUEST_PAGING_PAE) {
		/* The PDPTE comes from the registers loaded with CR3 (or from memory). */
		unsigned i = (la >> 30) & 3;
		u64 pdpt = cpu->cr3 & 0xffffffe0ULL;
		if (cpu->pdpte) {
			e = cpu->pdpte[i];
			out->entry[0] = e;
			out->entry_gpa[0] = pdpt + 8 * i;
			out->levels = 1;
		} else if (!read_entry(ops, out, pdpt + 8 * i, 8, &e)) {
			return fail(out, GW_NOT_RAM, pdpt + 8 * i, 0);
		}
		if (!(e & GPTE_P))
			return fail(out, GW_FAULT, 0, fault_code(cpu, access, 0));
		if (reserved_bits_set(cpu, e, 3))
			return fail(out, GW_FAULT, 0, fault_code(cpu, access, PFEC_P | PFEC_RSVD));
		level = 2;
		table = e & phys_mask(cpu);
	} else {
		level = 4;
		table = cpu->cr3 & phys_mask(cpu);
	}

	/* Step 2: one entry per level until a leaf, combining rights (§5.6). */
	bool rw_all = true, us_all = true, xd_any = false;
	u64 page_size = 0;
	for (;;) {
		unsigned shift = PAGE_SHIFT + index_bits * (level - 1);
		u64 index = (la >> shift) & (BIT(index_bits) - 1);
		u64 egpa = table + index * esize;
		if (!read_entry(ops, out, egpa, esize, &e))
			return fail(out, GW_NOT_RAM, egpa, 0);
		if (!(e & GPTE_P))
			return fail(out, GW_FAULT, 0, fault_code(cpu, access, 0));
		if (reserved_bits_set(cpu, e, level))
			return fail(out, GW_FAULT, 0, fault_code(cpu, access, PFEC_P | PFEC_RSVD));
		rw_all = rw_all && (e & GPTE_RW);
		us_all = us_all && (e & GPTE_US);
		if (esize == 8 && cpu->efer_nxe)
			xd_any = xd_any || (e & GPTE_XD);
		if (entry_is_leaf(cpu, e, level)) {
			page_size = BIT(shift);
			break;
		}
		table = entry_address(cpu, e, level, 0);
		level--;
	}

	/* Step 3: check the access against the combined rights. */
	u32 perms = GW_PERM_R | (rw_all ? GW_PERM_W : 0) | (us_all ? GW_PERM_U : 0) | (xd_any ? 0 : GW_PERM_X);
	if (!access_allowed(cpu, access, perms))
		return fail(out, GW_FAULT, 0, fault_code(cpu, access, PFEC_P));

	/* Step 4: accessed and dirty flags (§5.8), then the translation. */
	if ((flags & GW_SET_AD) && !set_accessed_dirty(cpu, ops, out, access & GW_WRITE))
		return fail(out, GW_NOT_RAM, out->gpa, 0);
	out->status = GW_OK;
	out->gpa = entry_address(cpu, e, level, page_size) | (la & (page_size - 1));
	out->page_size = page_size;
	out->perms = perms;
	out->global = cpu->cr4_pge && (e & GPTE_G);
	return GW_OK;
}

int guest_walk_load_pdptes(const struct guest_walk_cpu *cpu, const struct guest_walk_ops *ops, u64 pdpte[4])
{
	u64 pdpt = cpu->cr3 & 0xffffffe0ULL;
	for (int i = 0; i < 4; i++) {
		if (!ops->read(ops->ctx, pdpt + 8 * i, 8, &pdpte[i]))
			return -2;
		if ((pdpte[i] & GPTE_P) && reserved_bits_set(cpu, pdpte[i], 3))
			return -1;
	}
	return 0;
}

enum guest_paging_mode guest_paging_mode_of(bool cr0_pg, bool cr4_pae, bool efer_lma)
{
	if (!cr0_pg)
		return GUEST_PAGING_NONE;
	if (!cr4_pae)
		return GUEST_PAGING_32BIT;
	return efer_lma ? GUEST_PAGING_4LEVEL : GUEST_PAGING_PAE;
}
