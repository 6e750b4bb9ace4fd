/* Unit tests for src/debug/gdb_rsp.c: RSP framing, hex, argument parsers and dispatch,
 * with the malformed inputs a hostile or confused GDB may send (issue 5, item 2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <hvlab/gdb_rsp.h>

/* ---- Helpers ---- */

static struct rsp_rx rx;

/* Feed @p n bytes; return the last non-NONE event (NONE if there was none). */
static enum rsp_event feed_n(const char *s, size_t n)
{
	enum rsp_event last = RSP_EV_NONE;
	for (size_t i = 0; i < n; i++) {
		enum rsp_event ev = rsp_rx_byte(&rx, (u8)s[i]);
		if (ev != RSP_EV_NONE)
			last = ev;
	}
	return last;
}

static enum rsp_event feed(const char *s)
{
	return feed_n(s, strlen(s));
}

static int setup(void **state)
{
	rsp_rx_init(&rx);
	return 0;
}

/* ---- Receiver ---- */

static void test_valid_packet(void **state)
{
	assert_int_equal(feed("$g#67"), RSP_EV_PACKET);
	assert_int_equal(rx.len, 1);
	assert_string_equal(rx.data, "g");
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_PACKET), '+');
	assert_int_equal(feed("$m1000,4#8e"), RSP_EV_PACKET);
	assert_string_equal(rx.data, "m1000,4");
	assert_int_equal(feed("$#00"), RSP_EV_PACKET); /* empty packet */
	assert_int_equal(rx.len, 0);
	assert_int_equal(feed("$OK#9A"), RSP_EV_PACKET); /* either case of hex digit */
}

static void test_acks_nacks_and_no_ack_mode(void **state)
{
	assert_int_equal(rsp_rx_byte(&rx, '+'), RSP_EV_ACK);
	assert_int_equal(rsp_rx_byte(&rx, '-'), RSP_EV_NACK);
	/* Inside a packet they are data. */
	assert_int_equal(feed("$+-#58"), RSP_EV_PACKET);
	assert_string_equal(rx.data, "+-");
	rx.no_ack = true;
	assert_int_equal(feed("$g#67"), RSP_EV_PACKET);
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_PACKET), 0);
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_BAD_CHECKSUM), 0);
	rx.no_ack = false;
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_BAD_CHECKSUM), '-');
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_INTERRUPT), 0);
}

static void test_bad_checksum(void **state)
{
	assert_int_equal(feed("$g#68"), RSP_EV_BAD_CHECKSUM);
	assert_int_equal(rx.len, 0);
	assert_int_equal(feed("$g#zz"), RSP_EV_BAD_CHECKSUM);
	assert_int_equal(feed("$g#6z"), RSP_EV_BAD_CHECKSUM);
	assert_int_equal(feed("$g#z7"), RSP_EV_BAD_CHECKSUM);
	assert_int_equal(feed("$g#67"), RSP_EV_PACKET); /* the retransmission gets through */
}

static void test_overlong_packet_then_valid_one(void **state)
{
	size_t n = RSP_PACKET_SIZE + 100;
	char *big = malloc(n + 5);
	big[0] = '$';
	memset(big + 1, 'A', n);
	memcpy(big + 1 + n, "#00", 4);
	assert_int_equal(feed(big), RSP_EV_OVERFLOW);
	assert_int_equal(rsp_rx_ack(&rx, RSP_EV_OVERFLOW), '-');
	assert_int_equal(feed("$g#67"), RSP_EV_PACKET);
	assert_string_equal(rx.data, "g");
	/* Exactly RSP_PACKET_SIZE bytes still fit. */
	char frame[RSP_PACKET_SIZE + 8];
	assert_true(rsp_encode(big + 1, RSP_PACKET_SIZE, frame, sizeof(frame)) > 0);
	assert_int_equal(feed(frame), RSP_EV_PACKET);
	assert_int_equal(rx.len, RSP_PACKET_SIZE);
	/* An overlong packet cut off by a '$' is dropped silently; the next one counts. */
	big[RSP_PACKET_SIZE + 51] = '\0';
	assert_int_equal(feed(big), RSP_EV_NONE);
	assert_int_equal(feed("$g#67"), RSP_EV_PACKET);
	free(big);
}

