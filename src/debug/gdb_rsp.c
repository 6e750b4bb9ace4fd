/**
 * @file gdb_rsp.c
 * @brief GDB Remote Serial Protocol packet layer: framing, hex, argument parsers, dispatch.
 *
 * GDB manual, appendix "Remote Serial Protocol":
 *  - "Overview": a packet is `$` data `#` and two lowercase hex digits, the sum of the data
 *    bytes (as sent, escapes included) modulo 256. The receiver answers `+` (good) or `-`
 *    (resend). Inside data, `#`, `$`, `}` and `*` travel as `}` followed by the byte XOR
 *    0x20. Replies may be run-length encoded with `*`; this stub never does so.
 *  - "Packet Acknowledgment": after QStartNoAckMode neither side sends `+`/`-`.
 *  - "Interrupts": a lone 0x03 byte outside a packet asks the target to stop.
 *
 * The receiver is a byte-at-a-time state machine so the serial interrupt handler can feed
 * it directly. It never writes past rx->data, whatever arrives: a packet longer than the
 * buffer is skipped to its end and reported as RSP_EV_OVERFLOW; an unescaped `$` inside a
 * packet (or in place of a checksum digit) abandons it and starts a new one, so the
 * receiver resynchronises after noise.
 */
#include <hvlab/types.h>
#include <hvlab/lib.h>
#include <hvlab/gdb_rsp.h>

#define RSP_INTERRUPT 0x03
#define RSP_ESCAPE '}'
#define RSP_ESCAPE_XOR 0x20

/* Receiver states: between packets, in the data, at the first / second checksum digit. */
enum { RX_IDLE, RX_DATA, RX_CS1, RX_CS2 };
/* cs_hi when the first checksum character was not a hex digit: the packet is bad. */
#define RX_CS_INVALID 0xff

static const char hexdigits[] = "0123456789abcdef";

