/*
 * The hypervisor's interrupt and exception entry: 256 stubs, 16 bytes apart (idt.c
 * computes each gate from isr_stubs), all continuing into trap_dispatch().
 */
#include <arch/isr_macros.h>

	.text
	.globl isr_stubs
isr_stubs:
	ISR_STUB_TABLE 256, isr_common

isr_common:
	TRAP_COMMON trap_dispatch