static void test_escapes_received(void **state)
{
	/* "}\x03" is '#', "}\x04" is '$', "}]" is '}', "}\n" is '*' ("Overview"). */
	char frame[64];
	const char raw[] = "a}\x03" "b}\x04" "c}]" "d}\n";
	u8 sum = 0;
	for (size_t i = 0; i < sizeof(raw) - 1; i++)
		sum += (u8)raw[i];
	snprintf(frame, sizeof(frame), "$%s#%02x", raw, sum);
	assert_int_equal(feed(frame), RSP_EV_PACKET);
	assert_int_equal(rx.len, 8);
	assert_memory_equal(rx.data, "a#b$c}d*", 8);
}

static void test_encode_escapes_round_trip_and_bounds(void **state)
{
	char out[64];
	assert_int_equal(rsp_encode("OK", 2, out, sizeof(out)), 6);
	assert_string_equal(out, "$OK#9a");
	assert_int_equal(rsp_encode("", 0, out, sizeof(out)), 4);
	assert_string_equal(out, "$#00");
	int n = rsp_encode("a#$}*\x03z", 7, out, sizeof(out));
	assert_int_equal(n, 1 + 11 + 3);
	assert_memory_equal(out, "$a}\x03}\x04}]}\n\x03z#", 13);
	assert_int_equal(feed(out), RSP_EV_PACKET);
	assert_int_equal(rx.len, 7);
	assert_memory_equal(rx.data, "a#$}*\x03z", 7);
	/* Too small: the frame and its NUL must fit in outlen. */
	assert_int_equal(rsp_encode("OK", 2, out, 7), 7 - 1);  /* "$OK#9a" + NUL = 7 */
	assert_int_equal(rsp_encode("OK", 2, out, 6), -1);
	assert_int_equal(rsp_encode("##", 2, out, 8), -1);     /* escaping needs 9 */
	assert_int_equal(rsp_encode("", 0, out, 4), -1);
}

static void test_interrupt_outside_packets_only(void **state)
{
	assert_int_equal(rsp_rx_byte(&rx, 0x03), RSP_EV_INTERRUPT);
	assert_int_equal(feed("$g"), RSP_EV_NONE);
	assert_int_equal(rsp_rx_byte(&rx, 0x03), RSP_EV_NONE); /* data inside a packet */
	assert_int_equal(feed("#6a"), RSP_EV_PACKET);
	assert_memory_equal(rx.data, "g\x03", 2);
	assert_int_equal(rsp_rx_byte(&rx, 0x03), RSP_EV_INTERRUPT);
}

static void test_garbage_between_packets_ignored(void **state)
{
	assert_int_equal(feed("hello#00 world\r\n\xff\x00"), RSP_EV_NONE);
	assert_int_equal(feed("xx$g#67yy"), RSP_EV_PACKET);
	/* A '$' inside a packet (or for a checksum digit) restarts it. */
	assert_int_equal(feed("$partial$g#67"), RSP_EV_PACKET);
	assert_string_equal(rx.data, "g");
	assert_int_equal(feed("$m#6$g#67"), RSP_EV_PACKET);
	assert_string_equal(rx.data, "g");
}

