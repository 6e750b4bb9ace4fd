/*
 * Interrupt and exception entry stubs, one per vector.
 *
 * The CPU pushes an error code for some exceptions only (SDM Vol. 3A §7.3, Table 7-1):
 * 8, 10-14, 17, 21, 29, 30. Stubs for the others push a zero so every handler sees one
 * frame layout (struct trap_frame in arch/idt.h).
 */
	.text

.macro ISR_STUB vec
	.balign 16
isr_stub_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.globl isr_stubs
isr_stubs:
	.altmacro
	.set vec, 0
	.rept 256
	ISR_STUB %vec
	.set vec, vec + 1
	.endr

isr_common:
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
	cld
	movq %rsp, %rdi
	call trap_dispatch
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
	addq $16, %rsp               /* vector and error code */
	iretq
