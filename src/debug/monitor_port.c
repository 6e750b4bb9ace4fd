/**
 * @file monitor_port.c
 * @brief The monitor's serial port (COM3): hvmon's packets in, command output out.
 *
 * The conversation (docs/design/monitor-protocol.md) uses GDB's remote-protocol
 * framing (src/debug/gdb_rsp.c):
 *
 *     hvmon                                   here
 *     $QStartNoAckMode#b0            ->
 *                                    <-       +$OK#9a      (no more + and - after this)
 *     $qRcmd,<hex of "pause 1">#..   ->
 *                                    <-       $O<hex of output>#..   (zero or more)
 *                                    <-       $OK#9a  or  $E16#..
 *
 * CPU 0 calls monitor_poll() at least every millisecond (debug_port.h) and it must never
 * wait, so nothing here does:
 *   - a command runs as soon as its packet is complete, and its whole answer is framed
 *     into the transmit queue at once (commands only read memory or post lifecycle
 *     requests: they are quick);
 *   - the queue leaves at the line's pace, at most one FIFO-full (16 bytes) per poll
 *     (debug_port_write_nowait());
 *   - the next command is taken only when the previous answer has left: the protocol has
 *     one command in flight, so a packet that arrives earlier waits in `held`.
 *
 * At start-up the port sends one '-' ("resend your last packet", GDB manual, "Packet
 * Acknowledgment"): a client that connected before the hypervisor listened (Bochs
 * accepts the connection at power-on) had its first packet thrown away with the bytes
 * that came before us, and sends it again.
 *
 * Acknowledgments: each packet is acknowledged until QStartNoAckMode; the packets of an
 * answer are not held back waiting for the client's '+', and a '-' resends only the last
 * one (hvmon always turns acknowledgments off, and the line does not lose bytes).
 */
#include <hvlab/debug_port.h>
#include <hvlab/gdb_rsp.h>
#include <hvlab/monitor.h>
#include <hvlab/lib.h>

#define TX_SIZE 32768         /* transmit queue: one whole answer, framed */
#define TEXT_PER_PACKET 1024  /* output bytes per O packet (2048 hex digits) */
#define ANSWER_TEXT_MAX 12288 /* output of one command; beyond, it is cut with a note */
#define RX_PER_POLL 64        /* received bytes handled per poll (the FIFO holds 16) */

/* The transmit queue: a ring, bytes [tail, head) waiting for the UART. */
static struct {
	char buf[TX_SIZE];
	size_t head, tail;
} tx;

static struct rsp_rx rx;

/* A packet that arrived while an answer was still leaving. */
static char held[RSP_PACKET_SIZE + 1];
static size_t held_len;
static bool have_held;

/* The output of the command being answered. */
static char answer[ANSWER_TEXT_MAX + 64];
static size_t answer_len;
static bool answer_cut;

/* The last packet sent, framed, for a '-' from the client. */
static char last_frame[2 * TEXT_PER_PACKET + 16];
static size_t last_len;

/* ---- The transmit queue ---- */

static size_t tx_used(void)
{
	return tx.head - tx.tail;
}

/* Queue @p n bytes; false (nothing queued) when they do not fit. */
static bool tx_put(const char *bytes, size_t n)
{
	if (n > TX_SIZE - tx_used())
		return false;
	for (size_t i = 0; i < n; i++)
		tx.buf[(tx.head + i) % TX_SIZE] = bytes[i];
	tx.head += n;
	return true;
}

/* Hand the UART what it takes now: at most one FIFO-full. */
static void tx_drain(struct debug_port *dp)
{
	char chunk[DEBUG_PORT_FIFO];
	size_t n = tx_used() < sizeof(chunk) ? tx_used() : sizeof(chunk);

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		chunk[i] = tx.buf[(tx.tail + i) % TX_SIZE];
	tx.tail += debug_port_write_nowait(dp, chunk, n);
}

/* Frame @p len bytes of @p payload as one packet and queue it. */
static void send_packet(const char *payload, size_t len)
{
	int n = rsp_encode(payload, len, last_frame, sizeof(last_frame));

	if (n < 0)
		return; /* cannot happen: payloads are at most 2 * TEXT_PER_PACKET + 1 bytes */
	last_len = (size_t)n;
	tx_put(last_frame, last_len);
}

static void send_text(const char *s)
{
	send_packet(s, strlen(s));
}

/* ---- Answering a command ---- */