/* Value of hex digit @p c, or -1. Both cases are accepted on input. */
static int hexval(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- Receiving ("Overview", "Interrupts") ---- */

void rsp_rx_init(struct rsp_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->state = RX_IDLE;
}

/* '$' seen (between packets or inside one): start collecting a new packet. */
static void rx_start(struct rsp_rx *rx)
{
	rx->state = RX_DATA;
	rx->escape = false;
	rx->dropped = false;
	rx->sum = 0;
	rx->len = 0;
}

/* One byte between '$' and '#': add it to the checksum, undo escapes, store if room. */
static void rx_data(struct rsp_rx *rx, u8 byte)
{
	rx->sum += byte;
	if (!rx->escape && byte == RSP_ESCAPE) {
		rx->escape = true;
		return;
	}
	if (rx->escape) {
		byte ^= RSP_ESCAPE_XOR;
		rx->escape = false;
	}
	if (rx->dropped || rx->len >= RSP_PACKET_SIZE)
		rx->dropped = true; /* skip to '#', then report the overflow */
	else
		rx->data[rx->len++] = (char)byte;
}

/* Second checksum digit seen: decide what the packet was. */
static enum rsp_event rx_finish(struct rsp_rx *rx, int lo)
{
	rx->state = RX_IDLE;
	if (rx->dropped || lo < 0 || ((rx->cs_hi << 4) | lo) != rx->sum) {
		rx->len = 0;
		rx->data[0] = '\0';
		return rx->dropped ? RSP_EV_OVERFLOW : RSP_EV_BAD_CHECKSUM;
	}
	rx->data[rx->len] = '\0';
	return RSP_EV_PACKET;
}

enum rsp_event rsp_rx_byte(struct rsp_rx *rx, u8 byte)
{
	int v;

	/* An unescaped '$' always starts a packet; a cut-off one before it is abandoned. */
	if (byte == '$' && !rx->escape) {
		rx_start(rx);
		return RSP_EV_NONE;
	}
	switch (rx->state) {
	case RX_IDLE:
		/* Between packets only acks and Ctrl-C mean anything; the rest is noise. */
		if (byte == '+')
			return RSP_EV_ACK;
		if (byte == '-')
			return RSP_EV_NACK;
		return byte == RSP_INTERRUPT ? RSP_EV_INTERRUPT : RSP_EV_NONE;
	case RX_DATA:
		if (byte == '#' && !rx->escape)
			rx->state = RX_CS1;
		else
			rx_data(rx, byte);
		return RSP_EV_NONE;
	case RX_CS1:
		v = hexval(byte);
		rx->cs_hi = v < 0 ? RX_CS_INVALID : (u8)v;
		rx->state = RX_CS2;
		return RSP_EV_NONE;
	default: /* RX_CS2 */
		v = hexval(byte);
		return rx_finish(rx, rx->cs_hi == RX_CS_INVALID ? -1 : v);
	}
}

char rsp_rx_ack(const struct rsp_rx *rx, enum rsp_event ev)
{
	if (rx->no_ack)
		return 0;
	if (ev == RSP_EV_PACKET)
		return '+';
	/* A corrupted or overlong packet: ask for it again (GDB gives up after a few tries). */
	if (ev == RSP_EV_BAD_CHECKSUM || ev == RSP_EV_OVERFLOW)
		return '-';
	return 0;
}

/* ---- Sending ("Overview") ---- */

/* Bytes that must be escaped inside a packet ("Overview"). */
static bool needs_escape(u8 c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

int rsp_encode(const void *payload, size_t len, char *out, size_t outlen)
{
	const u8 *p = payload;
	size_t o = 0;
	u8 sum = 0;

	/* Worst case per step: 2 bytes of data, and finally "#cs" and the NUL. */
	if (outlen < 1 + 3 + 1)
		return -1;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		u8 c = p[i];
		size_t need = needs_escape(c) ? 2 : 1;
		if (o + need + 3 + 1 > outlen)
			return -1;
		if (need == 2) {
			out[o++] = RSP_ESCAPE;
			sum += RSP_ESCAPE;
			c ^= RSP_ESCAPE_XOR;
		}
		out[o++] = (char)c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = hexdigits[sum >> 4];
	out[o++] = hexdigits[sum & 0xf];
	out[o] = '\0';
	return (int)o;
}

int rsp_error_reply(int err, char *reply, size_t replylen)
{
	unsigned code = err < 0 ? (unsigned)-err & 0xff : 1;

	if (replylen < 4)
		return replylen ? (reply[0] = '\0', 0) : 0;
	reply[0] = 'E';
	reply[1] = hexdigits[code >> 4];
	reply[2] = hexdigits[code & 0xf];
	reply[3] = '\0';
	return 3;
}

/* ---- Hex ("Overview": numbers and memory contents are hex) ---- */

int rsp_hex_to_bytes(const char *hex, size_t hexlen, u8 *out, size_t outmax)
{
	if (hexlen % 2)
		return RSP_ERR_HEX;
	if (hexlen / 2 > outmax)
		return RSP_ERR_TOO_LONG;
	for (size_t i = 0; i < hexlen; i += 2) {
		int hi = hexval((u8)hex[i]), lo = hexval((u8)hex[i + 1]);
		if (hi < 0 || lo < 0)
			return RSP_ERR_HEX;
		out[i / 2] = (u8)(hi << 4 | lo);
	}
	return (int)(hexlen / 2);
}

int rsp_bytes_to_hex(const void *in, size_t n, char *out, size_t outlen)
{
	const u8 *p = in;

	if (outlen == 0 || n > (outlen - 1) / 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[p[i] >> 4];
		out[2 * i + 1] = hexdigits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
	return (int)(2 * n);
}

int rsp_parse_hex_u64(const char **p, const char *end, u64 *out)
{
	const char *s = *p;
	u64 v = 0;
	int d;

	if (s >= end || hexval((u8)*s) < 0)
		return RSP_ERR_EMPTY;
	for (; s < end && (d = hexval((u8)*s)) >= 0; s++) {
		if (v >> 60)
			return RSP_ERR_RANGE; /* a 17th significant digit */
		v = v << 4 | (u64)d;
	}
	*out = v;
	*p = s;
	return RSP_OK;
}

/* ---- Argument parsers ("Packets") ---- */

/* Expect byte @p c at *@p p and step over it. */
static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return RSP_ERR_SYNTAX;
	(*p)++;
	return RSP_OK;
}

/* Parse "ADDR,LEN" and leave *@p p after LEN. */
static int parse_addr_len(const char **p, const char *end, struct rsp_mem *mem)
{
	int r;

	if ((r = rsp_parse_hex_u64(p, end, &mem->addr)) || (r = expect(p, end, ',')))
		return r;
	return rsp_parse_hex_u64(p, end, &mem->len);
}

int rsp_parse_m(const char *args, size_t len, u64 maxlen, struct rsp_mem *mem)
{
	const char *p = args, *end = args + len;
	int r = parse_addr_len(&p, end, mem);

	if (r)
		return r;
	if (p != end)
		return RSP_ERR_SYNTAX;
	return mem->len > maxlen ? RSP_ERR_TOO_LONG : RSP_OK;
}

/* "ADDR,LEN:" of M and X: the header both share; *@p is left at the data. */
static int parse_write_header(const char **p, const char *end, size_t outmax, struct rsp_mem *mem)
{
	int r;

	if ((r = parse_addr_len(p, end, mem)) || (r = expect(p, end, ':')))
		return r;
	return mem->len > outmax ? RSP_ERR_TOO_LONG : RSP_OK;
}

int rsp_parse_M(const char *args, size_t len, u8 *out, size_t outmax, struct rsp_mem *mem)
{
	const char *p = args, *end = args + len;
	int r;

	if ((r = parse_write_header(&p, end, outmax, mem)))
		return r;
	if ((size_t)(end - p) != 2 * mem->len)
		return (end - p) % 2 ? RSP_ERR_HEX : RSP_ERR_SYNTAX;
	r = rsp_hex_to_bytes(p, (size_t)(end - p), out, outmax);
	return r < 0 ? r : RSP_OK;
}

int rsp_parse_X(const char *args, size_t len, u8 *out, size_t outmax, struct rsp_mem *mem)
{
	const char *p = args, *end = args + len;
	int r;

	if ((r = parse_write_header(&p, end, outmax, mem)))
		return r;
	if ((u64)(end - p) != mem->len)
		return RSP_ERR_SYNTAX;
	memcpy(out, p, (size_t)mem->len);
	return RSP_OK;
}

int rsp_parse_Z(const char *args, size_t len, struct rsp_break *bp)
{
	const char *p = args, *end = args + len;
	u64 type;
	int r;

	if ((r = rsp_parse_hex_u64(&p, end, &type)) ||
	    (r = expect(&p, end, ',')) ||
	    (r = rsp_parse_hex_u64(&p, end, &bp->addr)) ||
	    (r = expect(&p, end, ',')) ||
	    (r = rsp_parse_hex_u64(&p, end, &bp->kind)))
		return r;
	if (p != end)
		return RSP_ERR_SYNTAX; /* no ";cond" lists: we do not offer ConditionalBreakpoints */
	if (type > 4)
		return RSP_ERR_RANGE;
	bp->type = (u32)type;
	return RSP_OK;
}

int rsp_parse_p(const char *args, size_t len, u64 *regno)
{
	const char *p = args, *end = args + len;
	int r = rsp_parse_hex_u64(&p, end, regno);

	if (r)
		return r;
	return p == end ? RSP_OK : RSP_ERR_SYNTAX;
}

int rsp_parse_P(const char *args, size_t len, u64 *regno, u8 val[RSP_REG_MAX_BYTES], size_t *vlen)
{
	const char *p = args, *end = args + len;
	int r;

	if ((r = rsp_parse_hex_u64(&p, end, regno)) || (r = expect(&p, end, '=')))
		return r;
	if (p == end)
		return RSP_ERR_EMPTY;
	r = rsp_hex_to_bytes(p, (size_t)(end - p), val, RSP_REG_MAX_BYTES);
	if (r < 0)
		return r;
	*vlen = (size_t)r;
	return RSP_OK;
}

/* Thread id ("Packets", thread-id syntax): "-1" for all, else hex (0 means any). */
static int parse_tid(const char **p, const char *end, s64 *tid)
{
	u64 v;
	int r;

	if (end - *p >= 2 && (*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*tid = RSP_TID_ALL;
		return RSP_OK;
	}
	if ((r = rsp_parse_hex_u64(p, end, &v)))
		return r;
	if (v > (u64)INT64_MAX)
		return RSP_ERR_RANGE;
	*tid = (s64)v;
	return RSP_OK;
}

int rsp_parse_H(const char *args, size_t len, struct rsp_thread_sel *sel)
{
	const char *p = args, *end = args + len;
	int r;

	if (p == end)
		return RSP_ERR_EMPTY;
	if (*p != 'c' && *p != 'g')
		return RSP_ERR_SYNTAX;
	sel->op = *p++;
	if ((r = parse_tid(&p, end, &sel->tid)))
		return r;
	return p == end ? RSP_OK : RSP_ERR_SYNTAX;
}

int rsp_parse_vcont(const char *args, size_t len, struct rsp_vcont *vc)
{
	const char *p = args, *end = args + len;
	int r;

	vc->n = 0;
	if (p == end)
		return RSP_ERR_EMPTY;
	while (p < end) {
		struct rsp_vcont_action a = { .sig = 0, .tid = RSP_TID_ALL };
		if ((r = expect(&p, end, ';')))
			return r;
		if (p == end)
			return RSP_ERR_EMPTY;
		a.action = *p++;
		if (a.action == 'C' || a.action == 'S') {
			u8 sig;
			if (end - p < 2 || rsp_hex_to_bytes(p, 2, &sig, 1) != 1)
				return RSP_ERR_HEX;
			a.sig = sig;
			p += 2;
		} else if (a.action != 'c' && a.action != 's' && a.action != 't') {
			return RSP_ERR_SYNTAX; /* 'r' (range stepping) is not offered */
		}
		if (p < end && *p == ':') {
			p++;
			if ((r = parse_tid(&p, end, &a.tid)))
				return r;
		}
		if (p < end && *p != ';')
			return RSP_ERR_SYNTAX;
		if (vc->n == RSP_VCONT_MAX)
			return RSP_ERR_TOO_LONG;
		vc->act[vc->n++] = a;
	}
	return RSP_OK;
}

/* ---- Dispatch ---- */

int rsp_dispatch(const struct rsp_command *table, size_t n, const char *packet, size_t len,
		 void *ctx, char *reply, size_t replylen)
{
	const struct rsp_command *best = NULL;
	size_t best_len = 0;
	int r;

	if (replylen == 0)
		return 0;
	reply[0] = '\0';
	/* Longest prefix wins, so "vCont?" beats "vCont" and "qSupported" beats "q". */
	for (size_t i = 0; i < n; i++) {
		size_t plen = strlen(table[i].prefix);
		if (plen <= len && (!best || plen > best_len) && memcmp(packet, table[i].prefix, plen) == 0) {
			best = &table[i];
			best_len = plen;
		}
	}
	if (!best)
		return 0; /* "unsupported": the empty reply */
	r = best->handler(ctx, packet + best_len, len - best_len, reply, replylen);
	if (r < 0)
		return rsp_error_reply(r, reply, replylen);
	if ((size_t)r >= replylen) {
		reply[replylen - 1] = '\0'; /* a handler overran its own count: refuse the reply */
		return rsp_error_reply(RSP_ERR_TOO_LONG, reply, replylen);
	}
	return r;
}
