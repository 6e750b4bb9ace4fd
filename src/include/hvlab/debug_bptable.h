/**
 * @file debug_bptable.h
 * @brief The debugger's breakpoint tables: software breakpoints (an int3 written into
 * guest memory, the original byte kept) and hardware requests (instruction breakpoints
 * and watchpoints, which the architecture lays onto its debug registers).
 *
 * Pure bookkeeping: nothing here touches guest memory or hardware, so it builds for the
 * host and is unit-tested (tests/unit/test_debug_bptable.c). The debug core
 * (src/debug/debug_core.c) reads and writes the guest around these calls.
 *
 * GDB may insert the same breakpoint twice and expects one removal per insertion (GDB
 * manual, "Packets", Z0: "the stub must handle duplicate insertions"), so entries count
 * references. Two guest-virtual addresses may map one guest-physical byte (an alias):
 * the int3 is written once and the original byte restored only when the last entry on
 * that byte goes.
 */
#ifndef HVLAB_DEBUG_BPTABLE_H
#define HVLAB_DEBUG_BPTABLE_H

#include <hvlab/types.h>

/** Breakpoint and watchpoint kinds; the numbers are the Z packet's TYPE field. */
enum debug_bp_type {
	DEBUG_BP_SW = 0,     /**< software breakpoint: int3 in guest memory */
	DEBUG_BP_HW = 1,     /**< hardware instruction breakpoint */
	DEBUG_WP_WRITE = 2,  /**< watchpoint on writes */
	DEBUG_WP_READ = 3,   /**< watchpoint on reads (x86 cannot: refused) */
	DEBUG_WP_ACCESS = 4, /**< watchpoint on reads and writes */
};

#define DEBUG_SW_MAX 32 /**< software breakpoints per partition */
#define DEBUG_HW_MAX 4  /**< hardware requests per partition (x86 has 4 debug registers) */

/** One software breakpoint. refs == 0: a free slot. */
struct debug_swbp {
	u64 addr;    /**< the address GDB gave (guest-virtual, or guest-physical in phys mode) */
	u64 gpa;     /**< the guest-physical byte that holds the int3 */
	u8 orig;     /**< the byte the int3 replaced */
	u8 refs;     /**< insertions not yet removed */
	bool lifted; /**< the original byte is back for a moment (stepping over it) */
};

/** One hardware request. refs == 0: a free slot. */
struct debug_hwbp {
	u8 type;  /**< enum debug_bp_type, not DEBUG_BP_SW */
	u8 refs;
	u64 addr; /**< guest-linear address */
	u64 len;  /**< bytes watched (1 for an instruction breakpoint) */
};

/** Every breakpoint of one partition. */
struct debug_bptable {
	struct debug_swbp sw[DEBUG_SW_MAX];
	struct debug_hwbp hw[DEBUG_HW_MAX];
};

/** Empty @p t. */
void bptable_init(struct debug_bptable *t);

/** The software breakpoint GDB set at @p addr, or NULL. */
struct debug_swbp *bptable_sw_find(struct debug_bptable *t, u64 addr);

/** A software breakpoint whose int3 sits at guest-physical @p gpa, or NULL. */
struct debug_swbp *bptable_sw_find_gpa(struct debug_bptable *t, u64 gpa);

/**
 * Insert a software breakpoint at @p addr (guest-physical @p gpa). Returns its entry,
 * NULL when the table is full. *@p fresh is true when the caller must now fill
 * entry->orig from guest memory and write the int3 (no entry covered @p gpa yet); when
 * false, the int3 is already there (a duplicate or an alias) and orig is filled in.
 */
struct debug_swbp *bptable_sw_add(struct debug_bptable *t, u64 addr, u64 gpa, bool *fresh);

/** Remove one insertion of @p bp. True when the caller must now write bp->orig back
 *  (no other entry still needs the int3 at bp->gpa); the entry is then free. */
bool bptable_sw_put(struct debug_bptable *t, struct debug_swbp *bp);

/** The hardware request of @p type on [@p addr, @p addr + @p len), or NULL. */
struct debug_hwbp *bptable_hw_find(struct debug_bptable *t, u8 type, u64 addr, u64 len);

/** Add (or count again) a hardware request; NULL when all DEBUG_HW_MAX slots are used. */
struct debug_hwbp *bptable_hw_add(struct debug_bptable *t, u8 type, u64 addr, u64 len);

/** Remove one insertion of @p bp. */
void bptable_hw_put(struct debug_bptable *t, struct debug_hwbp *bp);

/** True when no breakpoint of either kind is set. */
bool bptable_empty(const struct debug_bptable *t);

#endif
