/*
 * start.S — the Multiboot header and the first instructions of the Multiboot1 test kernel.
 *
 * Conventions of external x86 test suites (kvm-unit-tests' x86/cstart.S): a 32-bit ELF
 * linked at 4 MiB, entered by a Multiboot loader in protected mode with
 * EAX = 0x2BADB002 and EBX = the Multiboot information (Multiboot 0.6.96 §3.2), no
 * stack (ESP undefined), paging and interrupts off.
 */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x3 /* bit 0: page-aligned modules, bit 1: memory information */

	/* §3.1.1: magic, flags, checksum; 4-byte aligned in the first 8 KiB of the file. */
	.section .multiboot, "a"
	.balign 4
	.long MB1_MAGIC, MB1_FLAGS, -(MB1_MAGIC + MB1_FLAGS)

	/* A Multiboot2 header too (Multiboot2 §3.1), so the same kernel also tests the
	 * Multiboot2 loader (format = multiboot2; format = auto prefers Multiboot1): magic,
	 * architecture 0 (i386), length, checksum, then tags, 8-byte aligned. */
#define MB2_MAGIC 0xE85250D6
	.balign 8
mb2_header:
	.long MB2_MAGIC, 0, mb2_header_end - mb2_header
	.long -(MB2_MAGIC + (mb2_header_end - mb2_header))
	/* Information request, required (flags 0): cmdline, loader name, module, basic
	 * meminfo, memory map (§3.1.4). */
	.word 1, 0
	.long 8 + 5 * 4
	.long 1, 2, 3, 4, 6
	.balign 8
	.word 0, 0      /* end tag */
	.long 8
mb2_header_end:

	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	/* 1. Keep what the loader handed over before any instruction changes it. The
	 *    entry_* variables are in .data, so clearing .bss below leaves them alone. */
	movl %eax, entry_eax
	movl %ebx, entry_ebx
	movw %cs, entry_cs
	movl %cr0, %eax
	movl %eax, entry_cr0

	/* 2. A stack, then EFLAGS (PUSHF needs the stack). */
	movl $boot_stack + 16384, %esp
	pushfl
	popl entry_eflags

	/* 3. Clear .bss (the stack is in it, and empty). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb

	/* 4. Into C; mb1_main() ends the partition through port 0xf4. */
	call mb1_main
1:	cli
	hlt
	jmp 1b

	.data
	.balign 4
	.globl entry_eax, entry_ebx, entry_cr0, entry_eflags, entry_cs
entry_eax:	.long 0
entry_ebx:	.long 0
entry_cr0:	.long 0
entry_eflags:	.long 0
entry_cs:	.word 0

	/* The initrd the scenario gives as module 0, built into the kernel to compare. */
	.section .rodata
	.globl expected_initrd, expected_initrd_end
expected_initrd:
	.incbin "images/guest/mb1/initrd.txt"
expected_initrd_end:

	.bss
	.balign 16
boot_stack:
	.skip 16384
