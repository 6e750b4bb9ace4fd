/* Unit tests for hvmon's pure screen logic: text lines (debugger/hvmon/text.c), pane
 * command templates and the kvm_stat-like exit rates (panes.c), and the layout of the
 * panes on terminals of several sizes (layout.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../debugger/hvmon/layout.h"
#include "../../debugger/hvmon/panes.h"
#include "../../debugger/hvmon/text.h"

/* ---- Text lines ---- */

static void test_lines_split_and_clean(void **state)
{
	struct lines l = { 0 };
	lines_add_text(&l, "one\ntwo\r\n\tx\x01y\n");
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "one");
	assert_string_equal(l.v[1], "two");              /* CRLF ending dropped */
	assert_string_equal(l.v[2], "        x?y");      /* tab to column 8, control shown as ? */
	lines_addf(&l, "%s", "");
	assert_int_equal(l.n, 4);                        /* an intended empty line is kept */
	lines_addf(&l, "a%db", 5);
	assert_string_equal(l.v[4], "a5b");
	lines_free(&l);
	assert_int_equal(l.n, 0);
}

static void test_lines_bounded_keeps_newest(void **state)
{
	struct lines l = { 0 };
	lines_init(&l, 3);
	for (int i = 0; i < 5; i++)
		lines_addf(&l, "line %d", i);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "line 2");
	assert_string_equal(l.v[2], "line 4");
	lines_free(&l);
}

/* ---- Pane templates ---- */

static void test_expand_templates(void **state)
{
	struct selection sel = { .part = "basic", .vcpu = 2 };
	char buf[128];
	assert_true(pane_expand("info vcpu {P}.{V}", &sel, 10, buf, sizeof(buf)));
	assert_string_equal(buf, "info vcpu basic.2");
	assert_true(pane_expand("console {P} {H}", &sel, 7, buf, sizeof(buf)));
	assert_string_equal(buf, "console basic 7");
	assert_true(pane_expand("info partitions", &sel, 7, buf, sizeof(buf)));
	assert_string_equal(buf, "info partitions");
	/* Nothing selected: a template that needs {P} cannot be filled. */
	struct selection none = { 0 };
	assert_false(pane_expand("info exits {P}", &none, 7, buf, sizeof(buf)));
	assert_true(pane_expand("partitions", &none, 7, buf, sizeof(buf)));
	/* A small buffer is never overrun. */
	char small[8];
	pane_expand("info vcpu {P}.{V}", &sel, 1, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
}

static void test_pane_table(void **state)
{
	assert_true(pane_index(PANE_OUTPUT) >= 0);
	assert_null(pane_defs[pane_index(PANE_OUTPUT)].query);
	assert_int_equal(pane_index("nonesuch"), -1);
	for (size_t i = 0; i < pane_defs_len; i++) {
		assert_true(pane_defs[i].min_lines >= 1);
		assert_true(pane_defs[i].column == 0 || pane_defs[i].column == 1);
		assert_true(pane_defs[i].query == NULL || pane_defs[i].period > 0);
	}
}

/* ---- Exit rates ---- */

static void test_exit_rates(void **state)
{
	struct exit_rates r = { 0 };
	struct lines out = { 0 };

	exit_rates_render(&r, "exits of partition 1\nHLT: 100\nVM entry: bad state: 50\n", 10.0,
			  &out);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.v[0], "exits of partition 1");  /* a heading stays as it is */
	assert_non_null(strstr(out.v[1], "exit reason"));
	/* First sample: no rate yet, busiest total first. */
	assert_non_null(strstr(out.v[2], "HLT"));
	assert_non_null(strstr(out.v[2], "100"));
	assert_string_equal(out.v[2] + strlen(out.v[2]) - 1, "-");
	assert_non_null(strstr(out.v[3], "VM entry: bad state ")); /* split at the last ':' */
	lines_clear(&out);

	/* Two seconds later: HLT +20 (10/s), the other +100 (50/s): that one is busier now. */
	exit_rates_render(&r, "exits of partition 1\nHLT: 120\nVM entry: bad state: 150\n"
			      "new one: 7\n", 12.0, &out);
	assert_int_equal(out.n, 5);
	assert_non_null(strstr(out.v[2], "VM entry: bad state"));
	assert_non_null(strstr(out.v[2], " 150 "));
	assert_string_equal(out.v[2] + strlen(out.v[2]) - 2, "50");
	assert_non_null(strstr(out.v[3], "HLT"));
	assert_string_equal(out.v[3] + strlen(out.v[3]) - 2, "10");
	assert_non_null(strstr(out.v[4], "new one"));           /* new reason: no rate yet */
	assert_string_equal(out.v[4] + strlen(out.v[4]) - 1, "-");
	lines_clear(&out);

	/* A counter that went down (a reset): no rate rather than a huge one. Lines that are
	 * not "REASON: COUNT" are headings, even when they end in a number. */
	exit_rates_render(&r, "partition 1\nHLT: 5\nHLT 7\n: 3\nx: 1 2\n", 13.0, &out);
	assert_int_equal(out.n, 6);
	assert_string_equal(out.v[0], "partition 1");
	assert_string_equal(out.v[1], "HLT 7");
	assert_string_equal(out.v[2], ": 3");
	assert_string_equal(out.v[3], "x: 1 2");
	assert_string_equal(out.v[5] + strlen(out.v[5]) - 1, "-");
	lines_free(&out);
}

