/**
 * @file insn_decode.c
 * @brief Decoding the MOV/MOVZX instruction that caused an MMIO exit.
 *
 * An EPT violation gives the guest-physical address but not the data or its width, so
 * the hypervisor reads the instruction bytes and decodes them here. The instruction
 * format is SDM Vol. 2A §2.1 (Figure 2-1):
 *
 *     [prefixes] [REX] opcode [ModRM] [SIB] [displacement] [immediate]
 *
 * The decoder assumes 64-bit mode (a long-mode guest), where 40-4F are REX prefixes.
 * It needs the operand width, direction, register and immediate, and the length to
 * advance RIP — never the address itself, which the exit already reports. That is why
 * the 67 (address-size) prefix is accepted: in 64-bit mode it changes how the address
 * is computed (32-bit registers) but not the ModRM/SIB/displacement layout (§2.2.1.3),
 * so the length is the same. Segment overrides are accepted and ignored for the same
 * reason. LOCK (F0) and REP (F2/F3) are refused.
 *
 * Bytes are read through next_byte(), which stops at `avail` and at 15 bytes (the
 * architectural maximum instruction length; longer ones raise #GP), so no input can make
 * it read further.
 */
#include <arch/insn_decode.h>
#include <hvlab/lib.h>

#define INSN_MAX_LEN 15

/* REX prefix bits (SDM Vol. 2A §2.2.1.2, Table 2-4). */
#define REX_W 0x8 /* 64-bit operand size */
#define REX_R 0x4 /* extends ModRM.reg */

/* Where decoding stands: the bytes, how many may be read, how many were. */
struct cursor {
	const u8 *bytes;
	size_t limit; /* min(avail, 15) */
	size_t pos;
};

/* Read the next byte; an error when it lies beyond what we may read. */
static int next_byte(struct cursor *c, u8 *b)
{
	if (c->pos >= c->limit)
		return c->pos >= INSN_MAX_LEN ? INSN_ERR_UNSUPPORTED : INSN_ERR_TRUNCATED;
	*b = c->bytes[c->pos++];
	return INSN_OK;
}

/* Read a little-endian immediate of @p n bytes (1, 2 or 4). */
static int read_imm(struct cursor *c, int n, u64 *out)
{
	u64 v = 0;
	for (int i = 0; i < n; i++) {
		u8 b;
		int err = next_byte(c, &b);
		if (err)
			return err;
		v |= (u64)b << (8 * i);
	}
	*out = v;
	return INSN_OK;
}

/* Skip @p n displacement bytes, checking each one is there. */
static int skip(struct cursor *c, int n)
{
	u64 unused;
	return n ? read_imm(c, n, &unused) : INSN_OK;
}

/* Prefixes that only matter for the address, which the exit already gives us (67 is
 * looked at for the width of a memory offset). */
static bool is_ignored_prefix(u8 b)
{
	return b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 || b == 0x64 || b == 0x65;
}

/*
 * The accepted opcodes (SDM Vol. 2B, MOV and MOVZX). `src` is the memory operand width
 * for the fixed-width forms (1 for the byte forms, 2 for MOVZX r, m16); 0 means "the
 * operand size" (2, 4 or 8 from 66 / REX.W). `imm` is the immediate width, 0 for none,
 * -1 for "2 with 66, else 4" (C7).
 */
static const struct opcode {
	bool twobyte; /* after 0F */
	u8 op;
	bool write;   /* register/immediate → memory */
	bool movzx;
	u8 src;
	s8 imm;
} opcodes[] = {
	{ false, 0x88, true, false, 1, 0 },  /* MOV r/m8, r8 */
	{ false, 0x89, true, false, 0, 0 },  /* MOV r/m16/32/64, r16/32/64 */
	{ false, 0x8a, false, false, 1, 0 }, /* MOV r8, r/m8 */
	{ false, 0x8b, false, false, 0, 0 }, /* MOV r16/32/64, r/m16/32/64 */
	{ false, 0xc6, true, false, 1, 1 },  /* MOV r/m8, imm8 */
	{ false, 0xc7, true, false, 0, -1 }, /* MOV r/m16/32/64, imm16/32 */
	{ true, 0xb6, false, true, 1, 0 },   /* MOVZX r16/32/64, r/m8 */
	{ true, 0xb7, false, true, 2, 0 },   /* MOVZX r32/64, r/m16 */
};

static const struct opcode *find_opcode(bool twobyte, u8 op)
{
	for (size_t i = 0; i < ARRAY_SIZE(opcodes); i++)
		if (opcodes[i].twobyte == twobyte && opcodes[i].op == op)
			return &opcodes[i];
	return NULL;
}

/*
 * ModRM, SIB and displacement (SDM Vol. 2A §2.1.5, Tables 2-2 and 2-3): returns the
 * ModRM byte after skipping everything that belongs to the memory operand.
 */
