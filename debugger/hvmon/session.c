/**
 * @file session.c
 * @brief Commands queued, sent one at a time, answered through a callback (see session.h).
 */
#include <stdio.h>
#include <string.h>

#include "session.h"

void session_init(struct session *s, const char *host, const char *port, session_reply_fn reply,
		  void *ctx)
{
	memset(s, 0, sizeof(*s));
	conn_init(&s->conn, host, port);
	rspc_init(&s->rsp);
	s->reply = reply;
	s->ctx = ctx;
}

void session_free(struct session *s)
{
	conn_close(&s->conn, "hvmon is ending", 0);
	rspc_free(&s->rsp);
}

bool session_connected(const struct session *s)
{
	return s->conn.state == CONN_UP;
}

bool session_idle(const struct session *s)
{
	return s->ready && s->nqueued == 0 && !rspc_busy(&s->rsp);
}

static void lost(struct session *s);

/* Call the requester of @p req back with a failure @p why (no reply). */
static void fail_request(struct session *s, const struct session_request *req, const char *why)
{
	struct session_reply r = { .tag = req->tag, .cmd = req->cmd, .failure = why, .text = "" };
	s->reply(s->ctx, &r);
}

/* Hand the protocol client's pending bytes to the connection. */
static void send_output(struct session *s, double now)
{
	size_t len;
	const char *bytes = rspc_take_output(&s->rsp, &len);

	if (len)
		conn_send(&s->conn, bytes, len, now);
}

/* If nothing is in flight, send the next queued command. */
static void send_next(struct session *s, double now)
{
	while (s->ready && !rspc_busy(&s->rsp) && s->nqueued) {
		s->cur = s->queue[0];
		memmove(s->queue, s->queue + 1, --s->nqueued * sizeof(s->queue[0]));
		if (rspc_request_command(&s->rsp, s->cur.cmd) < 0) {
			fail_request(s, &s->cur, "could not be framed as a packet");
			continue;
		}
		s->cur_is_command = true;
		s->cur_sent = now;
		s->cur_reported_slow = false;
	}
	send_output(s, now);
}

int session_submit(struct session *s, const char *cmd, int tag)
{
	if (!session_connected(s))
		return -1;
	if (s->nqueued == SESSION_QUEUE)
		return -2;
	if (strlen(cmd) > RSPC_MAX_COMMAND)
		return -3;
	struct session_request *req = &s->queue[s->nqueued++];
	snprintf(req->cmd, sizeof(req->cmd), "%s", cmd);
	req->tag = tag;
	send_next(s, conn_now());
	if (!session_connected(s))
		lost(s); /* sending failed: the requester hears it at once */
	return 0;
}

/* The connection is gone: everyone waiting hears so, the protocol starts afresh. */
static void lost(struct session *s)
{
	const char *why = "not answered: the connection was lost";

	if (rspc_busy(&s->rsp) && s->cur_is_command)
		fail_request(s, &s->cur, why);
	for (size_t i = 0; i < s->nqueued; i++)
		fail_request(s, &s->queue[i], "not sent: the connection was lost");
	s->nqueued = 0;
	s->ready = false;
	rspc_free(&s->rsp);
	rspc_init(&s->rsp);
}

/* A new connection: offer to drop acknowledgments (the reply makes us ready). */
static void connected(struct session *s, double now)
{
	rspc_free(&s->rsp);
	rspc_init(&s->rsp);
	s->ready = false;
	s->cur_is_command = false;
	s->cur_sent = now;
	rspc_request_noack(&s->rsp);
	send_output(s, now);
}

/* A reply completed with @p r: the handshake's, or a command's for its requester. */
static void completed(struct session *s, enum rspc_result r)
{
	if (!s->cur_is_command) {
		s->ready = true; /* OK, or empty (the stub keeps acknowledging): both fine */
		return;
	}
	struct session_reply reply = { .tag = s->cur.tag, .cmd = s->cur.cmd, .result = r,
				       .code = s->rsp.code, .text = s->rsp.text };
	s->reply(s->ctx, &reply);
}

void session_handle(struct session *s, short revents, double now)
{
	char buf[4096];
	size_t got, used;

	switch (conn_handle(&s->conn, revents, buf, sizeof(buf), &got, now)) {
	case CONN_EV_UP:
		connected(s, now);
		return;
	case CONN_EV_DOWN:
		lost(s);
		return;
	case CONN_EV_DATA:
		break;
	default:
		return;
	}
	for (size_t i = 0; i < got; i += used) {
		enum rspc_result r = rspc_feed(&s->rsp, buf + i, got - i, &used);
		if (r != RSPC_PENDING)
			completed(s, r);
		send_next(s, now); /* also sends the acknowledgments */
		if (!session_connected(s)) {
			lost(s);
			return;
		}
	}
}

void session_tick(struct session *s, double now)
{
	if (!session_connected(s) && (s->ready || rspc_busy(&s->rsp) || s->nqueued))
		lost(s); /* a send failed and closed the connection */
	conn_tick(&s->conn, now);
	if (rspc_busy(&s->rsp) && s->cur_is_command && !s->cur_reported_slow &&
	    now - s->cur_sent > SESSION_SLOW_SECONDS) {
		char why[96];
		snprintf(why, sizeof(why), "no answer after %.0f s; still waiting for it",
			 SESSION_SLOW_SECONDS);
		s->cur_reported_slow = true;
		fail_request(s, &s->cur, why);
	}
}

bool session_pollfd(const struct session *s, struct pollfd *pfd)
{
	return conn_pollfd(&s->conn, pfd);
}

bool session_status(const struct session *s, double now, char *buf, size_t len)
{
	const struct conn *c = &s->conn;
	double waited = now - s->cur_sent;

	if (c->state == CONN_DOWN && strcmp(c->why, "not tried yet") != 0) {
		snprintf(buf, len, "NOT CONNECTED to %s:%s: %s; retrying every second", c->host,
			 c->port, c->why);
		return false;
	}
	if (c->state != CONN_UP) {
		snprintf(buf, len, "connecting to %s:%s", c->host, c->port);
		return false;
	}
	if (!s->ready && waited > 1) {
		snprintf(buf, len, "connected to %s:%s, but the hypervisor has not answered for %.0f s",
			 c->host, c->port, waited);
		return false;
	}
	if (rspc_busy(&s->rsp) && waited > SESSION_SLOW_SECONDS) {
		snprintf(buf, len, "connected to %s:%s; no answer to '%s' for %.0f s", c->host,
			 c->port, s->cur.cmd, waited);
		return false;
	}
	snprintf(buf, len, "connected to %s:%s", c->host, c->port);
	return true;
}
