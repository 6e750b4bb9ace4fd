/* Unit tests for src/debug/monitor.c, the monitor's command engine: finding a command,
 * checking each argument shape, the messages for every kind of mistake (issue 5: "an
 * unknown command or a bad argument gets a message saying what was expected"), and
 * help. The table below is shaped like the hypervisor's; its handlers only record what
 * they were given. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <hvlab/monitor.h>

/* ---- A recording table ---- */

static char output[8192];
static struct monitor_call seen; /* a copy of the call the last handler got */
static int handler_calls;
static int handler_result;

static void out(void *ctx, const char *text)
{
	strncat(output, text, sizeof(output) - strlen(output) - 1);
}

static int record(struct monitor_call *call)
{
	seen = *call;
	handler_calls++;
	monitor_printf(call, "ran %s\n", call->cmd->name);
	return handler_result;
}

static const struct monitor_cmd table[] = {
	{ "info partitions", "", "every partition", record },
	{ "info vcpu", "P.V", "registers", record },
	{ "info vmcs", "P.V", "the VMCS", record },
	{ "info ept", "P ADDR", "a walk", record },
	{ "info exits", "[P]", "exit counters", record },
	{ "pause", "P", "stop a partition", record },
	{ "x/N", "P ADDR", "memory", record },
	{ "console", "P [N]", "console lines", record },
	{ "help", "[CMD]", "the commands", monitor_help },
};

static int run(const char *line)
{
	output[0] = '\0';
	handler_calls = 0;
	memset(&seen, 0, sizeof(seen));
	return monitor_dispatch(table, sizeof(table) / sizeof(table[0]), line, out, NULL);
}

static int setup(void **state)
{
	handler_result = MON_OK;
	return 0;
}

/* ---- Finding the command ---- */

static void test_finds_two_word_names(void **state)
{
	assert_int_equal(run("info partitions"), MON_OK);
	assert_string_equal(output, "ran info partitions\n");
	assert_int_equal(run("  info   vmcs\t1.0 \r\n"), MON_OK); /* any blanks between words */
	assert_string_equal(seen.cmd->name, "info vmcs");
}

static void test_unknown_command(void **state)
{
	assert_int_equal(run("foo"), MON_ERR_USAGE);
	assert_string_equal(output, "unknown command 'foo'; type help\n");
	assert_int_equal(handler_calls, 0);
	assert_int_equal(run("info"), MON_ERR_USAGE);
	assert_string_equal(output, "info: expected one of partitions, vcpu, vmcs, ept, exits\n");
	assert_int_equal(run("info foo"), MON_ERR_USAGE);
	assert_string_equal(output, "info: unknown 'foo'; expected one of partitions, vcpu, vmcs, ept, exits\n");
}

static void test_bad_lines(void **state)
{
	char longline[MONITOR_LINE_MAX + 2];

	assert_int_equal(run(""), MON_ERR_USAGE);
	assert_string_equal(output, "empty command; type help\n");
	assert_int_equal(run("   "), MON_ERR_USAGE);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(run(longline), MON_ERR_USAGE);
	assert_string_equal(output, "that line is too long (at most 1024 characters)\n");
	assert_int_equal(run("pause \x1b[2J"), MON_ERR_USAGE);
	assert_string_equal(output, "that line has a control character (0x1b)\n");
	assert_int_equal(run("a b c d e f g h i"), MON_ERR_USAGE);
	assert_string_equal(output, "too many words (at most 8)\n");
	assert_int_equal(handler_calls, 0);
}

/* ---- Argument shapes ---- */

static void test_partition_argument(void **state)
{
	assert_int_equal(run("pause 12"), MON_OK);
	assert_true(seen.arg[0].given && seen.arg[0].is_number);
	assert_int_equal(seen.arg[0].num, 12);
	assert_int_equal(run("pause web-1.eu_2"), MON_OK); /* names: letters, digits, _ - . */
	assert_false(seen.arg[0].is_number);
	assert_string_equal(seen.arg[0].word, "web-1.eu_2");
	assert_int_equal(run("pause"), MON_ERR_USAGE);
	assert_string_equal(output, "pause: expected a partition number or name (usage: pause P)\n");
	assert_int_equal(run("pause a/b"), MON_ERR_USAGE);
	assert_string_equal(output, "pause: expected a partition number or name, not 'a/b' (usage: pause P)\n");
	assert_int_equal(run("pause 1 2"), MON_ERR_USAGE);
	assert_string_equal(output, "pause: too many arguments, from '2' on (usage: pause P)\n");
	assert_int_equal(handler_calls, 0);
}

static void test_vcpu_argument(void **state)
{
	assert_int_equal(run("info vcpu 1.3"), MON_OK);
	assert_true(seen.arg[0].is_number);
	assert_int_equal(seen.arg[0].num, 1);
	assert_int_equal(seen.arg[0].vcpu, 3);
	/* Split at the last dot: names may contain dots. */
	assert_int_equal(run("info vcpu my.vm.0"), MON_OK);
	assert_string_equal(seen.arg[0].word, "my.vm");
	assert_int_equal(seen.arg[0].vcpu, 0);
}

static void test_vcpu_argument_refused(void **state)
{
	static const char *const bad[] = { "1", "1.", ".1", "1.x", "1.-1", "1.99999999999", "a b.1" };
	char line[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "info vcpu %s", bad[i]);
		assert_int_equal(run(line), MON_ERR_USAGE);
		assert_int_equal(handler_calls, 0);
	}
	run("info vcpu 1");
	assert_string_equal(output, "info vcpu: expected a vCPU as P.V (partition number or name, a dot, vCPU "
				    "number), not '1' (usage: info vcpu P.V)\n");
}

