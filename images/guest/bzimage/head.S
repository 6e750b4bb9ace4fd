/*
 * head.S — the start of the protected-mode part of the test bzImage, at the load
 * address: the 32-bit entry at offset 0 and the 64-bit entry at offset 0x200, as in
 * Linux's arch/x86/boot/compressed/head_64.S (boot.rst "64-bit Boot Protocol").
 *
 * The 64-bit entry is reached in 64-bit mode with paging on, RSI = struct boot_params,
 * interrupts off, and no stack promised.
 */
	.section .text.head, "ax"
	.code32
	.globl startup_32
startup_32:
	/* The 32-bit boot protocol: not used by hvlab, so it only stops. */
	cli
	hlt
	jmp startup_32

	.org 0x200
	.code64
	.globl startup_64
startup_64:
	/* 1. A stack, then keep the entry state before anything changes it (the entry_*
	 *    variables are in .data, which clearing .bss leaves alone). */
	leaq boot_stack + 16384(%rip), %rsp
	pushfq
	popq entry_rflags(%rip)
	movw %cs, entry_cs(%rip)
	movq %rsi, entry_rsi(%rip)
	leaq startup_64(%rip), %rax
	movq %rax, entry_rip(%rip)

	/* 2. The C code uses absolute addresses, so it runs only where it was linked (the
	 *    loader uses pref_address when it fits). Anywhere else: exit with 0xbad10ad. */
	cmpq $startup_64, %rax
	jne 2f

	/* 3. Clear .bss (the stack is in it, and empty), then into C. */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	cld
	rep stosb
	xorl %ebp, %ebp
	movq entry_rsi(%rip), %rdi
	call bz_main
1:	cli
	hlt
	jmp 1b
2:	movl $0xbad10ad, %eax
	outl %eax, $0xf4
	jmp 1b

	.data
	.balign 8
	.globl entry_rflags, entry_rsi, entry_rip, entry_cs
entry_rflags:	.quad 0
entry_rsi:	.quad 0
entry_rip:	.quad 0
entry_cs:	.word 0

	/* The initrd the scenario gives, built in to compare. */
	.section .rodata
	.globl expected_initrd, expected_initrd_end
expected_initrd:
	.incbin "images/guest/bzimage/initrd.txt"
expected_initrd_end:

	.bss
	.balign 16
boot_stack:
	.skip 16384
