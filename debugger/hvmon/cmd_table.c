/**
 * @file cmd_table.c
 * @brief The commands: one row each, and the three that hvmon runs itself.
 *
 * Adding a command is adding a row here (and, for a hypervisor command, its handler on
 * the hypervisor side; docs/design/monitor-protocol.md lists them). If it takes an
 * argument of a new shape, add that shape to arg_kinds[] in commands.c.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void do_select(struct cmd_ctx *ctx, const struct cmd_call *call);
static void do_help(struct cmd_ctx *ctx, const struct cmd_call *call);
static void do_quit(struct cmd_ctx *ctx, const struct cmd_call *call);

/* The `local` of a command the hypervisor executes: hvmon sends it and shows the reply. */
#define HYPERVISOR NULL

const struct cmd_def cmd_table[] = {
	{ "info partitions", "", HYPERVISOR,
	  "every partition: id, name, state, paging mode, vCPUs with state and CPU" },
	{ "info vcpu", "P.V", HYPERVISOR,
	  "the registers of vCPU V of partition P" },
	{ "info vmcs", "P.V", HYPERVISOR,
	  "the VMCS of a vCPU, decoded in words: controls, exit reason, qualification" },
	{ "info ept", "P ADDR", HYPERVISOR,
	  "walk guest address ADDR through guest paging, then EPT or shadow tables" },
	{ "info exits", "[P]", HYPERVISOR,
	  "VM exits counted per exit reason, of partition P or of all" },
	{ "info irq", "", HYPERVISOR,
	  "interrupt routing: which interrupt goes to which partition and vector" },
	{ "info pci", "", HYPERVISOR,
	  "PCI devices, and the partition each belongs to" },
	{ "pause", "P", HYPERVISOR,
	  "stop every vCPU of partition P where it is" },
	{ "resume", "P", HYPERVISOR,
	  "let paused partition P run on" },
	{ "step", "P.V", HYPERVISOR,
	  "run one guest instruction on vCPU V of paused partition P" },
	{ "reset", "P", HYPERVISOR,
	  "soft-reset partition P: reload its image and start it again" },
	{ "break", "P ADDR", HYPERVISOR,
	  "pause partition P when one of its vCPUs reaches guest address ADDR" },
	{ "x/N", "P ADDR", HYPERVISOR,
	  "N bytes (default 16) of partition P's memory at guest address ADDR, in hex" },
	{ "console", "P [N]", HYPERVISOR,
	  "the last N lines (default 20) partition P wrote to its console" },
	{ "select", "P[.V]", do_select,
	  "choose the partition (and vCPU, default 0) the panes show" },
	{ "help", "[CMD]", do_help,
	  "list the commands, or show the help of command CMD" },
	{ "quit", "", do_quit,
	  "leave hvmon (Ctrl-D does too)" },
};
const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);

/* ---- hvmon's own commands ---- */

/* select P[.V]: which partition and vCPU the panes show. */
static void do_select(struct cmd_ctx *ctx, const struct cmd_call *call)
{
	char msg[96];

	cmd_parse_selection(call->argv[0], &ctx->sel); /* checked by cmd_parse() */
	snprintf(msg, sizeof(msg), "the panes now show partition %s, vCPU %u", ctx->sel.part,
		 ctx->sel.vcpu);
	ctx->print(ctx, msg);
}

/* quit: leave hvmon. */
static void do_quit(struct cmd_ctx *ctx, const struct cmd_call *call)
{
	ctx->quit = true;
}

/* One "  USAGE  help" line for @p def. */
static void print_help_line(struct cmd_ctx *ctx, const struct cmd_def *def)
{
	char usage[64], line[256];

	cmd_usage(def, usage, sizeof(usage));
	snprintf(line, sizeof(line), "  %-20s %s", usage, def->help);
	ctx->print(ctx, line);
}

/* help: hvmon's commands, then the hypervisor's (from its own help when connected). */
static void help_all(struct cmd_ctx *ctx)
{
	ctx->print(ctx, "hvmon's own commands:");
	for (size_t i = 0; i < cmd_table_len; i++)
		if (cmd_table[i].local)
			print_help_line(ctx, &cmd_table[i]);
	ctx->print(ctx, "keys: Tab completes, Up/Down recall, PgUp/PgDn scroll this pane, "
			"Ctrl-D quits");
	if (ctx->connected) {
		ctx->print(ctx, "hypervisor commands (the hypervisor's help follows):");
		ctx->remote(ctx, "help");
		return;
	}
	ctx->print(ctx, "hypervisor commands (not connected: hvmon's own summary):");
	for (size_t i = 0; i < cmd_table_len; i++)
		if (!cmd_table[i].local)
			print_help_line(ctx, &cmd_table[i]);
}

/* help [CMD]: the list, or one command's help (a hypervisor command's from the hypervisor). */
static void do_help(struct cmd_ctx *ctx, const struct cmd_call *call)
{
	char name[CMD_MAX_LINE + 1] = "", msg[CMD_MAX_LINE + 64];
	const struct cmd_def *def;

	if (call->argc == 0) {
		help_all(ctx);
		return;
	}
	for (int i = 0; i < call->argc; i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s%s", i ? " " : "",
			 call->argv[i]);
	def = cmd_find(name);
	if (!def) {
		snprintf(msg, sizeof(msg), "help: unknown command '%s'; type help for the list", name);
		ctx->print(ctx, msg);
	} else if (def->local || !ctx->connected) {
		print_help_line(ctx, def);
	} else {
		snprintf(msg, sizeof(msg), "help %.*s", (int)strcspn(def->name, "/"), def->name);
		ctx->remote(ctx, msg);
	}
}
