/**
 * @file try.c
 * @brief guest_try(): run a function and catch the exception it raises (see try.h).
 */
#include <hvlab/types.h>
#include <arch/cpu.h>
#include "idt.h"
#include "try.h"

/** Registers that survive a call, saved by ctx_save() (layout documented in context.S). */
struct saved_context {
	u64 rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};

int ctx_save(struct saved_context *c) __attribute__((returns_twice));
void ctx_restore(const struct saved_context *c, int value) __attribute__((noreturn));

/** One guest_try() call in progress. They form a stack through @prev (innermost on top). */
struct try_frame {
	struct saved_context ctx;
	struct fault_info fault;
	struct try_frame *prev;
};

static struct try_frame *try_top;

int guest_try(void (*fn)(void *), void *arg, struct fault_info *fi)
{
	struct try_frame t = { .prev = try_top };

	/* ctx_save() returns 0 the first time. It "returns" a second time, with 1, if
	 * try_recover() restores the context because fn() faulted. */
	if (ctx_save(&t.ctx) == 0) {
		try_top = &t;
		fn(arg);
		try_top = t.prev;
		if (fi)
			*fi = (struct fault_info){ 0 };
		return -1;
	}

	/* fn() faulted: try_recover() has already popped our frame and filled t.fault. */
	if (fi)
		*fi = t.fault;
	return (int)t.fault.vector;
}

bool try_active(void)
{
	return try_top != NULL;
}

void try_recover(const struct trap_frame *f, u64 cr2)
{
	struct try_frame *t = try_top;

	/* 1. Record what the CPU told us. */
	t->fault.vector = f->vector;
	t->fault.error_code = f->error_code;
	t->fault.rip = f->rip;
	t->fault.cr2 = cr2;

	/* 2. Pop the frame, so a fault after this belongs to the enclosing guest_try(). */
	try_top = t->prev;

	/* 3. Continue in guest_try() as if ctx_save() returned 1. The exception frame and
	 *    everything fn() had on the stack are abandoned. No IRETQ is needed: in ring 0
	 *    with interrupts off, the CPU keeps no state about "being in a handler" (NMIs
	 *    aside, which these tests do not use). */
	ctx_restore(&t->ctx, 1);
}
