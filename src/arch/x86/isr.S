/*
 * The hypervisor's interrupt and exception entry: 256 stubs, 16 bytes apart (idt.c
 * computes each gate from isr_stubs), all continuing into trap_dispatch().
 */
#include <arch/isr_macros.h>

	.text
	.globl isr_stubs
isr_stubs:
	.altmacro
	.set vec, 0
	.rept 256
	ISR_STUB %vec, isr_common
	.set vec, vec + 1
	.endr

isr_common:
	TRAP_COMMON trap_dispatch
