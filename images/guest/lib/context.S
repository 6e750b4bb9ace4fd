/*
 * context.S — save and restore an execution context, like setjmp() and longjmp().
 *
 * A context is what a function needs to continue after a call: the callee-saved
 * registers of the System V x86-64 calling convention (RBX, RBP, R12-R15), the stack
 * pointer, RFLAGS, and where to continue (the return address). The other registers are
 * "scratch": a caller never expects them to survive a call, so they need not be saved.
 *
 * Layout of struct saved_context (try.c), offsets in bytes:
 *   0 rbx  8 rbp  16 r12  24 r13  32 r14  40 r15  48 rsp  56 rip  64 rflags
 */
	.text

/* int ctx_save(struct saved_context *c)
 * Returns 0 now; returns again, with the value given to ctx_restore(), when restored. */
	.globl ctx_save
ctx_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax           /* RSP as the caller will see it after our RET */
	movq %rax, 48(%rdi)
	movq (%rsp), %rax            /* our return address: where the caller continues */
	movq %rax, 56(%rdi)
	pushfq
	popq 64(%rdi)
	xorl %eax, %eax
	ret

/* void ctx_restore(const struct saved_context *c, int value)
 * Continue as if ctx_save(c) had just returned @value. Does not return. */
	.globl ctx_restore
ctx_restore:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp          /* back on the saved stack: later frames are dropped */
	pushq 64(%rdi)
	popfq
	movl %esi, %eax
	jmpq *56(%rdi)
