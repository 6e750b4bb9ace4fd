/* Unit tests for hvlink's pure parts: its command line (debugger/hvlink/options.c), with
 * the message for each kind of mistake, and its byte queue (debugger/hvlink/queue.c).
 * The relay itself is tested end to end by tests/harness/hvlink_tests.py. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../debugger/hvlink/options.h"
#include "../../debugger/hvlink/queue.h"

static struct hvlink_options opts;
static char err[256];

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
#define PARSE(...)                                                                     \
	({                                                                             \
		char *args_[] = { "hvlink", __VA_ARGS__, NULL };                       \
		options_parse((int)(sizeof(args_) / sizeof(args_[0])) - 1, args_, &opts, \
			      err, sizeof(err));                                       \
	})

/* ---- --link ---- */

static void test_link_parses_both_ports(void **state)
{
	struct link_spec spec;

	assert_int_equal(options_parse_link("40002:1234", &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.bochs_port, 40002);
	assert_int_equal(spec.listen_port, 1234);
	assert_int_equal(options_parse_link("40003:0", &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.listen_port, 0); /* any free port */
}

static void test_link_rejects_malformed(void **state)
{
	static const char *bad[] = { "40002", "40002:", ":1234", "0:1234", "65536:1",
				     "4x:1", "1:-3", "1:2:3", "123456:1", "" };
	struct link_spec spec;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(options_parse_link(bad[i], &spec, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "expected BOCHS_PORT:LISTEN_PORT"));
	}
}

/* ---- the whole command line ---- */

static void test_defaults_and_two_links(void **state)
{
	assert_int_equal(PARSE("--link", "40002:0", "--link=40003:4557"), OPTIONS_OK);
	assert_int_equal(opts.nlinks, 2);
	assert_int_equal(opts.links[1].bochs_port, 40003);
	assert_int_equal(opts.links[1].listen_port, 4557);
	assert_string_equal(opts.host, "127.0.0.1");
	assert_true(opts.timeout == HVLINK_DEFAULT_TIMEOUT);
}

static void test_host_and_timeout(void **state)
{
	assert_int_equal(PARSE("--host", "::1", "--timeout", "2.5", "--link", "1:2"), OPTIONS_OK);
	assert_string_equal(opts.host, "::1");
	assert_true(opts.timeout == 2.5);
}

static void test_mistakes_are_named(void **state)
{
	assert_int_equal(PARSE("--host", "h"), OPTIONS_BAD);
	assert_string_equal(err, "no --link given: nothing to relay");
	assert_int_equal(PARSE("--link", "1:2", "--timeout", "0"), OPTIONS_BAD);
	assert_string_equal(err, "--timeout 0: expected a number of seconds above 0");
	assert_int_equal(PARSE("--link"), OPTIONS_BAD);
	assert_string_equal(err, "--link: expected a value after it");
	assert_int_equal(PARSE("--link", "1:2", "--verbose"), OPTIONS_BAD);
	assert_string_equal(err, "unknown argument '--verbose'");
	assert_int_equal(PARSE("--linkage", "1:2"), OPTIONS_BAD);
	assert_string_equal(err, "unknown argument '--linkage'");
	assert_int_equal(PARSE("--link", "1:2", "--link", "1:3"), OPTIONS_BAD);
	assert_string_equal(err, "--link: port 1 is given twice");
	assert_int_equal(PARSE("--link", "1:5", "--link", "2:5"), OPTIONS_BAD);
	assert_string_equal(err, "--link: port 5 is given twice");
	/* Two links may both ask for "any free port". */
	assert_int_equal(PARSE("--link", "1:0", "--link", "2:0"), OPTIONS_OK);
	assert_int_equal(PARSE("--link", "1:0", "--help"), OPTIONS_HELP);
}

static void test_too_many_links(void **state)
{
	assert_int_equal(PARSE("--link", "1:0", "--link", "2:0", "--link", "3:0", "--link", "4:0",
			       "--link", "5:0", "--link", "6:0", "--link", "7:0", "--link", "8:0",
			       "--link", "9:0"),
			 OPTIONS_BAD);
	assert_string_equal(err, "--link: at most 8 links");
}

/* ---- the queue ---- */

static struct queue q;

static void test_queue_push_pop_keeps_order(void **state)
{
	q.len = 0;
	assert_int_equal(queue_push(&q, "abcdef", 6), 6);
	queue_pop(&q, 2);
	assert_int_equal(q.len, 4);
	assert_memory_equal(q.data, "cdef", 4);
	queue_pop(&q, 100); /* more than queued: empty */
	assert_int_equal(q.len, 0);
	assert_int_equal(queue_room(&q), QUEUE_SIZE);
}

static void test_queue_takes_only_what_fits(void **state)
{
	static char big[QUEUE_SIZE];

	q.len = 0;
	assert_int_equal(queue_push(&q, big, QUEUE_SIZE - 3), QUEUE_SIZE - 3);
	assert_int_equal(queue_push(&q, "12345", 5), 3);
	assert_int_equal(queue_room(&q), 0);
	assert_memory_equal(q.data + QUEUE_SIZE - 3, "123", 3);
	assert_int_equal(queue_push(&q, "x", 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_parses_both_ports),
		cmocka_unit_test(test_link_rejects_malformed),
		cmocka_unit_test(test_defaults_and_two_links),
		cmocka_unit_test(test_host_and_timeout),
		cmocka_unit_test(test_mistakes_are_named),
		cmocka_unit_test(test_too_many_links),
		cmocka_unit_test(test_queue_push_pop_keeps_order),
		cmocka_unit_test(test_queue_takes_only_what_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
