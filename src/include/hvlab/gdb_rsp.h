/**
 * @file gdb_rsp.h
 * @brief The packet layer of the gdbstub: GDB Remote Serial Protocol framing, hex, parsers.
 *
 * Implements the GDB manual, appendix "Remote Serial Protocol": section "Overview"
 * (the `$data#cs` frame, `+`/`-` acknowledgments, the `}` escape, 0x03 interrupts),
 * "Packet Acknowledgment" (QStartNoAckMode), "Interrupts", and the argument syntax of
 * the packets in "Packets" (m, M, X, Z/z, p, P, H, vCont).
 *
 * Everything here is pure logic: no hardware, no allocation, every write bounded by a
 * size the caller passes. It builds freestanding for the hypervisor and with HV_HOST
 * for host unit tests and fuzzers. The stub (which reads COM2 and touches guests) sits
 * on top and fills a table of struct rsp_command.
 */
#ifndef HVLAB_GDB_RSP_H
#define HVLAB_GDB_RSP_H

#include <hvlab/types.h>

/** Largest payload (after unescaping) the receiver holds; advertised as PacketSize. */
#define RSP_PACKET_SIZE 4096
/** Largest register value P accepts, in bytes. */
#define RSP_REG_MAX_BYTES 16
/** Most actions one vCont packet may carry. */
#define RSP_VCONT_MAX 8

/** Error codes; the stub answers "E%02x" of the negated code (see rsp_error_reply()). */
enum rsp_err {
	RSP_OK = 0,
	RSP_ERR_EMPTY = -1,    /**< a number or field is missing */
	RSP_ERR_HEX = -2,      /**< not a hex digit, or an odd number of them */
	RSP_ERR_RANGE = -3,    /**< a number does not fit (more than 64 bits, bad type) */
	RSP_ERR_SYNTAX = -4,   /**< missing ',', ':' or '=', or junk after the last field */
	RSP_ERR_TOO_LONG = -5, /**< more data than the caller's buffer holds */
};

/** What one received byte meant (rsp_rx_byte()). */
enum rsp_event {
	RSP_EV_NONE,         /**< nothing yet (inside a packet, or ignored garbage) */
	RSP_EV_PACKET,       /**< a whole packet with a good checksum is in rx->data */
	RSP_EV_BAD_CHECKSUM, /**< a packet ended with a wrong checksum: send '-' */
	RSP_EV_OVERFLOW,     /**< a packet was longer than RSP_PACKET_SIZE and was dropped */
	RSP_EV_INTERRUPT,    /**< 0x03 outside a packet: the user pressed Ctrl-C */
	RSP_EV_ACK,          /**< '+' outside a packet */
	RSP_EV_NACK,         /**< '-' outside a packet: resend the last reply */
};

/** Receiver state machine; initialise with rsp_rx_init(). */
struct rsp_rx {
	int state;    /**< private: where in the frame we are */
	bool escape;  /**< private: the previous data byte was '}' */
	bool dropped; /**< private: the current packet overflowed and is being skipped */
	u8 sum;       /**< private: running checksum of the raw bytes between '$' and '#' */
	u8 cs_hi;     /**< private: first checksum digit's value */
	bool no_ack;  /**< QStartNoAckMode is on: rsp_rx_ack() answers nothing */
	size_t len;   /**< payload length after RSP_EV_PACKET (may contain NULs, X data) */
	char data[RSP_PACKET_SIZE + 1]; /**< the payload, unescaped and NUL-terminated */
};

/** One entry of a command table: packets starting with @p prefix go to @p handler. */
struct rsp_command {
	const char *prefix;
	/** @p args is the packet after the prefix (@p len bytes, NUL-terminated). Writes a
	 *  NUL-terminated reply and returns its length, or returns an enum rsp_err. */
	int (*handler)(void *ctx, const char *args, size_t len, char *reply, size_t replylen);
};

/** Arguments of m, M and X: "ADDR,LEN" with, for M and X, ":DATA". */
struct rsp_mem {
	u64 addr;
	u64 len;
};

/** Arguments of Z and z: "TYPE,ADDR,KIND". */
struct rsp_break {
	u32 type; /**< 0 sw breakpoint, 1 hw breakpoint, 2 write, 3 read, 4 access watchpoint */
	u64 addr;
	u64 kind; /**< breakpoint length in bytes (x86: 1 for int3) */
};

/** Thread id wildcards (section "Packets", thread-id syntax). */
#define RSP_TID_ALL (-1) /**< "-1": every thread */
#define RSP_TID_ANY 0    /**< "0": any thread */

