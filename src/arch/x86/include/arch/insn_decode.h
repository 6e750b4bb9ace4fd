/**
 * @file insn_decode.h
 * @brief Decoding the guest instruction behind an MMIO access.
 *
 * An EPT violation on an emulated device page tells the hypervisor the address but not
 * the data (SDM Vol. 3C §28.2.1, Table 28-7): the instruction must be decoded. Only the
 * forms compilers emit for device registers are accepted: MOV r/m<->r (88, 89, 8A, 8B),
 * MOV accumulator<->memory offset (A0-A3),
 * MOV r/m, imm (C6, C7), MOVZX (0F B6, 0F B7), with legacy 66 and REX prefixes and every
 * ModRM/SIB/displacement form. Anything else is refused, and the guest is told so.
 * 64-bit mode, or 32-bit protected mode (CS.D = 1: no REX, 4-byte offsets, and the 67
 * prefix refused since it selects 16-bit addressing). Pure logic, fuzzable on the host.
 */
#ifndef ARCH_INSN_DECODE_H
#define ARCH_INSN_DECODE_H

#include <hvlab/types.h>
#include <arch/regs.h>

/** A decoded memory-access instruction. */
struct mmio_insn {
	u8 len;          /**< instruction length in bytes */
	u8 size;         /**< access width in bytes: 1, 2, 4 or 8 */
	bool write;      /**< true: register/immediate → memory; false: memory → register */
	s8 reg;          /**< register operand (enum gpr), -1 for an immediate source */
	bool high_byte;  /**< 8-bit access to AH/CH/DH/BH (no REX, reg 4..7) */
	u8 dest_size;    /**< reads: bytes written to reg (MOVZX zero-extends to it; 4 clears bits 63:32); writes: 0 */
	u64 imm;         /**< the immediate for C6/C7 (sign-extended for 8-byte C7) */
};

/** Errors. */
enum insn_error {
	INSN_OK = 0,
	INSN_ERR_TRUNCATED = -1,   /**< fewer bytes than the instruction needs */
	INSN_ERR_UNSUPPORTED = -2, /**< not one of the accepted forms */
	INSN_ERR_NOT_MEMORY = -3,  /**< ModRM names a register, not memory */
};

/**
 * Decode the instruction at @p bytes (up to @p avail bytes, at most 15 are read).
 * Returns INSN_OK and fills @p out, or a negative enum insn_error.
 */
int insn_decode_mmio(const u8 *bytes, size_t avail, struct mmio_insn *out);

/** As insn_decode_mmio(), for 64-bit code (@p long_mode) or 32-bit protected-mode code. */
int insn_decode(const u8 *bytes, size_t avail, bool long_mode, struct mmio_insn *out);

#endif
