/*
 * fuzz_insn_decode.c — libFuzzer target for src/arch/x86/insn_decode.c.
 *
 * Fuzzes: insn_decode_mmio() on arbitrary bytes (what a hostile guest can put behind an
 * MMIO access), with avail = the input's size (libFuzzer's buffer is exactly that big,
 * so ASan catches a read past it).
 * Asserts: the result is INSN_OK or an enum insn_error; on success 1 <= len <= 15 and
 * len <= avail, size is 1, 2, 4 or 8, reg is a GPR (0..15) or -1 for an immediate,
 * high_byte only for byte accesses to AH..BH, dest_size 0 for writes and 1..8 for reads;
 * the length is exact (the same bytes cut to len decode identically, cut to len - 1
 * are "truncated"); with 15 bytes or more available nothing is ever "truncated".
 */
#undef NDEBUG /* the checks below are the point */
#include <assert.h>
#include <stdint.h>

#include <arch/insn_decode.h>

/* A power of two up to 8: the only access widths the MMIO path handles. */
static bool is_width(u8 n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

/* The fields of a successful decoding, checked against each other and the input. */
static void check_ok(const struct mmio_insn *in, size_t avail)
{
	assert(in->len >= 1 && in->len <= 15 && in->len <= avail);
	assert(is_width(in->size));
	assert(in->reg >= -1 && in->reg < GPR_COUNT);
	assert(in->reg != -1 || in->write);             /* only writes have an immediate */
	assert(!in->high_byte || (in->size == 1 && in->reg >= 0 && in->reg <= 3));
	assert(in->write ? in->dest_size == 0 : is_width(in->dest_size) && in->dest_size >= in->size);
	assert(in->reg == -1 || in->imm == 0);
}

/* Decoding must not depend on bytes past the instruction, nor accept fewer than it needs. */
static void check_exact_length(const u8 *data, const struct mmio_insn *in)
{
	struct mmio_insn again;

	assert(insn_decode_mmio(data, in->len, &again) == INSN_OK);
	assert(again.len == in->len && again.size == in->size && again.write == in->write &&
	       again.reg == in->reg && again.high_byte == in->high_byte &&
	       again.dest_size == in->dest_size && again.imm == in->imm);
	assert(insn_decode_mmio(data, in->len - 1u, &again) == INSN_ERR_TRUNCATED);
}

/* One input: the bytes at the guest RIP, all of them available. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmio_insn in;
	int rc = insn_decode_mmio(data, size, &in);

	assert(rc == INSN_OK || rc == INSN_ERR_TRUNCATED || rc == INSN_ERR_UNSUPPORTED ||
	       rc == INSN_ERR_NOT_MEMORY);
	if (rc == INSN_ERR_TRUNCATED)
		assert(size < 15);
	if (rc == INSN_OK) {
		check_ok(&in, size);
		check_exact_length(data, &in);
	}
	return 0;
}