/** Arguments of H: "c THREAD" or "g THREAD". */
struct rsp_thread_sel {
	char op; /**< 'c' (step/continue) or 'g' (everything else) */
	s64 tid; /**< thread id, RSP_TID_ALL or RSP_TID_ANY */
};

/** One action of vCont. */
struct rsp_vcont_action {
	char action; /**< 'c', 's', 'C', 'S' or 't' */
	u8 sig;      /**< signal for 'C' and 'S', else 0 */
	s64 tid;     /**< thread it applies to; RSP_TID_ALL when no ":tid" was given */
};

/** Actions of vCont, in packet order (the leftmost matching action wins). */
struct rsp_vcont {
	struct rsp_vcont_action act[RSP_VCONT_MAX];
	u32 n;
};

/** Reset @p rx to wait for a packet, acknowledgments on. */
void rsp_rx_init(struct rsp_rx *rx);
/** Feed one byte from the serial line to @p rx; returns what it completed. */
enum rsp_event rsp_rx_byte(struct rsp_rx *rx, u8 byte);
/** The acknowledgment to send for @p ev: '+', '-' or 0 for none (always 0 in no-ack mode). */
char rsp_rx_ack(const struct rsp_rx *rx, enum rsp_event ev);

/** Frame @p len bytes of @p payload as "$...#cs" into @p out (NUL-terminated). Returns the
 *  frame length, or -1 when it (with the NUL) does not fit in @p outlen. */
int rsp_encode(const void *payload, size_t len, char *out, size_t outlen);
/** Write "Exx" for @p err into @p reply; returns its length (0 if it does not fit). */
int rsp_error_reply(int err, char *reply, size_t replylen);

/** Decode @p hexlen hex digits into at most @p outmax bytes; returns the byte count or an
 *  rsp_err (odd length or non-hex: RSP_ERR_HEX; too many: RSP_ERR_TOO_LONG). */
int rsp_hex_to_bytes(const char *hex, size_t hexlen, u8 *out, size_t outmax);
/** Encode @p n bytes as 2n lowercase hex digits plus NUL; returns 2n, or -1 if it does not fit. */
int rsp_bytes_to_hex(const void *in, size_t n, char *out, size_t outlen);
/** Parse hex digits at *@p p (not past @p end) into @p out, leaving *@p p at the first
 *  non-hex byte. RSP_ERR_EMPTY when there is no digit, RSP_ERR_RANGE beyond 64 bits. */
int rsp_parse_hex_u64(const char **p, const char *end, u64 *out);

/** m: "ADDR,LEN"; RSP_ERR_TOO_LONG when LEN > @p maxlen (what the reply can carry). */
int rsp_parse_m(const char *args, size_t len, u64 maxlen, struct rsp_mem *mem);
/** M: "ADDR,LEN:XX..."; decodes exactly LEN bytes (LEN <= @p outmax) into @p out. */
int rsp_parse_M(const char *args, size_t len, u8 *out, size_t outmax, struct rsp_mem *mem);
/** X: "ADDR,LEN:binary"; the receiver already undid the '}' escapes, so exactly LEN raw
 *  bytes must follow the ':'; they are copied to @p out (LEN <= @p outmax). */
int rsp_parse_X(const char *args, size_t len, u8 *out, size_t outmax, struct rsp_mem *mem);
/** Z and z: "TYPE,ADDR,KIND" with TYPE 0..4. */
int rsp_parse_Z(const char *args, size_t len, struct rsp_break *bp);
/** p: "N"; the register number. */
int rsp_parse_p(const char *args, size_t len, u64 *regno);
/** P: "N=VAL", VAL in target byte order; its bytes go to @p val, their count to @p vlen. */
int rsp_parse_P(const char *args, size_t len, u64 *regno, u8 val[RSP_REG_MAX_BYTES], size_t *vlen);
/** H: "cTHREAD" or "gTHREAD", THREAD hex, "-1" or "0". */
int rsp_parse_H(const char *args, size_t len, struct rsp_thread_sel *sel);
/** vCont: ";ACTION[:THREAD]" repeated, ACTION one of c, s, t, Cxx, Sxx. */
int rsp_parse_vcont(const char *args, size_t len, struct rsp_vcont *vc);

/** Run the handler of the longest prefix of @p packet in @p table (so "qSupported" beats
 *  "q"). Unknown packets get the empty reply ("unsupported"); a handler's negative return
 *  becomes "Exx". Returns the reply length; @p reply is always NUL-terminated. */
int rsp_dispatch(const struct rsp_command *table, size_t n, const char *packet, size_t len,
		 void *ctx, char *reply, size_t replylen);

#endif
