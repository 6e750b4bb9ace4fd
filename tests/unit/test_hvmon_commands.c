/* Unit tests for debugger/hvmon/commands.c: the command table, argument checking with
 * its messages, completion, and hvmon's own commands (select, help, quit) run against a
 * recording stand-in for the screen (print) and the connection (remote). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../debugger/hvmon/commands.h"

static struct cmd_call call;
static char err[512];

/* ---- A recording context ---- */

static char printed[8192];
static char remote_sent[8][CMD_MAX_LINE + 1];
static int nremote;

static void rec_print(struct cmd_ctx *ctx, const char *text)
{
	snprintf(printed + strlen(printed), sizeof(printed) - strlen(printed), "%s\n", text);
}

static void rec_remote(struct cmd_ctx *ctx, const char *cmd)
{
	snprintf(remote_sent[nremote++ % 8], CMD_MAX_LINE + 1, "%s", cmd);
}

static struct cmd_ctx ctx;

static int setup(void **state)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.print = rec_print;
	ctx.remote = rec_remote;
	printed[0] = '\0';
	nremote = 0;
	return 0;
}

/* Parse @p line; it must be bad, with message @p want. */
static void expect_bad(const char *line, const char *want)
{
	assert_int_equal(cmd_parse(line, &call, err, sizeof(err)), CMD_BAD);
	assert_string_equal(err, want);
}

/* Parse and run @p line, which must be good. */
static void run(const char *line)
{
	assert_int_equal(cmd_parse(line, &call, err, sizeof(err)), CMD_READY);
	cmd_run(&ctx, &call);
}

/* ---- Parsing ---- */

static void test_good_commands(void **state)
{
	assert_int_equal(cmd_parse("pause 1", &call, err, sizeof(err)), CMD_READY);
	assert_string_equal(call.def->name, "pause");
	assert_int_equal(call.argc, 1);
	assert_string_equal(call.argv[0], "1");
	assert_null(call.def->local); /* the hypervisor runs it */

	/* Extra blanks disappear from the text sent. */
	assert_int_equal(cmd_parse("  info   vmcs\t1.0  ", &call, err, sizeof(err)), CMD_READY);
	assert_string_equal(call.def->name, "info vmcs");
	assert_string_equal(call.text, "info vmcs 1.0");

	static const char *const good[] = {
		"info partitions", "info vcpu basic.1", "info ept 0 0x7fff0000", "info ept 1 4096",
		"info exits", "info exits basic", "info irq", "info pci", "pause basic",
		"resume 1", "step 0.0", "reset guest-2", "break 1 0xffffffff81000000",
		"x/16 1 0x1000", "x 1 0x1000", "console 0", "console 0 5", "select 1",
		"select my.part.3", "help", "help info vmcs", "help x/16", "quit",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		enum cmd_status st = cmd_parse(good[i], &call, err, sizeof(err));
		if (st != CMD_READY)
			fail_msg("'%s' refused: %s", good[i], err);
	}
	assert_int_equal(cmd_parse("   ", &call, err, sizeof(err)), CMD_EMPTY);
}

static void test_unknown_commands_say_what_was_expected(void **state)
{
	expect_bad("foo", "unknown command 'foo'; type help");
	expect_bad("info", "info: expected one of partitions, vcpu, vmcs, ept, exits, irq, pci");
	expect_bad("info foo", "info: unknown 'foo'; expected one of partitions, vcpu, vmcs, ept, "
			       "exits, irq, pci");
	expect_bad("pausee 1", "unknown command 'pausee'; type help");
}

static void test_bad_arguments_say_what_was_expected(void **state)
{
	expect_bad("pause", "pause: expected a partition number or name (usage: pause P)");
	expect_bad("pause 1 2", "pause: too many arguments, from '2' on (usage: pause P)");
	expect_bad("pause b@d", "pause: expected a partition number or name, not 'b@d' "
				"(usage: pause P)");
	expect_bad("info vmcs 1", "info vmcs: expected a vCPU as P.V (partition number or name, "
				  "a dot, vCPU number), not '1' (usage: info vmcs P.V)");
	expect_bad("info ept 1 0xzz", "info ept: expected an address (hexadecimal with 0x, or "
				      "decimal), not '0xzz' (usage: info ept P ADDR)");
	expect_bad("info ept 1", "info ept: expected an address (hexadecimal with 0x, or decimal) "
				 "(usage: info ept P ADDR)");
	expect_bad("console 1 0", "console: expected a count (a decimal number from 1), not '0' "
				  "(usage: console P [N])");
	expect_bad("x/abc 1 0x10", "x: expected a count after '/' (as in x/16), not 'abc'");
	expect_bad("x/0 1 0x10", "x: expected a count after '/' (as in x/16), not '0'");
	expect_bad("info partitions now", "info partitions: too many arguments, from 'now' on "
					  "(usage: info partitions)");
	expect_bad("select", "select: expected a partition number or name, optionally .V for a "
			     "vCPU (usage: select P[.V])");
}

static void test_every_row_is_well_formed(void **state)
{
	/* Every row has help, and argument tokens the checker knows (a typo would say so). */
	for (size_t i = 0; i < cmd_table_len; i++) {
		const struct cmd_def *d = &cmd_table[i];
		assert_non_null(d->help);
		assert_true(strlen(d->help) > 0);
		cmd_parse(d->name, &call, err, sizeof(err));
		if (strstr(err, "command table"))
			fail_msg("row '%s': %s", d->name, err);
		assert_ptr_equal(cmd_find(d->name), d);
	}
}

