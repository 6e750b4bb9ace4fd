/*
 * fuzz_rsp_rx.c — libFuzzer target for the receiving and framing half of
 * src/debug/gdb_rsp.c (what arrives on the gdbstub's serial line).
 *
 * Fuzzes: the input as a byte stream through rsp_rx_byte(), as the serial interrupt
 * handler feeds it; every packet received is re-framed with rsp_encode().
 * Asserts: the receiver never holds more than RSP_PACKET_SIZE bytes and a received packet
 * is NUL-terminated at rx.len; rsp_rx_ack() answers '+' to a packet, '-' to a bad
 * checksum or an overflow, nothing otherwise (and nothing at all in no-ack mode);
 * rsp_encode() needs exactly the bytes it says (one fewer and it refuses) and its frame,
 * fed to a fresh receiver, gives back the same packet; after any input the receiver
 * takes a valid packet (a second try at most, if the input ended inside an escape).
 */
#undef NDEBUG /* the checks below are the point */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/gdb_rsp.h>

/* The acknowledgment the protocol prescribes for @p ev (GDB manual, "Overview"). */
static char expected_ack(const struct rsp_rx *rx, enum rsp_event ev)
{
	if (rx->no_ack)
		return 0;
	if (ev == RSP_EV_PACKET)
		return '+';
	return ev == RSP_EV_BAD_CHECKSUM || ev == RSP_EV_OVERFLOW ? '-' : 0;
}

/* Frame size of @p len payload bytes: '$', the bytes with escapes, "#cs" and the NUL. */
static size_t frame_size(const char *data, size_t len)
{
	size_t n = 1 + 3 + 1;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		n += c == '#' || c == '$' || c == '}' || c == '*' ? 2 : 1;
	}
	return n;
}

/* Encode a received packet into exactly-sized heap buffers; decode it again. */
static void check_round_trip(const struct rsp_rx *rx)
{
	size_t need = frame_size(rx->data, rx->len);
	char *small = malloc(need - 1), *frame = malloc(need);
	struct rsp_rx again;
	enum rsp_event last = RSP_EV_NONE;

	assert(rsp_encode(rx->data, rx->len, small, need - 1) == -1);
	assert(rsp_encode(rx->data, rx->len, frame, need) == (int)(need - 1));
	assert(frame[need - 1] == '\0');
	rsp_rx_init(&again);
	for (size_t i = 0; i + 1 < need; i++) {
		enum rsp_event ev = rsp_rx_byte(&again, (u8)frame[i]);
		assert(ev == RSP_EV_NONE || i + 2 == need);
		last = ev;
	}
	assert(last == RSP_EV_PACKET && again.len == rx->len);
	assert(memcmp(again.data, rx->data, rx->len + 1) == 0);
	free(small);
	free(frame);
}

/* Feed "$g#67"; true if it arrived as the packet "g". */
static bool takes_valid_packet(struct rsp_rx *rx)
{
	static const char good[] = "$g#67";
	enum rsp_event ev = RSP_EV_NONE;

	for (size_t i = 0; i < sizeof(good) - 1; i++)
		ev = rsp_rx_byte(rx, (u8)good[i]);
	return ev == RSP_EV_PACKET && rx->len == 1 && strcmp(rx->data, "g") == 0;
}

/* One input: a stretch of the serial line, in ack or no-ack mode. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rsp_rx rx; /* 4 KiB: not on the stack */

	rsp_rx_init(&rx);
	/* The first byte's low bit chooses no-ack mode (QStartNoAckMode). */
	rx.no_ack = size > 0 && (data[0] & 1);
	for (size_t i = 0; i < size; i++) {
		enum rsp_event ev = rsp_rx_byte(&rx, data[i]);
		assert(ev >= RSP_EV_NONE && ev <= RSP_EV_NACK);
		assert(rx.len <= RSP_PACKET_SIZE);
		assert(rsp_rx_ack(&rx, ev) == expected_ack(&rx, ev));
		if (ev == RSP_EV_PACKET) {
			assert(rx.data[rx.len] == '\0');
			check_round_trip(&rx);
		}
		if (ev == RSP_EV_BAD_CHECKSUM || ev == RSP_EV_OVERFLOW)
			assert(rx.len == 0 && rx.data[0] == '\0');
	}
	/* Resynchronisation: '$' starts a packet unless it is escaped by a trailing '}'. */
	bool pending_escape = rx.escape;
	assert(takes_valid_packet(&rx) || (pending_escape && takes_valid_packet(&rx)));
	return 0;
}
