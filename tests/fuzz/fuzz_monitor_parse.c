/*
 * fuzz_monitor_parse.c — libFuzzer target for the monitor's command engine,
 * src/debug/monitor.c: monitor_dispatch() and its argument shapes, with help.
 *
 * Fuzzes: the input as one command line, as it arrives decoded from a qRcmd packet
 * (any bytes, NULs included, up to and beyond MONITOR_LINE_MAX), dispatched through a
 * table shaped like the hypervisor's (every argument shape, optional ones, "x/N", help).
 * Asserts:
 *   - the result is MON_OK or MON_ERR_USAGE (the handlers here always succeed; only
 *     the engine refuses), and a refusal comes with output that ends in a newline;
 *   - a handler runs only with every required argument given, each in range: P a
 *     non-empty name of letters, digits, '_', '-', '.' shorter than MONITOR_WORD_MAX
 *     (is_number exactly when all digits and then num its value), P.V the same plus a
 *     vCPU number, N from 1, "x/N" with its count from 1, CMD a non-empty string;
 *   - the handler's arguments point into the engine's own copy of the line, and every
 *     output piece is a NUL-terminated string no longer than the engine's line buffer.
 */
#undef NDEBUG /* the checks below are the point */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/monitor.h>

static size_t out_total;
static bool out_ends_in_newline;

/* Every piece of output: a bounded, NUL-terminated string. */
static void out(void *ctx, const char *text)
{
	size_t n = strlen(text);

	assert(n < 2 * MONITOR_LINE_MAX);
	out_total += n;
	if (n)
		out_ends_in_newline = text[n - 1] == '\n';
}

/* Is @p s all in the partition-name alphabet, and its number if all digits? */
static void check_partition(const struct monitor_arg *a)
{
	size_t n = strlen(a->word);
	bool digits = n > 0 && n <= 9 && strspn(a->word, "0123456789") == n;

	assert(n > 0 && n < MONITOR_WORD_MAX);
	assert(strspn(a->word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n);
	assert(a->is_number == digits);
	if (digits)
		assert(a->num == strtoull(a->word, NULL, 10));
}

/* Check each argument against the shape its position has in the row. */
static int check(struct monitor_call *call)
{
	const char *shape = call->cmd->args;

	assert(call->argc >= 0 && call->argc <= MONITOR_MAX_ARGS);
	for (int i = 0; *shape; i++) {
		size_t len = strcspn(shape, " ");
		bool optional = shape[0] == '[';
		char tok[16];
		snprintf(tok, sizeof(tok), "%.*s", (int)(optional ? len - 2 : len), shape + optional);
		const struct monitor_arg *a = &call->arg[i];
		assert(a->given || optional);
		if (a->given) {
			if (strcmp(tok, "P") == 0 || strcmp(tok, "P.V") == 0)
				check_partition(a);
			else if (strcmp(tok, "N") == 0)
				assert(a->num >= 1);
			else if (strcmp(tok, "CMD") == 0)
				assert(a->word && a->word[0]);
			assert(a->word >= call->words && a->word < call->words + sizeof(call->words) + sizeof(call->rest));
		}
		shape += len + (shape[len] == ' ');
	}
	if (call->count_given)
		assert(call->count >= 1);
	monitor_printf(call, "%s ran\n", call->cmd->name);
	return MON_OK;
}

static const struct monitor_cmd table[] = {
	{ "info partitions", "", "partitions", check },
	{ "info vcpu", "P.V", "registers", check },
	{ "info vmcs", "P.V", "VMCS", check },
	{ "info ept", "P ADDR", "walk", check },
	{ "info exits", "[P]", "exits", check },
	{ "info irq", "", "irq", check },
	{ "pause", "P", "pause", check },
	{ "step", "P.V", "step", check },
	{ "break", "P ADDR", "break", check },
	{ "x/N", "P ADDR", "memory", check },
	{ "console", "P [N]", "console", check },
	{ "help", "[CMD]", "help", monitor_help },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);

	memcpy(line, data, size);
	line[size] = '\0'; /* a NUL inside ends the line early, as strnlen() sees it */
	out_total = 0;
	out_ends_in_newline = false;
	int r = monitor_dispatch(table, sizeof(table) / sizeof(table[0]), line, out, NULL);
	assert(r == MON_OK || r == MON_ERR_USAGE);
	if (r != MON_OK)
		assert(out_total > 0 && out_ends_in_newline);
	free(line);
	return 0;
}