static void test_address_argument(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		uint64_t value;
	} cases[] = {
		{ "0x10", true, 0x10 },
		{ "0XFFff", true, 0xffff },
		{ "4096", true, 4096 },
		{ "0", true, 0 },
		{ "0xffffffffffffffff", true, ~0ULL },
		{ "18446744073709551615", true, ~0ULL },
		{ "18446744073709551616", false, 0 }, /* 2^64 */
		{ "0x10000000000000000", false, 0 },  /* 17 digits */
		{ "0x", false, 0 },
		{ "0x1g", false, 0 },
		{ "-1", false, 0 },
		{ "12ab", false, 0 },
	};
	char line[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "info ept 0 %s", cases[i].text);
		assert_int_equal(run(line), cases[i].ok ? MON_OK : MON_ERR_USAGE);
		if (cases[i].ok)
			assert_true(seen.arg[1].num == cases[i].value);
	}
	run("info ept 0 zz");
	assert_string_equal(output, "info ept: expected an address (hexadecimal with 0x, or decimal), not 'zz' "
				    "(usage: info ept P ADDR)\n");
}

static void test_optional_arguments(void **state)
{
	assert_int_equal(run("info exits"), MON_OK);
	assert_false(seen.arg[0].given);
	assert_int_equal(run("info exits 2"), MON_OK);
	assert_true(seen.arg[0].given);
	assert_int_equal(run("console 1"), MON_OK);
	assert_false(seen.arg[1].given);
	assert_int_equal(run("console 1 40"), MON_OK);
	assert_int_equal(seen.arg[1].num, 40);
	assert_int_equal(run("console 1 0"), MON_ERR_USAGE);
	assert_string_equal(output, "console: expected a count (a decimal number from 1), not '0' "
				    "(usage: console P [N])\n");
}

static void test_count_suffix(void **state)
{
	assert_int_equal(run("x 1 0x1000"), MON_OK);
	assert_false(seen.count_given);
	assert_int_equal(run("x/64 1 0x1000"), MON_OK);
	assert_true(seen.count_given);
	assert_int_equal(seen.count, 64);
	assert_int_equal(run("x/0 1 0"), MON_ERR_USAGE);
	assert_int_equal(run("x/abc 1 0"), MON_ERR_USAGE);
	assert_string_equal(output, "x: expected a count after '/' (as in x/16), not 'abc'\n");
	assert_int_equal(run("xx 1 0"), MON_ERR_USAGE); /* "x/N" is not a prefix match */
	assert_int_equal(run("x/"), MON_ERR_USAGE);
	assert_int_equal(handler_calls, 0);
}

/* ---- Results ---- */

static void test_handler_result_passes_through(void **state)
{
	handler_result = MON_ERR_STATE;
	assert_int_equal(run("pause 1"), MON_ERR_STATE);
	handler_result = 5; /* a positive result is success */
	assert_int_equal(run("pause 1"), MON_OK);
}

static void test_fail_adds_a_newline(void **state)
{
	struct monitor_call call = { .out = out };

	output[0] = '\0';
	assert_int_equal(monitor_fail(&call, MON_ERR_NOENT, "no partition '%s'", "7"), MON_ERR_NOENT);
	assert_string_equal(output, "no partition '7'\n");
}

/* ---- help ---- */

static void test_help_lists_in_name_order(void **state)
{
	assert_int_equal(run("help"), MON_OK);
	const char *console = strstr(output, "console P [N] "), *pause = strstr(output, "\npause P ");
	const char *help = strstr(output, "\nhelp [CMD] "), *x = strstr(output, "\nx/N P ADDR ");
	assert_non_null(console);
	assert_non_null(pause);
	assert_non_null(x);
	assert_non_null(help);
	assert_true(console == output && console < help && help < pause && pause < x);
	assert_non_null(strstr(output, "info vmcs P.V      the VMCS\n"));
}

static void test_help_of_one_command(void **state)
{
	assert_int_equal(run("help pause"), MON_OK);
	assert_string_equal(output, "pause P            stop a partition\n");
	assert_int_equal(run("help x"), MON_OK); /* hvmon sends "help x" for x/N */
	assert_string_equal(output, "x/N P ADDR         memory\n");
	assert_int_equal(run("help info"), MON_OK);
	assert_non_null(strstr(output, "info exits [P]"));
	assert_non_null(strstr(output, "info vcpu P.V"));
	assert_null(strstr(output, "pause"));
	assert_int_equal(run("help info vmcs"), MON_OK);
	assert_string_equal(output, "info vmcs P.V      the VMCS\n");
	assert_int_equal(run("help frobnicate"), MON_ERR_USAGE);
	assert_string_equal(output, "help: unknown command 'frobnicate'; type help for the list\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_finds_two_word_names, setup),
		cmocka_unit_test_setup(test_unknown_command, setup),
		cmocka_unit_test_setup(test_bad_lines, setup),
		cmocka_unit_test_setup(test_partition_argument, setup),
		cmocka_unit_test_setup(test_vcpu_argument, setup),
		cmocka_unit_test_setup(test_vcpu_argument_refused, setup),
		cmocka_unit_test_setup(test_address_argument, setup),
		cmocka_unit_test_setup(test_optional_arguments, setup),
		cmocka_unit_test_setup(test_count_suffix, setup),
		cmocka_unit_test_setup(test_handler_result_passes_through, setup),
		cmocka_unit_test_setup(test_fail_adds_a_newline, setup),
		cmocka_unit_test_setup(test_help_lists_in_name_order, setup),
		cmocka_unit_test_setup(test_help_of_one_command, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