static void test_find(void **state)
{
	assert_string_equal(cmd_find("info vmcs")->name, "info vmcs");
	assert_string_equal(cmd_find("x")->name, "x/N");
	assert_string_equal(cmd_find("x/16")->name, "x/N");
	assert_null(cmd_find("info"));
	assert_null(cmd_find("pause 1"));
	assert_null(cmd_find("bogus"));
}

static void test_selection(void **state)
{
	struct selection sel;
	assert_true(cmd_parse_selection("1", &sel));
	assert_string_equal(sel.part, "1");
	assert_int_equal(sel.vcpu, 0);
	assert_true(cmd_parse_selection("basic.2", &sel));
	assert_string_equal(sel.part, "basic");
	assert_int_equal(sel.vcpu, 2);
	assert_true(cmd_parse_selection("my.part", &sel)); /* names may hold dots */
	assert_string_equal(sel.part, "my.part");
	assert_int_equal(sel.vcpu, 0);
	assert_false(cmd_parse_selection(".1", &sel));
	assert_false(cmd_parse_selection("a b", &sel));
	assert_false(cmd_parse_selection("", &sel));
}

/* ---- Completion ---- */

/* The candidates for @p word after @p before, joined by spaces. */
static const char *completions(const char *before, const char *word)
{
	static char out[512];
	char cand[32][CMD_WORD_LEN];
	size_t n = cmd_complete(before, word, cand, 32);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", cand[i]);
	return out;
}

static void test_completion(void **state)
{
	assert_string_equal(completions("", ""),
			    "info pause resume step reset break x/ console select help quit");
	assert_string_equal(completions("", "in"), "info");
	assert_string_equal(completions("", "re"), "resume reset");
	assert_string_equal(completions("", "x"), "x/");
	assert_string_equal(completions("info ", "v"), "vcpu vmcs");
	assert_string_equal(completions("info  ", ""), "partitions vcpu vmcs ept exits irq pci");
	assert_string_equal(completions("help ", "pa"), "pause");
	assert_string_equal(completions("help info ", "e"), "ept exits");
	assert_string_equal(completions("pause ", ""), "");      /* arguments: nothing */
	assert_string_equal(completions("info vmcs ", ""), "");
	assert_string_equal(completions("", "zzz"), "");
}

/* ---- hvmon's own commands ---- */

static void test_select_changes_selection(void **state)
{
	run("select basic.1");
	assert_string_equal(ctx.sel.part, "basic");
	assert_int_equal(ctx.sel.vcpu, 1);
	assert_string_equal(printed, "the panes now show partition basic, vCPU 1\n");
	assert_int_equal(nremote, 0);
}

static void test_quit(void **state)
{
	run("quit");
	assert_true(ctx.quit);
}

static void test_remote_commands_are_sent_as_typed(void **state)
{
	run("pause  1");
	assert_int_equal(nremote, 1);
	assert_string_equal(remote_sent[0], "pause 1");
	assert_string_equal(printed, "");
}

static void test_help_offline_lists_everything_from_the_table(void **state)
{
	ctx.connected = false;
	run("help");
	assert_int_equal(nremote, 0);
	assert_non_null(strstr(printed, "hvmon's own commands:"));
	assert_non_null(strstr(printed, "select P[.V]"));
	assert_non_null(strstr(printed, "not connected"));
	assert_non_null(strstr(printed, "  pause P "));
	assert_non_null(strstr(printed, "  x/N P ADDR "));
}

static void test_help_online_asks_the_hypervisor(void **state)
{
	ctx.connected = true;
	run("help");
	assert_int_equal(nremote, 1);
	assert_string_equal(remote_sent[0], "help");
	assert_non_null(strstr(printed, "quit"));       /* local ones from the table */
	assert_null(strstr(printed, "  pause P "));     /* remote ones from the hypervisor */
	run("help x/16");
	assert_string_equal(remote_sent[1], "help x");
	run("help info vmcs");
	assert_string_equal(remote_sent[2], "help info vmcs");
	printed[0] = '\0';
	run("help select"); /* a local command: from the table */
	assert_int_equal(nremote, 3);
	assert_non_null(strstr(printed, "select P[.V]"));
	printed[0] = '\0';
	run("help bogus");
	assert_string_equal(printed, "help: unknown command 'bogus'; type help for the list\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_commands, setup),
		cmocka_unit_test_setup(test_unknown_commands_say_what_was_expected, setup),
		cmocka_unit_test_setup(test_bad_arguments_say_what_was_expected, setup),
		cmocka_unit_test_setup(test_every_row_is_well_formed, setup),
		cmocka_unit_test_setup(test_find, setup),
		cmocka_unit_test_setup(test_selection, setup),
		cmocka_unit_test_setup(test_completion, setup),
		cmocka_unit_test_setup(test_select_changes_selection, setup),
		cmocka_unit_test_setup(test_quit, setup),
		cmocka_unit_test_setup(test_remote_commands_are_sent_as_typed, setup),
		cmocka_unit_test_setup(test_help_offline_lists_everything_from_the_table, setup),
		cmocka_unit_test_setup(test_help_online_asks_the_hypervisor, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