/* Deterministic xorshift so failures reproduce. */
static u64 rng = 0x9e3779b97f4a7c15ull;
static u64 xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random_bytes_never_overflow(void **state)
{
	/* rx on the heap with no slack, so ASan catches a write past data[]. */
	struct rsp_rx *r = malloc(sizeof(*r));
	rsp_rx_init(r);
	for (int i = 0; i < 200000; i++) {
		u64 v = xorshift();
		/* Mostly framing characters, so all states are visited often. */
		static const char alphabet[] = "$#}+-\x03" "0a9fG";
		u8 b = (v & 0x100) ? (u8)alphabet[(v >> 9) % (sizeof(alphabet) - 1)] : (u8)v;
		enum rsp_event ev = rsp_rx_byte(r, b);
		assert_true(r->len <= RSP_PACKET_SIZE);
		if (ev == RSP_EV_PACKET)
			assert_int_equal(r->data[r->len], '\0');
	}
	/* A long run without '#' overflows, then a good packet still gets through. */
	rsp_rx_byte(r, '$');
	for (int i = 0; i < 3 * RSP_PACKET_SIZE; i++)
		assert_int_equal(rsp_rx_byte(r, 'A' + (u8)(xorshift() % 26)), RSP_EV_NONE);
	assert_int_equal(rsp_rx_byte(r, '#'), RSP_EV_NONE);
	assert_int_equal(rsp_rx_byte(r, '0'), RSP_EV_NONE);
	assert_int_equal(rsp_rx_byte(r, '0'), RSP_EV_OVERFLOW);
	for (const char *c = "$vCont?#4"; *c; c++)
		assert_int_equal(rsp_rx_byte(r, (u8)*c), RSP_EV_NONE);
	assert_int_equal(rsp_rx_byte(r, '9'), RSP_EV_PACKET);
	assert_string_equal(r->data, "vCont?");
	free(r);
}

/* ---- Hex ---- */

static void test_hex_bytes_both_ways(void **state)
{
	u8 out[4];
	assert_int_equal(rsp_hex_to_bytes("deADbe", 6, out, 4), 3);
	assert_memory_equal(out, "\xde\xad\xbe", 3);
	assert_int_equal(rsp_hex_to_bytes("", 0, out, 4), 0);
	assert_int_equal(rsp_hex_to_bytes("abc", 3, out, 4), RSP_ERR_HEX);
	assert_int_equal(rsp_hex_to_bytes("zz", 2, out, 4), RSP_ERR_HEX);
	assert_int_equal(rsp_hex_to_bytes("0g", 2, out, 4), RSP_ERR_HEX);
	assert_int_equal(rsp_hex_to_bytes("0011223344", 10, out, 4), RSP_ERR_TOO_LONG);
	char hex[8];
	assert_int_equal(rsp_bytes_to_hex("\x01\xab\xff", 3, hex, 7), 6);
	assert_string_equal(hex, "01abff");
	assert_int_equal(rsp_bytes_to_hex("\x01\xab\xff", 3, hex, 6), -1);
	assert_int_equal(rsp_bytes_to_hex("", 0, hex, 1), 0);
	assert_int_equal(rsp_bytes_to_hex("", 0, hex, 0), -1);
}

static void test_parse_hex_u64(void **state)
{
	const char *s = "ffffffffffffffff,", *p = s;
	u64 v = 0;
	assert_true(rsp_parse_hex_u64(&p, s + strlen(s), &v) == RSP_OK && v == UINT64_MAX);
	assert_int_equal(*p, ',');
	s = "00000000000000000001"; p = s; /* leading zeros are not overflow */
	assert_true(rsp_parse_hex_u64(&p, s + strlen(s), &v) == RSP_OK && v == 1);
	s = "ffffffffffffffff1"; p = s;
	assert_int_equal(rsp_parse_hex_u64(&p, s + strlen(s), &v), RSP_ERR_RANGE);
	s = ",4"; p = s;
	assert_int_equal(rsp_parse_hex_u64(&p, s + 2, &v), RSP_ERR_EMPTY);
	assert_ptr_equal(p, s);
	s = "12"; p = s; /* stops at end even without a delimiter */
	assert_true(rsp_parse_hex_u64(&p, s + 1, &v) == RSP_OK && v == 1);
}

/* ---- Packet argument parsers ---- */

static void test_parse_m(void **state)
{
	struct rsp_mem m;
#define M(s, max) rsp_parse_m(s, strlen(s), max, &m)
	assert_true(M("ffff8000,40", 0x40) == RSP_OK && m.addr == 0xffff8000 && m.len == 0x40);
	assert_int_equal(M(",4", 16), RSP_ERR_EMPTY);
	assert_int_equal(M("1000", 16), RSP_ERR_SYNTAX);
	assert_int_equal(M("1000,", 16), RSP_ERR_EMPTY);
	assert_int_equal(M("1000;4", 16), RSP_ERR_SYNTAX);
	assert_int_equal(M("1000,4x", 16), RSP_ERR_SYNTAX);
	assert_int_equal(M("ffffffffffffffff1,4", 16), RSP_ERR_RANGE);
	assert_int_equal(M("1000,41", 0x40), RSP_ERR_TOO_LONG);
	assert_int_equal(M("", 16), RSP_ERR_EMPTY);
#undef M
}

