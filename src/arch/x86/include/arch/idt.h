/**
 * @file idt.h
 * @brief The hypervisor's interrupt descriptor table and its exception reports.
 */
#ifndef ARCH_IDT_H
#define ARCH_IDT_H

#include <hvlab/types.h>

#define IST_CRITICAL 1 /**< IST slot used by #DF, NMI and #MC */

/** The register state the interrupt stubs (isr.S) save, in push order reversed. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	/* pushed by the CPU (SDM Vol. 3A §7.14.2, Figure 7-8) */
	u64 rip, cs, rflags, rsp, ss;
};

/** A handler for one vector; returns normally to resume the interrupted code. */
typedef void (*trap_handler_fn)(struct trap_frame *f);

/** Build the IDT (once, on the bootstrap processor). */
void idt_init(void);

/** Load the IDT on this CPU. */
void idt_load(void);

/** Route @p vector to @p fn instead of the fatal exception report. */
void idt_set_handler(u8 vector, trap_handler_fn fn);

/** Name of exception vector 0-31 ("#PF page fault"), or "interrupt" above. */
const char *exception_name(u64 vector);

#endif
