/* Unit tests for debugger/hvmon/rsp_client.c: the monitor-protocol client. Requests are
 * framed as qRcmd packets; replies (O packets, then OK or Exx) are fed in as a stub would
 * send them, whole, byte by byte, damaged; acknowledgments go out as the GDB manual's
 * "Packet Acknowledgment" says, and stop after QStartNoAckMode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../debugger/hvmon/rsp_client.h"

static struct rspc c;

static int setup(void **state)
{
	rspc_init(&c);
	return 0;
}

static int teardown(void **state)
{
	rspc_free(&c);
	return 0;
}

/* "$payload#cs", computed here independently of gdb_rsp.c (no escapes needed in tests). */
static const char *frame(const char *payload)
{
	static char buf[512];
	unsigned sum = 0;
	for (const char *p = payload; *p; p++)
		sum += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, sum & 0xff);
	return buf;
}

/* Everything waiting to be sent, as a string. */
static const char *sent(void)
{
	static char buf[4096];
	size_t len;
	const char *bytes = rspc_take_output(&c, &len);
	snprintf(buf, sizeof(buf), "%.*s", (int)len, bytes);
	return buf;
}

/* Feed all of @p s; return the first non-PENDING result (PENDING if none), and how many
 * bytes that took in *@p used_total. */
static enum rspc_result feed_all(const char *s, size_t *used_total)
{
	size_t used, n = strlen(s);
	enum rspc_result r = rspc_feed(&c, s, n, &used);
	if (used_total)
		*used_total = used;
	return r;
}

/* Feed @p s one byte at a time; the result of the byte that completed the reply. */
static enum rspc_result feed_bytewise(const char *s)
{
	enum rspc_result r = RSPC_PENDING;
	size_t used;
	for (; *s; s++) {
		enum rspc_result one = rspc_feed(&c, s, 1, &used);
		assert_int_equal(used, 1);
		if (one != RSPC_PENDING)
			r = one;
	}
	return r;
}

static void test_command_is_framed_as_qrcmd_hex(void **state)
{
	assert_int_equal(rspc_request_command(&c, "pause 1"), 0);
	assert_string_equal(sent(), "$qRcmd,70617573652031#f8");
	assert_true(rspc_busy(&c));
	/* One request at a time. */
	assert_int_equal(rspc_request_command(&c, "resume 1"), -1);
	assert_string_equal(sent(), "");
}

