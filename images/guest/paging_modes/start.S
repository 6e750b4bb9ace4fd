/*
 * start.S — entry, descriptor tables, exception stubs and ring-3 stubs of the 32-bit
 * paging-modes test kernel (paging_modes.c says what it checks and why).
 *
 * Built like the Multiboot1 test kernel (images/guest/mb1: gcc -m32, linked at 4 MiB by
 * images/guest/mb1/mb1.ld), entered by the hvlab Multiboot loader in protected mode with
 * paging and interrupts off (Multiboot 0.6.96 §3.2). Unlike mb1 it needs exceptions and
 * ring 3, so it brings its own GDT (with ring-3 segments and a TSS) and IDT:
 *
 *	0x08 ring-0 code  0x10 ring-0 data  0x18 ring-3 code  0x20 ring-3 data  0x28 TSS
 *
 * How an expected fault is caught (the 32-bit twin of the guest library's guest_try()):
 * guarded_call(fn, arg) saves the callee-saved registers and ESP, then calls fn(arg).
 * If an exception arrives meanwhile, trap_handler() (C) records it and points the trap
 * frame's EIP at guard_recover, which restores the saved ESP and returns the vector from
 * guarded_call(). Ring 3 comes back the same way: its stubs end with INT 0x80 (a DPL-3
 * gate), which trap_handler() turns into a normal return.
 */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x3 /* bit 0: page-aligned modules, bit 1: memory information */

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b /* 0x18 | RPL 3 */
#define SEL_DATA3 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS 0x28

	/* Multiboot 0.6.96 §3.1.1: magic, flags, checksum, in the first 8 KiB. */
	.section .multiboot, "a"
	.balign 4
	.long MB1_MAGIC, MB1_FLAGS, -(MB1_MAGIC + MB1_FLAGS)

	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	/* A stack, .bss cleared, our own descriptor tables, then C. */
	movl $boot_stack + 16384, %esp
	movl %eax, entry_eax
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb
	call tables_init
	call pm_main
1:	cli
	hlt
	jmp 1b

/* Fill in the TSS descriptor's base, load GDT, IDT and TR, and reload every segment
 * register from our GDT (the loader's GDT lives in memory we do not own). */
tables_init:
	movl $tss, %eax
	movw %ax, gdt + SEL_TSS + 2
	shrl $16, %eax
	movb %al, gdt + SEL_TSS + 4
	movb %ah, gdt + SEL_TSS + 7
	movl $trap_stack + 4096, tss + 4   /* ESP0: where ring 3 traps land */
	movl $SEL_DATA0, tss + 8           /* SS0 */
	lgdt gdt_desc
	ljmp $SEL_CODE0, $2f
2:	movw $SEL_DATA0, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movw $SEL_TSS, %ax
	ltr %ax
	call idt_fill
	lidt idt_desc
	ret

/* One 32-bit interrupt gate (SDM Vol. 3A §7.11, Figure 7-2) per stub in isr_table:
 * vectors 0-31 DPL 0, vector 0x80 DPL 3 (INT 0x80 from ring 3). */
idt_fill:
	xorl %ecx, %ecx
3:	movl isr_table(,%ecx,4), %eax
	movw %ax, idt(,%ecx,8)
	movw $SEL_CODE0, idt + 2(,%ecx,8)
	movw $0x8e00, idt + 4(,%ecx,8)
	shrl $16, %eax
	movw %ax, idt + 6(,%ecx,8)
	incl %ecx
	cmpl $32, %ecx
	jb 3b
	movl $isr_128, %eax
	movw %ax, idt + 0x80 * 8
	movw $SEL_CODE0, idt + 0x80 * 8 + 2
	movw $0xee00, idt + 0x80 * 8 + 4
	shrl $16, %eax
	movw %ax, idt + 0x80 * 8 + 6
	ret

/* Exception stubs: a frame of (error code or 0, vector) on top of what the CPU pushed.
 * Vectors 8, 10-14, 17, 21 push an error code (SDM Vol. 3A §7.3, Table 7-1). */
.macro STUB vec
isr_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21)
	pushl $0
	.endif
	pushl $\vec
	jmp isr_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128
	STUB \v
	.endr

/* struct trap_frame in paging_modes.c: PUSHAL's eight registers, vector, error code,
 * then EIP, CS, EFLAGS (and ESP, SS from ring 3). */
isr_common:
	pushal
	movw $SEL_DATA0, %ax
	movw %ax, %ds
	movw %ax, %es
	pushl %esp
	call trap_handler
	addl $4, %esp
	popal
	addl $8, %esp
	iretl

/* int guarded_call(u32 (*fn)(void *), void *arg): -1 when fn returned (its EAX in
 * guard_value), else the vector that interrupted it (details in guard_*). */
	.globl guarded_call
guarded_call:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, guard_esp
	movl 24(%esp), %eax
	pushl %eax
	movl $1, guard_active
	call *24(%esp)
	movl $0, guard_active
	addl $4, %esp
	movl %eax, guard_value
	movl $-1, %eax
	jmp 4f
	.globl guard_recover
guard_recover:                  /* entered by IRET from trap_handler(), ring 0 */
	movl guard_esp, %esp
	movl $0, guard_active
	movl guard_vector, %eax
4:	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* void enter_user(const u32 args[3]): IRET to ring 3 at args[0] with EAX = args[1],
 * ECX = args[2], on the user stack; run under guarded_call(). */
	.globl enter_user
enter_user:
	movl 4(%esp), %edx
	movl (%edx), %ebx
	movl 4(%edx), %eax
	movl 8(%edx), %ecx
	movw $SEL_DATA3, %si
	movw %si, %ds
	movw %si, %es
	pushl $SEL_DATA3
	pushl $user_stack + 4096
	pushl $0x2
	pushl $SEL_CODE3
	pushl %ebx
	iretl

/* The ring-3 stubs, alone on a page the kernel maps user-accessible (user_page). */
	.section .text.user, "ax"
	.balign 4096
	.globl user_page, user_read32, user_write32
user_page:
user_read32:                    /* EAX = *(u32 *)EAX */
	movl (%eax), %eax
	int $0x80
user_write32:                   /* *(u32 *)EAX = ECX */
	movl %ecx, (%eax)
	int $0x80
	.balign 4096

	.section .rodata
	.balign 4
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long isr_\v
	.endr

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08 ring-0 code, flat 32-bit */
	.quad 0x00cf92000000ffff        /* 0x10 ring-0 data */
	.quad 0x00cffa000000ffff        /* 0x18 ring-3 code */
	.quad 0x00cff2000000ffff        /* 0x20 ring-3 data */
	.quad 0x0000890000000067        /* 0x28 32-bit TSS, limit 103; base set above */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
idt_desc:
	.word 256 * 8 - 1
	.long idt
	.globl entry_eax
entry_eax:
	.long 0

	.bss
	.balign 4096
	.globl user_stack
user_stack:
	.skip 4096
trap_stack:
	.skip 4096
idt:
	.skip 256 * 8
tss:
	.skip 104
	.balign 16
boot_stack:
	.skip 16384
