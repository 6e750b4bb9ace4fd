/*
 * Entering the guest and coming back.
 *
 * vmx_enter(struct guest_regs *regs, int launched) saves the hypervisor's callee-saved
 * registers, records the stack pointer as HOST_RSP, loads the guest's general registers
 * and executes VMLAUNCH (first time) or VMRESUME (SDM Vol. 3C §25.11.3; instruction reference in Chapter 31).
 * On a VM exit the CPU loads HOST_RSP and jumps to HOST_RIP = vmx_exit_entry, which
 * stores the guest's registers and returns 0 from vmx_enter as if it were a call.
 * If the entry itself fails, vmx_enter returns 1 (VMfailInvalid) or 2 (VMfailValid:
 * the reason is in the VM-instruction error field).
 */
#define HOST_RSP 0x6c14

	.text
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                   /* regs: vmx_exit_entry finds it at (%rsp) */

	movq $HOST_RSP, %rax
	vmwrite %rsp, %rax

	movl %esi, %eax              /* launched? decided before the registers are replaced */
	testl %eax, %eax
	movq 0*8(%rdi), %rax
	movq 1*8(%rdi), %rcx
	movq 2*8(%rdi), %rdx
	movq 3*8(%rdi), %rbx
	movq 5*8(%rdi), %rbp
	movq 6*8(%rdi), %rsi
	movq 8*8(%rdi), %r8
	movq 9*8(%rdi), %r9
	movq 10*8(%rdi), %r10
	movq 11*8(%rdi), %r11
	movq 12*8(%rdi), %r12
	movq 13*8(%rdi), %r13
	movq 14*8(%rdi), %r14
	movq 15*8(%rdi), %r15
	movq 7*8(%rdi), %rdi         /* last: it held the pointer */
	jnz 1f                       /* flags are still those of the testl above */
	vmlaunch
	jmp vm_entry_failed
1:	vmresume

vm_entry_failed:
	/* CF=1: VMfailInvalid (1); ZF=1: VMfailValid (2). */
	movl $1, %eax
	jc 2f
	movl $2, %eax
2:	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %rdi                   /* guest RDI; (%rsp+8) is now regs */
	movq 8(%rsp), %rdi
	movq %rax, 0*8(%rdi)
	movq %rcx, 1*8(%rdi)
	movq %rdx, 2*8(%rdi)
	movq %rbx, 3*8(%rdi)
	movq %rbp, 5*8(%rdi)
	movq %rsi, 6*8(%rdi)
	movq %r8, 8*8(%rdi)
	movq %r9, 9*8(%rdi)
	movq %r10, 10*8(%rdi)
	movq %r11, 11*8(%rdi)
	movq %r12, 12*8(%rdi)
	movq %r13, 13*8(%rdi)
	movq %r14, 14*8(%rdi)
	movq %r15, 15*8(%rdi)
	popq %rax
	movq %rax, 7*8(%rdi)
	popq %rdi                    /* regs */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	xorl %eax, %eax
	ret
