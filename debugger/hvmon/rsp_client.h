/**
 * @file rsp_client.h
 * @brief The client end of the monitor protocol: GDB remote-serial-protocol framing
 *        around `qRcmd` (docs/design/monitor-protocol.md).
 *
 * Pure logic, no I/O: requests and acknowledgments are appended to an output buffer that
 * the caller sends (rspc_take_output()), and received bytes are handed in with
 * rspc_feed(), which says when a reply is complete. Packet framing, checksums, escapes
 * and hex come from the hypervisor's own packet layer, src/debug/gdb_rsp.c, built for
 * the host: the two ends share one implementation of the wire format.
 *
 * One request at a time: the protocol has no request identifiers, so a reply belongs to
 * the one request in flight.
 */
#ifndef HVMON_RSP_CLIENT_H
#define HVMON_RSP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <hvlab/gdb_rsp.h>

/** Longest command text sent (its hex takes twice as much room in the packet). */
#define RSPC_MAX_COMMAND 1024
/** Most reply text kept for one command; more is dropped with a note. */
#define RSPC_MAX_OUTPUT (1u << 20)

/** How a request ended. */
enum rspc_result {
	RSPC_PENDING,     /**< no complete reply yet */
	RSPC_OK,          /**< "OK": the command ran; the text is its output */
	RSPC_ERROR,       /**< "Exx": it failed; the text says why, rspc.code is xx */
	RSPC_UNSUPPORTED, /**< empty reply: the other end does not know this packet */
	RSPC_UNEXPECTED,  /**< any other packet; the text quotes it */
};

/** What the reply being collected answers. */
enum rspc_request { RSPC_IDLE, RSPC_NOACK, RSPC_COMMAND };

/** One connection's protocol state. Start with rspc_init(), end with rspc_free(). */
struct rspc {
	struct rsp_rx rx;           /**< receiver state machine (gdb_rsp.h) */
	bool no_ack;                /**< QStartNoAckMode accepted: nobody sends + or - */
	enum rspc_request waiting;  /**< the request in flight, RSPC_IDLE if none */
	char out[2 * RSPC_MAX_COMMAND + 256]; /**< bytes to send, see rspc_take_output() */
	size_t out_len;
	char last[2 * RSPC_MAX_COMMAND + 32]; /**< the last frame sent, resent on '-' */
	size_t last_len;
	char *text;                 /**< reply text so far, NUL-terminated (never NULL after init) */
	size_t text_len;
	size_t text_cap;
	int code;                   /**< the xx of an "Exx" reply */
};

/** Start @p c for a new connection: acknowledgments on, nothing in flight. */
void rspc_init(struct rspc *c);
/** Free what @p c holds; rspc_init() makes it usable again. */
void rspc_free(struct rspc *c);
/** Is a request in flight? */
bool rspc_busy(const struct rspc *c);
/** Ask to stop acknowledging (QStartNoAckMode). Returns 0, or -1 if a request is in flight. */
int rspc_request_noack(struct rspc *c);
/** Send monitor command @p cmd as `qRcmd,<hex>`. Returns 0, or -1 if a request is in
 *  flight or @p cmd is longer than RSPC_MAX_COMMAND. */
int rspc_request_command(struct rspc *c, const char *cmd);
/** Forget the request in flight (its late reply, if any, will be ignored as unsolicited). */
void rspc_abandon(struct rspc *c);
/**
 * Take received bytes: acknowledge packets, resend on '-', collect the reply. Stops right
 * after a reply completes, so that the caller can act on it before the rest is read;
 * *@p used says how many of the @p n bytes were consumed. Returns RSPC_PENDING, or how
 * the request ended (its text in c->text, until the next request).
 */
enum rspc_result rspc_feed(struct rspc *c, const void *bytes, size_t n, size_t *used);
/** The bytes waiting to be sent (*@p len of them); the buffer is emptied by this call,
 *  the pointer stays valid until the next call into @p c. */
const char *rspc_take_output(struct rspc *c, size_t *len);

#endif
