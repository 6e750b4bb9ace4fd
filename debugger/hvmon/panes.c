/**
 * @file panes.c
 * @brief The pane table and what panes do with replies (see panes.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panes.h"

static void show_exits(struct pane *p, const char *text, double now);

/* Heights: min_lines and weight in lines of content (each pane also has a title line). */
const struct pane_def pane_defs[] = {
	{ .name = "partitions", .title = "partitions", .query = "info partitions", .period = 1,
	  .column = 0, .weight = 2, .min_lines = 2, .priority = 90 },
	{ .name = "registers", .title = "registers {P}.{V}", .query = "info vcpu {P}.{V}",
	  .period = 1, .column = 0, .weight = 4, .min_lines = 3, .priority = 50 },
	{ .name = "console", .title = "console {P}", .query = "console {P} {H}", .period = 1,
	  .tail = true, .column = 0, .weight = 3, .min_lines = 2, .priority = 60 },
	{ .name = "vmcs", .title = "VMCS {P}.{V}", .query = "info vmcs {P}.{V}", .period = 2,
	  .column = 1, .weight = 4, .min_lines = 3, .priority = 40 },
	{ .name = "exits", .title = "exits {P}, live", .query = "info exits {P}", .period = 1,
	  .show = show_exits, .state_size = sizeof(struct exit_rates), .column = 1,
	  .weight = 3, .min_lines = 3, .priority = 70 },
	{ .name = PANE_OUTPUT, .title = "output", .tail = true, .column = 1, .weight = 4,
	  .min_lines = 5, .priority = 100 },
};
const size_t pane_defs_len = sizeof(pane_defs) / sizeof(pane_defs[0]);

#define OUTPUT_SCROLLBACK 2000

void panes_init(struct pane *panes)
{
	for (size_t i = 0; i < pane_defs_len; i++) {
		struct pane *p = &panes[i];
		memset(p, 0, sizeof(*p));
		p->def = &pane_defs[i];
		lines_init(&p->lines, p->def->query ? 0 : OUTPUT_SCROLLBACK);
		if (p->def->state_size && !(p->state = calloc(1, p->def->state_size)))
			abort();
	}
}

void panes_free(struct pane *panes)
{
	for (size_t i = 0; i < pane_defs_len; i++) {
		lines_free(&panes[i].lines);
		free(panes[i].state);
		panes[i].state = NULL;
	}
}

int pane_index(const char *name)
{
	for (size_t i = 0; i < pane_defs_len; i++)
		if (strcmp(pane_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

void panes_reselect(struct pane *panes)
{
	for (size_t i = 0; i < pane_defs_len; i++) {
		struct pane *p = &panes[i];
		if (!p->def->query || !strstr(p->def->query, "{P}"))
			continue; /* the same whatever is selected */
		if (p->state)
			memset(p->state, 0, p->def->state_size);
		lines_clear(&p->lines);
		lines_add_text(&p->lines, "(waiting for the hypervisor)");
		p->next_due = 0;
	}
}

bool pane_expand(const char *tmpl, const struct selection *sel, int height, char *buf,
		 size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (const char *t = tmpl; *t && o + 1 < len; t++) {
		char value[CMD_PART_LEN + 16] = "";
		if (strncmp(t, "{P}", 3) == 0) {
			if (!sel->part[0])
				return false;
			snprintf(value, sizeof(value), "%s", sel->part);
		} else if (strncmp(t, "{V}", 3) == 0) {
			snprintf(value, sizeof(value), "%u", sel->vcpu);
		} else if (strncmp(t, "{H}", 3) == 0) {
			snprintf(value, sizeof(value), "%d", height > 0 ? height : 1);
		} else {
			buf[o++] = *t;
			buf[o] = '\0';
			continue;
		}
		o += (size_t)snprintf(buf + o, len - o, "%s", value);
		o = o < len ? o : len - 1;
		t += 2;
	}
	return true;
}

void pane_show(struct pane *p, const char *text, double now)
{
	if (p->def->show) {
		p->def->show(p, text, now);
		return;
	}
	lines_clear(&p->lines);
	lines_add_text(&p->lines, text);
}

void pane_fail(struct pane *p, const char *why)
{
	lines_clear(&p->lines);
	lines_add_text(&p->lines, why);
}

/* The exit-counter pane: totals become rates (state: struct exit_rates). */
static void show_exits(struct pane *p, const char *text, double now)
{
	lines_clear(&p->lines);
	exit_rates_render(p->state, text, now, &p->lines);
}

/* ---- Exit counters, kvm_stat style ---- */

/** One counter of a sample. */
struct exit_row {
	char name[40];
	unsigned long long count;
	double rate; /**< per second since the previous sample; < 0: not known yet */
};

/* Is @p line (@p len bytes) a counter, "REASON: COUNT" (split at the last ':'; the count
 * decimal and last)? If so, fill in @p row's name and count. */
static bool parse_counter(const char *line, size_t len, struct exit_row *row)
{
	const char *colon = NULL;
	size_t start = strspn(line, " "), end = len, digits;

	for (size_t i = start; i < len; i++)
		if (line[i] == ':')
			colon = line + i;
	while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\r'))
		end--;
	if (!colon || colon == line + start)
		return false;
	const char *count = colon + 1 + strspn(colon + 1, " ");
	digits = (size_t)(line + end - count);
	if (digits == 0 || digits > 19 || count + strspn(count, "0123456789") != line + end)
		return false;
	snprintf(row->name, sizeof(row->name), "%.*s", (int)(colon - line - start), line + start);
	row->count = strtoull(count, NULL, 10);
	return true;
}

/* The rate of @p row against the previous sample in @p r, or -1 if unknown. */
static double rate_of(const struct exit_rates *r, const struct exit_row *row, double now)
{
	for (size_t i = 0; r->at > 0 && now > r->at && i < r->n; i++)
		if (strcmp(r->name[i], row->name) == 0)
			return row->count >= r->count[i] ? (double)(row->count - r->count[i]) / (now - r->at)
							 : -1;
	return -1;
}

/* qsort order: highest rate first, then highest total, then by name. */
static int busiest_first(const void *a, const void *b)
{
	const struct exit_row *x = a, *y = b;
	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

void exit_rates_render(struct exit_rates *r, const char *text, double now, struct lines *out)
{
	enum { MAX_ROWS = sizeof(r->count) / sizeof(r->count[0]) };
	struct exit_row rows[MAX_ROWS];
	size_t n = 0;

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		if (n == MAX_ROWS || !parse_counter(line, len, &rows[n])) {
			lines_add(out, line, len); /* a heading, a remark (or one too many) */
		} else {
			rows[n].rate = rate_of(r, &rows[n], now);
			n++;
		}
		line += len + (line[len] == '\n');
	}
	qsort(rows, n, sizeof(rows[0]), busiest_first);
	if (n)
		lines_addf(out, "%-30s %12s %8s", "exit reason", "total", "/s");
	for (size_t i = 0; i < n; i++) {
		if (rows[i].rate < 0)
			lines_addf(out, "%-30s %12llu %8s", rows[i].name, rows[i].count, "-");
		else
			lines_addf(out, "%-30s %12llu %8.0f", rows[i].name, rows[i].count, rows[i].rate);
		memcpy(r->name[i], rows[i].name, sizeof(r->name[i]));
		r->count[i] = rows[i].count;
	}
	r->n = n;
	r->at = now;
}
