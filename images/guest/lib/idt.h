/**
 * @file idt.h
 * @brief The guest's interrupt descriptor table and its exception handler.
 *
 * Vectors 0-31 (the CPU exceptions) have entry stubs (isr.S); 32-255 are left not present,
 * so a stray interrupt shows up as a #GP whose error code names the IDT entry.
 *
 * What happens to an exception, in this order (trap_handler() in idt.c):
 *   1. it happened inside the exception handler itself: fatal, exit GUEST_EXIT_NESTED_FAULT;
 *   2. a handler was installed with idt_set_handler(): it runs, and if it returns true the
 *      faulting code resumes (IRETQ);
 *   3. code is running inside guest_try() (try.h): that call returns the vector;
 *   4. otherwise: "unexpected exception" report, exit GUEST_EXIT_EXCEPTION(vector).
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <hvlab/types.h>
#include <arch/trap.h> /* EXC_* vectors, struct trap_frame, exception_name() */

/* Page-fault error-code bits (SDM Vol. 3A §5.7, Figure 5-12). */
#define PF_ERR_P BIT(0)    /* 0: page not present; 1: protection violation */
#define PF_ERR_W BIT(1)    /* the access was a write */
#define PF_ERR_U BIT(2)    /* the access was made in user mode (CPL 3) */
#define PF_ERR_RSVD BIT(3) /* a reserved bit was set in a paging entry */
#define PF_ERR_I BIT(4)    /* the access was an instruction fetch */


/** A handler for one vector. Return true to resume the interrupted code (it may first
 *  change the frame, e.g. fix a page table or move f->rip), false to pass the exception
 *  on (to guest_try() or the fatal report). */
typedef bool (*trap_handler_fn)(struct trap_frame *f);

/** A handler for an interrupt vector (32-255); it must send the EOI itself. */
typedef void (*irq_handler_fn)(u64 vector);

/** Route interrupt @p vector (32-255) to @p fn (NULL: count it as stray). */
void irq_set_handler(u8 vector, irq_handler_fn fn);

/** How many interrupts arrived on a vector with no handler. */
u64 irq_stray_count(void);

/** Build and load the IDT. */
void idt_init(void);

/** Load the IDT built by idt_init() on this processor (each AP calls it). */
void idt_load(void);

/** Install @p fn for exception @p vector (0-31), or remove it with NULL. */
void idt_set_handler(u8 vector, trap_handler_fn fn);


#endif
