/**
 * @file monitor.c
 * @brief The monitor's command engine: split a line, find its row in the command table,
 * check every argument against the row's shapes, run the handler; and `help`.
 *
 * The words and messages follow hvmon's own checks (debugger/hvmon/commands.c), so a
 * user sees the same sentence whichever side refused a command; the hypervisor checks
 * again because anything may arrive on a serial port (issue 5, item 2).
 *
 * Pure logic, no allocation, every write bounded: built freestanding for the hypervisor
 * and with HV_HOST for tests/unit/test_monitor.c and tests/fuzz/fuzz_monitor_parse.c.
 */
#include <hvlab/types.h>
#include <hvlab/lib.h>
#include <hvlab/monitor.h>
#include <hvlab/gdb_rsp.h>

#define NAME_WORDS_MAX 3 /* words of a command name ("info vmcs") */
#define OUT_LINE_MAX 512 /* one monitor_printf() at a time: a line of info partitions with 8 vCPUs fits */

/* ---- Numbers and words (no C library in the hypervisor) ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* @p s is 1 to @p max_digits decimal digits whose value fits in 64 bits: store it. */
static bool parse_decimal(const char *s, size_t max_digits, u64 *out)
{
	u64 v = 0;
	size_t n = 0;

	for (; is_digit(s[n]); n++) {
		u64 d = (u64)(s[n] - '0');
		if (n == max_digits || v > (~0ULL - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (n == 0 || s[n] != '\0')
		return false;
	*out = v;
	return true;
}

/* A partition name as config.c accepts it: letters, digits, '_', '-', '.'. */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-' ||
	       c == '.';
}

/* ---- Argument shapes ---- */

/* P: a partition number or name (the handler looks it up). */
static bool parse_part(const char *w, struct monitor_arg *a)
{
	size_t n = 0;

	while (is_name_char(w[n]))
		n++;
	if (n == 0 || n >= MONITOR_WORD_MAX || w[n] != '\0')
		return false;
	a->word = w;
	a->is_number = parse_decimal(w, 9, &a->num);
	return true;
}

/* P.V: split at the last dot (names may contain dots); V is decimal. Cuts @p w there. */
static bool parse_vcpu(const char *w, struct monitor_arg *a)
{
	char *dot = strchr(w, '.'), *last = NULL;
	u64 v;

	for (; dot; dot = strchr(dot + 1, '.'))
		last = dot;
	if (!last || !parse_decimal(last + 1, 9, &v) || v > 0xffffffffULL)
		return false;
	*last = '\0';
	if (!parse_part(w, a)) {
		*last = '.';
		return false;
	}
	a->vcpu = (u32)v;
	return true;
}

/* ADDR: 0x and hex digits whose value fits in 64 bits (the gdbstub's own hex parser),
 * or decimal that fits in 64 bits. */
static bool parse_addr(const char *w, struct monitor_arg *a)
{
	a->word = w;
	if (w[0] != '0' || (w[1] != 'x' && w[1] != 'X'))
		return parse_decimal(w, 20, &a->num);
	const char *p = w + 2, *end = w + strlen(w);
	return rsp_parse_hex_u64(&p, end, &a->num) == RSP_OK && p == end;
}

/* N: a decimal count from 1. */
static bool parse_count(const char *w, struct monitor_arg *a)
{
	a->word = w;
	return parse_decimal(w, 9, &a->num) && a->num > 0;
}

/** One argument shape: its token in monitor_cmd.args, what the user is told, its parser
 *  (NULL: the rest of the line, as it is). */
struct arg_shape {
	const char *token;
	const char *expected;
	bool (*parse)(const char *word, struct monitor_arg *out);
};

static const struct arg_shape shapes[] = {
	{ "P", "a partition number or name", parse_part },
	{ "P.V", "a vCPU as P.V (partition number or name, a dot, vCPU number)", parse_vcpu },
	{ "ADDR", "an address (hexadecimal with 0x, or decimal)", parse_addr },
	{ "N", "a count (a decimal number from 1)", parse_count },
	{ "CMD", "a command name", NULL },
};

/* The shape named by @p len bytes at @p tok, or NULL (a typo in a table row). */
static const struct arg_shape *find_shape(const char *tok, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
		if (strlen(shapes[i].token) == len && memcmp(shapes[i].token, tok, len) == 0)
			return &shapes[i];
	return NULL;
}

/* ---- Output ---- */

void monitor_printf(struct monitor_call *call, const char *fmt, ...)
{
	char line[OUT_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	call->out(call->ctx, line);
	if (n >= (int)sizeof(line))
		call->out(call->ctx, "...\n"); /* a handler's line was longer than it should be */
}

int monitor_fail(struct monitor_call *call, int err, const char *fmt, ...)
{
	char line[OUT_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	call->out(call->ctx, line);
	call->out(call->ctx, "\n");
	return err;
}

/* ---- Names ---- */

/* Word @p i of @p name into @p out (@p outlen bytes); its length, or 0 if there is none. */
static size_t name_word(const char *name, int i, char *out, size_t outlen)
{
	const char *w = name;

	for (; i > 0 && w; i--)
		w = strchr(w, ' ') ? strchr(w, ' ') + 1 : NULL;
	if (!w || !*w)
		return 0;
	size_t len = 0;
	while (w[len] && w[len] != ' ')
		len++;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, w, len);
	out[len] = '\0';
	return len;
}

/* Does typed word @p typed match name word @p nw? "x/N" matches "x" and "x/anything". */
static bool word_matches(const char *nw, const char *typed)
{
	size_t len = strlen(nw);

	if (len > 2 && nw[len - 2] == '/' && nw[len - 1] == 'N')
		return strncmp(typed, nw, len - 2) == 0 && (typed[len - 2] == '\0' || typed[len - 2] == '/');
	return strcmp(nw, typed) == 0;
}

/* How many of @p words the name of @p cmd takes, or 0 if it does not match them. */
static int match_name(const struct monitor_cmd *cmd, char *const *words, int nwords)
{
	char nw[MONITOR_WORD_MAX];
	int i;

	for (i = 0; i < NAME_WORDS_MAX && name_word(cmd->name, i, nw, sizeof(nw)); i++)
		if (i >= nwords || !word_matches(nw, words[i]))
			return 0;
	return i;
}

/* The row whose name takes most of @p words (*@p taken of them), or NULL. */
static const struct monitor_cmd *lookup(const struct monitor_cmd *table, size_t n, char *const *words,
					int nwords, int *taken)
{
	const struct monitor_cmd *best = NULL;

	*taken = 0;
	for (size_t i = 0; i < n; i++) {
		int k = match_name(&table[i], words, nwords);
		if (k > *taken) {
			best = &table[i];
			*taken = k;
		}
	}
	return best;
}

/* How the command is named in messages: its name without a "/N" ("x", "info vmcs"). */
static void short_name(const struct monitor_cmd *cmd, char *buf, size_t len)
{
	size_t n = 0;

	while (cmd->name[n] && cmd->name[n] != '/' && n + 1 < len) {
		buf[n] = cmd->name[n];
		n++;
	}
	buf[n] = '\0';
}

void monitor_usage(const struct monitor_cmd *cmd, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", cmd->name, cmd->args[0] ? " " : "", cmd->args);
}

/* No row matched: say so; if the first word starts some names, list their second words. */
static int unknown(struct monitor_call *call, char *const *words, int nwords)
{
	char list[256] = "", first[MONITOR_WORD_MAX], second[MONITOR_WORD_MAX];
	size_t used = 0;

	for (size_t i = 0; i < call->ntable; i++) {
		const char *name = call->table[i].name;
		if (!name_word(name, 0, first, sizeof(first)) || strcmp(first, words[0]) != 0 ||
		    !name_word(name, 1, second, sizeof(second)) || used + strlen(second) + 3 > sizeof(list))
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", second);
	}
	if (!used)
		return monitor_fail(call, MON_ERR_USAGE, "unknown command '%.64s'; type help", words[0]);
	if (nwords == 1)
		return monitor_fail(call, MON_ERR_USAGE, "%.64s: expected one of %s", words[0], list);
	return monitor_fail(call, MON_ERR_USAGE, "%.64s: unknown '%.64s'; expected one of %s", words[0],
			    words[1], list);
}

/* ---- Checking a call ---- */

/* The "/N" of a typed name word like "x/16": a count. */
static int check_count(struct monitor_call *call, const char *typed)
{
	const char *slash = strchr(typed, '/');
	struct monitor_arg a;
	char name[MONITOR_WORD_MAX];

	if (!slash)
		return MON_OK;
	short_name(call->cmd, name, sizeof(name));
	if (!parse_count(slash + 1, &a))
		return monitor_fail(call, MON_ERR_USAGE, "%s: expected a count after '/' (as in %s/16), not '%.32s'",
				    name, name, slash + 1);
	call->count_given = true;
	call->count = a.num;
	return MON_OK;
}

/* Join @p words into call->rest with single blanks: the CMD shape. */
static const char *join_rest(struct monitor_call *call, char *const *words, int n)
{
	size_t used = 0;

	call->rest[0] = '\0';
	for (int i = 0; i < n && used < sizeof(call->rest); i++) /* never cut: the line was no longer */
		used += (size_t)snprintf(call->rest + used, sizeof(call->rest) - used, "%s%s", i ? " " : "",
					 words[i]);
	return call->rest;
}

/* Check and convert @p argv (@p argc words) against the shapes of call->cmd. */
static int check_args(struct monitor_call *call, char *const *argv, int argc)
{
	const struct monitor_cmd *cmd = call->cmd;
	char usage[128], name[MONITOR_WORD_MAX];
	int i = 0, k = 0;

	monitor_usage(cmd, usage, sizeof(usage));
	short_name(cmd, name, sizeof(name));
	for (const char *t = cmd->args; *t; k++) {
		size_t len = 0;
		while (t[len] && t[len] != ' ')
			len++;
		bool optional = len >= 2 && t[0] == '[' && t[len - 1] == ']';
		const struct arg_shape *shape = optional ? find_shape(t + 1, len - 2) : find_shape(t, len);
		t += len + (t[len] == ' ');
		if (!shape || k == MONITOR_MAX_ARGS)
			return monitor_fail(call, MON_ERR_USAGE, "%s: the command table has a bad argument", name);
		struct monitor_arg *a = &call->arg[k];
		if (i == argc) {
			if (optional)
				continue;
			return monitor_fail(call, MON_ERR_USAGE, "%s: expected %s (usage: %s)", name,
					    shape->expected, usage);
		}
		if (!shape->parse) { /* CMD: everything that is left */
			a->word = join_rest(call, argv + i, argc - i);
			a->given = true;
			i = argc;
			continue;
		}
		if (!shape->parse(argv[i], a))
			return monitor_fail(call, MON_ERR_USAGE, "%s: expected %s, not '%.64s' (usage: %s)", name,
					    shape->expected, argv[i], usage);
		a->given = true;
		i++;
	}
	if (i < argc)
		return monitor_fail(call, MON_ERR_USAGE, "%s: too many arguments, from '%.64s' on (usage: %s)",
				    name, argv[i], usage);
	call->argc = i;
	return MON_OK;
}

/* Split call->words in place at blanks; -1 when there are more than @p max words. */
static int split_words(char *s, char **words, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			*s++ = '\0';
		if (!*s)
			return n;
		if (n == max)
			return -1;
		words[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
	}
}

int monitor_dispatch(const struct monitor_cmd *table, size_t n, const char *line, monitor_out_fn out,
		     void *ctx)
{
	struct monitor_call call;
	char *words[MONITOR_MAX_WORDS];
	size_t len = strnlen(line, MONITOR_LINE_MAX + 1);
	int nwords, taken, err;

	memset(&call, 0, offsetof(struct monitor_call, words));
	call.table = table;
	call.ntable = n;
	call.out = out;
	call.ctx = ctx;
	if (len > MONITOR_LINE_MAX)
		return monitor_fail(&call, MON_ERR_USAGE, "that line is too long (at most %d characters)",
				    MONITOR_LINE_MAX);
	for (size_t i = 0; i < len; i++)
		if ((u8)line[i] < 0x20 && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			return monitor_fail(&call, MON_ERR_USAGE, "that line has a control character (0x%02x)",
					    (u8)line[i]);
	memcpy(call.words, line, len + 1);
	nwords = split_words(call.words, words, MONITOR_MAX_WORDS);
	if (nwords < 0)
		return monitor_fail(&call, MON_ERR_USAGE, "too many words (at most %d)", MONITOR_MAX_WORDS);
	if (nwords == 0)
		return monitor_fail(&call, MON_ERR_USAGE, "empty command; type help");
	call.cmd = lookup(table, n, words, nwords, &taken);
	if (!call.cmd)
		return unknown(&call, words, nwords);
	err = check_count(&call, words[taken - 1]);
	if (err == MON_OK)
		err = check_args(&call, words + taken, nwords - taken);
	if (err == MON_OK)
		err = call.cmd->run(&call);
	return err > 0 ? MON_OK : err;
}

/* ---- help [CMD] ---- */

/* One "USAGE  what it does" line. */
static void help_line(struct monitor_call *call, const struct monitor_cmd *cmd)
{
	char usage[64];

	monitor_usage(cmd, usage, sizeof(usage));
	monitor_printf(call, "%-18s %s\n", usage, cmd->help);
}

/* Does @p cmd's name start with the words of @p words ("info" starts "info vmcs")? */
static bool name_starts_with(const struct monitor_cmd *cmd, char *const *words, int nwords)
{
	char nw[MONITOR_WORD_MAX];

	for (int k = 0; k < nwords; k++)
		if (!name_word(cmd->name, k, nw, sizeof(nw)) || !word_matches(nw, words[k]))
			return false;
	return true;
}

/* The row after @p prev in alphabetical order of names (NULL: the first), or NULL.
 * Rows come in link order, which means nothing to a reader. */
static const struct monitor_cmd *next_by_name(const struct monitor_call *call, const struct monitor_cmd *prev)
{
	const struct monitor_cmd *best = NULL;

	for (size_t i = 0; i < call->ntable; i++) {
		const struct monitor_cmd *c = &call->table[i];
		bool after = !prev || strcmp(c->name, prev->name) > 0 || (strcmp(c->name, prev->name) == 0 && c > prev);
		bool before_best = !best || strcmp(c->name, best->name) < 0 ||
				   (strcmp(c->name, best->name) == 0 && c < best);
		if (after && before_best)
			best = c;
	}
	return best;
}

int monitor_help(struct monitor_call *call)
{
	const char *want = call->arg[0].given ? call->arg[0].word : NULL;
	char *words[MONITOR_MAX_WORDS];
	char storage[MONITOR_LINE_MAX + 1];
	int nwords = 0, shown = 0;

	if (want) {
		snprintf(storage, sizeof(storage), "%s", want);
		nwords = split_words(storage, words, MONITOR_MAX_WORDS);
	}
	/* "help" lists all; "help info" every info command; "help info vmcs" and "help x" one. */
	for (const struct monitor_cmd *cmd = next_by_name(call, NULL); cmd; cmd = next_by_name(call, cmd)) {
		if (!want || (nwords > 0 && name_starts_with(cmd, words, nwords))) {
			help_line(call, cmd);
			shown++;
		}
	}
	if (shown == 0)
		return monitor_fail(call, MON_ERR_USAGE, "help: unknown command '%.64s'; type help for the list",
				    want);
	if (!want)
		monitor_printf(call, "P: partition number or name; P.V: its vCPU V; ADDR: 0x hex or decimal\n");
	return MON_OK;
}

/* ---- The hypervisor's table: every MONITOR_COMMAND row, gathered by hvlab.ld ---- */

#ifndef HV_HOST
extern const struct monitor_cmd __monitor_commands_start[], __monitor_commands_end[];

MONITOR_COMMAND(cmd_help) = { "help", "[CMD]", "list the commands, or show the help of command CMD",
			      monitor_help };

int monitor_execute(const char *line, monitor_out_fn out, void *ctx)
{
	return monitor_dispatch(__monitor_commands_start,
				(size_t)(__monitor_commands_end - __monitor_commands_start), line, out, ctx);
}
#endif