static void test_parse_M(void **state)
{
	struct rsp_mem m;
	u8 out[4];
#define MW(s) rsp_parse_M(s, strlen(s), out, sizeof(out), &m)
	assert_true(MW("10,2:cafe") == RSP_OK && m.addr == 0x10 && m.len == 2);
	assert_memory_equal(out, "\xca\xfe", 2);
	assert_int_equal(MW("10,0:"), RSP_OK);
	assert_int_equal(MW("10,2cafe"), RSP_ERR_SYNTAX);
	assert_int_equal(MW("10,2:caf"), RSP_ERR_HEX);
	assert_int_equal(MW("10,2:cazz"), RSP_ERR_HEX);
	assert_int_equal(MW("10,2:ca"), RSP_ERR_SYNTAX);     /* fewer bytes than LEN */
	assert_int_equal(MW("10,2:cafe00"), RSP_ERR_SYNTAX); /* more bytes than LEN */
	assert_int_equal(MW("10,5:0011223344"), RSP_ERR_TOO_LONG);
	assert_int_equal(MW(",2:cafe"), RSP_ERR_EMPTY);
#undef MW
}

static void test_parse_X_through_receiver(void **state)
{
	/* GDB escapes '#', '$', '}', '*' in X data; the receiver undoes it. */
	char frame[64];
	const u8 bin[] = { '#', 0x00, '}', '*' };
	char pkt[32] = "X20,4:";
	memcpy(pkt + 6, bin, 4);
	int n = rsp_encode(pkt, 10, frame, sizeof(frame));
	assert_true(n > 0);
	assert_int_equal(feed_n(frame, (size_t)n), RSP_EV_PACKET); /* the frame holds a NUL */
	struct rsp_mem m;
	u8 out[8];
	assert_true(rsp_parse_X(rx.data + 1, rx.len - 1, out, sizeof(out), &m) == RSP_OK && m.addr == 0x20 && m.len == 4);
	assert_memory_equal(out, bin, 4);
	/* GDB probes binary support with a zero-length X. */
	assert_int_equal(rsp_parse_X("20,0:", 5, out, sizeof(out), &m), RSP_OK);
	assert_int_equal(rsp_parse_X("20,4:ab", 7, out, sizeof(out), &m), RSP_ERR_SYNTAX);
	assert_int_equal(rsp_parse_X("20,9:123456789", 14, out, sizeof(out), &m), RSP_ERR_TOO_LONG);
	assert_int_equal(rsp_parse_X("20,4", 4, out, sizeof(out), &m), RSP_ERR_SYNTAX);
}

static void test_parse_Z(void **state)
{
	struct rsp_break bp;
#define Z(s) rsp_parse_Z(s, strlen(s), &bp)
	assert_true(Z("0,401000,1") == RSP_OK && bp.type == 0 && bp.addr == 0x401000 && bp.kind == 1);
	assert_int_equal(Z("4,7ffc,8"), RSP_OK);
	assert_int_equal(bp.type, 4);
	assert_int_equal(Z("5,1000,1"), RSP_ERR_RANGE);
	assert_int_equal(Z("0,,1"), RSP_ERR_EMPTY);
	assert_int_equal(Z("0,1000"), RSP_ERR_SYNTAX);
	assert_int_equal(Z("0,1000,1;X1,0"), RSP_ERR_SYNTAX);
	assert_int_equal(Z(""), RSP_ERR_EMPTY);
#undef Z
}

