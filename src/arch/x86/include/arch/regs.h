/**
 * @file regs.h
 * @brief General-purpose register numbers.
 */
#ifndef ARCH_REGS_H
#define ARCH_REGS_H

/** GPR numbers in hardware encoding order (SDM Vol. 2A §2.1.5, Table 2-2). */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

#endif
