/**
 * @file session.h
 * @brief A conversation with the hypervisor's monitor: the connection, the protocol
 *        client and a queue of commands, one in flight at a time.
 *
 * Used by both faces of hvmon (the screen and --plain). Callers submit command text
 * with a tag saying who wants the reply (a pane, or the output area); the session sends
 * them in order once connected and calls back with every reply. On connecting it first
 * offers QStartNoAckMode. A command that gets no answer within SESSION_SLOW_SECONDS is
 * reported as such, but the session keeps waiting for that answer before sending the
 * next command: replies carry no request id, so this is the only way not to hand one
 * command's reply to another.
 */
#ifndef HVMON_SESSION_H
#define HVMON_SESSION_H

#include "conn.h"
#include "rsp_client.h"

#define SESSION_QUEUE 16
#define SESSION_SLOW_SECONDS 5.0

/** What the reply callback receives. */
struct session_reply {
	int tag;                 /**< as given to session_submit() */
	const char *cmd;         /**< the command text */
	const char *failure;     /**< non-NULL: no reply (yet), and why in words */
	enum rspc_result result; /**< when failure is NULL: how the command ended */
	int code;                /**< RSPC_ERROR: the xx of Exx */
	const char *text;        /**< the reply's text (output, or the error explained) */
};

typedef void (*session_reply_fn)(void *ctx, const struct session_reply *reply);

/** One queued or in-flight command. */
struct session_request {
	char cmd[RSPC_MAX_COMMAND + 1];
	int tag;
};

/** The session. session_init() before use, session_free() after. */
struct session {
	struct conn conn;
	struct rspc rsp;
	bool ready;        /**< connected and the QStartNoAckMode offer answered */
	struct session_request queue[SESSION_QUEUE];
	size_t nqueued;
	struct session_request cur; /**< the command in flight, when rspc_busy() */
	bool cur_is_command;        /**< false while the in-flight request is the handshake */
	double cur_sent;            /**< when it was sent */
	bool cur_reported_slow;     /**< its requester was told it is slow */
	session_reply_fn reply;
	void *ctx;
};

/** Set @p s up for @p host : @p port; replies go to @p reply with @p ctx. */
void session_init(struct session *s, const char *host, const char *port, session_reply_fn reply,
		  void *ctx);
/** Close the connection, free what @p s holds. */
void session_free(struct session *s);
/**
 * Queue command @p cmd for @p tag. Returns 0; or -1 when not connected, -2 when the
 * queue is full, -3 when @p cmd is too long (nothing queued, nothing called back).
 */
int session_submit(struct session *s, const char *cmd, int tag);
/** Nothing queued and nothing in flight, and connected: a good moment for a refresh. */
bool session_idle(const struct session *s);
/** Is the session connected (the TCP connection is up)? */
bool session_connected(const struct session *s);
/** Fill @p pfd for poll(); false when there is no descriptor to wait on. */
bool session_pollfd(const struct session *s, struct pollfd *pfd);
/** Act on poll()'s @p revents: read, call back replies, send what is next. */
void session_handle(struct session *s, short revents, double now);
/** Time passes: retry connecting, report slow commands. Call at least once a second. */
void session_tick(struct session *s, double now);
/** The connection's state in one line for a status bar. Returns true if all is well. */
bool session_status(const struct session *s, double now, char *buf, size_t len);

#endif