static void test_parse_p_and_P(void **state)
{
	u64 reg;
	u8 val[RSP_REG_MAX_BYTES];
	size_t vlen;
	assert_true(rsp_parse_p("10", 2, &reg) == RSP_OK && reg == 0x10);
	assert_int_equal(rsp_parse_p("", 0, &reg), RSP_ERR_EMPTY);
	assert_int_equal(rsp_parse_p("1x", 2, &reg), RSP_ERR_SYNTAX);
#define P(s) rsp_parse_P(s, strlen(s), &reg, val, &vlen)
	assert_true(P("10=0010400000000000") == RSP_OK && reg == 0x10 && vlen == 8);
	assert_memory_equal(val, "\x00\x10\x40\x00\x00\x00\x00\x00", 8);
	assert_int_equal(P("10"), RSP_ERR_SYNTAX);
	assert_int_equal(P("10="), RSP_ERR_EMPTY);
	assert_int_equal(P("=00"), RSP_ERR_EMPTY);
	assert_int_equal(P("10=001"), RSP_ERR_HEX);
	assert_int_equal(P("10=00112233445566778899aabbccddeeff00"), RSP_ERR_TOO_LONG);
#undef P
}

static void test_parse_H(void **state)
{
	struct rsp_thread_sel sel;
#define H(s) rsp_parse_H(s, strlen(s), &sel)
	assert_true(H("g1") == RSP_OK && sel.op == 'g' && sel.tid == 1);
	assert_true(H("c-1") == RSP_OK && sel.op == 'c' && sel.tid == RSP_TID_ALL);
	assert_true(H("g0") == RSP_OK && sel.tid == RSP_TID_ANY);
	assert_true(H("ga") == RSP_OK && sel.tid == 10);
	assert_int_equal(H(""), RSP_ERR_EMPTY);
	assert_int_equal(H("g"), RSP_ERR_EMPTY);
	assert_int_equal(H("x1"), RSP_ERR_SYNTAX);
	assert_int_equal(H("g-2"), RSP_ERR_EMPTY);
	assert_int_equal(H("g1z"), RSP_ERR_SYNTAX);
	assert_int_equal(H("g8000000000000000"), RSP_ERR_RANGE);
#undef H
}

static void test_parse_vcont(void **state)
{
	struct rsp_vcont vc;
#define V(s) rsp_parse_vcont(s, strlen(s), &vc)
	assert_int_equal(V(";s:2;c"), RSP_OK);
	assert_int_equal(vc.n, 2);
	assert_true(vc.act[0].action == 's' && vc.act[0].tid == 2);
	assert_true(vc.act[1].action == 'c' && vc.act[1].tid == RSP_TID_ALL);
	assert_int_equal(V(";C05:1;S0b;t:-1"), RSP_OK);
	assert_int_equal(vc.n, 3);
	assert_true(vc.act[0].action == 'C' && vc.act[0].sig == 5 && vc.act[0].tid == 1);
	assert_true(vc.act[1].action == 'S' && vc.act[1].sig == 0xb);
	assert_true(vc.act[2].action == 't' && vc.act[2].tid == RSP_TID_ALL);
	assert_int_equal(V(""), RSP_ERR_EMPTY);
	assert_int_equal(V(";"), RSP_ERR_EMPTY);
	assert_int_equal(V("c"), RSP_ERR_SYNTAX);
	assert_int_equal(V(";x"), RSP_ERR_SYNTAX);
	assert_int_equal(V(";r1000,2000"), RSP_ERR_SYNTAX);
	assert_int_equal(V(";c:"), RSP_ERR_EMPTY);
	assert_int_equal(V(";C5"), RSP_ERR_HEX);
	assert_int_equal(V(";Czz"), RSP_ERR_HEX);
	assert_int_equal(V(";c1"), RSP_ERR_SYNTAX);
	assert_int_equal(V(";c;c;c;c;c;c;c;c"), RSP_OK);
	assert_int_equal(V(";c;c;c;c;c;c;c;c;c"), RSP_ERR_TOO_LONG);
#undef V
}

/* ---- Dispatch ---- */

