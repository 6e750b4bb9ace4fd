/*
 * fuzz_rsp_dispatch.c — libFuzzer target for the command half of src/debug/gdb_rsp.c:
 * rsp_dispatch() and the argument parsers (m, M, X, Z/z, p, P, H, vCont) with the hex
 * helpers under them.
 *
 * Fuzzes: the input as one received packet body (what rsp_rx hands the stub), dispatched
 * through a table shaped like the stub's, whose handlers call the parsers as the stub
 * will. Each packet is dispatched twice: with a full-size reply buffer and with a small
 * one (1..64 bytes), both exactly sized on the heap so ASan sees any overrun.
 * Asserts: parsers return RSP_OK or an enum rsp_err, and on success give in-range values
 * (LEN within the buffer, M/X data equal to the packet's, Z type 0..4, P value <= 16
 * bytes, thread ids >= -1, at most RSP_VCONT_MAX vCont actions of a known kind); the
 * m/M/X length limits are exact (a buffer of LEN bytes works, LEN - 1 is refused);
 * rsp_dispatch() runs the longest matching prefix's handler (none: the empty reply),
 * turns errors and overlong replies into "Exx" (or "" if that does not fit), and its
 * reply is NUL-terminated, shorter than the buffer, and as long as it says.
 */
#undef NDEBUG /* the checks below are the point */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hvlab/gdb_rsp.h>

#define WRITE_MAX 64 /* the data buffer M and X write into */

/* Which handler ran (where its arguments start) and what it returned, for the checks
 * after dispatch. */
struct call {
	const char *args;
	int ret;
};

/* Every handler returns through here: note the call; args must be NUL-terminated. */
static int done(void *ctx, const char *args, size_t len, int ret)
{
	struct call *c = ctx;

	assert(args[len] == '\0');
	c->args = args;
	c->ret = ret;
	return ret;
}

/* A parser's result is success or one of the documented errors. */
static void check_rc(int r)
{
	assert(r <= RSP_OK && r >= RSP_ERR_TOO_LONG);
}

/* Reply @p text, or RSP_ERR_TOO_LONG when it does not fit. */
static int reply_text(const char *text, char *reply, size_t replylen)
{
	size_t n = strlen(text);
	if (n >= replylen)
		return RSP_ERR_TOO_LONG;
	memcpy(reply, text, n + 1);
	return (int)n;
}

/* Reply @p n bytes as hex, as g, m and p do. */
static int reply_hex(const void *bytes, size_t n, char *reply, size_t replylen)
{
	int r = rsp_bytes_to_hex(bytes, n, reply, replylen);
	assert(r == -1 || (r == (int)(2 * n) && reply[r] == '\0'));
	return r < 0 ? RSP_ERR_TOO_LONG : r;
}

/* m: read LEN bytes of (pretend) memory; LEN is capped by what the reply can hold. */
static int h_m(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_mem mem;
	u64 max = (replylen - 1) / 2;
	int r = rsp_parse_m(args, len, max, &mem);
	u8 bytes[RSP_PACKET_SIZE / 2];

	check_rc(r);
	if (r)
		return done(ctx, args, len, r);
	assert(mem.len <= max && mem.len <= sizeof(bytes));
	if (mem.len) /* the cap is exact: one byte less is refused */
		assert(rsp_parse_m(args, len, mem.len - 1, &(struct rsp_mem){ 0 }) == RSP_ERR_TOO_LONG);
	for (u64 i = 0; i < mem.len; i++)
		bytes[i] = (u8)(mem.addr + i);
	r = reply_hex(bytes, (size_t)mem.len, reply, replylen);
	assert(r == (int)(2 * mem.len));
	return done(ctx, args, len, r);
}

/* rsp_parse_M and rsp_parse_X: "ADDR,LEN:DATA" into a buffer of @p outmax bytes. */
typedef int parse_write_fn(const char *args, size_t len, u8 *out, size_t outmax,
			   struct rsp_mem *mem);

