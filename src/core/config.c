/**
 * @file config.c
 * @brief Reading the scenario file: [partition NAME] sections of `key = value` lines.
 *
 * The format is described in config.h and docs/config.md. The file is read one line at
 * a time into a small buffer; each line is a comment, a section header or a key. Keys are
 * the table `keys[]` below: adding a key is one row (and one setter if no existing setter
 * fits). Every problem is reported as "FILE:LINE: problem" and stops the parse, so a bad
 * file never starts a partition.
 *
 * Values may be written in double quotes (needed for a '#' or leading spaces); there are
 * no escape sequences inside quotes.
 */
#include <hvlab/config.h>
#include <hvlab/lib.h>

#define LINE_MAX 256
#define CPU_MAX 0xffff /* larger numbers are typos, not CPUs */

struct parser;

/** One row of the key table. */
struct cfg_key {
	const char *name;
	/** Store @p value into @p p; on a bad value report it through fail() and return false. */
	bool (*set)(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
		    const char *value);
	size_t offset;               /**< of the field in struct partition_config */
	size_t size;                 /**< of that field (strings) */
	const char *const *choices;  /**< for set_choice: names indexed by value, NULL-terminated */
	bool required;               /**< a partition without this key is refused */
};

/** Parser state: where we are, for messages, and what the current section has seen. */
struct parser {
	const char *filename;
	u32 line;
	char *err;
	size_t errlen;
	struct hv_config *out;
	struct partition_config *cur; /**< current section, NULL before the first */
};

