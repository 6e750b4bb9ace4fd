/**
 * @file conn.h
 * @brief The TCP connection to the monitor port, with a retry every second.
 *
 * Non-blocking throughout, so the screen keeps drawing while a connection is attempted
 * or a peer is slow: the caller polls conn_pollfd() with its other descriptors and hands
 * the result to conn_handle(). A refused, failed or lost connection is remembered with
 * its reason (conn.why) and retried CONN_RETRY_SECONDS later by conn_tick().
 */
#ifndef HVMON_CONN_H
#define HVMON_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define CONN_RETRY_SECONDS 1.0
/** Where hvmon connects unless told otherwise: the COM3 socket of the Bochs machine. */
#define CONN_DEFAULT_HOST "127.0.0.1"
#define CONN_DEFAULT_PORT "4557"

enum conn_state {
	CONN_DOWN,       /**< not connected; the next attempt is at retry_at */
	CONN_CONNECTING, /**< a connect() is in progress */
	CONN_UP,         /**< connected */
};

/** What conn_handle() saw. */
enum conn_event {
	CONN_EV_NONE, /**< nothing for the caller */
	CONN_EV_UP,   /**< the connection was just made */
	CONN_EV_DATA, /**< bytes were read into the caller's buffer */
	CONN_EV_DOWN, /**< the connection failed or was lost (reason in why) */
};

/** One connection. conn_init() before use. */
struct conn {
	char host[256];
	char port[16];
	int fd;               /**< the socket, -1 when down */
	enum conn_state state;
	double retry_at;      /**< when down: time of the next attempt (monotonic seconds) */
	char why[160];        /**< when down: why, in words ("connection refused") */
	char out[16384];      /**< bytes not yet accepted by the socket */
	size_t out_len;
};

/**
 * Split "HOST:PORT" (or "PORT", or "[V6ADDR]:PORT") into @p host and @p port.
 * Returns 0, or -1 with a sentence in @p err when @p spec is not of that form.
 */
int conn_parse_address(const char *spec, char *host, size_t hostlen, char *port,
		       size_t portlen, char *err, size_t errlen);
/** Set @p c up to connect to @p host : @p port; the first attempt is at the first tick. */
void conn_init(struct conn *c, const char *host, const char *port);
/** If @p c is down and its retry time has come (@p now, monotonic seconds), try again. */
void conn_tick(struct conn *c, double now);
/** Fill @p pfd for poll(); returns false (and fd -1) when there is nothing to wait for. */
bool conn_pollfd(const struct conn *c, struct pollfd *pfd);
/**
 * Act on poll()'s @p revents for @p c: finish a connect, send queued bytes, read up to
 * @p cap bytes into @p buf (*@p got of them, for CONN_EV_DATA). Returns what happened.
 */
enum conn_event conn_handle(struct conn *c, short revents, char *buf, size_t cap,
			    size_t *got, double now);
/** Queue @p len bytes and send what the socket takes now. Returns 0, or -1 when not
 *  connected or the queue is full (the connection is then dropped as stuck). */
int conn_send(struct conn *c, const void *data, size_t len, double now);
/** Drop the connection (if any), remember @p why, retry CONN_RETRY_SECONDS after @p now. */
void conn_close(struct conn *c, const char *why, double now);
/** Monotonic clock in seconds: the time base of every @p now above. */
double conn_now(void);

#endif
