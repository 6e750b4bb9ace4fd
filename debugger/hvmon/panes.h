/**
 * @file panes.h
 * @brief The panes of hvmon's screen: what each shows, which monitor command fills it,
 *        how often, and how it shares the screen.
 *
 * A pane is one row of pane_defs[] (panes.c). Its command is a template in which {P},
 * {V} and {H} stand for the selected partition, the selected vCPU and the pane's height
 * in lines; the reply text is shown as it is, or passed through the row's `show`
 * function (the exit counters turn totals into rates that way). A later mechanism adds
 * a pane by adding a row. Pure logic: drawing is screen.c's, placing is layout.c's.
 */
#ifndef HVMON_PANES_H
#define HVMON_PANES_H

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "text.h"

struct pane;

/** One pane: a row of the table. */
struct pane_def {
	const char *name;   /**< short name, for the code and the tests */
	const char *title;  /**< title template ({P}, {V}) */
	const char *query;  /**< command template ({P}, {V}, {H}); NULL: filled by hvmon */
	double period;      /**< seconds between refreshes */
	/** Turn a reply into p->lines (NULL: the text as it is). */
	void (*show)(struct pane *p, const char *text, double now);
	size_t state_size;  /**< bytes of private state for `show`, zeroed on reselection */
	bool tail;          /**< when lines overflow, show the newest (console, output) */
	/* Placement (layout.c). */
	int column;         /**< on a wide terminal: 0 left, 1 right */
	int weight;         /**< share of its column's spare height */
	int min_lines;      /**< fewer content lines than this: the pane is hidden */
	int priority;       /**< when space is short, the lowest priority is hidden first */
};

/** A pane as it is now. */
struct pane {
	const struct pane_def *def;
	struct lines lines; /**< what it shows */
	void *state;        /**< def->state_size bytes, for def->show */
	double next_due;    /**< when to refresh it next (0: now) */
	int scroll;         /**< lines scrolled back from the newest (tail panes) */
};

/** The panes, in order: narrow terminals stack them in this order. */
extern const struct pane_def pane_defs[];
extern const size_t pane_defs_len;
/** The name of the pane that shows command output (it has no query). */
#define PANE_OUTPUT "output"

/** Set up @p panes[pane_defs_len]: empty, due now. */
void panes_init(struct pane *panes);
/** Free what @p panes[pane_defs_len] hold. */
void panes_free(struct pane *panes);
/** The index of pane @p name, or -1. */
int pane_index(const char *name);
/** The selection changed: forget per-selection state, show "waiting", refresh now. */
void panes_reselect(struct pane *panes);
/** Expand template @p tmpl for @p sel and a pane @p height lines high into @p buf.
 *  Returns false if it needs a partition and none is selected. */
bool pane_expand(const char *tmpl, const struct selection *sel, int height, char *buf,
		 size_t len);
/** Show reply text @p text (received at @p now) in @p p. */
void pane_show(struct pane *p, const char *text, double now);
/** Show that @p p's command got no usable reply: @p why. */
void pane_fail(struct pane *p, const char *why);

/** The exit-counter pane's state: the previous sample, to compute rates from. */
struct exit_rates {
	double at;    /**< when the previous sample was taken; 0: none yet */
	size_t n;
	char name[96][40];
	unsigned long long count[96];
};

/**
 * Turn `info exits` text into one line per reason with its total and its rate per
 * second since the previous sample in @p r, busiest first (as kvm_stat does), and keep
 * this sample in @p r. A counter line is "REASON: COUNT", split at its last ':', the
 * count a decimal number ending the line; other lines are kept as they are, above the
 * table.
 */
void exit_rates_render(struct exit_rates *r, const char *text, double now, struct lines *out);

#endif