/* Report "FILE:LINE: problem" (or "FILE: problem" when line is 0). Always returns false. */
static bool __attribute__((format(printf, 2, 3))) fail(struct parser *ps, const char *fmt, ...)
{
	if (!ps->err || ps->errlen == 0)
		return false;
	int n = ps->line ? snprintf(ps->err, ps->errlen, "%s:%u: ", ps->filename, ps->line)
			 : snprintf(ps->err, ps->errlen, "%s: ", ps->filename);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Strip whitespace at both ends of @p s in place; returns the new start. */
static char *trim(char *s)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Cut @p s at the first '#' outside double quotes. */
static void strip_comment(char *s)
{
	bool quoted = false;
	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '#' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

int config_parse_size(const char *s, u64 *out)
{
	u64 value = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		u64 digit = (u64)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1; /* overflow */
		value = value * 10 + digit;
	}

	unsigned shift = 0;
	switch (*p) {
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	}
	if (*p != '\0' || value > (UINT64_MAX >> shift))
		return -1;
	*out = value << shift;
	return 0;
}

/* Parse a decimal number up to @p max; false on anything else. */
static bool parse_uint(const char *s, u32 max, u32 *out)
{
	u32 v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u32)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* The next comma-separated item of *rest, trimmed; *rest moves past it (NULL after the last). */
static char *next_item(char **rest)
{
	char *item = *rest, *comma = strchr(item, ',');

	if (comma)
		*comma++ = '\0';
	*rest = comma;
	return trim(item);
}

/* ---- Setters: one per kind of value. ---- */

static bool set_string(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
		       const char *value)
{
	char *dst = (char *)p + key->offset;
	size_t n = strlen(value);

	if (n >= key->size)
		return fail(ps, "%s is too long (at most %zu characters)", key->name, key->size - 1);
	if (key->required && n == 0)
		return fail(ps, "%s must not be empty", key->name);
	memcpy(dst, value, n + 1);
	return true;
}

static bool set_memory(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
		       const char *value)
{
	u64 bytes;

	if (config_parse_size(value, &bytes) < 0)
		return fail(ps, "bad size '%s' for %s (use K, M or G)", value, key->name);
	if (bytes == 0)
		return fail(ps, "%s must not be zero", key->name);
	if (bytes % PAGE_SIZE != 0)
		return fail(ps, "%s '%s' is not a multiple of 4 KiB", key->name, value);
	p->memory = bytes;
	return true;
}

/* "0" or "0,1": the physical CPU of each vCPU, in vCPU order, each CPU at most once. */
static bool set_cpus(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
		     const char *value)
{
	char buf[LINE_MAX];
	u32 n = 0;

	memcpy(buf, value, strlen(value) + 1); /* value came from a LINE_MAX line */
	for (char *rest = buf; rest;) {
		u32 cpu;
		if (!parse_uint(next_item(&rest), CPU_MAX, &cpu))
			return fail(ps, "bad CPU list '%s' for %s (use e.g. 0 or 0,1)", value, key->name);
		for (u32 i = 0; i < n; i++)
			if (p->cpus[i] == cpu)
				return fail(ps, "CPU %u listed twice in %s", cpu, key->name);
		if (n == CONFIG_MAX_VCPUS)
			return fail(ps, "more than %d CPUs in %s", CONFIG_MAX_VCPUS, key->name);
		p->cpus[n++] = cpu;
	}
	p->ncpus = n;
	return true;
}

/* One of a fixed list of words, stored as its index in key->choices into a u8 field. */
static bool set_choice(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
		       const char *value)
{
	for (u8 i = 0; key->choices[i]; i++) {
		if (strcmp(value, key->choices[i]) == 0) {
			*((u8 *)p + key->offset) = i;
			return true;
		}
	}

	/* List the words for the message: "ept or shadow", "a, b or c". */
	char list[96] = "";
	size_t n = 0;
	for (u8 i = 0; key->choices[i] && n < sizeof(list); i++) {
		const char *sep = i == 0 ? "" : key->choices[i + 1] ? ", " : " or ";
		n += snprintf(list + n, sizeof(list) - n, "%s%s", sep, key->choices[i]);
	}
	return fail(ps, "bad value '%s' for %s (use %s)", value, key->name, list);
}

/* A host-physical address: "0x40000000", or a size such as "1G"; 2 MiB aligned. */
static bool set_address(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
			const char *value)
{
	u64 addr = 0;
	bool hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
	bool ok = hex ? value[2] != '\0' : config_parse_size(value, &addr) == 0;

	for (const char *d = value + 2; hex && ok && *d; d++) {
		char c = (char)(*d | 0x20); /* lower case */
		int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		ok = v >= 0 && (addr >> 60) == 0;
		addr = addr << 4 | (u64)(v & 0xf);
	}
	if (!ok)
		return fail(ps, "bad address '%s' for %s (use e.g. 0x40000000)", value, key->name);
	if (addr % CONFIG_IDENTITY_ALIGN)
		return fail(ps, "%s '%s' is not 2 MiB aligned", key->name, value);
	p->address = addr;
	return true;
}

/* Is @p s one or more lower-case letters (a mode word rather than part of a PCI BDF)? */
static bool is_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < 'a' || *s > 'z')
			return false;
	return true;
}

static bool valid_name_char(char c);

/*
 * "uart0:shared, rtc:dedicated, 00:1f.3": device names, each with an optional mode after
 * its last ':' (default shared). A ':' followed by something that is not a word belongs
 * to the name, so a PCI BDF needs no quoting.
 */
static bool set_devices(struct parser *ps, const struct cfg_key *key, struct partition_config *p,
			const char *value)
{
	char buf[LINE_MAX];
	u32 n = 0;

	memcpy(buf, value, strlen(value) + 1); /* value came from a LINE_MAX line */
	for (char *rest = buf; rest;) {
		char *name = next_item(&rest), *colon = NULL;
		for (char *c = name; *c; c++)
			if (*c == ':')
				colon = c;
		u8 mode = DEVICE_SHARED;
		if (colon && (is_word(colon + 1) || colon[1] == '\0')) {
			*colon = '\0';
			const char *word = colon + 1;
			if (strcmp(word, "dedicated") == 0)
				mode = DEVICE_DEDICATED;
			else if (strcmp(word, "shared") != 0)
				return fail(ps, "bad mode '%s' for device '%s' in %s (use dedicated or shared)",
					    word, name, key->name);
		}
		if (*name == '\0')
			return fail(ps, "bad device list '%s' for %s (use e.g. uart0:dedicated, rtc)", value,
				    key->name);
		for (const char *c = name; *c; c++)
			if (!valid_name_char(*c) && *c != ':')
				return fail(ps, "bad device name '%s' in %s", name, key->name);
		if (strlen(name) >= CONFIG_DEVICE_LEN)
			return fail(ps, "device name '%s' is too long (at most %d characters)", name,
				    CONFIG_DEVICE_LEN - 1);
		for (u32 i = 0; i < n; i++)
			if (strcmp(p->devices[i], name) == 0)
				return fail(ps, "device '%s' listed twice in %s", name, key->name);
		if (n == CONFIG_MAX_DEVICES)
			return fail(ps, "more than %d devices in %s", CONFIG_MAX_DEVICES, key->name);
		memcpy(p->devices[n], name, strlen(name) + 1);
		p->device_mode[n++] = mode;
	}
	p->ndevices = n;
	return true;
}

static const char *const paging_choices[] = { [PAGING_AUTO] = "auto", [PAGING_EPT] = "ept",
					      [PAGING_SHADOW] = "shadow", NULL };
static const char *const fault_choices[] = { [FAULT_END] = "end", [FAULT_RESET] = "reset", NULL };
static const char *const yes_no[] = { [0] = "no", [1] = "yes", NULL };
static const char *const on_off[] = { [0] = "off", [1] = "on", NULL };
static const char *const cpu_modes[] = { [CPU_SHARED] = "shared", [CPU_DEDICATED] = "dedicated", NULL };

#define FIELD(f) offsetof(struct partition_config, f), sizeof(((struct partition_config *)0)->f)

/* Rows of the key table, named so that checks across keys can find their lines. */
enum {
	KEY_IMAGE, KEY_MEMORY, KEY_CPUS, KEY_PAGING, KEY_CMDLINE, KEY_FORMAT, KEY_INITRD,
	KEY_ON_FAULT, KEY_IDENTITY, KEY_ADDRESS, KEY_CPU_MODE, KEY_INTERCEPTION, KEY_DEVICES,
	KEY_CONTROLS, KEY_SHADOW_CACHE,
};

/* The keys of a [partition NAME] section. Defaults are set in start_section(). */
static const struct cfg_key keys[] = {
	[KEY_IMAGE] = { "image", set_string, FIELD(image), NULL, true },
	[KEY_MEMORY] = { "memory", set_memory, FIELD(memory), NULL, true },
	[KEY_CPUS] = { "cpus", set_cpus, FIELD(cpus), NULL, false },
	[KEY_PAGING] = { "paging", set_choice, FIELD(paging), paging_choices, false },
	[KEY_CMDLINE] = { "cmdline", set_string, FIELD(cmdline), NULL, false },
	[KEY_FORMAT] = { "format", set_string, FIELD(format), NULL, false },
	[KEY_INITRD] = { "initrd", set_string, FIELD(initrd), NULL, false },
	[KEY_ON_FAULT] = { "on_fault", set_choice, FIELD(on_fault), fault_choices, false },
	[KEY_IDENTITY] = { "identity", set_choice, FIELD(identity), yes_no, false },
	[KEY_ADDRESS] = { "address", set_address, FIELD(address), NULL, false },
	[KEY_CPU_MODE] = { "cpu_mode", set_choice, FIELD(cpu_mode), cpu_modes, false },
	[KEY_INTERCEPTION] = { "interception", set_choice, FIELD(interception), on_off, false },
	[KEY_DEVICES] = { "devices", set_devices, FIELD(devices), NULL, false },
	[KEY_CONTROLS] = { "controls", set_string, FIELD(controls), NULL, false },
	[KEY_SHADOW_CACHE] = { "shadow_cache", set_choice, FIELD(shadow_cache), on_off, false },
};

_Static_assert(ARRAY_SIZE(keys) <= CONFIG_MAX_KEYS, "partition_config.key_line needs a slot per key");

u32 config_key_line(const struct partition_config *p, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, key) == 0 && p->key_line[i])
			return p->key_line[i];
	return p->line;
}

/* Keys that are each fine alone but not together; the message names the key's line. */
static bool check_combinations(struct parser *ps, const struct partition_config *p)
{
	if (p->identity && !p->key_line[KEY_ADDRESS]) {
		ps->line = p->key_line[KEY_IDENTITY];
		return fail(ps, "identity = yes needs an address (the host-physical base)");
	}
	if (!p->identity && p->key_line[KEY_ADDRESS]) {
		ps->line = p->key_line[KEY_ADDRESS];
		return fail(ps, "address is only used with identity = yes");
	}
	if (p->identity && (p->address + p->memory < p->address || p->address + p->memory > BIT(52))) {
		ps->line = p->key_line[KEY_ADDRESS];
		return fail(ps, "address + memory is beyond the 52-bit physical address space");
	}
	if (!p->interception && p->cpu_mode != CPU_DEDICATED) {
		ps->line = p->key_line[KEY_INTERCEPTION];
		return fail(ps, "interception = off needs cpu_mode = dedicated");
	}
	if (p->paging == PAGING_SHADOW && p->ncpus > 1) {
		/* Application processors start in real mode: unrestricted guest, which needs EPT. */
		ps->line = p->key_line[KEY_PAGING];
		return fail(ps, "paging = shadow runs one vCPU only (more need the unrestricted-guest "
			    "control, which needs EPT)");
	}
	if (p->paging == PAGING_SHADOW && p->identity) {
		ps->line = p->key_line[KEY_PAGING];
		return fail(ps, "paging = shadow does not go with identity = yes (identity mapping is EPT's)");
	}
	if (p->paging == PAGING_EPT && p->key_line[KEY_SHADOW_CACHE]) {
		ps->line = p->key_line[KEY_SHADOW_CACHE];
		return fail(ps, "shadow_cache is only used with paging = shadow (or auto without EPT)");
	}
	return true;
}

/* The section that just ended must have every required key. */
static bool finish_section(struct parser *ps)
{
	if (!ps->cur)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].required && ps->cur->key_line[i] == 0) {
			ps->line = 0; /* the problem is the section as a whole */
			return fail(ps, "partition '%s' has no %s", ps->cur->name, keys[i].name);
		}
	}
	return check_combinations(ps, ps->cur);
}

static bool valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* "[partition NAME]": start a new partition with every default filled in. */
static bool start_section(struct parser *ps, char *line)
{
	size_t n = strlen(line);
	if (line[n - 1] != ']')
		return fail(ps, "section header without ']'");
	line[n - 1] = '\0';

	char *type = trim(line + 1);
	char *name = type;
	while (*name && !is_space(*name))
		name++;
	if (*name)
		*name++ = '\0';
	name = trim(name);

	if (strcmp(type, "partition") != 0)
		return fail(ps, "unknown section type '%s' (only [partition NAME])", type);
	if (*name == '\0')
		return fail(ps, "partition without a name");
	for (const char *c = name; *c; c++)
		if (!valid_name_char(*c))
			return fail(ps, "bad partition name '%s' (use letters, digits, '_', '-', '.')", name);
	if (strlen(name) >= CONFIG_NAME_LEN)
		return fail(ps, "partition name '%s' is too long (at most %d characters)", name,
			    CONFIG_NAME_LEN - 1);
	for (u32 i = 0; i < ps->out->nparts; i++)
		if (strcmp(ps->out->part[i].name, name) == 0)
			return fail(ps, "duplicate partition name '%s' (first at line %u)", name,
				    ps->out->part[i].line);
	if (ps->out->nparts == CONFIG_MAX_PARTITIONS)
		return fail(ps, "too many partitions (at most %d)", CONFIG_MAX_PARTITIONS);

	struct partition_config *p = &ps->out->part[ps->out->nparts++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, strlen(name) + 1);
	p->ncpus = 1;        /* one vCPU ... */
	p->cpus[0] = 0;      /* ... on CPU 0 */
	p->paging = PAGING_AUTO;
	p->shadow_cache = 1;
	p->on_fault = FAULT_END;
	p->cpu_mode = CPU_SHARED;
	p->interception = 1;
	memcpy(p->format, "auto", 5);
	p->line = ps->line;
	ps->cur = p;
	return true;
}

