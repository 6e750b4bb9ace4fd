/**
 * @file debug_dr.c
 * @brief DR0-DR3 and DR7 for the debugger's hardware requests (see debug_dr.h;
 * SDM Vol. 3B §19.2.4 "Debug Control Register (DR7)", §19.2.5 "Breakpoint Field
 * Recognition"). Pure logic.
 */
#include <arch/debug_dr.h>

/* R/W field per request type (§19.2.4); 0xff: not possible on x86. */
static const u8 rw_bits[] = {
	[DEBUG_BP_SW] = 0xff, [DEBUG_BP_HW] = 0, [DEBUG_WP_WRITE] = 1, [DEBUG_WP_READ] = 0xff,
	[DEBUG_WP_ACCESS] = 3,
};

/* LEN field per piece length 1, 2, 4, 8 (§19.2.4: 8 bytes is 10b). */
static u8 len_bits(u8 len)
{
	return len == 1 ? 0 : len == 2 ? 1 : len == 8 ? 2 : 3;
}

int dr_split(u64 addr, u64 len, u64 *piece_addr, u8 *piece_len, int max)
{
	int n = 0;

	if (len == 0 || addr + len < addr)
		return -1;
	while (len) {
		/* The largest power of two that the address is aligned to and the rest covers. */
		u8 size = 8;
		while (size > 1 && ((addr & (size - 1)) || size > len))
			size >>= 1;
		if (n == max)
			return -1;
		piece_addr[n] = addr;
		piece_len[n] = size;
		n++;
		addr += size;
		len -= size;
	}
	return n;
}

int dr_plan(const struct debug_hwbp *hw, size_t n, struct dr_plan *plan)
{
	int used = 0;

	plan->dr7 = DR7_RESERVED1;
	for (int i = 0; i < DR_COUNT; i++) {
		plan->dr[i] = 0;
		plan->owner[i] = -1;
	}
	for (size_t r = 0; r < n; r++) {
		if (!hw[r].refs)
			continue;
		if (hw[r].type >= sizeof(rw_bits) || rw_bits[hw[r].type] == 0xff)
			return -1;
		u64 addrs[DR_COUNT];
		u8 lens[DR_COUNT];
		/* An instruction breakpoint always has LEN = 1 byte (§19.2.5). */
		int pieces = hw[r].type == DEBUG_BP_HW ? (addrs[0] = hw[r].addr, lens[0] = 1, 1)
						       : dr_split(hw[r].addr, hw[r].len, addrs, lens, DR_COUNT - used);
		if (pieces < 0 || used + pieces > DR_COUNT)
			return -1;
		for (int p = 0; p < pieces; p++, used++) {
			plan->dr[used] = addrs[p];
			plan->owner[used] = (s8)r;
			plan->dr7 |= BIT(2 * used);                                  /* L0-L3 */
			plan->dr7 |= (u64)rw_bits[hw[r].type] << (16 + 4 * used);   /* R/W0-3 */
			plan->dr7 |= (u64)len_bits(lens[p]) << (18 + 4 * used);     /* LEN0-3 */
		}
	}
	if (used && (plan->dr7 & 0xffff0000ULL))
		plan->dr7 |= DR7_LE; /* some data breakpoint: ask for exact reporting */
	return 0;
}
