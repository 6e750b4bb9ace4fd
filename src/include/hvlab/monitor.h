/**
 * @file monitor.h
 * @brief The monitor: text commands that show and drive the hypervisor (issue 5, item 3).
 *
 * hvmon sends them over COM3 (src/debug/monitor_port.c, docs/design/monitor-protocol.md)
 * and GDB's `monitor ...` over the gdbstub's qRcmd; both call monitor_execute().
 *
 * A command is a row of a table (struct monitor_cmd): its name, the shapes of its
 * arguments written as hvmon's command table writes them ("P.V", "P ADDR", "[P]"),
 * one line of help, and a handler. The engine (src/debug/monitor.c) splits the line,
 * finds the row, checks and converts every argument, and only then calls the handler,
 * so a handler starts from well-formed numbers and words; what it still checks is
 * meaning (does partition 7 exist, is it paused). Rows are registered where they are
 * implemented with MONITOR_COMMAND(), like exit handlers, so a later mechanism adds its
 * commands without touching this file.
 *
 * The engine is pure C: it also builds for the host (HV_HOST) for unit tests and a
 * fuzzer, which hand it a table of their own through monitor_dispatch().
 */
#ifndef HVLAB_MONITOR_H
#define HVLAB_MONITOR_H

#include <hvlab/types.h>

/* ---- Errors: what a command returns, sent as "Exx" with xx = -error in hex ---- */

#define MON_OK 0
#define MON_ERR_USAGE (-1)  /**< E01: unknown command, or bad arguments */
#define MON_ERR_NOENT (-2)  /**< E02: no such partition, vCPU or address */
#define MON_ERR_BUSY (-16)  /**< E10: another operation on the partition is in progress (LC_ERR_BUSY) */
#define MON_ERR_STATE (-22) /**< E16: not possible in the partition's state (LC_ERR_STATE) */

/* ---- Limits ---- */

#define MONITOR_LINE_MAX 1024 /**< longest command line (the protocol's limit) */
#define MONITOR_MAX_WORDS 8   /**< words in a line, command name included */
#define MONITOR_MAX_ARGS 4    /**< arguments of one command */
#define MONITOR_WORD_MAX 40   /**< longest partition name or number accepted as P */

/** Where a command's output goes: NUL-terminated text, in pieces of any size. */
typedef void (*monitor_out_fn)(void *ctx, const char *text);

/** One checked argument. Which fields mean something depends on its shape. */
struct monitor_arg {
	bool given;       /**< false: an optional argument that was left out */
	const char *word; /**< P: the partition word; P.V: the part before the last dot;
			       ADDR, N: the token as typed; CMD: the rest of the line */
	bool is_number;   /**< P, P.V: the partition was given by its number (in @p num) */
	u64 num;          /**< P, P.V: partition number (if is_number); ADDR: the address; N: the count */
	u32 vcpu;         /**< P.V: V */
};

struct monitor_cmd;

/** One command being executed: what its handler gets. */
struct monitor_call {
	const struct monitor_cmd *cmd;   /**< its row */
	const struct monitor_cmd *table; /**< the whole table (for help) */
	size_t ntable;
	int argc;                        /**< arguments given */
	struct monitor_arg arg[MONITOR_MAX_ARGS]; /**< in the order of cmd->args */
	bool count_given;                /**< a name like "x/N" was typed with its /N */
	u64 count;                       /**< that N */
	monitor_out_fn out;
	void *ctx;
	char words[MONITOR_LINE_MAX + 1]; /**< private: the line, split into words */
	char rest[MONITOR_LINE_MAX + 1];  /**< private: a CMD argument, words joined by blanks */
};

/** A row of the command table. */
struct monitor_cmd {
	/** "info vmcs": one to three words; a last word ending in "/N" ("x/N") is typed as
	 *  "x" or "x/16", the count arriving in monitor_call.count. */
	const char *name;
	/** Argument shapes separated by blanks, "[X]" for an optional one: P (partition number
	 *  or name), P.V (a vCPU), ADDR (hex with 0x, or decimal), N (a count from 1), CMD
	 *  (the rest of the line); "" for none. */
	const char *args;
	const char *help; /**< one line: what the command does */
	/** Run it: output through monitor_printf(), then MON_OK or a MON_ERR_* after
	 *  printing why (monitor_fail()). */
	int (*run)(struct monitor_call *call);
};

/** Register a command: `MONITOR_COMMAND(cmd_pause) = { "pause", "P", "...", do_pause };`. */
#define MONITOR_COMMAND(ident) \
	static const struct monitor_cmd ident __attribute__((used, section(".table.monitor_commands"), aligned(8)))

/**
 * Execute command line @p line with the hypervisor's command table (every
 * MONITOR_COMMAND row), writing its output through @p out(@p ctx, text). Never blocks.
 * Returns MON_OK, or a negative MON_ERR_* after output saying what was wrong and, for a
 * bad command or argument, what was expected. (Not in host builds.)
 */
int monitor_execute(const char *line, monitor_out_fn out, void *ctx);

/**
 * monitor_execute() with the table @p table of @p n rows: split @p line, find the row
 * whose name takes the most words, check the arguments against its shapes, run it.
 */
int monitor_dispatch(const struct monitor_cmd *table, size_t n, const char *line, monitor_out_fn out,
		     void *ctx);

/** printf-style output of a handler (%s %d %u %x %lx ... as the hypervisor's vsnprintf). */
void monitor_printf(struct monitor_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Print one line (a newline is added) saying what went wrong, and return @p err. */
int monitor_fail(struct monitor_call *call, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** "pause P": the command's usage, for messages. */
void monitor_usage(const struct monitor_cmd *cmd, char *buf, size_t len);

/** The handler of `help [CMD]`: one line per command of call->table, or those of CMD. */
int monitor_help(struct monitor_call *call);

/* ---- For handlers inside the hypervisor (src/debug/monitor_target.c) ---- */

struct partition;
struct vcpu;

/**
 * The partition argument @p i of @p call (shape P or P.V): by number or name. When there
 * is none, prints "no partition 'x'; there are 0 (a), 1 (b)" and returns NULL: return
 * MON_ERR_NOENT then.
 */
struct partition *monitor_partition(struct monitor_call *call, int i);

/** The vCPU argument @p i of @p call (shape P.V); NULL after saying why (MON_ERR_NOENT). */
struct vcpu *monitor_vcpu(struct monitor_call *call, int i);

/** One word for where @p p is in its life: running, pausing, paused, resetting, exited... */
const char *monitor_partition_state(const struct partition *p);

/**
 * Is @p v off its CPU (parked: its partition paused, or ended), so that its VMCS and the
 * page tables it uses may be read? MON_OK, or MON_ERR_STATE after saying why
 * ("partition 0 (a) is running: pause it first").
 */
int monitor_check_parked(struct monitor_call *call, const struct vcpu *v);

/**
 * Run @p fn(@p v, @p ctx) with @p v's VMCS current on this CPU (arch_vcpu_with_vmcs()),
 * after monitor_check_parked(). @p fn must return 0 or more (results go through @p ctx).
 * Returns @p fn's result, or MON_ERR_STATE after saying why it could not run.
 */
int monitor_with_vmcs(struct monitor_call *call, struct vcpu *v, int (*fn)(struct vcpu *v, void *ctx),
		      void *ctx);

#endif
