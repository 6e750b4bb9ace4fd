/* Unit tests for src/debug/debug_bptable.c: the debugger's breakpoint bookkeeping
 * (duplicates, aliases, a full table) and src/arch/x86/debug_dr.c: laying hardware
 * requests onto DR0-DR3/DR7 (SDM Vol. 3B §19.2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <hvlab/debug_bptable.h>
#include <arch/debug_dr.h>

static struct debug_bptable t;

static int setup(void **state)
{
	bptable_init(&t);
	return 0;
}

/* ---- Software breakpoints ---- */

static void test_sw_insert_remove(void **state)
{
	bool fresh;
	struct debug_swbp *bp = bptable_sw_add(&t, 0x100080, 0x100080, &fresh);

	assert_non_null(bp);
	assert_true(fresh); /* the caller writes the int3 */
	bp->orig = 0x48;
	assert_ptr_equal(bptable_sw_find(&t, 0x100080), bp);
	assert_ptr_equal(bptable_sw_find_gpa(&t, 0x100080), bp);
	assert_false(bptable_empty(&t));
	assert_true(bptable_sw_put(&t, bp)); /* the last one: restore 0x48 */
	assert_null(bptable_sw_find(&t, 0x100080));
	assert_true(bptable_empty(&t));
}

static void test_sw_duplicate_counts(void **state)
{
	bool fresh;
	struct debug_swbp *a = bptable_sw_add(&t, 0x2000, 0x5000, &fresh);
	a->orig = 0x90;
	struct debug_swbp *b = bptable_sw_add(&t, 0x2000, 0x5000, &fresh);

	assert_ptr_equal(a, b);
	assert_false(fresh); /* already an int3 there: never read it as the original */
	assert_false(bptable_sw_put(&t, a));
	assert_true(bptable_sw_put(&t, a));
	assert_false(bptable_sw_put(&t, a)); /* more removes than inserts: nothing happens */
}

static void test_sw_alias_shares_original(void **state)
{
	bool fresh;
	struct debug_swbp *a = bptable_sw_add(&t, 0x400000, 0x7000, &fresh);
	a->orig = 0x55;
	struct debug_swbp *b = bptable_sw_add(&t, 0xffff800000007000ULL, 0x7000, &fresh);

	assert_ptr_not_equal(a, b);
	assert_false(fresh);
	assert_int_equal(b->orig, 0x55);
	assert_false(bptable_sw_put(&t, a)); /* the alias still needs the int3 */
	assert_true(bptable_sw_put(&t, b));
}

static void test_sw_table_full(void **state)
{
	bool fresh;

	for (unsigned i = 0; i < DEBUG_SW_MAX; i++)
		assert_non_null(bptable_sw_add(&t, 0x1000 + i, 0x1000 + i, &fresh));
	assert_null(bptable_sw_add(&t, 0x9999, 0x9999, &fresh));
	assert_non_null(bptable_sw_add(&t, 0x1000, 0x1000, &fresh)); /* a duplicate still fits */
}

/* ---- Hardware requests ---- */

static void test_hw_add_find_remove(void **state)
{
	struct debug_hwbp *w = bptable_hw_add(&t, DEBUG_WP_WRITE, 0x108010, 8);

	assert_non_null(w);
	assert_ptr_equal(bptable_hw_find(&t, DEBUG_WP_WRITE, 0x108010, 8), w);
	assert_null(bptable_hw_find(&t, DEBUG_WP_ACCESS, 0x108010, 8));
	assert_ptr_equal(bptable_hw_add(&t, DEBUG_WP_WRITE, 0x108010, 8), w);
	bptable_hw_put(&t, w);
	assert_non_null(bptable_hw_find(&t, DEBUG_WP_WRITE, 0x108010, 8));
	bptable_hw_put(&t, w);
	assert_true(bptable_empty(&t));
	for (unsigned i = 0; i < DEBUG_HW_MAX; i++)
		assert_non_null(bptable_hw_add(&t, DEBUG_BP_HW, 0x1000 * (i + 1), 1));
	assert_null(bptable_hw_add(&t, DEBUG_BP_HW, 0x9000, 1));
}

/* ---- Debug registers ---- */

static void test_dr_split(void **state)
{
	u64 a[4];
	u8 l[4];

	assert_int_equal(dr_split(0x1000, 8, a, l, 4), 1);
	assert_int_equal(l[0], 8);
	/* 0x1003, 6 bytes: 1 at 0x1003, 4 at 0x1004, 1 at 0x1008 */
	assert_int_equal(dr_split(0x1003, 6, a, l, 4), 3);
	assert_int_equal(a[0], 0x1003); assert_int_equal(l[0], 1);
	assert_int_equal(a[1], 0x1004); assert_int_equal(l[1], 4);
	assert_int_equal(a[2], 0x1008); assert_int_equal(l[2], 1);
	assert_int_equal(dr_split(0x1001, 16, a, l, 4), -1); /* needs 5 pieces */
	assert_int_equal(dr_split(0x1000, 0, a, l, 4), -1);
	assert_int_equal(dr_split(~0ULL - 1, 8, a, l, 4), -1); /* wraps around */
}

static void test_dr_plan_fields(void **state)
{
	struct dr_plan p;

	bptable_hw_add(&t, DEBUG_BP_HW, 0x100080, 1);
	bptable_hw_add(&t, DEBUG_WP_WRITE, 0x108010, 8);
	bptable_hw_add(&t, DEBUG_WP_ACCESS, 0x108020, 2);
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), 0);
	assert_int_equal(p.dr[0], 0x100080);
	assert_int_equal(p.dr[1], 0x108010);
	assert_int_equal(p.dr[2], 0x108020);
	assert_int_equal(p.owner[0], 0);
	assert_int_equal(p.owner[1], 1);
	assert_int_equal(p.owner[2], 2);
	assert_int_equal(p.owner[3], -1);
	/* L0-L2; R/W0 = 00 LEN0 = 00; R/W1 = 01 LEN1 = 10 (8 bytes); R/W2 = 11 LEN2 = 01; LE; bit 10 */
	u64 want = BIT(0) | BIT(2) | BIT(4) | DR7_LE | DR7_RESERVED1 |
		   (1ULL << 20) | (2ULL << 22) | (3ULL << 24) | (1ULL << 26);
	assert_int_equal(p.dr7, want);
}

static void test_dr_plan_refuses(void **state)
{
	struct dr_plan p;

	bptable_hw_add(&t, DEBUG_WP_READ, 0x1000, 4);
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), -1); /* x86: no read-only watchpoints */
	bptable_init(&t);
	bptable_hw_add(&t, DEBUG_WP_WRITE, 0x1001, 16);          /* five pieces */
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), -1);
	bptable_init(&t);
	bptable_hw_add(&t, DEBUG_WP_WRITE, 0x1003, 6);           /* three registers */
	bptable_hw_add(&t, DEBUG_WP_WRITE, 0x2000, 4);           /* the fourth */
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), 0);
	assert_int_equal(p.owner[3], 1);
	bptable_hw_add(&t, DEBUG_BP_HW, 0x3000, 1);              /* a fifth: no register left */
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), -1);
	bptable_init(&t);
	assert_int_equal(dr_plan(t.hw, DEBUG_HW_MAX, &p), 0);
	assert_int_equal(p.dr7, DR7_RESERVED1);                  /* nothing enabled */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
		T(test_sw_insert_remove), T(test_sw_duplicate_counts), T(test_sw_alias_shares_original),
		T(test_sw_table_full), T(test_hw_add_find_remove), T(test_dr_split),
		T(test_dr_plan_fields), T(test_dr_plan_refuses),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
