/*
 * Where an application processor starts: 16-bit real mode at AP_TRAMPOLINE_ADDR
 * (the SIPI vector), as SDM Vol. 3A §9.4.4 describes. smp.c copies this code there and
 * fills the parameter block at its end. The AP climbs real → protected → long mode
 * (SDM Vol. 3A §10.8.5) with the page tables, stack and entry point of the parameter
 * block, and calls entry(cpu). The guest library builds the same code for its own APs
 * (images/guest/lib/smp.c), with another AP_TRAMPOLINE_ADDR.
 */
#include <arch/boot.h>

#define ABS(label) (AP_TRAMPOLINE_ADDR + (label - ap_trampoline_start))

	.section .rodata
	.code16
	.globl ap_trampoline_start, ap_trampoline_end, ap_params
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax                /* CS = AP_TRAMPOLINE_ADDR >> 4: address our data through it */
	movw %ax, %ds
	lgdtl ap_gdt_ptr - ap_trampoline_start
	movl %cr0, %eax
	orl $1, %eax                 /* CR0.PE */
	movl %eax, %cr0
	ljmpl $BOOT_CS32, $ABS(ap_protected)

	.code32
ap_protected:
	movw $BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax          /* CR4.PAE */
	movl %eax, %cr4
	movl ABS(ap_param_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx       /* IA32_EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	andl $0x9fffffff, %eax        /* caches on: clear CR0.CD and CR0.NW (SDM Vol. 3A §12.5.1) */
	orl $0x80010000, %eax        /* CR0.PG | CR0.WP */
	movl %eax, %cr0
	ljmpl $BOOT_CS64, $ABS(ap_long)

	.code64
ap_long:
	movq ABS(ap_param_stack), %rsp
	movq ABS(ap_param_cpu), %rdi
	xorl %ebp, %ebp
	movq ABS(ap_param_entry), %rax
	callq *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
ap_gdt_ptr:
	.word 31                     /* the boot GDT: null, code64, data, code32 */
	.long boot_gdt
	.balign 8
ap_params:
ap_param_cr3: .quad 0
ap_param_stack: .quad 0
ap_param_cpu: .quad 0
ap_param_entry: .quad 0
ap_trampoline_end:
