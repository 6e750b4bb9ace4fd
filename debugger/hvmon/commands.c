/**
 * @file commands.c
 * @brief What is done with the command table (cmd_table.c): parse, check, run, complete.
 *
 * The argument shapes a command row may name are the table arg_kinds[] below: a token
 * (as written in the row), what the user is told when an argument does not fit, and
 * the check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* ---- Argument shapes ---- */

/* "7" (at most 9 digits), as in vCPU numbers and counts. */
static bool is_number(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 9 && s[n] == '\0';
}

/* A partition: its number, or its name (letters, digits, '_', '-', '.'; see config.c). */
static bool valid_partition(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");
	return n > 0 && n < CMD_PART_LEN && s[n] == '\0';
}

/* "P.V": split at the last dot; the part after it is the vCPU number. */
static bool valid_vcpu(const char *s)
{
	struct selection sel;
	return strchr(s, '.') && cmd_parse_selection(s, &sel);
}

/* "P" or "P.V". */
static bool valid_selection(const char *s)
{
	struct selection sel;
	return cmd_parse_selection(s, &sel);
}

/* "0x1000" (hex, at most 16 digits) or "4096" (decimal). */
static bool valid_address(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		size_t n = strspn(s + 2, "0123456789abcdefABCDEF");
		return n > 0 && n <= 16 && s[2 + n] == '\0';
	}
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 19 && s[n] == '\0';
}

/* A count: a decimal number from 1. */
static bool valid_count(const char *s)
{
	return is_number(s) && strtoul(s, NULL, 10) > 0;
}

/** One argument shape: its token in cmd_def.args, what the user is told, its check. */
struct arg_kind {
	const char *token;
	const char *expected;
	bool (*valid)(const char *word); /**< NULL: takes the rest of the line as it is */
};

static const struct arg_kind arg_kinds[] = {
	{ "P", "a partition number or name", valid_partition },
	{ "P.V", "a vCPU as P.V (partition number or name, a dot, vCPU number)", valid_vcpu },
	{ "P[.V]", "a partition number or name, optionally .V for a vCPU", valid_selection },
	{ "ADDR", "an address (hexadecimal with 0x, or decimal)", valid_address },
	{ "N", "a count (a decimal number from 1)", valid_count },
	{ "CMD", "a command name", NULL },
};

/* The kind of token @p tok (@p len bytes, brackets removed), or NULL for a table typo. */
static const struct arg_kind *find_kind(const char *tok, size_t len)
{
	for (size_t i = 0; i < sizeof(arg_kinds) / sizeof(arg_kinds[0]); i++)
		if (strlen(arg_kinds[i].token) == len && memcmp(arg_kinds[i].token, tok, len) == 0)
			return &arg_kinds[i];
	return NULL;
}

bool cmd_parse_selection(const char *arg, struct selection *sel)
{
	char part[CMD_PART_LEN];
	const char *dot = strrchr(arg, '.');
	size_t plen = dot && is_number(dot + 1) ? (size_t)(dot - arg) : strlen(arg);

	if (plen == 0 || plen >= sizeof(part))
		return false;
	memcpy(part, arg, plen);
	part[plen] = '\0';
	if (!valid_partition(part))
		return false;
	memcpy(sel->part, part, plen + 1);
	sel->vcpu = plen < strlen(arg) ? (unsigned)strtoul(dot + 1, NULL, 10) : 0;
	return true;
}

/* ---- Words and names ---- */

/* Split @p line into at most @p max words kept in @p storage; -1 if there are more. */
static int split_words(const char *line, char *storage, size_t storage_len, const char **words,
		       int max)
{
	int n = 0;

	snprintf(storage, storage_len, "%s", line);
	for (char *save = NULL, *w = strtok_r(storage, " \t\r\n", &save); w;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

/* Word @p i of @p def's name into @p out (size CMD_WORD_LEN); false if there is none. */
static bool name_word(const struct cmd_def *def, int i, char *out)
{
	const char *w = def->name;
	for (; i > 0 && w; i--)
		w = strchr(w, ' ') ? strchr(w, ' ') + 1 : NULL;
	if (!w)
		return false;
	size_t len = strcspn(w, " ");
	snprintf(out, CMD_WORD_LEN, "%.*s", (int)len, w);
	return true;
}

/* How many words @p def's name has (1 or 2). */
static int name_word_count(const struct cmd_def *def)
{
	char w[CMD_WORD_LEN];
	int n = 0;
	while (name_word(def, n, w))
		n++;
	return n;
}

/* Does typed word @p typed match name word @p nw? "x/N" matches "x" and "x/...". */
static bool word_matches(const char *nw, const char *typed)
{
	size_t len = strlen(nw);
	if (len > 2 && strcmp(nw + len - 2, "/N") == 0)
		return strncmp(typed, nw, len - 1) == 0 ||
		       (strncmp(typed, nw, len - 2) == 0 && typed[len - 2] == '\0');
	return strcmp(nw, typed) == 0;
}

/* How many of @p words @p def's name takes, or 0 if it does not match them. */
static int match_name(const struct cmd_def *def, const char *const *words, int nwords)
{
	char nw[CMD_WORD_LEN];
	int i;

	for (i = 0; name_word(def, i, nw); i++)
		if (i >= nwords || !word_matches(nw, words[i]))
			return 0;
	return i;
}

/* The command whose name takes most of @p words (*@p taken of them), or NULL. */
static const struct cmd_def *lookup(const char *const *words, int nwords, int *taken)
{
	const struct cmd_def *best = NULL;

	*taken = 0;
	for (size_t i = 0; i < cmd_table_len; i++) {
		int n = match_name(&cmd_table[i], words, nwords);
		if (n > *taken) {
			best = &cmd_table[i];
			*taken = n;
		}
	}
	return best;
}

const struct cmd_def *cmd_find(const char *name)
{
	char storage[CMD_MAX_LINE + 1];
	const char *words[CMD_MAX_WORDS];
	int n = split_words(name, storage, sizeof(storage), words, CMD_MAX_WORDS), taken;
	const struct cmd_def *def = n > 0 ? lookup(words, n, &taken) : NULL;

	return def && taken == n && name_word_count(def) == n ? def : NULL;
}

void cmd_usage(const struct cmd_def *def, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", def->name, def->args[0] ? " " : "", def->args);
}

/* ---- Parsing and checking ---- */

/* No command matched @p words: say so, listing second words if the first one was known. */
static void unknown(const char *const *words, int nwords, char *err, size_t errlen)
{
	char list[200] = "", first[CMD_WORD_LEN], second[CMD_WORD_LEN];
	size_t used = 0;

	for (size_t i = 0; i < cmd_table_len; i++) {
		if (!name_word(&cmd_table[i], 0, first) || strcmp(first, words[0]) != 0 ||
		    !name_word(&cmd_table[i], 1, second) || used + strlen(second) + 3 > sizeof(list))
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
					 second);
	}
	if (!used)
		snprintf(err, errlen, "unknown command '%s'; type help", words[0]);
	else if (nwords == 1)
		snprintf(err, errlen, "%s: expected one of %s", words[0], list);
	else
		snprintf(err, errlen, "%s: unknown '%s'; expected one of %s", words[0], words[1], list);
}

/* The x/N suffix of @p word, if any: a count. False (with @p err) if it is not one. */
static bool check_suffix(const char *word, char *err, size_t errlen)
{
	const char *slash = strchr(word, '/');
	if (!slash || valid_count(slash + 1))
		return true;
	snprintf(err, errlen, "%.*s: expected a count after '/' (as in %.*s/16), not '%s'",
		 (int)(slash - word), word, (int)(slash - word), word, slash + 1);
	return false;
}

/* Check @p call's arguments against its command's tokens; false with @p err if wrong. */
static bool check_args(const struct cmd_call *call, char *err, size_t errlen)
{
	const struct cmd_def *def = call->def;
	char usage[128], name[CMD_WORD_LEN * 2];
	int i = 0;

	cmd_usage(def, usage, sizeof(usage));
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(def->name, "/"), def->name);
	for (const char *t = def->args; *t;) {
		size_t len = strcspn(t, " ");
		bool optional = t[0] == '[' && t[len - 1] == ']';
		const struct arg_kind *kind = optional ? find_kind(t + 1, len - 2) : find_kind(t, len);
		t += len + (t[len] == ' ');
		if (!kind) {
			snprintf(err, errlen, "%s: hvmon's command table has a bad argument", name);
			return false;
		}
		if (!kind->valid) { /* the rest of the line */
			i = call->argc;
			break;
		}
		if (i == call->argc) {
			if (optional)
				break;
			snprintf(err, errlen, "%s: expected %s (usage: %s)", name, kind->expected, usage);
			return false;
		}
		if (!kind->valid(call->argv[i])) {
			snprintf(err, errlen, "%s: expected %s, not '%s' (usage: %s)", name,
				 kind->expected, call->argv[i], usage);
			return false;
		}
		i++;
	}
	if (i < call->argc) {
		snprintf(err, errlen, "%s: too many arguments, from '%s' on (usage: %s)", name,
			 call->argv[i], usage);
		return false;
	}
	return true;
}

enum cmd_status cmd_parse(const char *line, struct cmd_call *call, char *err, size_t errlen)
{
	const char *words[CMD_MAX_WORDS];
	int n, taken;

	memset(call, 0, sizeof(*call));
	err[0] = '\0';
	if (strlen(line) > CMD_MAX_LINE) {
		snprintf(err, errlen, "that line is too long (at most %d characters)", CMD_MAX_LINE);
		return CMD_BAD;
	}
	n = split_words(line, call->words, sizeof(call->words), words, CMD_MAX_WORDS);
	if (n == 0)
		return CMD_EMPTY;
	if (n < 0) {
		snprintf(err, errlen, "too many words (at most %d)", CMD_MAX_WORDS);
		return CMD_BAD;
	}
	call->def = lookup(words, n, &taken);
	if (!call->def) {
		unknown(words, n, err, errlen);
		return CMD_BAD;
	}
	call->argc = n - taken;
	for (int i = 0; i < n; i++) {
		size_t used = strlen(call->text);
		snprintf(call->text + used, sizeof(call->text) - used, "%s%s", i ? " " : "", words[i]);
		if (i >= taken)
			call->argv[i - taken] = words[i];
	}
	if (!check_suffix(words[taken - 1], err, errlen) || !check_args(call, err, errlen))
		return CMD_BAD;
	return CMD_READY;
}

void cmd_run(struct cmd_ctx *ctx, const struct cmd_call *call)
{
	if (call->def->local)
		call->def->local(ctx, call);
	else
		ctx->remote(ctx, call->text);
}

/* ---- Completion ---- */

size_t cmd_complete(const char *before, const char *word, char out[][CMD_WORD_LEN], size_t max)
{
	char storage[CMD_MAX_LINE + 1], w[CMD_WORD_LEN];
	const char *words[CMD_MAX_WORDS];
	const char *const *prev = words;
	int n = split_words(before, storage, sizeof(storage), words, CMD_MAX_WORDS);
	size_t found = 0;

	if (n > 0 && strcmp(words[0], "help") == 0) { /* help completes command names */
		prev++;
		n--;
	}
	for (size_t i = 0; i < cmd_table_len && n >= 0 && found < max; i++) {
		const struct cmd_def *def = &cmd_table[i];
		int k;
		for (k = 0; k < n && name_word(def, k, w) && word_matches(w, prev[k]); k++)
			;
		if (k < n || !name_word(def, n, w))
			continue;
		char *slash = strstr(w, "/N");
		if (slash)
			slash[1] = '\0'; /* "x/N" is offered as "x/" */
		if (strncmp(w, word, strlen(word)) != 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < found; j++)
			dup |= strcmp(out[j], w) == 0;
		if (!dup)
			memcpy(out[found++], w, CMD_WORD_LEN);
	}
	return found;
}
