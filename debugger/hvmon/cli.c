/**
 * @file cli.c
 * @brief Readline in callback mode under ncurses (see cli.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ncurses.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "commands.h"

#define MAX_CANDIDATES 64
#define HISTORY_LINES 500

static cli_line_fn line_cb;
static cli_show_fn show_cb;
static FILE *devnull;
static const int *keys;   /* the keys cli_feed() was given ... */
static size_t nkeys, next; /* ... how many, and the next one readline reads */

/* Readline reads keys through this: the next of those handed to cli_feed(). */
static int getc_hook(FILE *unused)
{
	return next < nkeys ? keys[next++] : EOF;
}

/* Readline asks whether more keys are queued (to tell Esc from Esc-sequences, and to
 * insert typed-ahead characters in one go). */
static int input_available(void)
{
	return next < nkeys;
}

/* Readline would redraw its line: ask the main loop for a redraw instead. */
static void redisplay(void)
{
	show_cb(NULL);
}

/* Curses owns the terminal modes: readline must not change them. */
static void prep_terminal(int meta)
{
}

/* ... and must not restore them either. */
static void deprep_terminal(void)
{
}

/* A whole line was entered (NULL: Ctrl-D on an empty line). */
static void got_line(char *line)
{
	if (line && line[strspn(line, " \t")])
		add_history(line);
	line_cb(line);
	free(line);
}

/* ---- Completion ---- */

static char candidates[MAX_CANDIDATES][CMD_WORD_LEN];
static size_t ncandidates;

/* rl_completion_matches() asks for candidates one by one (state 0: from the start). */
static char *next_candidate(const char *text, int state)
{
	static size_t i;

	if (state == 0)
		i = 0;
	return i < ncandidates ? strdup(candidates[i++]) : NULL;
}

/* Complete the word from @p start to @p end of the line with commands.c's candidates. */
static char **complete(const char *text, int start, int end)
{
	char before[CMD_MAX_LINE + 1];

	snprintf(before, sizeof(before), "%.*s", start, rl_line_buffer);
	ncandidates = cmd_complete(before, text, candidates, MAX_CANDIDATES);
	rl_attempted_completion_over = 1; /* never fall back to file names */
	if (ncandidates == 1 && strchr(candidates[0], '/'))
		rl_completion_append_character = '\0'; /* "x/" waits for its count */
	return rl_completion_matches(text, next_candidate);
}

/* Several candidates: list them in the output pane (readline would print them). */
static void show_matches(char **matches, int n, int max_len)
{
	char text[1024] = "completions:";

	for (int i = 1; i <= n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " %s", matches[i]);
	show_cb(text);
}

/* ---- The interface ---- */

void cli_init(const char *prompt, cli_line_fn on_line, cli_show_fn on_show)
{
	line_cb = on_line;
	show_cb = on_show;
	devnull = fopen("/dev/null", "w");
	rl_outstream = devnull;
	rl_readline_name = "hvmon";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = prep_terminal;
	rl_deprep_term_function = deprep_terminal;
	rl_getc_function = getc_hook;
	rl_input_available_hook = input_available;
	rl_redisplay_function = redisplay;
	rl_attempted_completion_function = complete;
	rl_completion_display_matches_hook = show_matches;
	rl_variable_bind("bell-style", "none");
	using_history();
	stifle_history(HISTORY_LINES);
	rl_callback_handler_install(prompt, got_line);
}

void cli_bind(const char *keyseq, cli_key_fn fn)
{
	rl_bind_keyseq(keyseq, fn);
}

void cli_feed(const int *k, size_t n)
{
	keys = k;
	nkeys = n;
	for (next = 0; next < nkeys;)
		rl_callback_read_char();
	keys = NULL;
	nkeys = next = 0;
}

/* Screen columns taken by the first @p bytes of UTF-8 text @p s (one per character). */
static int columns(const char *s, int bytes)
{
	int n = 0;
	for (int i = 0; i < bytes && s[i]; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* The byte offset in @p s after skipping @p cols characters. */
static size_t skip_columns(const char *s, int cols)
{
	size_t i = 0;
	for (; s[i] && cols > 0; cols--)
		for (i++; ((unsigned char)s[i] & 0xc0) == 0x80; i++)
			;
	return i;
}

void cli_draw(int row, int cols)
{
	const char *prompt = rl_prompt ? rl_prompt : "";
	const char *line = rl_line_buffer ? rl_line_buffer : "";
	int cursor = columns(prompt, (int)strlen(prompt)) + columns(line, rl_point);
	int shift = cursor >= cols ? cursor - cols + 1 : 0; /* keep the cursor on screen */
	char full[CMD_MAX_LINE + 128];

	snprintf(full, sizeof(full), "%s%s", prompt, line);
	const char *visible = full + skip_columns(full, shift);
	move(row, 0);
	clrtoeol();
	addnstr(visible, (int)skip_columns(visible, cols - 1));
	move(row, cursor - shift);
}

void cli_end(void)
{
	rl_callback_handler_remove();
	if (devnull)
		fclose(devnull);
	devnull = NULL;
}