/* ---- Layout ---- */

/* Shown panes lie inside the pane area, do not overlap, and fill each column exactly. */
static void check_layout(int rows, int cols, const struct rect *r)
{
	int filled[2] = { 0, 0 };
	for (size_t i = 0; i < pane_defs_len; i++) {
		if (r[i].h == 0)
			continue;
		assert_true(r[i].y >= 1 && r[i].y + r[i].h <= rows - 1);
		assert_true(r[i].x >= 0 && r[i].x + r[i].w <= cols);
		assert_true(r[i].h >= 1 + pane_defs[i].min_lines);
		filled[r[i].x > 0] += r[i].h;
		for (size_t j = 0; j < i; j++) {
			if (r[j].h == 0)
				continue;
			bool apart = r[i].y + r[i].h <= r[j].y || r[j].y + r[j].h <= r[i].y ||
				     r[i].x + r[i].w <= r[j].x || r[j].x + r[j].w <= r[i].x;
			assert_true(apart);
		}
	}
	assert_int_equal(filled[0], rows - 2);
	if (cols >= LAYOUT_WIDE_COLS)
		assert_int_equal(filled[1], rows - 2);
}

static void test_layout_wide_two_columns(void **state)
{
	struct rect r[16];
	assert_true(layout_compute(48, 160, pane_defs, pane_defs_len, r));
	check_layout(48, 160, r);
	for (size_t i = 0; i < pane_defs_len; i++) {
		assert_true(r[i].h > 0); /* room for everything */
		assert_int_equal(r[i].x > 0, pane_defs[i].column);
	}
}

static void test_layout_narrow_stacks_and_hides_by_priority(void **state)
{
	struct rect r[16];
	assert_true(layout_compute(24, 80, pane_defs, pane_defs_len, r));
	check_layout(24, 80, r);
	assert_true(r[pane_index(PANE_OUTPUT)].h > 0);
	assert_true(r[pane_index("partitions")].h > 0);
	assert_int_equal(r[pane_index("partitions")].w, 80);
	/* Something had to go, and it was the lowest priority. */
	int lowest = -1;
	for (size_t i = 0; i < pane_defs_len; i++)
		if (lowest < 0 || pane_defs[i].priority < pane_defs[lowest].priority)
			lowest = (int)i;
	assert_int_equal(r[lowest].h, 0);
	/* Very short: only the most important panes are left, still well placed. */
	assert_true(layout_compute(10, 60, pane_defs, pane_defs_len, r));
	check_layout(10, 60, r);
	assert_true(r[pane_index(PANE_OUTPUT)].h > 0);
}

static void test_layout_too_small(void **state)
{
	struct rect r[16];
	assert_false(layout_compute(LAYOUT_MIN_ROWS - 1, 100, pane_defs, pane_defs_len, r));
	assert_false(layout_compute(40, LAYOUT_MIN_COLS - 1, pane_defs, pane_defs_len, r));
	for (size_t i = 0; i < pane_defs_len; i++)
		assert_int_equal(r[i].h, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_and_clean),
		cmocka_unit_test(test_lines_bounded_keeps_newest),
		cmocka_unit_test(test_expand_templates),
		cmocka_unit_test(test_pane_table),
		cmocka_unit_test(test_exit_rates),
		cmocka_unit_test(test_layout_wide_two_columns),
		cmocka_unit_test(test_layout_narrow_stacks_and_hides_by_priority),
		cmocka_unit_test(test_layout_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
