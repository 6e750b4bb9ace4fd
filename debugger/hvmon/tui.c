/**
 * @file tui.c
 * @brief The screen's main loop: keyboard, connection, panes and drawing (see tui.h).
 *
 * One loop, no threads: poll() waits on the keyboard and the connection for at most
 * POLL_MS; then keys go to readline (cli.c), bytes to the session, due panes are
 * refreshed one command at a time (typed commands go first), and the screen is redrawn
 * if anything changed. Readline's callbacks carry no context pointer, so the state is
 * this file's one `app`.
 */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncurses.h>

#include "cli.h"
#include "commands.h"
#include "layout.h"
#include "panes.h"
#include "screen.h"
#include "session.h"
#include "tui.h"

#define POLL_MS 100
#define MAX_PANES 16
#define TAG_OUTPUT (-1) /* session tag of typed commands: their reply goes to the output pane */

static struct {
	struct session session;
	struct cmd_ctx ctx;
	struct pane panes[MAX_PANES];
	struct rect rects[MAX_PANES];
	bool fits;               /* the terminal is big enough for the layout */
	struct selection shown;  /* the selection the panes are filled for */
	int output;              /* index of the output pane */
	bool dirty;              /* redraw at the next turn of the loop */
	bool resized;            /* lay out again, redraw from scratch */
	bool was_ready;          /* the session was ready at the last turn */
	char status[256];
} app;

static volatile sig_atomic_t stop_signal;

/* SIGINT, SIGTERM: leave the loop; the terminal is restored on the way out. */
static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Show @p text at the bottom of the output pane. */
static void output(const char *text)
{
	struct pane *p = &app.panes[app.output];
	lines_add_text(&p->lines, text);
	p->scroll = 0;
	app.dirty = true;
}

/* ---- What commands can do (struct cmd_ctx) ---- */

/* Local commands print into the output pane. */
static void ctx_print(struct cmd_ctx *ctx, const char *text)
{
	output(text);
}

/* Send a hypervisor command typed by the user; its reply goes to the output pane. */
static void ctx_remote(struct cmd_ctx *ctx, const char *cmd)
{
	char msg[CMD_MAX_LINE + 256];
	int r = session_submit(&app.session, cmd, TAG_OUTPUT);

	if (r == -1)
		snprintf(msg, sizeof(msg), "'%s' not sent: not connected to %s:%s (%s)", cmd,
			 app.session.conn.host, app.session.conn.port, app.session.conn.why);
	else if (r == -2)
		snprintf(msg, sizeof(msg), "'%s' not sent: %d commands are already waiting", cmd,
			 SESSION_QUEUE);
	else if (r < 0)
		snprintf(msg, sizeof(msg), "'%s' not sent: too long", cmd);
	if (r < 0)
		output(msg);
}

/* ---- Replies ---- */

/* The first partition id in `info partitions` text (a line starting with a number). */
static bool first_partition(const char *text, struct selection *sel)
{
	for (const char *line = text; *line;) {
		char id[CMD_PART_LEN];
		size_t skip = strspn(line, " "), n = strspn(line + skip, "0123456789");
		if (n > 0 && n < sizeof(id) && (line[skip + n] == ' ' || line[skip + n] == '\t')) {
			snprintf(id, sizeof(id), "%.*s", (int)n, line + skip);
			return cmd_parse_selection(id, sel);
		}
		line += strcspn(line, "\n");
		line += *line == '\n';
	}
	return false;
}

/* A reply to a typed command: into the output pane, failures said in words. */
static void output_reply(const struct session_reply *r)
{
	char msg[CMD_MAX_LINE + 256] = "";

	if (r->failure)
		snprintf(msg, sizeof(msg), "'%s': %s", r->cmd, r->failure);
	else if (r->result == RSPC_UNSUPPORTED)
		snprintf(msg, sizeof(msg), "'%s': the other end does not know monitor commands "
			 "(it answered qRcmd with an empty packet)", r->cmd);
	else if (r->result == RSPC_ERROR && !r->text[0])
		snprintf(msg, sizeof(msg), "'%s' failed (error %02x)", r->cmd, r->code);
	if (r->text[0])
		output(r->text);
	if (msg[0])
		output(msg);
}

/* Every reply comes here: to the output pane, or to the pane that asked. */
static void on_reply(void *unused, const struct session_reply *r)
{
	struct pane *p = r->tag >= 0 ? &app.panes[r->tag] : NULL;

	app.dirty = true;
	if (!p) {
		output_reply(r);
	} else if (r->failure) {
		pane_fail(p, r->failure);
	} else if (r->result == RSPC_OK) {
		pane_show(p, r->text, conn_now());
		if (!app.ctx.sel.part[0] && strcmp(p->def->name, "partitions") == 0)
			first_partition(r->text, &app.ctx.sel); /* show something from the start */
	} else {
		pane_fail(p, r->text[0] ? r->text : "the hypervisor answered with an error");
	}
}

/* If the selection changed, the panes that depend on it start afresh. */
static void check_selection(void)
{
	if (strcmp(app.shown.part, app.ctx.sel.part) == 0 && app.shown.vcpu == app.ctx.sel.vcpu)
		return;
	app.shown = app.ctx.sel;
	panes_reselect(app.panes);
	app.dirty = true;
}

