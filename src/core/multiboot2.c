/**
 * @file multiboot2.c
 * @brief Reading the Multiboot2 boot information (MBI) GRUB leaves for the hypervisor.
 *
 * Multiboot2 specification §3.6 ("Boot information format"): an 8-byte header
 * (u32 total_size, u32 reserved) followed by tags. Every tag starts with u32 type and
 * u32 size (the size excludes the padding), and the next tag starts at the next 8-byte
 * boundary (§3.6.1). A tag of type 0 and size 8 ends the list.
 *
 * Every read is checked against total_size, and total_size against the caller's limit,
 * so a corrupt MBI gives an error code, never a read outside the buffer. Fields are read
 * with memcpy so the parser does not care how the buffer is aligned.
 */
#include <hvlab/multiboot2.h>
#include <hvlab/lib.h>
#include <hvlab/errors.h>

#define MB2_HEADER_SIZE 8
#define MB2_TAG_HEADER_SIZE 8
#define MB2_MODULE_HEADER_SIZE 16 /* type, size, mod_start, mod_end (§3.6.6) */
#define MB2_MMAP_HEADER_SIZE 16   /* type, size, entry_size, entry_version (§3.6.8) */
#define MB2_MMAP_ENTRY_MIN 24     /* base_addr, length, type, reserved */
#define ACPI_RSDP_V1_SIZE 20
#define ACPI_RSDP_V2_SIZE 36

static u32 rd32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static u64 rd64(const u8 *p)
{
	u64 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A string of at most @p len bytes at @p s, or NULL when it has no terminating NUL. */
static const char *checked_string(const u8 *s, u32 len)
{
	return strnlen((const char *)s, len) < len ? (const char *)s : NULL;
}

/* Multiboot2 spec §3.6.3, §3.6.4: the string follows the tag header. */
static int parse_string(const u8 *tag, u32 size, const char **dst)
{
	*dst = checked_string(tag + MB2_TAG_HEADER_SIZE, size - MB2_TAG_HEADER_SIZE);
	return *dst ? MB2_OK : MB2_ERR_STRING;
}

static int parse_cmdline(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	return parse_string(tag, size, &out->cmdline);
}

static int parse_bootloader(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	return parse_string(tag, size, &out->bootloader);
}

/* Multiboot2 spec §3.6.6: module tag = mod_start, mod_end, then the command-line string. */
static int parse_module(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	if (size < MB2_MODULE_HEADER_SIZE)
		return MB2_ERR_TAG_SIZE;
	if (out->nmodules >= MB2_MAX_MODULES)
		return MB2_ERR_TOO_MANY;
	const char *cmdline = checked_string(tag + MB2_MODULE_HEADER_SIZE, size - MB2_MODULE_HEADER_SIZE);
	if (!cmdline)
		return MB2_ERR_STRING;
	if (rd32(tag + 12) < rd32(tag + 8))
		return MB2_ERR_MODULE; /* a module cannot end before it starts */
	struct mb2_module *m = &out->modules[out->nmodules++];
	m->start = rd32(tag + 8);
	m->end = rd32(tag + 12);
	m->cmdline = cmdline;
	return MB2_OK;
}

/* Multiboot2 spec §3.6.8: memory map = entry_size, entry_version, then the entries. */
static int parse_mmap(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	if (size < MB2_MMAP_HEADER_SIZE)
		return MB2_ERR_TAG_SIZE;
	u32 entry_size = rd32(tag + 8);
	if (entry_size < MB2_MMAP_ENTRY_MIN)
		return MB2_ERR_MMAP; /* entries may grow in later versions, never shrink */
	for (u32 off = MB2_MMAP_HEADER_SIZE; entry_size <= size - off; off += entry_size) {
		if (out->nmmap >= MB2_MAX_MMAP)
			return MB2_ERR_TOO_MANY;
		struct mb2_mmap_entry *m = &out->mmap[out->nmmap++];
		m->base = rd64(tag + off);
		m->len = rd64(tag + off + 8);
		m->type = rd32(tag + off + 16);
	}
	return MB2_OK;
}

/*
 * Multiboot2 spec §3.6.12, §3.6.13: a copy of the RSDP follows the tag header. The new
 * (ACPI 2.0+) one wins when GRUB gives both. The copy must be long enough for its
 * revision, because the ACPI code reads the RSDP without a length.
 */
static int parse_rsdp(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	u32 len = size - MB2_TAG_HEADER_SIZE;
	bool is_new = type == MB2_TAG_ACPI_NEW;

	if (len < (is_new ? ACPI_RSDP_V2_SIZE : ACPI_RSDP_V1_SIZE))
		return MB2_ERR_TAG_SIZE;
	if (!is_new && out->rsdp && out->rsdp_revision >= 2)
		return MB2_OK;
	out->rsdp = tag + MB2_TAG_HEADER_SIZE;
	out->rsdp_len = len;
	out->rsdp_revision = is_new ? 2 : 0;
	return MB2_OK;
}

/* The tags the hypervisor uses; any other type is skipped by its size. */
static const struct {
	u32 type;
	int (*parse)(const u8 *tag, u32 type, u32 size, struct mb2_info *out);
} tag_parsers[] = {
	{ MB2_TAG_CMDLINE, parse_cmdline },
	{ MB2_TAG_BOOTLOADER, parse_bootloader },
	{ MB2_TAG_MODULE, parse_module },
	{ MB2_TAG_MMAP, parse_mmap },
	{ MB2_TAG_ACPI_OLD, parse_rsdp },
	{ MB2_TAG_ACPI_NEW, parse_rsdp },
};

/* Parse one tag whose size has already been checked against the MBI. */
static int parse_tag(const u8 *tag, u32 type, u32 size, struct mb2_info *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(tag_parsers); i++)
		if (tag_parsers[i].type == type)
			return tag_parsers[i].parse(tag, type, size, out);
	return MB2_OK;
}