/* Remove the double quotes around @p value in place; false if they do not match up. */
static bool unquote(char **value)
{
	char *v = *value;
	size_t n = strlen(v);

	if (v[0] != '"')
		return strchr(v, '"') == NULL;
	if (n < 2 || v[n - 1] != '"')
		return false;
	v[n - 1] = '\0';
	*value = v + 1;
	return strchr(*value, '"') == NULL;
}

/* "key = value" inside a section. */
static bool set_key(struct parser *ps, char *line)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return fail(ps, "expected 'key = value' or '[partition NAME]'");
	*eq = '\0';
	char *name = trim(line);
	char *value = trim(eq + 1);

	if (*name == '\0')
		return fail(ps, "missing key before '='");
	if (!ps->cur)
		return fail(ps, "key '%s' before any [partition NAME] section", name);
	size_t k = 0;
	while (k < ARRAY_SIZE(keys) && strcmp(keys[k].name, name) != 0)
		k++;
	if (k == ARRAY_SIZE(keys))
		return fail(ps, "unknown key '%s' in [partition %s]", name, ps->cur->name);
	if (ps->cur->key_line[k])
		return fail(ps, "duplicate key '%s' in [partition %s] (first at line %u)", name,
			    ps->cur->name, ps->cur->key_line[k]);
	if (!unquote(&value))
		return fail(ps, "unmatched '\"' in value of %s", name);
	if (!keys[k].set(ps, &keys[k], ps->cur, value))
		return false;
	ps->cur->key_line[k] = ps->line;
	return true;
}

/* Copy the next line of the text into @p buf; false (with a message) if it does not fit. */
static bool read_line(struct parser *ps, const char *text, size_t len, size_t *pos, char *buf)
{
	size_t n = 0;

	while (*pos < len && text[*pos] != '\n') {
		if (text[*pos] == '\0')
			return fail(ps, "NUL byte in the file");
		if (n == LINE_MAX - 1)
			return fail(ps, "line too long (at most %d characters)", LINE_MAX - 1);
		buf[n++] = text[(*pos)++];
	}
	buf[n] = '\0';
	if (*pos < len)
		(*pos)++; /* the '\n' */
	return true;
}

/* Every name in a `controls` list must be a partition of the file (they are all known
 * only at the end). */
static bool check_controls(struct parser *ps)
{
	for (u32 i = 0; i < ps->out->nparts; i++) {
		const struct partition_config *p = &ps->out->part[i];
		char buf[CONFIG_STR_LEN];

		memcpy(buf, p->controls, sizeof(buf));
		for (char *rest = p->controls[0] ? buf : NULL; rest;) {
			char *name = next_item(&rest);
			u32 j = 0;
			while (j < ps->out->nparts && strcmp(ps->out->part[j].name, name) != 0)
				j++;
			if (j == ps->out->nparts) {
				ps->line = p->key_line[KEY_CONTROLS];
				return fail(ps, "controls names '%s', which is not a partition of this file", name);
			}
		}
	}
	return true;
}

int config_parse(const char *text, size_t len, const char *filename, struct hv_config *out,
		 char *err, size_t errlen)
{
	struct parser ps = {
		.filename = filename ? filename : "config",
		.err = err,
		.errlen = errlen,
		.out = out,
	};
	char buf[LINE_MAX];
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->filename, sizeof(out->filename), "%s", ps.filename);
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		len = 0;

	while (pos < len) {
		ps.line++;
		if (!read_line(&ps, text, len, &pos, buf))
			return -1;
		strip_comment(buf);
		char *line = trim(buf);
		if (*line == '\0')
			continue;
		bool ok = line[0] == '[' ? finish_section(&ps) && start_section(&ps, line)
					 : set_key(&ps, line);
		if (!ok)
			return -1;
	}
	if (!finish_section(&ps))
		return -1;
	if (out->nparts == 0) {
		ps.line = 0;
		fail(&ps, "no [partition NAME] section");
		return -1;
	}
	return check_controls(&ps) ? 0 : -1;
}
