/**
 * @file screen.h
 * @brief Drawing hvmon's screen with ncurses: status line, panes, command line.
 *
 * The whole screen is drawn from the state handed in (struct screen_view) every time
 * something changed; curses sends only the difference to the terminal. After a resize
 * the next draw clears first, so nothing of the old layout is left behind.
 */
#ifndef HVMON_SCREEN_H
#define HVMON_SCREEN_H

#include "layout.h"
#include "panes.h"

/** Everything one drawing needs. */
struct screen_view {
	const char *status;          /**< the connection's state in words */
	bool status_ok;              /**< false: show the status as a warning */
	const struct selection *sel; /**< which partition and vCPU the panes show */
	const struct pane *panes;    /**< pane_defs_len of them */
	const struct rect *rects;    /**< where each goes (layout_compute()) */
	bool fits;                   /**< layout_compute() found room */
};

/** Take over the terminal (curses: no echo, keys one at a time, no delay). */
void screen_init(void);
/** The terminal's size now, in @p rows and @p cols. */
void screen_size(int *rows, int *cols);
/** The terminal was resized: the next screen_draw() starts from a clear screen. */
void screen_resized(void);
/** Draw @p v, then the command line on the last row, with the cursor there. */
void screen_draw(const struct screen_view *v);
/** Give the terminal back as it was. Safe to call more than once. */
void screen_end(void);

#endif