int mb2_parse(const void *mbi, u64 limit, struct mb2_info *out)
{
	const u8 *base = mbi;

	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->bootloader = "";
	if (!mbi)
		return MB2_ERR_NULL;
	if (limit < MB2_HEADER_SIZE)
		return MB2_ERR_SIZE;

	/* §3.6.1: the smallest MBI is the header plus an end tag. */
	u32 total = rd32(base);
	if (total < MB2_HEADER_SIZE + MB2_TAG_HEADER_SIZE || total > limit)
		return MB2_ERR_SIZE;
	out->mbi_size = total;

	u64 off = MB2_HEADER_SIZE;
	while (off + MB2_TAG_HEADER_SIZE <= total) {
		u32 type = rd32(base + off);
		u32 size = rd32(base + off + 4);
		if (size < MB2_TAG_HEADER_SIZE || size > total - off)
			return MB2_ERR_TAG_SIZE;
		if (type == MB2_TAG_END)
			return MB2_OK;
		int err = parse_tag(base + off, type, size, out);
		if (err != MB2_OK)
			return err;
		off += ALIGN_UP((u64)size, 8); /* §3.6.1: tags are 8-byte aligned */
	}
	return MB2_ERR_NO_END;
}

const char *mb2_strerror(int err)
{
	static const char *const msgs[] = {
		[-MB2_OK] = "ok",
		[-MB2_ERR_NULL] = "no boot information",
		[-MB2_ERR_SIZE] = "bad total size",
		[-MB2_ERR_TAG_SIZE] = "a tag's size runs past the end or is too small",
		[-MB2_ERR_NO_END] = "no end tag",
		[-MB2_ERR_MMAP] = "bad memory map entry size",
		[-MB2_ERR_TOO_MANY] = "too many modules or memory map entries",
		[-MB2_ERR_STRING] = "a string is not NUL-terminated",
		[-MB2_ERR_MODULE] = "a module ends before it starts",
	};

	return error_message(err, msgs, ARRAY_SIZE(msgs));
}

/* Does the first whitespace-separated word of @p cmdline equal @p name? */
static bool first_word_is(const char *cmdline, const char *name)
{
	while (*cmdline == ' ' || *cmdline == '\t')
		cmdline++;
	size_t n = strlen(name);
	if (n == 0 || strncmp(cmdline, name, n) != 0)
		return false;
	char after = cmdline[n];
	return after == '\0' || after == ' ' || after == '\t';
}

const struct mb2_module *mb2_find_module(const struct mb2_info *info, const char *name)
{
	if (!name)
		return NULL;
	for (u32 i = 0; i < info->nmodules; i++)
		if (info->modules[i].cmdline && first_word_is(info->modules[i].cmdline, name))
			return &info->modules[i];
	return NULL;
}
