/**
 * @file text.h
 * @brief A list of text lines: what every pane and the output area hold.
 *
 * Lines are stored ready to draw: tabs expanded to spaces (tab stops every 8 columns)
 * and other control characters shown as '?', so a pane never has to think about them.
 * A list may be bounded: then adding beyond the bound drops the oldest line (the output
 * area's scrollback).
 */
#ifndef HVMON_TEXT_H
#define HVMON_TEXT_H

#include <stddef.h>

/** A growable array of NUL-terminated lines. Zero-initialised means empty, unbounded. */
struct lines {
	char **v;   /**< the lines, oldest first */
	size_t n;   /**< how many */
	size_t cap; /**< allocated slots */
	size_t max; /**< keep at most this many (the newest); 0 = no limit */
};

/** Empty @p l and set its bound to @p max lines (0: unbounded). */
void lines_init(struct lines *l, size_t max);
/** Drop every line (the bound stays). */
void lines_clear(struct lines *l);
/** Free everything; @p l is empty afterwards. */
void lines_free(struct lines *l);
/** Append one line made of the first @p len bytes of @p s (no newline expected). */
void lines_add(struct lines *l, const char *s, size_t len);
/** Append @p text split at newlines; a final newline does not add an empty line. */
void lines_add_text(struct lines *l, const char *text);
/** Append one formatted line (printf-style; newlines in the result split it). */
void lines_addf(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
