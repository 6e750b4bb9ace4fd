/**
 * @file idt.h
 * @brief The hypervisor's interrupt descriptor table and its exception reports.
 */
#ifndef ARCH_IDT_H
#define ARCH_IDT_H

#include <hvlab/types.h>
#include <arch/trap.h>

#define IST_CRITICAL 1 /**< IST slot used by #DF, NMI and #MC */

/** A handler for one vector; returns normally to resume the interrupted code. */
typedef void (*trap_handler_fn)(struct trap_frame *f);

/** Build the IDT (once, on the bootstrap processor). */
void idt_init(void);

/** Load the IDT on this CPU. */
void idt_load(void);

/** Route @p vector to @p fn instead of the fatal exception report. */
void idt_set_handler(u8 vector, trap_handler_fn fn);

#endif