/* monitor_execute()'s output: gathered, then sent as O packets. */
static void collect(void *ctx, const char *text)
{
	size_t n = strlen(text);

	if (answer_len + n > ANSWER_TEXT_MAX) {
		n = ANSWER_TEXT_MAX - answer_len;
		answer_cut = true;
	}
	memcpy(answer + answer_len, text, n);
	answer_len += n;
}

/* The output in O packets ("O" and hex), then OK or Exx. */
static void send_answer(int err)
{
	static char payload[1 + 2 * TEXT_PER_PACKET + 1];
	char end[8];

	if (answer_cut)
		answer_len += (size_t)snprintf(answer + answer_len, sizeof(answer) - answer_len,
					       "\n[monitor: output cut after %u bytes]\n", ANSWER_TEXT_MAX);
	for (size_t off = 0; off < answer_len; off += TEXT_PER_PACKET) {
		size_t n = answer_len - off < TEXT_PER_PACKET ? answer_len - off : TEXT_PER_PACKET;
		payload[0] = 'O';
		rsp_bytes_to_hex(answer + off, n, payload + 1, sizeof(payload) - 1);
		send_packet(payload, 1 + 2 * n);
	}
	if (err == MON_OK)
		send_text("OK");
	else
		send_packet(end, (size_t)rsp_error_reply(err, end, sizeof(end)));
}

/* qRcmd,<hex>: decode the command line and run it. */
static void run_qrcmd(const char *hex, size_t hexlen)
{
	static char line[MONITOR_LINE_MAX + 1];
	int n = rsp_hex_to_bytes(hex, hexlen, (u8 *)line, MONITOR_LINE_MAX);
	int err;

	answer_len = 0;
	answer_cut = false;
	if (n < 0) {
		collect(NULL, n == RSP_ERR_TOO_LONG ? "that line is too long (at most 1024 characters)\n"
						    : "qRcmd: the command is not hex-encoded\n");
		err = MON_ERR_USAGE;
	} else if (strnlen(line, (size_t)n) < (size_t)n) { /* a NUL inside */
		collect(NULL, "that line has a control character (0x00)\n");
		err = MON_ERR_USAGE;
	} else {
		line[n] = '\0';
		err = monitor_execute(line, collect, NULL);
	}
	send_answer(err);
}

/* One whole packet from the client. */
static void answer_packet(const char *p, size_t len)
{
	static const char noack[] = "QStartNoAckMode", rcmd[] = "qRcmd,";

	if (len == sizeof(noack) - 1 && memcmp(p, noack, len) == 0) {
		/* Acknowledged even if a client before this one had turned acknowledgments off:
		 * a new client starts with them on. */
		if (rx.no_ack)
			tx_put("+", 1);
		send_text("OK");
		rx.no_ack = true;
	} else if (len >= sizeof(rcmd) - 1 && memcmp(p, rcmd, sizeof(rcmd) - 1) == 0) {
		run_qrcmd(p + sizeof(rcmd) - 1, len - (sizeof(rcmd) - 1));
	} else {
		send_packet("", 0); /* anything else: the empty reply, "not supported" */
	}
}

/* ---- The service ---- */

static void monitor_init(struct debug_port *dp)
{
	rsp_rx_init(&rx);
	tx.head = tx.tail = 0;
	have_held = false;
	tx_put("-", 1); /* "send that again": see the file comment */
}

/* One received byte: acknowledge, and answer (or hold) a complete packet. */
static void take_byte(u8 byte)
{
	enum rsp_event ev = rsp_rx_byte(&rx, byte);
	char ack = rsp_rx_ack(&rx, ev);

	if (ack)
		tx_put(&ack, 1);
	if (ev == RSP_EV_NACK && !rx.no_ack && last_len) {
		tx_put(last_frame, last_len);
	} else if (ev == RSP_EV_PACKET) {
		if (tx_used() == 0 && !have_held) {
			answer_packet(rx.data, rx.len);
		} else if (!have_held) { /* the client sent it before our answer was out */
			memcpy(held, rx.data, rx.len + 1);
			held_len = rx.len;
			have_held = true;
		}
	}
}

static void monitor_poll(struct debug_port *dp)
{
	tx_drain(dp);
	if (have_held && tx_used() == 0) {
		have_held = false;
		answer_packet(held, held_len);
	}
	for (int i = 0; i < RX_PER_POLL; i++) {
		int c = debug_port_getc(dp);
		if (c < 0)
			break;
		take_byte((u8)c);
	}
	tx_drain(dp);
}

DEBUG_SERVICE(monitor, DEBUG_PORT_COM3, monitor_init, monitor_poll);
