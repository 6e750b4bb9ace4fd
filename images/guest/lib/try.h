/**
 * @file try.h
 * @brief Catching an exception on purpose: run a function, learn whether it faulted.
 *
 * Tests of a hypervisor often need to say "this instruction must raise #GP" (a bad MSR)
 * or "this read must page-fault" (an unmapped page). guest_try() runs a function; if an
 * exception interrupts it, the function is abandoned, and guest_try() returns the vector
 * with the details in a struct fault_info, much like a C++ try/catch around one call.
 *
 *	static void read_bad_msr(void *arg) { rdmsr(0x12345); }
 *	...
 *	struct fault_info fi;
 *	if (guest_try(read_bad_msr, NULL, &fi) == EXC_GP) ...   // as expected
 *
 * How it works (try.c, context.S): guest_try() saves its registers and stack pointer
 * like setjmp(), then calls the function. The exception handler (idt.c), seeing a
 * guest_try() in progress, records the fault and jumps back to the saved state like
 * longjmp(). The function's stack frames are simply dropped. Calls may nest: the
 * innermost guest_try() catches.
 *
 * Caveat: whatever the function was doing is left half done (locks, half-written
 * structures), exactly as with longjmp(). Keep caught functions short.
 */
#ifndef GUEST_TRY_H
#define GUEST_TRY_H

#include <hvlab/types.h>

/** What the CPU reported about the exception. */
struct fault_info {
	u64 vector;     /**< exception vector, EXC_* in idt.h */
	u64 error_code; /**< error code, 0 for vectors without one */
	u64 rip;        /**< address of the instruction that faulted */
	u64 cr2;        /**< CR2 at the fault: the faulting linear address for a #PF */
};

/**
 * Call fn(arg). Returns -1 if it returned normally, or the vector (0-31) of the exception
 * that interrupted it, with the details in *fi (when @p fi is not NULL; all zero when
 * there was no exception).
 */
int guest_try(void (*fn)(void *), void *arg, struct fault_info *fi);

/* ---- For the exception handler (idt.c) only ------------------------------------------ */
struct trap_frame;

/** Is a guest_try() call in progress on this CPU? */
bool try_active(void);

/** Resume the innermost guest_try() with the fault in @p f. Does not return. */
void try_recover(const struct trap_frame *f, u64 cr2) __attribute__((noreturn));

#endif
