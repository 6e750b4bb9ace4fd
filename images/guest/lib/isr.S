/*
 * isr.S — entry stubs for all 256 vectors (exceptions and interrupts), and the common
 * path into C.
 *
 * The stub and frame-saving macros are the hypervisor's own (arch/isr_macros.h), so the
 * guest's struct trap_frame is the one in arch/trap.h. trap_handler() may never return
 * (it ends the partition, or resumes a guest_try() caller); then nothing after the
 * call runs again for this exception.
 */
#include <arch/isr_macros.h>

	.text
	ISR_STUB_TABLE 256, isr_common

isr_common:
	TRAP_COMMON trap_handler

/* The stubs' addresses, for idt_init(). */
	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	ISR_STUB_ADDRESS_TABLE 256
