/**
 * @file plain.c
 * @brief hvmon without a screen (see plain.h): one command at a time, synchronously.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plain.h"
#include "session.h"

#define POLL_MS 50

static struct {
	struct session session;
	double wait;     /* seconds to wait for the connection */
	bool replied;    /* the command sent last has had its answer (or failure) */
	bool failed;     /* some command failed: exit status 1 */
} plain;

/* Print @p text, ending with a newline. */
static void print_text(const char *text)
{
	size_t len = strlen(text);
	fputs(text, stdout);
	if (len && text[len - 1] != '\n')
		putchar('\n');
	fflush(stdout);
}

/* A reply (or a failure to get one) arrived: print it. */
static void on_reply(void *unused, const struct session_reply *r)
{
	print_text(r->text);
	if (r->failure)
		printf("hvmon: '%s': %s\n", r->cmd, r->failure);
	else if (r->result == RSPC_ERROR && !r->text[0])
		printf("hvmon: '%s' failed (error %02x)\n", r->cmd, r->code);
	else if (r->result == RSPC_UNSUPPORTED)
		printf("hvmon: '%s': the other end does not know monitor commands\n", r->cmd);
	plain.failed |= r->failure || r->result != RSPC_OK;
	plain.replied = true;
	fflush(stdout);
}

/* pump_until() conditions: the session can take a command; the last one was answered. */
static bool ready(void)
{
	return session_idle(&plain.session);
}

static bool replied(void)
{
	return plain.replied;
}

/* Run the session until @p done() says so; false if @p seconds pass first. */
static bool pump_until(bool (*done)(void), double seconds)
{
	double deadline = conn_now() + seconds;

	while (!done()) {
		double now = conn_now();
		struct pollfd pfd;
		if (now >= deadline)
			return false;
		session_tick(&plain.session, now);
		bool net = session_pollfd(&plain.session, &pfd);
		poll(&pfd, net ? 1 : 0, POLL_MS);
		if (net && pfd.revents)
			session_handle(&plain.session, pfd.revents, conn_now());
	}
	return true;
}

/* struct cmd_ctx's print: standard output. */
static void plain_print(struct cmd_ctx *ctx, const char *text)
{
	print_text(text);
}

/* Send hypervisor command @p cmd and wait for its reply (on_reply prints it). */
static void plain_remote(struct cmd_ctx *ctx, const char *cmd)
{
	const struct conn *c = &plain.session.conn;

	if (!pump_until(ready, plain.wait)) {
		if (session_connected(&plain.session))
			printf("hvmon: '%s' not sent: the hypervisor has not answered yet\n", cmd);
		else
			printf("hvmon: '%s' not sent: not connected to %s:%s (%s)\n", cmd, c->host,
			       c->port, c->why);
		plain.failed = true;
		return;
	}
	plain.replied = false;
	if (session_submit(&plain.session, cmd, 0) < 0) {
		printf("hvmon: '%s' not sent\n", cmd);
		plain.failed = true;
		return;
	}
	/* A reply, or the session's "no answer after N s", comes within this. */
	pump_until(replied, SESSION_SLOW_SECONDS + 1);
}

int plain_run(const char *host, const char *port, double wait)
{
	struct cmd_ctx ctx = { .print = plain_print, .remote = plain_remote };
	char *line = NULL, err[512];
	size_t cap = 0;

	signal(SIGPIPE, SIG_IGN);
	plain.wait = wait;
	session_init(&plain.session, host, port, on_reply, NULL);
	pump_until(ready, wait < 1 ? wait : 1); /* connect early; local help needs to know */
	while (!ctx.quit && getline(&line, &cap, stdin) >= 0) {
		struct cmd_call call;
		switch (cmd_parse(line, &call, err, sizeof(err))) {
		case CMD_BAD:
			printf("hvmon: %s\n", err);
			plain.failed = true;
			break;
		case CMD_READY:
			ctx.connected = session_connected(&plain.session);
			cmd_run(&ctx, &call);
			break;
		default:
			break;
		}
		fflush(stdout);
	}
	free(line);
	session_free(&plain.session);
	return plain.failed ? 1 : 0;
}
