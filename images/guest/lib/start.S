/*
 * start.S — the first instructions of every test guest.
 *
 * The hypervisor enters here in 64-bit mode with RDI = struct hvlab_boot_info * and
 * RSP = 0 (src/include/hvlab/guest_abi.h). RSP = 0 means "no stack": the first PUSH or
 * CALL would write just below address 0, which is not mapped, and with no IDT yet that
 * fault becomes a triple fault. So the first job is a stack.
 */
#define STACK_SIZE (16 * 1024)

	.section .text.start, "ax"
	.globl _start
_start:
	/* 1. Our stack: the top of a 16-byte aligned array in .bss. */
	movq $boot_stack + STACK_SIZE, %rsp

	/* 2. Clear .bss. The hypervisor gives us zeroed RAM, but a loader elsewhere may not,
	 *    and C expects zeroed statics. REP STOSB stores AL to [RDI], RCX times, so keep
	 *    the boot-info pointer in RDX meanwhile. The stack is in .bss too: nothing is on
	 *    it yet, so clearing it is harmless. */
	movq %rdi, %rdx
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	cld
	rep stosb
	movq %rdx, %rdi

	/* 3. Into C. RBP = 0 ends the frame-pointer chain for debuggers. guest_entry()
	 *    never returns; the loop below is only a safety net. */
	xorl %ebp, %ebp
	call guest_entry
1:	cli
	hlt
	jmp 1b

	.bss
	.balign 16
	.globl boot_stack
boot_stack:
	.skip STACK_SIZE