/* A write that parsed: the same packet must fit a buffer of exactly LEN bytes (with the
 * same data) and be refused by one byte less, without touching beyond either. */
static void check_write_bounds(parse_write_fn *parse, const char *args, size_t len,
			       const struct rsp_mem *mem, const u8 *data)
{
	struct rsp_mem again;
	u8 *exact = malloc(mem->len), *less;

	assert(parse(args, len, exact, mem->len, &again) == RSP_OK);
	assert(again.addr == mem->addr && again.len == mem->len);
	assert(memcmp(exact, data, mem->len) == 0);
	free(exact);
	if (mem->len == 0)
		return;
	less = malloc(mem->len - 1);
	assert(parse(args, len, less, mem->len - 1, &again) == RSP_ERR_TOO_LONG);
	free(less);
}

/* M: LEN bytes of hex; the decoded bytes must be the packet's digits. */
static int h_M(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_mem mem;
	u8 *out = malloc(WRITE_MAX);
	char hex[2 * WRITE_MAX + 1];
	int r = rsp_parse_M(args, len, out, WRITE_MAX, &mem);

	check_rc(r);
	if (r == RSP_OK) {
		assert(mem.len <= WRITE_MAX && 2 * mem.len <= len);
		assert(rsp_bytes_to_hex(out, (size_t)mem.len, hex, sizeof(hex)) == (int)(2 * mem.len));
		assert(strncasecmp(hex, args + len - 2 * mem.len, (size_t)(2 * mem.len)) == 0);
		check_write_bounds(rsp_parse_M, args, len, &mem, out);
	}
	free(out);
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* X: LEN raw bytes, copied as they are. */
static int h_X(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_mem mem;
	u8 *out = malloc(WRITE_MAX);
	int r = rsp_parse_X(args, len, out, WRITE_MAX, &mem);

	check_rc(r);
	if (r == RSP_OK) {
		assert(mem.len <= WRITE_MAX && mem.len <= len);
		assert(memcmp(out, args + len - mem.len, (size_t)mem.len) == 0);
		check_write_bounds(rsp_parse_X, args, len, &mem, out);
	}
	free(out);
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* Z and z: a breakpoint or watchpoint of type 0..4. */
static int h_Z(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_break bp;
	int r = rsp_parse_Z(args, len, &bp);

	check_rc(r);
	if (r == RSP_OK)
		assert(bp.type <= 4);
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* p: one register, replied as 8 bytes of hex. */
static int h_p(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	u64 regno;
	int r = rsp_parse_p(args, len, &regno);

	check_rc(r);
	return done(ctx, args, len, r ? r : reply_hex(&regno, sizeof(regno), reply, replylen));
}

/* P: "N=VAL", VAL at most RSP_REG_MAX_BYTES and all of what follows '='. */
static int h_P(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	u64 regno;
	u8 val[RSP_REG_MAX_BYTES];
	size_t vlen = 0;
	int r = rsp_parse_P(args, len, &regno, val, &vlen);
	const char *eq = memchr(args, '=', len);

	check_rc(r);
	if (r == RSP_OK)
		assert(eq && vlen >= 1 && vlen <= RSP_REG_MAX_BYTES &&
		       2 * vlen == len - (size_t)(eq + 1 - args));
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* H: 'c' or 'g' and a thread id. */
static int h_H(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_thread_sel sel;
	int r = rsp_parse_H(args, len, &sel);

	check_rc(r);
	if (r == RSP_OK)
		assert((sel.op == 'c' || sel.op == 'g') && sel.tid >= RSP_TID_ALL);
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* vCont: up to RSP_VCONT_MAX actions, a signal only on C and S. */
static int h_vcont(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	struct rsp_vcont vc;
	int r = rsp_parse_vcont(args, len, &vc);

	check_rc(r);
	assert(vc.n <= RSP_VCONT_MAX);
	for (u32 i = 0; r == RSP_OK && i < vc.n; i++) {
		const struct rsp_vcont_action *a = &vc.act[i];
		assert(a->action && strchr("csCSt", a->action));
		assert(a->sig == 0 || a->action == 'C' || a->action == 'S');
		assert(a->tid >= RSP_TID_ALL);
	}
	return done(ctx, args, len, r ? r : reply_text("OK", reply, replylen));
}

/* Fixed replies, to test that the longest prefix wins ("vCont?" over "vCont"). */
static int h_vcont_query(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	return done(ctx, args, len, reply_text("vCont;c;C;s;S", reply, replylen));
}

/* qSupported: the stub's longer reply; beats the catch-all "q". */
static int h_supported(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	char text[64];
	snprintf(text, sizeof(text), "PacketSize=%x;QStartNoAckMode+", RSP_PACKET_SIZE);
	return done(ctx, args, len, reply_text(text, reply, replylen));
}

/* "q": any other query gets the empty reply. */
static int h_empty(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	return done(ctx, args, len, 0);
}

/* g: all registers (here 16 bytes). */
static int h_g(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	static const u8 regs[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	return done(ctx, args, len, reply_hex(regs, sizeof(regs), reply, replylen));
}

/* A buggy handler that claims a reply as long as the buffer: dispatch must refuse it. */
static int h_overrun(void *ctx, const char *args, size_t len, char *reply, size_t replylen)
{
	return done(ctx, args, len, (int)replylen);
}

/* Shaped like the stub's table; z shares Z's handler, "q" is a catch-all. */
static const struct rsp_command table[] = {
	{ "m", h_m },           { "M", h_M },       { "X", h_X },         { "Z", h_Z },
	{ "z", h_Z },           { "p", h_p },       { "P", h_P },         { "H", h_H },
	{ "vCont", h_vcont },   { "vCont?", h_vcont_query },             { "q", h_empty },
	{ "qSupported", h_supported },              { "g", h_g },         { "Qoverrun", h_overrun },
};

/* Length of the prefix rsp_dispatch() should pick, found the slow way; -1 for none. */
static long longest_prefix(const char *packet, size_t len)
{
	long best = -1;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		size_t n = strlen(table[i].prefix);
		if (n <= len && memcmp(packet, table[i].prefix, n) == 0 && (long)n > best)
			best = (long)n;
	}
	return best;
}

/* Dispatch @p packet with a reply buffer of exactly @p replylen bytes and check it. */
static void dispatch(const char *packet, size_t len, size_t replylen)
{
	char *reply = malloc(replylen);
	struct call call = { NULL, 0 };
	int r = rsp_dispatch(table, ARRAY_SIZE(table), packet, len, &call, reply, replylen);

	assert(r >= 0 && (size_t)r < replylen && reply[r] == '\0' && strlen(reply) == (size_t)r);
	/* Matching prefixes of one packet differ in length: the length names the handler. */
	assert((call.args ? call.args - packet : -1) == longest_prefix(packet, len));
	if (!call.args)
		assert(r == 0);
	else if (call.ret < 0 || (size_t)call.ret >= replylen)
		assert(replylen < 4 ? r == 0 : r == 3 && reply[0] == 'E');
	else
		assert(r == call.ret);
	free(reply);
}

/* One input: one packet body, dispatched with a roomy and a small reply buffer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *packet;

	if (size > RSP_PACKET_SIZE)
		return 0; /* the receiver never delivers more */
	/* As the receiver delivers it: NUL-terminated, possibly with NULs inside (X data). */
	packet = malloc(size + 1);
	memcpy(packet, data, size);
	packet[size] = '\0';
	dispatch(packet, size, RSP_PACKET_SIZE + 1);
	dispatch(packet, size, 1 + size % 64);
	free(packet);
	return 0;
}
