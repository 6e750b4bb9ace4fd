/*
 * From GRUB's 32-bit protected mode to the hypervisor's 64-bit C code.
 *
 * Multiboot2 leaves us in 32-bit protected mode, paging off, with EAX = magic and
 * EBX = boot information (spec §3.3). Entering 64-bit mode takes the steps of
 * SDM Vol. 3A §10.8.5 ("Initializing IA-32e Mode"): load page tables with CR4.PAE set,
 * set IA32_EFER.LME, enable paging, then jump to a 64-bit code segment.
 * The boot page tables identity-map the first 4 GiB with 2 MiB pages and stay the
 * hypervisor's page tables for the whole run (RAM above 4 GiB is not used yet:
 * src/mm/memory.c says so at boot).
 */
#include <arch/boot.h>

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %edi              /* keep magic and MBI for hv_main(magic, mbi) */
	movl %ebx, %esi
	movl $boot_stack_top, %esp

	/* No long mode, no hypervisor: say so on COM1 and stop. */
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx                /* CPUID.80000001H:EDX.LM */
	jc 1f
	movl $no_long_mode_msg, %ebx
	jmp early_fail32
1:
	/* PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, PD entries map 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	xorl %ecx, %ecx
2:	movl %eax, boot_pdpt(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 2b
	xorl %ecx, %ecx              /* 2048 entries of 2 MiB = 4 GiB */
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, boot_pd(, %ecx, 8) /* high dword stays 0: all below 4 GiB */
	incl %ecx
	cmpl $2048, %ecx
	jb 3b

	movl %cr4, %eax
	orl $(1 << 5), %eax          /* CR4.PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx       /* IA32_EFER */
	rdmsr
	orl $(1 << 8), %eax          /* EFER.LME */
	wrmsr
	movl %cr0, %eax
	andl $0x9fffffff, %eax        /* caches on: clear CR0.CD and CR0.NW (SDM Vol. 3A §12.5.1) */
	orl $0x80010001, %eax        /* CR0.PG | CR0.WP | CR0.PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $BOOT_CS64, $entry64

/* Print the NUL-terminated string at EBX on COM1 (no init: GRUB/BIOS left it usable), halt. */
early_fail32:
	movw $0x3f8, %dx
4:	movb (%ebx), %al
	testb %al, %al
	jz 5f
	outb %al, %dx
	incl %ebx
	jmp 4b
5:	hlt
	jmp 5b

	.code64
entry64:
	movw $BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	/* EDI = magic, ESI = MBI address (zero-extended by the 32-bit moves above). */
	movl %edi, %edi
	movl %esi, %esi
	call hv_main
6:	cli
	hlt
	jmp 6b

	.section .rodata
no_long_mode_msg:
	.asciz "hvlab: this CPU has no 64-bit long mode; cannot start\n"

	.balign 8
	.globl boot_gdt
boot_gdt:
	.quad 0                      /* null */
	.quad 0x00af9a000000ffff     /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff     /* 0x10: data, DPL 0 */
	.quad 0x00cf9a000000ffff     /* 0x18: 32-bit code (AP trampoline) */
boot_gdt_end:
	.globl boot_gdt_ptr
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4 * 4096
	.globl boot_stack_top
boot_stack: .skip BOOT_STACK_SIZE
boot_stack_top:
