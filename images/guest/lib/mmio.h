/**
 * @file mmio.h
 * @brief Reading and writing device registers in memory-mapped I/O space.
 *
 * An access to an emulated device page stops the guest with an EPT violation, and the
 * hypervisor must decode the instruction to learn the data and its size. It decodes only
 * plain MOV (opcodes 88/89/8A/8B/C6/C7) and MOVZX (0F B6/B7) (src/arch/x86/include/arch/
 * insn_decode.h). A C dereference could compile to anything that reads memory (an ADD
 * or CMP with a memory operand, say), so each helper is written as exactly one MOV in
 * inline assembly. "volatile" and the "memory" clobber keep the compiler from removing,
 * merging or reordering the accesses.
 */
#ifndef GUEST_MMIO_H
#define GUEST_MMIO_H

#include <hvlab/types.h>

/* mov (addr), %r32: opcode 8B */
static inline u32 mmio_read32(u64 addr)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

/* mov (addr), %r64: REX.W 8B */
static inline u64 mmio_read64(u64 addr)
{
	u64 v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

/* mov %r32, (addr): opcode 89 */
static inline void mmio_write32(u64 addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

/* mov %r64, (addr): REX.W 89 */
static inline void mmio_write64(u64 addr, u64 v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

#endif