/* When the connection is idle, send the refresh of the pane most overdue (shown ones only). */
static void refresh_panes(double now)
{
	char cmd[CMD_MAX_LINE + 1];
	int best = -1;

	if (!session_idle(&app.session))
		return;
	for (size_t i = 0; i < pane_defs_len; i++) {
		const struct pane *p = &app.panes[i];
		if (p->def->query && app.rects[i].h > 0 && p->next_due <= now &&
		    (best < 0 || p->next_due < app.panes[best].next_due))
			best = (int)i;
	}
	if (best < 0)
		return;
	struct pane *p = &app.panes[best];
	p->next_due = now + p->def->period;
	if (pane_expand(p->def->query, &app.ctx.sel, app.rects[best].h - 1, cmd, sizeof(cmd)))
		session_submit(&app.session, cmd, best);
}

/* ---- Keyboard ---- */

/* A line was entered (NULL: Ctrl-D). */
static void on_line(const char *line)
{
	struct cmd_call call;
	char err[512], echo[CMD_MAX_LINE + 16];

	if (!line) {
		app.ctx.quit = true;
		return;
	}
	snprintf(echo, sizeof(echo), "hvmon> %s", line);
	output(echo);
	switch (cmd_parse(line, &call, err, sizeof(err))) {
	case CMD_BAD:
		output(err);
		break;
	case CMD_READY:
		app.ctx.connected = session_connected(&app.session);
		cmd_run(&app.ctx, &call);
		check_selection();
		break;
	default:
		break;
	}
}

/* Readline wants the line redrawn (@p text NULL) or a completion list shown. */
static void on_show(const char *text)
{
	if (text)
		output(text);
	app.dirty = true;
}

/* PgUp / PgDn: scroll the output pane by most of its height. */
static int scroll_output(int direction)
{
	struct pane *p = &app.panes[app.output];
	int page = app.rects[app.output].h > 3 ? app.rects[app.output].h - 2 : 1;
	int most = (int)p->lines.n - (app.rects[app.output].h - 1);

	p->scroll += direction * page;
	if (p->scroll > most)
		p->scroll = most;
	if (p->scroll < 0)
		p->scroll = 0;
	app.dirty = true;
	return 0;
}

/* Readline key bindings (cli_bind()) for PgUp and PgDn. */
static int page_up(int count, int key)
{
	return scroll_output(1);
}

static int page_down(int count, int key)
{
	return scroll_output(-1);
}

/* Ctrl-L: draw everything again from a clear screen. */
static int redraw_all(int count, int key)
{
	app.resized = true;
	return 0;
}

/* Read every key waiting; hand them to readline, noting a resize. */
static void read_keys(void)
{
	int keys[256], ch;
	size_t n = 0;

	while (n < sizeof(keys) / sizeof(keys[0]) && (ch = getch()) != ERR) {
		if (ch == KEY_RESIZE)
			app.resized = true;
		else if (ch < KEY_MIN) /* keypad is off: only bytes, and KEY_RESIZE */
			keys[n++] = ch;
	}
	cli_feed(keys, n);
}

/* ---- The loop ---- */

/* Per turn: status line, layout after a resize, drawing if anything changed. */
static void update_screen(double now)
{
	char status[sizeof(app.status)];
	bool ok = session_status(&app.session, now, status, sizeof(status));
	int rows, cols;

	if (strcmp(status, app.status) != 0) {
		snprintf(app.status, sizeof(app.status), "%s", status);
		app.dirty = true;
	}
	if (app.resized) {
		app.resized = false;
		screen_size(&rows, &cols);
		app.fits = layout_compute(rows, cols, pane_defs, pane_defs_len, app.rects);
		screen_resized();
		app.dirty = true;
	}
	if (!app.dirty)
		return;
	app.dirty = false;
	struct screen_view v = { .status = app.status, .status_ok = ok, .sel = &app.ctx.sel,
				 .panes = app.panes, .rects = app.rects, .fits = app.fits };
	screen_draw(&v);
}

/* A fresh connection: refresh every pane at once. */
static void check_reconnect(void)
{
	bool ready = app.session.ready;

	if (ready && !app.was_ready)
		for (size_t i = 0; i < pane_defs_len; i++)
			app.panes[i].next_due = 0;
	app.was_ready = ready;
}

int tui_run(const char *host, const char *port)
{
	struct sigaction sa = { .sa_handler = on_signal };

	setlocale(LC_ALL, "");
	sigaction(SIGINT, &sa, NULL); /* before initscr(), so curses keeps its hands off */
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pane_defs_len > MAX_PANES || pane_index(PANE_OUTPUT) < 0)
		abort(); /* the pane table and this file disagree */
	memset(&app, 0, sizeof(app));
	app.output = pane_index(PANE_OUTPUT);
	panes_init(app.panes);
	session_init(&app.session, host, port, on_reply, NULL);
	app.ctx = (struct cmd_ctx){ .print = ctx_print, .remote = ctx_remote };
	output("hvmon: type help for the commands; Tab completes, Ctrl-D or quit leaves");
	screen_init();
	cli_init("hvmon> ", on_line, on_show);
	cli_bind("\\e[5~", page_up);
	cli_bind("\\e[6~", page_down);
	cli_bind("\\C-l", redraw_all);
	app.resized = true;

	while (!app.ctx.quit && !stop_signal) {
		double now = conn_now();
		struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN } };

		session_tick(&app.session, now);
		check_reconnect();
		check_selection();
		refresh_panes(now);
		update_screen(now);
		bool net = session_pollfd(&app.session, &fds[1]);
		if (poll(fds, net ? 2 : 1, POLL_MS) < 0 && errno != EINTR)
			break;
		read_keys();
		if (net && fds[1].revents)
			session_handle(&app.session, fds[1].revents, conn_now());
	}
	cli_end();
	screen_end();
	session_free(&app.session);
	panes_free(app.panes);
	return stop_signal ? 128 + stop_signal : 0;
}