static int decode_modrm(struct cursor *c, u8 *modrm)
{
	int err = next_byte(c, modrm);
	if (err)
		return err;
	u8 mod = *modrm >> 6, rm = *modrm & 7;

	if (mod == 3)
		return INSN_ERR_NOT_MEMORY; /* a register operand cannot cause an MMIO exit */

	int disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		/* A SIB byte follows; with mod=00, base=101 means "no base, disp32". */
		u8 sib;
		if ((err = next_byte(c, &sib)))
			return err;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && rm == 5) {
		disp = 4; /* RIP-relative in 64-bit mode (§2.2.1.6) */
	}
	return skip(c, disp);
}

/*
 * MOV between the accumulator and a memory offset (A0-A3, SDM Vol. 2B "MOV"): no ModRM,
 * the absolute address follows the opcode, 8 bytes in 64-bit mode (4 with 67). Compilers
 * emit it ("movabs") for stores to constant addresses, page-table entries included.
 */
static int decode_moffs(struct cursor *c, u8 op, u8 rex, bool opsize16, bool addr32, struct mmio_insn *out)
{
	int err = skip(c, addr32 ? 4 : 8);
	if (err)
		return err;
	out->len = (u8)c->pos;
	out->size = !(op & 1) ? 1 : (rex & REX_W) ? 8 : opsize16 ? 2 : 4;
	out->write = op >= 0xa2;
	out->reg = GPR_RAX;
	if (!out->write)
		out->dest_size = out->size;
	return INSN_OK;
}

int insn_decode_mmio(const u8 *bytes, size_t avail, struct mmio_insn *out)
{
	return insn_decode(bytes, avail, true, out);
}

int insn_decode(const u8 *bytes, size_t avail, bool long_mode, struct mmio_insn *out)
{
	struct cursor c = { bytes, avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN, 0 };
	bool opsize16 = false, addr32 = false;
	u8 rex = 0, b;
	int err;

	memset(out, 0, sizeof(*out));

	/* Prefixes. A REX counts only right before the opcode (§2.2.1), so a legacy prefix
	 * after it cancels it. */
	for (;;) {
		if ((err = next_byte(&c, &b)))
			return err;
		if (b >= 0x40 && b <= 0x4f && long_mode) { /* INC/DEC outside 64-bit mode */
			rex = b;
		} else if (b == 0x66) {
			opsize16 = true;
			rex = 0;
		} else if (b == 0x67) {
			if (!long_mode)
				return INSN_ERR_UNSUPPORTED; /* 16-bit addressing: other ModRM forms */
			addr32 = true;
			rex = 0;
		} else if (is_ignored_prefix(b)) {
			rex = 0;
		} else {
			break;
		}
	}

	/* Opcode: one byte, or 0F and a second byte. */
	bool twobyte = b == 0x0f;
	if (twobyte && (err = next_byte(&c, &b)))
		return err;
	if (!twobyte && b >= 0xa0 && b <= 0xa3)
		return decode_moffs(&c, b, rex, opsize16, addr32 || !long_mode, out);
	const struct opcode *op = find_opcode(twobyte, b);
	if (!op)
		return INSN_ERR_UNSUPPORTED;

	u8 modrm;
	if ((err = decode_modrm(&c, &modrm)))
		return err;
	u8 reg = ((modrm >> 3) & 7) | ((rex & REX_R) ? 8 : 0);

	/* Operand size (SDM Vol. 1 §3.6.1, Table 3-4): REX.W wins over 66. */
	u8 opsize = (rex & REX_W) ? 8 : opsize16 ? 2 : 4;

	/* Immediate forms C6 /0 and C7 /0. C7 with REX.W sign-extends its imm32. */
	if (op->imm != 0) {
		if (((modrm >> 3) & 7) != 0)
			return INSN_ERR_UNSUPPORTED; /* C6/C7 with reg != 0 are other instructions */
		int n = op->imm > 0 ? op->imm : (opsize == 2 ? 2 : 4);
		if ((err = read_imm(&c, n, &out->imm)))
			return err;
		if (opsize == 8 && n == 4)
			out->imm = (u64)(s64)(s32)(u32)out->imm;
	}

	out->len = (u8)c.pos;
	out->size = op->src ? op->src : opsize;
	out->write = op->write;
	out->reg = op->imm ? -1 : (s8)reg;
	if (!op->write)
		out->dest_size = op->movzx ? opsize : out->size;

	/* Byte registers 4..7 without any REX are AH, CH, DH, BH (§2.2.1.2);
	 * with a REX they are SPL, BPL, SIL, DIL. MOVZX's register is never a byte one. */
	if (out->size == 1 && !op->movzx && !op->imm && rex == 0 && reg >= 4) {
		out->high_byte = true;
		out->reg = (s8)(reg - 4);
	}
	return INSN_OK;
}
