/**
 * @file screen.c
 * @brief The ncurses side of hvmon (see screen.h).
 */
#include <stdio.h>
#include <string.h>

#include <ncurses.h>

#include "cli.h"
#include "screen.h"

enum { COLOR_WARNING = 1 };

static bool active;

void screen_init(void)
{
	initscr();
	cbreak();     /* keys one at a time; Ctrl-C still sends SIGINT */
	noecho();
	nonl();
	nodelay(stdscr, TRUE);
	keypad(stdscr, FALSE); /* readline decodes escape sequences itself */
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(COLOR_WARNING, COLOR_WHITE, COLOR_RED);
	}
	active = true;
}

void screen_size(int *rows, int *cols)
{
	getmaxyx(stdscr, *rows, *cols);
}

void screen_resized(void)
{
	clearok(curscr, TRUE);
}

void screen_end(void)
{
	if (!active)
		return;
	active = false;
	endwin();
}

/* Row 0: who we are, the connection, the selection. */
static void draw_status(const struct screen_view *v, int cols)
{
	char line[512], shown[96];
	attr_t warn = has_colors() ? COLOR_PAIR(COLOR_WARNING) | A_BOLD : A_BOLD;

	if (v->sel->part[0])
		snprintf(shown, sizeof(shown), "showing partition %s, vCPU %u", v->sel->part,
			 v->sel->vcpu);
	else
		snprintf(shown, sizeof(shown), "no partition selected");
	snprintf(line, sizeof(line), " hvmon | %s | %s | type help", v->status, shown);
	attrset(A_REVERSE | (v->status_ok ? 0 : warn));
	mvhline(0, 0, ' ', cols);
	mvaddnstr(0, 0, line, cols);
	attrset(A_NORMAL);
}

/* One pane: a title bar, then as many of its lines as fit (the newest for tail panes),
 * indented by one column. */
static void draw_pane(const struct pane *p, const struct rect *r, const struct selection *sel)
{
	char title[160], expanded[128];
	int rows = r->h - 1;
	size_t n = p->lines.n, first = 0;

	if (!pane_expand(p->def->title, sel, rows, expanded, sizeof(expanded)))
		snprintf(expanded, sizeof(expanded), "%s (select a partition)", p->def->name);
	if (p->scroll)
		snprintf(title, sizeof(title), " %s (scrolled back %d lines; PgDn) ", expanded, p->scroll);
	else
		snprintf(title, sizeof(title), " %s ", expanded);
	attrset(A_REVERSE);
	mvhline(r->y, r->x, ' ', r->w);
	mvaddnstr(r->y, r->x, title, r->w);
	attrset(A_NORMAL);
	if (p->def->tail && n > (size_t)rows) {
		size_t hidden = n - (size_t)rows; /* lines above the window when not scrolled */
		size_t back = (size_t)p->scroll < hidden ? (size_t)p->scroll : hidden;
		first = hidden - back;
	}
	for (int i = 0; i < rows && first + (size_t)i < n; i++) {
		if (!p->def->tail && i == rows - 1 && n > (size_t)rows) {
			mvprintw(r->y + 1 + i, r->x + 1, "... %zu more lines", n - (size_t)rows + 1);
			break;
		}
		mvaddnstr(r->y + 1 + i, r->x + 1, p->lines.v[first + (size_t)i], r->w - 1);
	}
}

void screen_draw(const struct screen_view *v)
{
	int rows, cols;

	screen_size(&rows, &cols);
	erase();
	if (!v->fits) {
		mvprintw(0, 0, "hvmon: the terminal is too small (at least %dx%d)", LAYOUT_MIN_COLS,
			 LAYOUT_MIN_ROWS);
		cli_draw(rows - 1, cols);
		refresh();
		return;
	}
	draw_status(v, cols);
	for (size_t i = 0; i < pane_defs_len; i++) {
		const struct rect *r = &v->rects[i];
		if (r->h == 0)
			continue;
		if (r->x > 0) /* the rule between two columns */
			mvvline(r->y, r->x - 1, ACS_VLINE, r->h);
		draw_pane(&v->panes[i], r, v->sel);
	}
	cli_draw(rows - 1, cols);
	refresh();
}
