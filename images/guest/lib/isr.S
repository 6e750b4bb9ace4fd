/*
 * isr.S — exception entry stubs for vectors 0-31, and the common path into C.
 *
 * On an exception the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors only, an
 * error code (SDM Vol. 3A §7.3, Table 7-1: vectors 8, 10-14, 17, 21, 29, 30). Each stub
 * below pushes a zero where the CPU did not, then its vector number, so the C handler
 * always sees one frame layout: struct trap_frame in idt.h.
 *
 * The frame is 5 (CPU) + 2 (stub) + 15 (registers) = 22 quadwords = 176 bytes, and the
 * CPU aligns RSP to 16 bytes before pushing in 64-bit mode (§7.14.2), so RSP is 16-byte
 * aligned at the CALL, as the C calling convention wants.
 */
	.text

.macro ISR_STUB vec
	.balign 16
isr_stub_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0                     /* no error code from the CPU: push a zero */
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.altmacro
	.set vec, 0
	.rept 32
	ISR_STUB %vec
	.set vec, vec + 1
	.endr

/* Save every general register, call trap_handler(frame), restore, return with IRETQ.
 * trap_handler() may instead never return (it ends the partition, or resumes a
 * guest_try() caller); then nothing here runs again for this exception. */
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
	cld                          /* C code assumes the direction flag is clear */
	movq %rsp, %rdi
	call trap_handler
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

/* The stubs' addresses, for idt_init(). */
.macro STUB_ADDRESS vec
	.quad isr_stub_\vec
.endm

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.set vec, 0
	.rept 32
	STUB_ADDRESS %vec
	.set vec, vec + 1
	.endr
