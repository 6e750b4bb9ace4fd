/**
 * @file commands.h
 * @brief hvmon's command table: every command, its arguments and its help line, and
 *        the parsing, checking and completion done with it.
 *
 * A command is one row of cmd_table[] (cmd_table.c). Commands with a `local` handler run
 * inside hvmon (select, quit, help); every other command is sent, as typed, to the
 * hypervisor, which executes it and answers with text. hvmon still knows their argument
 * shapes, so that a mistyped command gets a message saying what was expected without a
 * round trip, and Tab can complete command words. A later mechanism (failover, hot
 * restart) adds its commands as rows here and on the hypervisor side.
 *
 * Pure logic, no I/O: local handlers act on a struct cmd_ctx whose print and remote
 * functions the caller supplies.
 */
#ifndef HVMON_COMMANDS_H
#define HVMON_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#define CMD_MAX_LINE 1024 /**< longest command line (RSPC_MAX_COMMAND) */
#define CMD_MAX_WORDS 16
#define CMD_PART_LEN 32   /**< partition numbers and names (CONFIG_NAME_LEN) */
#define CMD_WORD_LEN 32   /**< a completion candidate */

/** Which partition and vCPU the panes show; part is a number or a name as typed. */
struct selection {
	char part[CMD_PART_LEN];
	unsigned vcpu;
};

struct cmd_call;

/** What local commands act on; filled in by the caller. */
struct cmd_ctx {
	struct selection sel; /**< changed by `select` */
	bool quit;            /**< set by `quit` */
	bool connected;       /**< can hypervisor commands be sent now? */
	/** Show @p text (one or more lines) in the output area. */
	void (*print)(struct cmd_ctx *ctx, const char *text);
	/** Send hypervisor command @p cmd; its reply goes to the output area. */
	void (*remote)(struct cmd_ctx *ctx, const char *cmd);
	void *user;           /**< for the caller */
};

/** One command: a row of the table. */
struct cmd_def {
	/** One or two words ("pause", "info vmcs"); "x/N" means the word x with an
	 *  optional /COUNT suffix (x/16). */
	const char *name;
	/** Argument tokens separated by spaces, [X] when optional: P, P.V, P[.V], ADDR, N,
	 *  CMD (the rest of the line). Also the usage text. */
	const char *args;
	/** Runs the command inside hvmon; NULL: the hypervisor executes it. */
	void (*local)(struct cmd_ctx *ctx, const struct cmd_call *call);
	const char *help; /**< one line */
};

/** A parsed, checked command line. */
struct cmd_call {
	const struct cmd_def *def;
	int argc;                       /**< arguments after the command's name words */
	const char *argv[CMD_MAX_WORDS];
	char text[CMD_MAX_LINE + 1];    /**< the whole line, words joined by one space */
	char words[CMD_MAX_LINE + 1];   /**< private: storage behind argv */
};

/** The commands, in the order help lists them. */
extern const struct cmd_def cmd_table[];
extern const size_t cmd_table_len;

/** cmd_parse() results. */
enum cmd_status {
	CMD_EMPTY, /**< a blank line: nothing to do */
	CMD_BAD,   /**< unknown command or bad arguments: the message says what was expected */
	CMD_READY, /**< parsed and checked: pass it to cmd_run() */
};

/**
 * Parse @p line: find its command (the longest name that matches its first words) and
 * check its arguments against the command's argument tokens. On CMD_BAD, @p err holds
 * one line for the user, such as "unknown command 'foo'; type help" or
 * "pause: expected a partition number or name (usage: pause P)".
 */
enum cmd_status cmd_parse(const char *line, struct cmd_call *call, char *err, size_t errlen);
/** Run a parsed command: its local handler, or ctx->remote() with its text. */
void cmd_run(struct cmd_ctx *ctx, const struct cmd_call *call);
/** The command called @p name ("info vmcs", "x/N", or "x"), or NULL. */
const struct cmd_def *cmd_find(const char *name);
/** "NAME ARGS" of @p def into @p buf, as help and error messages show it. */
void cmd_usage(const struct cmd_def *def, char *buf, size_t len);
/**
 * Completions for the word @p word being typed after @p before (the line up to it):
 * command words at the start of the line or after `help`, the second word of two-word
 * commands after their first ("x/" for x/N). Up to @p max distinct candidates go to
 * @p out, in table order; returns how many.
 */
size_t cmd_complete(const char *before, const char *word, char out[][CMD_WORD_LEN], size_t max);
/** Parse "P" or "P.V" into @p sel (V defaults to 0); false if @p arg is neither. */
bool cmd_parse_selection(const char *arg, struct selection *sel);

#endif
