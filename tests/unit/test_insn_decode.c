/* Unit tests for src/arch/x86/insn_decode.c: a table of encodings and what they mean. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <arch/insn_decode.h>

/* One accepted instruction and its expected decoding. */
struct good_case {
	const char *text;
	u8 bytes[15];
	u8 len, size;
	bool write;
	s8 reg;
	bool high_byte;
	u8 dest_size;
	u64 imm;
};

#define R false
#define W true

/* MOV between a register and memory (88, 89, 8A, 8B). */
static const struct good_case mov_reg[] = {
	{ "mov eax,[rdi]", { 0x8b, 0x07 }, 2, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov [rax+8],rbx", { 0x48, 0x89, 0x58, 0x08 }, 4, 8, W, GPR_RBX, false, 0, 0 },
	{ "mov [rsi],ax", { 0x66, 0x89, 0x06 }, 3, 2, W, GPR_RAX, false, 0, 0 },
	{ "mov eax,[r12]", { 0x41, 0x8b, 0x04, 0x24 }, 4, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov [rax+0x100],r8d", { 0x44, 0x89, 0x80, 0x00, 0x01, 0x00, 0x00 }, 7, 4, W, GPR_R8, false, 0, 0 },
	{ "mov r15,[rip+0x10]", { 0x4c, 0x8b, 0x3d, 0x10, 0x00, 0x00, 0x00 }, 7, 8, R, GPR_R15, false, 8, 0 },
};

/* Byte registers: AH..BH without REX, SPL..DIL and R8B.. with one. */
static const struct good_case byte_regs[] = {
	{ "mov ah,[rdi]", { 0x8a, 0x27 }, 2, 1, R, GPR_RAX, true, 1, 0 },
	{ "mov bh,[rdi]", { 0x8a, 0x3f }, 2, 1, R, GPR_RBX, true, 1, 0 },
	{ "mov [0xfee01000],ah (SIB, no base)", { 0x88, 0x24, 0x25, 0x00, 0x10, 0xe0, 0xfe }, 7, 1, W,
	  GPR_RAX, true, 0, 0 },
	{ "mov [rdi],sil", { 0x40, 0x88, 0x37 }, 3, 1, W, GPR_RSI, false, 0, 0 },
	{ "mov r9b,[rcx]", { 0x44, 0x8a, 0x09 }, 3, 1, R, GPR_R9, false, 1, 0 },
	{ "mov bl,[rcx]", { 0x8a, 0x19 }, 2, 1, R, GPR_RBX, false, 1, 0 },
};

/* MOV r/m, imm (C6, C7): 8-, 16-, 32-bit immediates, sign-extended only with REX.W. */
static const struct good_case mov_imm[] = {
	{ "mov dword [rip+disp32],imm32", { 0xc7, 0x05, 0xd4, 0xc3, 0xb2, 0xa1, 0x78, 0x56, 0x34, 0x12 },
	  10, 4, W, -1, false, 0, 0x12345678 },
	{ "mov byte [rax+4],0xff", { 0xc6, 0x40, 0x04, 0xff }, 4, 1, W, -1, false, 0, 0xff },
	{ "mov word [rax],0x1234", { 0x66, 0xc7, 0x00, 0x34, 0x12 }, 5, 2, W, -1, false, 0, 0x1234 },
	{ "mov qword [rax],-1", { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7, 8, W, -1, false, 0,
	  0xffffffffffffffffULL },
	{ "mov qword [rax],imm32 sign-extended", { 0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80 }, 7, 8, W,
	  -1, false, 0, 0xffffffff80000000ULL },
	{ "mov dword [rax],0x80000000 (not extended)", { 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80 }, 6, 4, W,
	  -1, false, 0, 0x80000000ULL },
};

/* MOVZX (0F B6, 0F B7): size is the memory operand, dest_size the register. */
static const struct good_case movzx[] = {
	{ "movzx eax,byte [rdi+0x10]", { 0x0f, 0xb6, 0x47, 0x10 }, 4, 1, R, GPR_RAX, false, 4, 0 },
	{ "movzx rcx,word [rsi]", { 0x48, 0x0f, 0xb7, 0x0e }, 4, 2, R, GPR_RCX, false, 8, 0 },
	{ "movzx dx,byte [rbx]", { 0x66, 0x0f, 0xb6, 0x13 }, 4, 1, R, GPR_RDX, false, 2, 0 },
	{ "movzx esi,byte [rax] (SIL not AH: no byte register)", { 0x0f, 0xb6, 0x30 }, 3, 1, R, GPR_RSI,
	  false, 4, 0 },
};

/* Legacy prefixes and where REX must stand. */
static const struct good_case prefixes[] = {
	{ "mov eax,fs:[rbx]", { 0x64, 0x8b, 0x03 }, 3, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov eax,[edi] (67 prefix)", { 0x67, 0x8b, 0x07 }, 3, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov rax,[rdi] (66 then REX.W: REX.W wins)", { 0x66, 0x48, 0x8b, 0x07 }, 4, 8, R, GPR_RAX,
	  false, 8, 0 },
	{ "mov ax,[rdi] (REX before 66 is ignored)", { 0x48, 0x66, 0x8b, 0x07 }, 4, 2, R, GPR_RAX, false,
	  2, 0 },
	{ "15 bytes: cs cs cs mov qword [rsp+0x100],imm32",
	  { 0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 }, 15,
	  8, W, -1, false, 0, 0x12345678 },
};

/* ModRM/SIB/displacement forms (SDM Vol. 2A Tables 2-2, 2-3). */
static const struct good_case addressing[] = {
	{ "mov eax,[rsp+8] (SIB, disp8)", { 0x8b, 0x44, 0x24, 0x08 }, 4, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov eax,[rcx*4+0] (SIB base 101, disp32)", { 0x8b, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x00 }, 7, 4,
	  R, GPR_RAX, false, 4, 0 },
	{ "mov eax,[rbp+0] (mod 01, rm 101)", { 0x8b, 0x45, 0x00 }, 3, 4, R, GPR_RAX, false, 4, 0 },
	{ "mov eax,[r13+0] (REX.B does not change the encoding)", { 0x41, 0x8b, 0x45, 0x00 }, 4, 4, R,
	  GPR_RAX, false, 4, 0 },
	{ "mov [rbx+rsi*8+0x12345678],edx", { 0x89, 0x94, 0xf3, 0x78, 0x56, 0x34, 0x12 }, 7, 4, W,
	  GPR_RDX, false, 0, 0 },
	{ "mov eax,[rip+0]", { 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00 }, 6, 4, R, GPR_RAX, false, 4, 0 },
};

/* Every table, for the tests that run over all accepted forms. */
static const struct {
	const struct good_case *cases;
	size_t n;
} all_tables[] = {
	{ mov_reg, ARRAY_SIZE(mov_reg) },     { byte_regs, ARRAY_SIZE(byte_regs) },
	{ mov_imm, ARRAY_SIZE(mov_imm) },     { movzx, ARRAY_SIZE(movzx) },
	{ prefixes, ARRAY_SIZE(prefixes) },   { addressing, ARRAY_SIZE(addressing) },
};

/* Decode from an exactly-sized heap copy, so ASan reports any read past @p avail. */
static int decode(const u8 *bytes, size_t avail, struct mmio_insn *out)
{
	u8 *copy = malloc(avail ? avail : 1);
	memcpy(copy, bytes, avail);
	int rc = insn_decode_mmio(copy, avail, out);
	free(copy);
	return rc;
}

/* Decode each case of a table and compare every field, naming the case on failure. */
static void check_table(const struct good_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct good_case *c = &cases[i];
		struct mmio_insn in;
		int rc = decode(c->bytes, c->len, &in);
		if (rc != INSN_OK)
			fail_msg("%s: returned %d", c->text, rc);
		if (in.len != c->len || in.size != c->size || in.write != c->write || in.reg != c->reg ||
		    in.high_byte != c->high_byte || in.dest_size != c->dest_size || in.imm != c->imm)
			fail_msg("%s: got len %u size %u write %d reg %d high %d dest %u imm %#llx", c->text,
				 in.len, in.size, in.write, in.reg, in.high_byte, in.dest_size,
				 (unsigned long long)in.imm);
	}
}

static void test_mov_between_register_and_memory(void **state)
{
	check_table(mov_reg, ARRAY_SIZE(mov_reg));
}

static void test_byte_registers_high_and_rex_forms(void **state)
{
	check_table(byte_regs, ARRAY_SIZE(byte_regs));
}

static void test_mov_immediate_widths_and_sign_extension(void **state)
{
	check_table(mov_imm, ARRAY_SIZE(mov_imm));
}

static void test_movzx_sizes(void **state)
{
	check_table(movzx, ARRAY_SIZE(movzx));
}

static void test_prefixes(void **state)
{
	check_table(prefixes, ARRAY_SIZE(prefixes));
}

static void test_modrm_sib_and_displacement_forms(void **state)
{
	check_table(addressing, ARRAY_SIZE(addressing));
}

/* Trailing bytes after the instruction do not change the result. */
static void test_extra_bytes_after_instruction_are_ignored(void **state)
{
	for (size_t t = 0; t < ARRAY_SIZE(all_tables); t++) {
		for (size_t i = 0; i < all_tables[t].n; i++) {
			const struct good_case *c = &all_tables[t].cases[i];
			u8 buf[32];
			struct mmio_insn in;
			memset(buf, 0xcc, sizeof(buf));
			memcpy(buf, c->bytes, c->len);
			assert_int_equal(decode(buf, sizeof(buf), &in), INSN_OK);
			assert_int_equal(in.len, c->len);
		}
	}
}

static void test_every_truncation_is_reported(void **state)
{
	for (size_t t = 0; t < ARRAY_SIZE(all_tables); t++) {
		for (size_t i = 0; i < all_tables[t].n; i++) {
			const struct good_case *c = &all_tables[t].cases[i];
			for (size_t avail = 0; avail < c->len; avail++) {
				struct mmio_insn in;
				if (decode(c->bytes, avail, &in) != INSN_ERR_TRUNCATED)
					fail_msg("%s cut to %zu bytes: not INSN_ERR_TRUNCATED", c->text, avail);
			}
		}
	}
}

static void test_register_operand_is_not_memory(void **state)
{
	static const u8 forms[][3] = {
		{ 0x89, 0xc0 }, { 0x8b, 0xc8 }, { 0x0f, 0xb6, 0xc0 }, { 0xc6, 0xc0 }, { 0x48, 0x8b, 0xc0 },
	};
	static const size_t lens[] = { 2, 2, 3, 2, 3 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct mmio_insn in;
		u8 buf[8] = { 0 };
		memcpy(buf, forms[i], lens[i]);
		assert_int_equal(decode(buf, sizeof(buf), &in), INSN_ERR_NOT_MEMORY);
	}
}

static void test_other_instructions_are_unsupported(void **state)
{
	static const struct {
		u8 bytes[4];
		size_t len;
	} forms[] = {
		{ { 0x01, 0x07 }, 2 },             /* add [rdi],eax */
		{ { 0xf3, 0xa4 }, 2 },             /* rep movsb */
		{ { 0xf0, 0x89, 0x07 }, 3 },       /* lock mov */
		{ { 0x0f, 0x05 }, 2 },             /* syscall */
		{ { 0x0f, 0xbe, 0x07 }, 3 },       /* movsx: not accepted */
		{ { 0xc7, 0x08, 0, 0 }, 4 },       /* C7 /1 */
		{ { 0xc6, 0x38, 0 }, 3 },          /* C6 /7 */
		{ { 0x90 }, 1 },                   /* nop */
		{ { 0xa4 }, 1 },                   /* movsb */
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct mmio_insn in;
		u8 buf[16] = { 0 };
		memcpy(buf, forms[i].bytes, forms[i].len);
		assert_int_equal(decode(buf, sizeof(buf), &in), INSN_ERR_UNSUPPORTED);
	}
}

/* MOV between the accumulator and an absolute address (A0-A3): 8-byte offset in 64-bit
 * mode, 4 with 67; the width from REX.W / 66; the register is always RAX (AL for A0/A2). */
static void test_mov_accumulator_memory_offset(void **state)
{
	struct mmio_insn in;
	u8 store64[] = { 0x48, 0xa3, 8, 0, 0x40, 3, 0, 0x10, 0, 0 };   /* movabs %rax,0x100003400008 */
	assert_int_equal(insn_decode_mmio(store64, sizeof(store64), &in), INSN_OK);
	assert_int_equal(in.len, 10);
	assert_int_equal(in.size, 8);
	assert_true(in.write);
	assert_int_equal(in.reg, GPR_RAX);

	u8 load8[] = { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8 };                 /* movabs 0x0807..,%al */
	assert_int_equal(insn_decode_mmio(load8, sizeof(load8), &in), INSN_OK);
	assert_int_equal(in.len, 9);
	assert_int_equal(in.size, 1);
	assert_false(in.write);
	assert_false(in.high_byte);
	assert_int_equal(in.dest_size, 1);

	u8 store16_addr32[] = { 0x66, 0x67, 0xa3, 1, 2, 3, 4 };          /* mov %ax,addr32 */
	assert_int_equal(insn_decode_mmio(store16_addr32, sizeof(store16_addr32), &in), INSN_OK);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.size, 2);

	u8 truncated[] = { 0xa1, 1, 2, 3 };
	assert_int_equal(insn_decode_mmio(truncated, sizeof(truncated), &in), INSN_ERR_TRUNCATED);
}

/* 32-bit protected-mode code: no REX (40-4F are INC/DEC), 4-byte memory offsets, and
 * the 67 prefix (16-bit addressing) refused. */
static void test_32bit_code(void **state)
{
	struct mmio_insn in;
	u8 mov_store[] = { 0x89, 0x50, 0x04 };               /* mov %edx,4(%eax) */
	assert_int_equal(insn_decode(mov_store, sizeof(mov_store), false, &in), INSN_OK);
	assert_int_equal(in.len, 3);
	assert_int_equal(in.size, 4);
	assert_int_equal(in.reg, GPR_RDX);

	u8 moffs[] = { 0xa3, 0x60, 0x10, 0x41, 0x00, 0x99 };  /* mov %eax,0x411060 */
	assert_int_equal(insn_decode(moffs, sizeof(moffs), false, &in), INSN_OK);
	assert_int_equal(in.len, 5);
	assert_true(in.write);

	u8 rex_is_dec[] = { 0x48, 0x89, 0x07 };              /* dec %eax; mov ... */
	assert_int_equal(insn_decode(rex_is_dec, sizeof(rex_is_dec), false, &in), INSN_ERR_UNSUPPORTED);
	u8 addr16[] = { 0x67, 0x89, 0x07 };
	assert_int_equal(insn_decode(addr16, sizeof(addr16), false, &in), INSN_ERR_UNSUPPORTED);
}

/* More than 15 bytes can never be an instruction; only 15 bytes are ever read. */
static void test_instruction_longer_than_15_bytes_is_unsupported(void **state)
{
	u8 *buf = malloc(15);
	memset(buf, 0x66, 14);
	buf[14] = 0x8b; /* ModRM would be byte 16 */
	struct mmio_insn in;
	assert_int_equal(insn_decode_mmio(buf, 100, &in), INSN_ERR_UNSUPPORTED);
	free(buf);
}

static void test_only_prefixes_is_truncated(void **state)
{
	static const u8 prefixes[] = { 0x66, 0x48, 0x2e };
	struct mmio_insn in;
	assert_int_equal(decode(prefixes, sizeof(prefixes), &in), INSN_ERR_TRUNCATED);
}

/* Random input: no crash, no over-read, and an accepted instruction fits in avail. */
static void test_random_bytes_never_read_out_of_bounds(void **state)
{
	static const u8 interesting[] = { 0x66, 0x48, 0x41, 0x40, 0x0f, 0xb6, 0xb7, 0x88, 0x89,
					  0x8a, 0x8b, 0xc6, 0xc7, 0x24, 0x25, 0x05, 0x44, 0x84 };
	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t avail = (size_t)(rand() % 17);
		u8 buf[16];
		for (size_t i = 0; i < avail; i++)
			buf[i] = rand() % 2 ? interesting[rand() % sizeof(interesting)] : (u8)rand();
		struct mmio_insn in;
		int rc = decode(buf, avail, &in);
		assert_true(rc <= 0 && rc >= INSN_ERR_NOT_MEMORY);
		if (rc == INSN_OK) {
			assert_true(in.len <= avail && in.len <= 15);
			assert_true(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mov_between_register_and_memory),
		cmocka_unit_test(test_byte_registers_high_and_rex_forms),
		cmocka_unit_test(test_mov_immediate_widths_and_sign_extension),
		cmocka_unit_test(test_movzx_sizes),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_modrm_sib_and_displacement_forms),
		cmocka_unit_test(test_extra_bytes_after_instruction_are_ignored),
		cmocka_unit_test(test_every_truncation_is_reported),
		cmocka_unit_test(test_register_operand_is_not_memory),
		cmocka_unit_test(test_other_instructions_are_unsupported),
		cmocka_unit_test(test_mov_accumulator_memory_offset),
		cmocka_unit_test(test_32bit_code),
		cmocka_unit_test(test_instruction_longer_than_15_bytes_is_unsupported),
		cmocka_unit_test(test_only_prefixes_is_truncated),
		cmocka_unit_test(test_random_bytes_never_read_out_of_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
