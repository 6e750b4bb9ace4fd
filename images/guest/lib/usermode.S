/*
 * usermode.S — the doors between ring 0 and ring 3 (usermode.h), and the code that runs
 * in ring 3.
 *
 * Into ring 3: IRETQ pops RIP, CS, RFLAGS, RSP and SS (SDM Vol. 3A §7.14.3); when the new
 * CS has RPL 3 the CPU switches to CPL 3 and to the user stack given in the frame.
 * Back to ring 0: the user code executes SYSCALL, which loads CS and SS from IA32_STAR,
 * RIP from IA32_LSTAR, and leaves RSP alone (SDM Vol. 2B, SYSCALL): the first thing the
 * ring-0 side does is to take back the stack it left.
 */
#include "gdt.h"

	.text

/* u64 user_enter(u64 fn, u64 a0, u64 a1, u64 user_rsp)
 * Run fn(a0, a1) in ring 3 on the stack user_rsp; return its RAX when it is done. */
	.globl user_enter
user_enter:
	/* 1. Save the callee-saved registers and the stack pointer: the way back
	 *    (user_syscall_entry) restores them, as if user_enter returned normally. */
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_kernel_rsp(%rip)

	/* 2. An interrupt-return frame that lands in ring 3 at user_start. RFLAGS = 2
	 *    (bit 1 is always 1): interrupts stay off, IOPL 0. */
	pushq $(GDT_SEL_USER_DATA | GDT_RPL3)   /* SS */
	pushq %rcx                              /* RSP */
	pushq $2                                /* RFLAGS */
	pushq $(GDT_SEL_USER_CODE | GDT_RPL3)   /* CS */
	leaq user_start(%rip), %rax
	pushq %rax                              /* RIP */

	/* 3. The function in RAX, its arguments where the calling convention wants them. */
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	iretq

/* SYSCALL from ring 3 arrives here (IA32_LSTAR) in ring 0, still on the user stack,
 * with RAX = the user function's result. */
	.globl user_syscall_entry
user_syscall_entry:
	movq user_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret                                     /* from user_enter, with RAX */

	.bss
	.balign 8
user_kernel_rsp:
	.quad 0

/* ---- The user page: code that runs in ring 3 ---------------------------------------
 * A page of its own (aligned and padded to 4 KiB), so that making it user-accessible
 * exposes nothing else of the image. */
	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:

/* Entered by IRETQ: call the function in RAX, then go back to ring 0. */
user_start:
	call *%rax
	syscall
	ud2                                     /* not reached */

	.globl user_read64
user_read64:
	movq (%rdi), %rax
	ret

	.globl user_write64
user_write64:
	movq %rsi, (%rdi)
	xorl %eax, %eax
	ret

	.balign 4096
	.globl user_page_end
user_page_end:
