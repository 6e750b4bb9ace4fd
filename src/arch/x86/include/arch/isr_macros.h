/*
 * isr_macros.h — assembler macros for interrupt entry, shared by the hypervisor
 * (src/arch/x86/isr.S) and the guest library (images/guest/lib/isr.S).
 *
 * The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors only, an error code
 * (SDM Vol. 3A §7.3, Table 7-1: 8, 10-14, 17, 21, 29, 30). ISR_STUB pushes a zero where
 * the CPU did not, then the vector, so every handler sees struct trap_frame
 * (arch/trap.h). Include from .S files only.
 */
#ifndef ARCH_ISR_MACROS_H
#define ARCH_ISR_MACROS_H

/* One 16-byte-aligned stub for vector \vec that continues at \common. */
.macro ISR_STUB vec, common
	.balign 16
isr_stub_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0                     /* no error code from the CPU: push a zero */
	.endif
	pushq $\vec
	jmp \common
.endm

/* Stubs for vectors 0 .. \count-1, 16 bytes apart, each continuing at \common. */
.macro ISR_STUB_TABLE count, common
	.altmacro
	.set vec, 0
	.rept \count
	ISR_STUB %vec, \common
	.set vec, vec + 1
	.endr
	.noaltmacro
.endm

/* The addresses of stubs 0 .. \count-1, one quadword each (for a table of gates). */
.macro ISR_STUB_ADDRESS vec
	.quad isr_stub_\vec
.endm

.macro ISR_STUB_ADDRESS_TABLE count
	.altmacro
	.set vec, 0
	.rept \count
	ISR_STUB_ADDRESS %vec
	.set vec, vec + 1
	.endr
	.noaltmacro
.endm

/* Save every general register (the rest of struct trap_frame), call \handler(frame),
 * restore them and return from the interrupt. The frame is 22 quadwords and the CPU
 * aligned RSP to 16 before pushing (SDM Vol. 3A §7.14.2), so the CALL is aligned. */
.macro TRAP_COMMON handler
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld                          /* C code assumes the direction flag is clear */
	movq %rsp, %rdi
	call \handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp               /* drop the vector and the error code */
	iretq
.endm

#endif
