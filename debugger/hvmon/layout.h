/**
 * @file layout.h
 * @brief Where each pane goes for a given terminal size.
 *
 * Row 0 is the status line and the last row the command line; the panes share the rows
 * between. A terminal at least LAYOUT_WIDE_COLS wide gets two columns (each pane's
 * pane_def.column says which); a narrower one stacks every pane in table order. In each
 * column every pane first gets its title line and min_lines, the rest is shared by
 * weight; when even the minimums do not fit, the pane of lowest priority is hidden, and
 * so on. Pure arithmetic, so it is unit-tested.
 */
#ifndef HVMON_LAYOUT_H
#define HVMON_LAYOUT_H

#include "panes.h"

#define LAYOUT_WIDE_COLS 120
/** Smallest terminal drawn at all; below it the screen only says it is too small. */
#define LAYOUT_MIN_ROWS 8
#define LAYOUT_MIN_COLS 30

/** A rectangle of the screen; h == 0 means the pane is not shown. */
struct rect {
	int y, x, h, w; /**< top row, left column, rows (title included), columns */
};

/**
 * Place @p n panes described by @p defs on a @p rows x @p cols terminal; rectangle i of
 * @p out is pane i's. Returns false (every h 0) when the terminal is too small.
 */
bool layout_compute(int rows, int cols, const struct pane_def *defs, size_t n, struct rect *out);

#endif