static void test_command_too_long_is_refused(void **state)
{
	char cmd[RSPC_MAX_COMMAND + 2];
	memset(cmd, 'a', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	assert_int_equal(rspc_request_command(&c, cmd), -1);
	assert_false(rspc_busy(&c));
	cmd[RSPC_MAX_COMMAND] = '\0'; /* exactly the limit fits */
	assert_int_equal(rspc_request_command(&c, cmd), 0);
	assert_int_equal(strlen(sent()), 1 + 6 + 2 * RSPC_MAX_COMMAND + 3);
}

static void test_output_then_ok_with_acks(void **state)
{
	char reply[256];
	rspc_request_command(&c, "info partitions");
	sent();
	snprintf(reply, sizeof(reply), "+%s", frame("O68690a")); /* "hi\n" */
	strcat(reply, frame("O7468657265")); /* "there" */
	strcat(reply, "$OK#9a");
	assert_int_equal(feed_all(reply, NULL), RSPC_OK);
	assert_string_equal(c.text, "hi\nthere");
	assert_string_equal(sent(), "+++"); /* each of the three packets acknowledged */
	assert_false(rspc_busy(&c));
}

static void test_reply_fed_byte_by_byte(void **state)
{
	char reply[256];
	rspc_request_command(&c, "x");
	snprintf(reply, sizeof(reply), "%s$OK#9a", frame("O6869"));
	assert_int_equal(feed_bytewise(reply), RSPC_OK);
	assert_string_equal(c.text, "hi");
}

static void test_error_after_explanation(void **state)
{
	char reply[256];
	rspc_request_command(&c, "pause 7");
	/* "no partition 7" */
	snprintf(reply, sizeof(reply), "%s$E16#ac", frame("O6e6f20706172746974696f6e2037"));
	assert_int_equal(feed_all(reply, NULL), RSPC_ERROR);
	assert_int_equal(c.code, 0x16);
	assert_string_equal(c.text, "no partition 7");
}

static void test_empty_reply_means_unsupported(void **state)
{
	rspc_request_command(&c, "info vmcs 0.0");
	assert_int_equal(feed_all("$#00", NULL), RSPC_UNSUPPORTED);
	assert_string_equal(c.text, "");
}

static void test_other_packet_is_unexpected_and_quoted(void **state)
{
	rspc_request_command(&c, "info vmcs 0.0");
	assert_int_equal(feed_all("$T05#b9", NULL), RSPC_UNEXPECTED);
	assert_non_null(strstr(c.text, "'T05'"));
	/* "E1" (one digit) and "Ezz" are not error replies either. */
	rspc_request_command(&c, "x");
	assert_int_equal(feed_all(frame("Ezz"), NULL), RSPC_UNEXPECTED);
}

static void test_bad_checksum_nacked_then_resend_taken(void **state)
{
	rspc_request_command(&c, "x");
	sent();
	assert_int_equal(feed_all("$OK#00", NULL), RSPC_PENDING);
	assert_string_equal(sent(), "-");
	assert_true(rspc_busy(&c));
	assert_int_equal(feed_all("$OK#9a", NULL), RSPC_OK);
	assert_string_equal(sent(), "+");
}

static void test_nack_from_stub_resends_request(void **state)
{
	rspc_request_command(&c, "pause 1");
	sent();
	assert_int_equal(feed_all("-", NULL), RSPC_PENDING);
	assert_string_equal(sent(), "$qRcmd,70617573652031#f8");
}

static void test_bad_hex_in_output_is_noted_not_fatal(void **state)
{
	char reply[256];
	rspc_request_command(&c, "x");
	snprintf(reply, sizeof(reply), "%s", frame("O6g"));
	strcat(reply, frame("O6869"));
	strcat(reply, "$OK#9a");
	assert_int_equal(feed_all(reply, NULL), RSPC_OK);
	assert_non_null(strstr(c.text, "bad hex"));
	assert_non_null(strstr(c.text, "hi"));
}

static void test_feed_stops_after_reply(void **state)
{
	char stream[256];
	size_t used;
	rspc_request_command(&c, "x");
	snprintf(stream, sizeof(stream), "$OK#9a%s", frame("O6869"));
	assert_int_equal(feed_all(stream, &used), RSPC_OK);
	assert_int_equal(used, strlen("$OK#9a"));
	/* The rest arrives with nothing in flight: acknowledged, otherwise ignored. */
	sent();
	assert_int_equal(feed_all(stream + used, &used), RSPC_PENDING);
	assert_string_equal(sent(), "+");
	assert_false(rspc_busy(&c));
}

static void test_noack_accepted_stops_acks(void **state)
{
	assert_int_equal(rspc_request_noack(&c), 0);
	assert_string_equal(sent(), "$QStartNoAckMode#b0");
	assert_int_equal(feed_all("+$OK#9a", NULL), RSPC_OK);
	assert_string_equal(sent(), "+"); /* the OK itself is still acknowledged */
	assert_true(c.no_ack);
	rspc_request_command(&c, "x");
	sent();
	assert_int_equal(feed_all("$OK#9a", NULL), RSPC_OK);
	assert_string_equal(sent(), ""); /* from now on, nothing */
	rspc_request_command(&c, "x");
	sent();
	feed_all("-", NULL); /* and no resends either */
	assert_string_equal(sent(), "");
}

static void test_noack_refused_keeps_acks(void **state)
{
	rspc_request_noack(&c);
	sent();
	assert_int_equal(feed_all("$#00", NULL), RSPC_UNSUPPORTED);
	assert_false(c.no_ack);
	assert_string_equal(sent(), "+");
}

static void test_abandoned_reply_is_ignored(void **state)
{
	rspc_request_command(&c, "x");
	rspc_abandon(&c);
	assert_false(rspc_busy(&c));
	assert_int_equal(feed_all("$OK#9a", NULL), RSPC_PENDING);
}

static void test_output_is_capped(void **state)
{
	char hex[2 * 2000 + 2] = "O";
	rspc_request_command(&c, "x");
	for (int i = 0; i < 2000; i++)
		memcpy(hex + 1 + 2 * i, "41", 2);
	hex[1 + 4000] = '\0';
	for (unsigned i = 0; i < RSPC_MAX_OUTPUT / 2000 + 2; i++) {
		char *f = malloc(strlen(hex) + 8);
		unsigned sum = 0;
		for (char *p = hex; *p; p++)
			sum += (unsigned char)*p;
		sprintf(f, "$%s#%02x", hex, sum & 0xff);
		assert_int_equal(feed_all(f, NULL), RSPC_PENDING);
		free(f);
		sent();
	}
	assert_int_equal(feed_all("$OK#9a", NULL), RSPC_OK);
	assert_true(strlen(c.text) <= RSPC_MAX_OUTPUT);
	assert_non_null(strstr(c.text, "dropped"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_is_framed_as_qrcmd_hex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_too_long_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_then_ok_with_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_fed_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_after_explanation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_reply_means_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_packet_is_unexpected_and_quoted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_nacked_then_resend_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_from_stub_resends_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hex_in_output_is_noted_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_stops_after_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noack_accepted_stops_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noack_refused_keeps_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_reply_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_is_capped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
