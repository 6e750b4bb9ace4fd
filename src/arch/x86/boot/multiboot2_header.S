/*
 * The Multiboot2 header GRUB looks for in the first 32 KiB of the image
 * (Multiboot2 specification §3.1.1-§3.1.3). Only the mandatory fields and the end tag:
 * GRUB then loads the ELF segments at their physical addresses and enters _start in
 * 32-bit protected mode with EAX = 0x36d76289 and EBX = the boot information.
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

	.section .multiboot2, "a"
	.balign 8
mb2_header_start:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header_start
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))
	/* end tag: type 0, flags 0, size 8 */
	.balign 8
	.word 0, 0
	.long 8
mb2_header_end:
