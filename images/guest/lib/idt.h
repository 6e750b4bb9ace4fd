/**
 * @file idt.h
 * @brief The guest's interrupt descriptor table and its exception handler.
 *
 * Vectors 0-31 (the CPU exceptions) have entry stubs (isr.S); 32-255 are left not present,
 * so a stray interrupt shows up as a #GP whose error code names the IDT entry.
 *
 * What happens to an exception, in this order (trap_handler() in idt.c):
 *   1. it happened inside the exception handler itself: fatal, exit GUEST_EXIT_NESTED_FAULT;
 *   2. a handler was installed with idt_set_handler(): it runs, and if it returns true the
 *      faulting code resumes (IRETQ);
 *   3. code is running inside guest_try() (try.h): that call returns the vector;
 *   4. otherwise: "unexpected exception" report, exit GUEST_EXIT_EXCEPTION(vector).
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <hvlab/types.h>

/* Exception vectors (SDM Vol. 3A §7.3, Table 7-1). */
#define EXC_DE 0   /* divide error */
#define EXC_DB 1   /* debug */
#define EXC_NMI 2
#define EXC_BP 3   /* breakpoint (INT3) */
#define EXC_OF 4   /* overflow */
#define EXC_BR 5   /* BOUND range exceeded */
#define EXC_UD 6   /* invalid opcode */
#define EXC_NM 7   /* device not available */
#define EXC_DF 8   /* double fault */
#define EXC_TS 10  /* invalid TSS */
#define EXC_NP 11  /* segment not present */
#define EXC_SS 12  /* stack-segment fault */
#define EXC_GP 13  /* general protection */
#define EXC_PF 14  /* page fault */
#define EXC_MF 16  /* x87 floating-point error */
#define EXC_AC 17  /* alignment check */
#define EXC_MC 18  /* machine check */
#define EXC_XM 19  /* SIMD floating-point */
#define EXC_VE 20  /* virtualization exception */
#define EXC_CP 21  /* control protection */

/* Page-fault error-code bits (SDM Vol. 3A §5.7, Figure 5-12). */
#define PF_ERR_P BIT(0)    /* 0: page not present; 1: protection violation */
#define PF_ERR_W BIT(1)    /* the access was a write */
#define PF_ERR_U BIT(2)    /* the access was made in user mode (CPL 3) */
#define PF_ERR_RSVD BIT(3) /* a reserved bit was set in a paging entry */
#define PF_ERR_I BIT(4)    /* the access was an instruction fetch */

/** The registers isr.S saves, lowest address first (the reverse of its push order). */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;     /* pushed by the stub (error code: by the CPU for some) */
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A §7.14.2, Figure 7-8) */
};

/** A handler for one vector. Return true to resume the interrupted code (it may first
 *  change the frame, e.g. fix a page table or move f->rip), false to pass the exception
 *  on (to guest_try() or the fatal report). */
typedef bool (*trap_handler_fn)(struct trap_frame *f);

/** Build and load the IDT. */
void idt_init(void);

/** Install @p fn for exception @p vector (0-31), or remove it with NULL. */
void idt_set_handler(u8 vector, trap_handler_fn fn);

/** "#PF page fault" for vector 14, and so on; "reserved" or "interrupt" otherwise. */
const char *exception_name(u64 vector);

/** Does exception @p vector push an error code? (SDM Vol. 3A Table 7-1) */
bool exception_has_error_code(u64 vector);

#endif
