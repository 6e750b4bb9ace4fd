/* Unit tests for src/debug/gdb_regs.c: target.xml and the g/G/p/P encodings made from one
 * register table (GDB manual, "Target Descriptions", "Packets"), with malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <hvlab/gdb_regs.h>
#include <hvlab/gdb_rsp.h>

static const struct gdb_reg_desc regs[] = {
	{ "rax", 64, "int64", "general", 0, 0, 0 },
	{ "eflags", 32, "i386_eflags", "general", 0, 0, 0 },
	{ "cr3", 64, "int64", NULL, GDB_REG_RO, 0, 0 },
	{ "st0", 80, "i387_ext", "float", GDB_REG_RO | GDB_REG_NOVALUE, 0, 0 },
};
static const struct gdb_target_desc desc = { "i386:x86-64", "org.gnu.gdb.i386.core",
					     "<flags id=\"i386_eflags\" size=\"4\"/>\n", regs, 4 };

static void test_target_xml(void **state)
{
	char xml[2048];
	int n = gdb_target_xml(&desc, xml, sizeof(xml));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(xml));
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
	assert_non_null(strstr(xml, "<flags id=\"i386_eflags\""));
	assert_non_null(strstr(xml, "<reg name=\"rax\" type=\"int64\" bitsize=\"64\" regnum=\"0\" group=\"general\"/>"));
	assert_non_null(strstr(xml, "<reg name=\"cr3\" type=\"int64\" bitsize=\"64\" regnum=\"2\"/>"));
	assert_non_null(strstr(xml, "regnum=\"3\" group=\"float\""));
	assert_non_null(strstr(xml, "</feature>\n</target>\n"));
	/* too small a buffer: -1, never an overrun */
	for (size_t len = 0; len < (size_t)n; len += 37)
		assert_int_equal(gdb_target_xml(&desc, xml, len), -1);
}

static void test_g_encode(void **state)
{
	u64 v[4] = { 0x1122334455667788ULL, 0x246, 0x112000, 0 };
	bool have[4] = { true, true, false, true };
	char out[128];

	assert_int_equal(gdb_regs_bytes(&desc), 8 + 4 + 8 + 10);
	int n = gdb_regs_encode(&desc, v, have, out, sizeof(out));
	assert_int_equal(n, 60);
	/* little-endian; cr3 without a value and st0 (NOVALUE) as "xx" */
	assert_string_equal(out, "8877665544332211" "46020000" "xxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(gdb_regs_encode(&desc, v, have, out, 60), -1); /* no room for the NUL */
}

static void test_p_encode(void **state)
{
	char out[32];

	assert_int_equal(gdb_reg_encode(&desc, 1, 0x202, true, out, sizeof(out)), 8);
	assert_string_equal(out, "02020000");
	assert_int_equal(gdb_reg_encode(&desc, 3, 0, true, out, sizeof(out)), 20);
	assert_string_equal(out, "xxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(gdb_reg_encode(&desc, 4, 0, true, out, sizeof(out)), -1);  /* no such register */
	assert_int_equal(gdb_reg_encode(&desc, 0, 0, true, out, 16), -1);          /* no room */
}

static void test_G_decode(void **state)
{
	u64 v[4];
	bool given[4];
	const char *g = "8877665544332211" "46020000" "xxxxxxxxxxxxxxxx" "00000000000000000000";

	assert_int_equal(gdb_regs_decode(&desc, g, strlen(g), v, given), RSP_OK);
	assert_true(given[0]);
	assert_int_equal(v[0], 0x1122334455667788ULL);
	assert_true(given[1]);
	assert_int_equal(v[1], 0x246);
	assert_false(given[2]); /* sent back unavailable */
	assert_false(given[3]); /* st0 never has a value here */
	assert_int_equal(gdb_regs_decode(&desc, g, strlen(g) - 2, v, given), RSP_ERR_SYNTAX);
	const char *bad = "88776655443322zz" "46020000" "xxxxxxxxxxxxxxxx" "00000000000000000000";
	assert_int_equal(gdb_regs_decode(&desc, bad, strlen(bad), v, given), RSP_ERR_HEX);
}

static void test_P_decode(void **state)
{
	u8 b[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	u64 v;

	assert_int_equal(gdb_reg_decode(&desc, 0, b, 8, &v), RSP_OK);
	assert_int_equal(v, 0x1122334455667788ULL);
	assert_int_equal(gdb_reg_decode(&desc, 1, b, 4, &v), RSP_OK);
	assert_int_equal(v, 0x55667788);
	assert_int_equal(gdb_reg_decode(&desc, 1, b, 8, &v), RSP_ERR_SYNTAX); /* wrong size */
	assert_int_equal(gdb_reg_decode(&desc, 3, b, 8, &v), RSP_ERR_RANGE);  /* no value */
	assert_int_equal(gdb_reg_decode(&desc, 99, b, 8, &v), RSP_ERR_RANGE);
}

static void test_xfer(void **state)
{
	const char doc[] = "0123456789";
	char out[16];

	assert_int_equal(gdb_xfer_reply(doc, 10, 0, 4, out, sizeof(out)), 5);
	assert_string_equal(out, "m0123");
	assert_int_equal(gdb_xfer_reply(doc, 10, 8, 100, out, sizeof(out)), 3);
	assert_string_equal(out, "l89");
	assert_int_equal(gdb_xfer_reply(doc, 10, 10, 5, out, sizeof(out)), 1);
	assert_string_equal(out, "l");
	assert_true(gdb_xfer_reply(doc, 10, 11, 5, out, sizeof(out)) < 0);
	assert_int_equal(gdb_xfer_reply(doc, 10, 0, 100, out, 6), 5); /* cut to the reply buffer */
	assert_string_equal(out, "m0123");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_xml), cmocka_unit_test(test_g_encode),
		cmocka_unit_test(test_p_encode), cmocka_unit_test(test_G_decode),
		cmocka_unit_test(test_P_decode), cmocka_unit_test(test_xfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
