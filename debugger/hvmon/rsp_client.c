/**
 * @file rsp_client.c
 * @brief Monitor-protocol client: qRcmd requests, O/OK/Exx replies, acknowledgments.
 *
 * GDB manual, appendix "Remote Serial Protocol": "Overview" (framing, + and -),
 * "Packet Acknowledgment" (QStartNoAckMode: the client acknowledges the stub's OK, then
 * neither side acknowledges again), and "General Query Packets" (qRcmd: the stub sends
 * console output as O packets, then OK or Exx). The wire format itself is
 * src/debug/gdb_rsp.c; this file adds the client's side of the conversation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp_client.h"

void rspc_init(struct rspc *c)
{
	memset(c, 0, sizeof(*c));
	rsp_rx_init(&c->rx);
	c->text_cap = 256;
	c->text = calloc(1, c->text_cap);
	if (!c->text)
		abort();
}

void rspc_free(struct rspc *c)
{
	free(c->text);
	c->text = NULL;
	c->text_len = c->text_cap = 0;
}

bool rspc_busy(const struct rspc *c)
{
	return c->waiting != RSPC_IDLE;
}

/* Queue @p len raw bytes for sending; false (nothing queued) if they do not fit. */
static bool queue_bytes(struct rspc *c, const char *bytes, size_t len)
{
	if (c->out_len + len > sizeof(c->out))
		return false;
	memcpy(c->out + c->out_len, bytes, len);
	c->out_len += len;
	return true;
}

/* Frame @p payload as a packet, remember it for a resend, queue it. */
static int send_packet(struct rspc *c, const char *payload, size_t len)
{
	int n = rsp_encode(payload, len, c->last, sizeof(c->last));
	if (n < 0 || !queue_bytes(c, c->last, (size_t)n))
		return -1;
	c->last_len = (size_t)n;
	return 0;
}

/* Start collecting a new reply. */
static void start_reply(struct rspc *c, enum rspc_request what)
{
	c->waiting = what;
	c->text_len = 0;
	c->text[0] = '\0';
	c->code = 0;
}

int rspc_request_noack(struct rspc *c)
{
	static const char pkt[] = "QStartNoAckMode";

	if (rspc_busy(c) || send_packet(c, pkt, sizeof(pkt) - 1) < 0)
		return -1;
	start_reply(c, RSPC_NOACK);
	return 0;
}

int rspc_request_command(struct rspc *c, const char *cmd)
{
	char pkt[sizeof("qRcmd,") + 2 * RSPC_MAX_COMMAND];
	size_t len = strlen(cmd);

	if (rspc_busy(c) || len > RSPC_MAX_COMMAND)
		return -1;
	memcpy(pkt, "qRcmd,", 6);
	rsp_bytes_to_hex(cmd, len, pkt + 6, sizeof(pkt) - 6);
	if (send_packet(c, pkt, 6 + 2 * len) < 0)
		return -1;
	start_reply(c, RSPC_COMMAND);
	return 0;
}

void rspc_abandon(struct rspc *c)
{
	c->waiting = RSPC_IDLE;
}

/* Append @p len bytes to the reply text, up to RSPC_MAX_OUTPUT (then one note). */
static void add_text(struct rspc *c, const char *s, size_t len)
{
	static const char cut[] = "\n[hvmon: the rest of this reply was dropped]\n";

	if (c->text_len >= RSPC_MAX_OUTPUT)
		return;
	if (c->text_len + len > RSPC_MAX_OUTPUT) {
		s = cut;
		len = sizeof(cut) - 1;
	}
	if (c->text_len + len + 1 > c->text_cap) {
		size_t cap = c->text_cap;
		while (c->text_len + len + 1 > cap)
			cap *= 2;
		c->text = realloc(c->text, cap);
		if (!c->text)
			abort();
		c->text_cap = cap;
	}
	memcpy(c->text + c->text_len, s, len);
	c->text_len += len;
	c->text[c->text_len] = '\0';
	if (s == cut)
		c->text_len = RSPC_MAX_OUTPUT; /* nothing more is taken */
}

/* An "O<hex>" output packet: decode it into the reply text. */
static void take_output_packet(struct rspc *c, const char *hex, size_t hexlen)
{
	static const char bad[] = "[hvmon: an output packet with bad hex was dropped]\n";
	unsigned char bytes[RSP_PACKET_SIZE / 2];
	int n = rsp_hex_to_bytes(hex, hexlen, bytes, sizeof(bytes));

	if (n < 0)
		add_text(c, bad, sizeof(bad) - 1);
	else
		add_text(c, (const char *)bytes, (size_t)n);
}

/* Is @p s (of @p len bytes) "Exx" with two hex digits? Stores xx in *@p code. */
static bool is_error_packet(const char *s, size_t len, int *code)
{
	unsigned char v;

	if (len != 3 || s[0] != 'E' || rsp_hex_to_bytes(s + 1, 2, &v, 1) != 1)
		return false;
	*code = v;
	return true;
}

/* One whole packet arrived: what does it do to the request in flight? */
static enum rspc_result take_packet(struct rspc *c, const char *p, size_t len)
{
	enum rspc_request was = c->waiting;
	char quoted[80];

	if (was == RSPC_IDLE)
		return RSPC_PENDING; /* unsolicited (say, the late end of an abandoned reply) */
	if (was == RSPC_COMMAND && len >= 1 && p[0] == 'O' && !(len == 2 && p[1] == 'K')) {
		take_output_packet(c, p + 1, len - 1);
		return RSPC_PENDING;
	}
	c->waiting = RSPC_IDLE;
	if (len == 2 && memcmp(p, "OK", 2) == 0) {
		if (was == RSPC_NOACK)
			c->no_ack = c->rx.no_ack = true; /* this OK was acknowledged; no more */
		return RSPC_OK;
	}
	if (len == 0)
		return RSPC_UNSUPPORTED;
	if (is_error_packet(p, len, &c->code))
		return RSPC_ERROR;
	snprintf(quoted, sizeof(quoted), "unexpected reply '%.*s%s'", len > 40 ? 40 : (int)len, p,
		 len > 40 ? "..." : "");
	add_text(c, quoted, strlen(quoted));
	return RSPC_UNEXPECTED;
}

enum rspc_result rspc_feed(struct rspc *c, const void *bytes, size_t n, size_t *used)
{
	const unsigned char *b = bytes;
	enum rspc_result r = RSPC_PENDING;
	size_t i = 0;

	while (i < n && r == RSPC_PENDING) {
		enum rsp_event ev = rsp_rx_byte(&c->rx, b[i++]);
		char ack = rsp_rx_ack(&c->rx, ev);

		if (ack)
			queue_bytes(c, &ack, 1);
		if (ev == RSP_EV_NACK && !c->no_ack && c->last_len)
			queue_bytes(c, c->last, c->last_len); /* the stub asks for a resend */
		else if (ev == RSP_EV_PACKET)
			r = take_packet(c, c->rx.data, c->rx.len);
	}
	*used = i;
	return r;
}

const char *rspc_take_output(struct rspc *c, size_t *len)
{
	*len = c->out_len;
	c->out_len = 0;
	return c->out;
}
