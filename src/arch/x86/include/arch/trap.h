/**
 * @file trap.h
 * @brief Exceptions: vector numbers, the saved-register frame, names. Shared by the
 * hypervisor and the guest library, whose interrupt stubs push the same frame
 * (arch/isr_macros.h).
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <hvlab/types.h>

/* Exception vectors (SDM Vol. 3A §7.3, Table 7-1). */
#define EXC_DE 0   /**< divide error */
#define EXC_DB 1   /**< debug */
#define EXC_NMI 2
#define EXC_BP 3   /**< breakpoint (INT3) */
#define EXC_OF 4   /**< overflow */
#define EXC_BR 5   /**< BOUND range exceeded */
#define EXC_UD 6   /**< invalid opcode */
#define EXC_NM 7   /**< device not available */
#define EXC_DF 8   /**< double fault */
#define EXC_TS 10  /**< invalid TSS */
#define EXC_NP 11  /**< segment not present */
#define EXC_SS 12  /**< stack-segment fault */
#define EXC_GP 13  /**< general protection */
#define EXC_PF 14  /**< page fault */
#define EXC_MF 16  /**< x87 floating-point error */
#define EXC_AC 17  /**< alignment check */
#define EXC_MC 18  /**< machine check */
#define EXC_XM 19  /**< SIMD floating-point */
#define EXC_VE 20  /**< virtualization exception */
#define EXC_CP 21  /**< control protection */

/** The register state the interrupt stubs save (arch/isr_macros.h), lowest address first. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;       /**< pushed by the stub (error code: by the CPU for some) */
	u64 rip, cs, rflags, rsp, ss; /**< pushed by the CPU (SDM Vol. 3A §7.14.2, Figure 7-8) */
};

/** "#PF page fault" for vector 14, and so on; "reserved" or "interrupt" otherwise. */
const char *exception_name(u64 vector);

/** Does exception @p vector push an error code? (SDM Vol. 3A §7.3, Table 7-1) */
bool exception_has_error_code(u64 vector);

#endif
