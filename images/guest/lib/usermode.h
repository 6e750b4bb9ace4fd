/**
 * @file usermode.h
 * @brief Running a few instructions in ring 3 (CPL 3), and coming back.
 *
 * Some paging rules apply only to user-mode accesses: a page without the U/S flag is
 * out of reach of CPL 3, and a read-only page is never writable from CPL 3, whatever
 * CR0.WP says (SDM Vol. 3A §5.6). To test them the guest needs a way into ring 3:
 *
 *	u64 value;
 *	if (user_call(user_read64, va, 0, &value, &fi) < 0) ...  // ring 3 read it: value
 *	else ...                                                  // it faulted: fi says how
 *
 * The way in is IRETQ with a ring-3 frame (CS and SS with DPL 3, gdt.h); the way back
 * is SYSCALL, which enters ring 0 at the address in IA32_LSTAR (SDM Vol. 3A §6.8.8,
 * "Fast System Calls in 64-Bit Mode"; Vol. 2B, SYSCALL). An exception in ring 3 switches to the ring-0 stack
 * in TSS.RSP0 and is caught like any other by guest_try(), which user_call() uses.
 *
 * The code that runs in ring 3 is a handful of assembly functions on one page of its
 * own (usermode.S), which usermode_init() marks user-accessible, together with a user
 * stack page. Everything else of the image stays supervisor-only. Address spaces that
 * share kernel_as's tables (copying its top-level entries) share those two pages too.
 * One CPU at a time: the saved ring-0 stack pointer is a single variable.
 */
#ifndef GUEST_USERMODE_H
#define GUEST_USERMODE_H

#include <hvlab/types.h>
#include "try.h"

/** Functions that may run in ring 3 (they live on the user page, usermode.S). */
extern const char user_read64[];  /**< u64 user_read64(u64 va): return *(u64 *)va */
extern const char user_write64[]; /**< void user_write64(u64 va, u64 value): *(u64 *)va = value */

/** Enable SYSCALL and point it at the way back, and make the user page and the user
 *  stack accessible to ring 3 in kernel_as. Call once, before user_call(). */
void usermode_init(void);

/**
 * Run @p fn(@p a0, @p a1) in ring 3. Returns -1 when it returned (its RAX in *@p result,
 * if not NULL), or the vector of the exception that stopped it, with the details in
 * *@p fi (as guest_try()). Either way the CPU is back in ring 0 with the kernel's
 * segment registers.
 */
int user_call(const char *fn, u64 a0, u64 a1, u64 *result, struct fault_info *fi);

/** Read the u64 at @p va from ring 3; the vector of a fault, or -1 with *@p value set. */
static inline int user_read(u64 va, u64 *value, struct fault_info *fi)
{
	return user_call(user_read64, va, 0, value, fi);
}

/** Write @p value to the u64 at @p va from ring 3; the vector of a fault, or -1. */
static inline int user_write(u64 va, u64 value, struct fault_info *fi)
{
	return user_call(user_write64, va, value, NULL, fi);
}

/** The access raised #PF at @p va with error code @p err (SDM Vol. 3A §5.7, Figure 5-12). */
#define CHECK_PF(vec, fi, va, err)              \
	do {                                    \
		CHECK_EQ(vec, EXC_PF);          \
		CHECK_EQ((fi).error_code, err); \
		CHECK_EQ((fi).cr2, va);         \
	} while (0)

/** The access completed (guest_try() and user_call() return -1). */
#define CHECK_NO_FAULT(vec, fi) \
	CHECK((vec) < 0, "#%d err=0x%lx cr2=0x%lx", vec, (fi).error_code, (fi).cr2)

#endif