static int h_name(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	/* Reply "<prefix>|<args>" so the test sees which entry ran and what it got. */
	return snprintf(reply, replylen, "%s|%.*s", (const char *)ctx, (int)len, args);
}
static int h_q(void *c, const char *a, size_t l, char *r, size_t n) { return h_name("q", a, l, r, n); }
static int h_qs(void *c, const char *a, size_t l, char *r, size_t n) { return h_name("qSupported", a, l, r, n); }
static int h_vc(void *c, const char *a, size_t l, char *r, size_t n) { return h_name("vCont", a, l, r, n); }
static int h_vcq(void *c, const char *a, size_t l, char *r, size_t n) { return h_name("vCont?", a, l, r, n); }
static int h_m(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_mem m;
	int r = rsp_parse_m(args, len, (replylen - 1) / 2, &m);
	if (r)
		return r;
	u8 zeros[64] = { 0 };
	return rsp_bytes_to_hex(zeros, (size_t)m.len, reply, replylen);
}
static int h_big(void *c, const char *a, size_t l, char *r, size_t n) { return (int)n; }

static const struct rsp_command table[] = {
	{ "vCont?", h_vcq }, { "q", h_q }, { "vCont", h_vc }, { "qSupported", h_qs },
	{ "m", h_m }, { "BIG", h_big },
};

static int dispatch(const char *pkt, char *reply, size_t n)
{
	return rsp_dispatch(table, ARRAY_SIZE(table), pkt, strlen(pkt), NULL, reply, n);
}

static void test_dispatch_longest_prefix(void **state)
{
	char reply[64];
	assert_int_equal(dispatch("qSupported:swbreak+", reply, sizeof(reply)), 20);
	assert_string_equal(reply, "qSupported|:swbreak+");
	assert_true(dispatch("qC", reply, sizeof(reply)) > 0);
	assert_string_equal(reply, "q|C");
	assert_true(dispatch("vCont?", reply, sizeof(reply)) > 0);
	assert_string_equal(reply, "vCont?|");
	assert_true(dispatch("vCont;c", reply, sizeof(reply)) > 0);
	assert_string_equal(reply, "vCont|;c");
}

static void test_dispatch_unknown_gets_empty_reply(void **state)
{
	char reply[16] = "junk";
	assert_int_equal(dispatch("vMustReplyEmpty", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "");
	assert_int_equal(dispatch("", reply, sizeof(reply)), 0);
	assert_int_equal(dispatch("vCon", reply, sizeof(reply)), 0);
}

static void test_dispatch_errors_become_Exx(void **state)
{
	char reply[16];
	assert_int_equal(dispatch("m1000,4", reply, sizeof(reply)), 8);
	assert_string_equal(reply, "00000000");
	assert_int_equal(dispatch("m1000,8", reply, sizeof(reply)), 3); /* 16 hex won't fit */
	assert_string_equal(reply, "E05");
	assert_int_equal(dispatch("m,4", reply, sizeof(reply)), 3);
	assert_string_equal(reply, "E01");
	assert_int_equal(dispatch("mffffffffffffffff1,1", reply, sizeof(reply)), 3);
	assert_string_equal(reply, "E03");
	assert_int_equal(dispatch("BIG", reply, sizeof(reply)), 3);
	assert_string_equal(reply, "E05");
	assert_int_equal(rsp_error_reply(RSP_ERR_SYNTAX, reply, 3), 0);
	assert_string_equal(reply, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
		T(test_valid_packet), T(test_acks_nacks_and_no_ack_mode),
		T(test_bad_checksum), T(test_overlong_packet_then_valid_one),
		T(test_escapes_received), T(test_encode_escapes_round_trip_and_bounds),
		T(test_interrupt_outside_packets_only), T(test_garbage_between_packets_ignored),
		T(test_random_bytes_never_overflow), T(test_hex_bytes_both_ways),
		T(test_parse_hex_u64), T(test_parse_m),
		T(test_parse_M), T(test_parse_X_through_receiver),
		T(test_parse_Z), T(test_parse_p_and_P),
		T(test_parse_H), T(test_parse_vcont),
		T(test_dispatch_longest_prefix), T(test_dispatch_unknown_gets_empty_reply),
		T(test_dispatch_errors_become_Exx),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
