/**
 * @file cli.h
 * @brief The command line at the bottom of the screen: GNU readline in callback mode,
 *        drawn by ncurses.
 *
 * Readline's callback interface (rl_callback_handler_install, rl_callback_read_char)
 * takes one key at a time, so the main loop stays in charge: it polls the keyboard and
 * the connection together, hands keys here with cli_feed(), and redraws the screen
 * (cli_draw() for this line) whenever cli tells it the line changed. Readline keeps the
 * history (Up/Down), editing keys and Tab completion (from commands.c); it never writes
 * to the terminal itself (its output stream is /dev/null), curses does all drawing.
 */
#ifndef HVMON_CLI_H
#define HVMON_CLI_H

#include <stdbool.h>
#include <stddef.h>

/** Called with each line entered (NULL for Ctrl-D on an empty line). */
typedef void (*cli_line_fn)(const char *line);
/** Called when something needs showing: the line changed (@p text NULL), or a list of
 *  completions to show in the output pane (@p text). */
typedef void (*cli_show_fn)(const char *text);
/** A key binding's action, as readline calls it. */
typedef int (*cli_key_fn)(int count, int key);

/** Start readline with @p prompt; lines go to @p on_line, redraw requests to @p on_show. */
void cli_init(const char *prompt, cli_line_fn on_line, cli_show_fn on_show);
/** Bind key sequence @p keyseq (readline syntax, "\\e[5~" for PgUp) to @p fn. */
void cli_bind(const char *keyseq, cli_key_fn fn);
/** Hand readline the @p n keys (bytes) in @p keys, read together so that readline
 *  sees Esc '[' 'A' as one Up key. */
void cli_feed(const int *keys, size_t n);
/** Draw the prompt and line on row @p row, @p cols wide, and leave the cursor there. */
void cli_draw(int row, int cols);
/** Stop readline (removes the callback handler). */
void cli_end(void);

#endif
