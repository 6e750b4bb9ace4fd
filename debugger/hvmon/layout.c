/**
 * @file layout.c
 * @brief Splitting the terminal between the panes (see layout.h).
 */
#include <string.h>

#include "layout.h"

#define MAX_PANES 32

/* Give the panes listed in @p idx (@p k of them, table order) rows @p top to @p top+@p h
 * at column @p x, @p w wide: hide the lowest priorities until the minimums fit, then share
 * the rest by weight (what rounding leaves goes to the last shown pane). */
static void fill_column(const struct pane_def *defs, const int *idx, int k, int top, int h,
			int x, int w, struct rect *out)
{
	bool shown[MAX_PANES];
	int need = 0, weights = 0, last = -1;

	for (int i = 0; i < k; i++) {
		shown[i] = true;
		need += 1 + defs[idx[i]].min_lines;
	}
	while (need > h) {
		int drop = -1;
		for (int i = 0; i < k; i++)
			if (shown[i] && (drop < 0 || defs[idx[i]].priority < defs[idx[drop]].priority))
				drop = i;
		if (drop < 0)
			return;
		shown[drop] = false;
		need -= 1 + defs[idx[drop]].min_lines;
	}
	for (int i = 0; i < k; i++)
		if (shown[i]) {
			weights += defs[idx[i]].weight;
			last = i;
		}
	int spare = h - need, given = 0, y = top;
	for (int i = 0; i < k; i++) {
		if (!shown[i])
			continue;
		int extra = weights ? spare * defs[idx[i]].weight / weights : 0;
		if (i == last)
			extra = spare - given;
		given += extra;
		out[idx[i]] = (struct rect){ .y = y, .x = x, .h = 1 + defs[idx[i]].min_lines + extra,
					     .w = w };
		y += out[idx[i]].h;
	}
}

bool layout_compute(int rows, int cols, const struct pane_def *defs, size_t n, struct rect *out)
{
	int idx[MAX_PANES], k;
	bool wide = cols >= LAYOUT_WIDE_COLS;
	int left = wide ? (cols - 1) / 2 : cols; /* one column between them for a rule */

	memset(out, 0, n * sizeof(*out));
	if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS || n > MAX_PANES)
		return false;
	for (int column = 0; column < (wide ? 2 : 1); column++) {
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (!wide || defs[i].column == column)
				idx[k++] = (int)i;
		fill_column(defs, idx, k, 1, rows - 2, column ? left + 1 : 0,
			    column ? cols - left - 1 : left, out);
	}
	return true;
}
