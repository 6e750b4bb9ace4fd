/**
 * @file debug_dr.h
 * @brief Laying the debugger's hardware breakpoints and watchpoints onto the x86 debug
 * registers DR0-DR3 and DR7 (SDM Vol. 3B §19.2, "Debug Registers").
 *
 * Each of DR0-DR3 holds one linear address; DR7 says, per register, whether it is
 * enabled (L0-L3), on what it triggers (R/W0-3: 00 instruction, 01 data write, 11 data
 * read or write; 10 is I/O) and how many bytes it covers (LEN0-3: 00 = 1, 01 = 2,
 * 11 = 4, 10 = 8 bytes), the address being aligned to that length (§19.2.5). A GDB
 * watchpoint on an unaligned or longer range takes several registers, one per aligned
 * piece. x86 has no "read only" watchpoint: DEBUG_WP_READ is refused.
 *
 * Pure logic: built for the host and unit-tested (tests/unit/test_debug_dr.c).
 */
#ifndef ARCH_DEBUG_DR_H
#define ARCH_DEBUG_DR_H

#include <hvlab/types.h>
#include <hvlab/debug_bptable.h>

#define DR_COUNT 4
#define DR7_RESERVED1 BIT(10)           /**< DR7 bit 10 reads as 1 */
#define DR7_LE BIT(8)                   /**< exact data breakpoints (recommended, §19.2.4) */
#define DR6_BS BIT(14)                  /**< single step (TF) */
#define DR6_BD BIT(13)                  /**< debug-register access detected */
#define DR6_HITS 0xfULL                 /**< B0-B3: which register matched */
#define DR6_RESERVED1 0xffff0ff0ULL     /**< DR6 bits that read as 1 */

/** DR0-DR3 and DR7 for a set of requests, and which request each register serves. */
struct dr_plan {
	u64 dr[DR_COUNT];
	u64 dr7;
	s8 owner[DR_COUNT]; /**< index into the request array, or -1 for an unused register */
};

/**
 * Split [@p addr, @p addr + @p len) into naturally aligned pieces of 1, 2, 4 or 8 bytes,
 * largest first, at most @p max of them. Returns how many, or -1 (empty range, or more
 * than @p max pieces needed).
 */
int dr_split(u64 addr, u64 len, u64 *piece_addr, u8 *piece_len, int max);

/**
 * Lay the @p n requests of @p hw (entries with refs == 0 skipped) onto the four debug
 * registers. Returns 0, or -1 when they do not fit or one cannot be done on x86 (a read
 * watchpoint); @p plan is then unusable.
 */
int dr_plan(const struct debug_hwbp *hw, size_t n, struct dr_plan *plan);

#endif
