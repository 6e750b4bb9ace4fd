/*
 * mb2.c — the same kernel entered by a Multiboot2 loader: does the boot information
 * (Multiboot2 §3.6) hold what images/scenarios/multiboot2.cfg configures?
 *
 * The information is a u32 total_size, a u32 reserved, then tags (u32 type, u32 size,
 * contents), each starting 8-byte aligned, ending with a tag of type 0.
 */
#include <hvlab/lib.h>
#include "../bootcheck/check.h"
#include "mb1.h"

#define TAG_END 0
#define TAG_CMDLINE 1
#define TAG_LOADER_NAME 2
#define TAG_MODULE 3
#define TAG_BASIC_MEMINFO 4
#define TAG_MMAP 6

struct tag {
	u32 type, size;
};

/* The first tag of @type, or NULL. Stops at the end tag or total_size. */
static const struct tag *find_tag(u32 type)
{
	u32 total = *(const u32 *)phys(entry_ebx);

	for (u32 off = 8; off + sizeof(struct tag) <= total; off = (off + 7) & ~7u) {
		const struct tag *t = phys(entry_ebx + off);
		if (t->type == type)
			return t;
		if (t->type == TAG_END || t->size < 8)
			return NULL;
		off += t->size;
	}
	return NULL;
}

static const char *check_magic(void)
{
	if (entry_eax != MB2_BOOTLOADER_MAGIC)
		return why("EAX = 0x%x, expected 0x%x", entry_eax, MB2_BOOTLOADER_MAGIC);
	return NULL;
}

/* §3.6.1: the structure is 8-byte aligned and its tags end with an end tag of size 8. */
static const char *check_layout(void)
{
	if (entry_ebx == 0 || (entry_ebx & 7) || entry_ebx >= 0xa0000)
		return why("MBI at 0x%x: want 8-aligned, below 640 KiB", entry_ebx);
	u32 total = *(const u32 *)phys(entry_ebx);
	const struct tag *end = find_tag(TAG_END);
	if (!end || end->size != 8 || (u32)((uintptr_t)end + 8 - entry_ebx) != total)
		return why("total_size %u does not end with the end tag", total);
	return NULL;
}

static const char *check_string_tag(u32 type, const char *want)
{
	const struct tag *t = find_tag(type);

	if (!t)
		return why("no tag %u", type);
	if (strcmp((const char *)(t + 1), want) != 0)
		return why("\"%s\", expected \"%s\"", (const char *)(t + 1), want);
	return NULL;
}

static const char *check_cmdline(void)
{
	return check_string_tag(TAG_CMDLINE, EXPECTED_CMDLINE);
}

static const char *check_loader_name(void)
{
	return check_string_tag(TAG_LOADER_NAME, "hvlab");
}

/* §3.6.2: mem_lower and mem_upper in KiB, as in Multiboot1. */
static const char *check_meminfo(void)
{
	const u32 *t = (const u32 *)find_tag(TAG_BASIC_MEMINFO);
	u32 upper = (u32)((EXPECTED_RAM - MiB(1)) >> 10);

	if (!t || t[1] != 16)
		return why("no basic meminfo tag of 16 bytes");
	if (t[2] < 512 || t[2] > 640 || t[3] != upper)
		return why("mem_lower %u mem_upper %u, expected upper %u", t[2], t[3], upper);
	return NULL;
}

/* §3.6.8: entry_size 24, entries base (u64), length (u64), type (u32), reserved. */
static const char *check_mmap(void)
{
	const __typeof__(expected_memory_map[0]) *want = expected_memory_map;
	const u32 *t = (const u32 *)find_tag(TAG_MMAP);

	if (!t || t[2] != 24)
		return why("no mmap tag with entry_size 24");
	u32 n = (t[1] - 16) / 24;
	if (n != ARRAY_SIZE(expected_memory_map))
		return why("%u entries, expected %u", n, (u32)ARRAY_SIZE(expected_memory_map));
	for (u32 i = 0; i < n; i++) {
		const u32 *e = t + 4 + 6 * i;
		u64 base = e[0] | (u64)e[1] << 32, len = e[2] | (u64)e[3] << 32;
		if (base != want[i].base || len != want[i].len || e[4] != want[i].type)
			return why("entry %u is 0x%llx+0x%llx type %u", i, base, len, e[4]);
	}
	return NULL;
}

/* §3.6.6: mod_start, mod_end, then the string. */
static const char *check_module(void)
{
	const u32 *t = (const u32 *)find_tag(TAG_MODULE);
	u32 len = (u32)(expected_initrd_end - expected_initrd);

	if (!t)
		return why("no module tag");
	if ((t[2] & 0xfff) || t[2] < (uintptr_t)__image_end || t[3] > EXPECTED_RAM)
		return why("module at 0x%x-0x%x", t[2], t[3]);
	if (strcmp((const char *)(t + 4), EXPECTED_MODULE) != 0)
		return why("module string \"%s\"", (const char *)(t + 4));
	if (t[3] - t[2] != len || memcmp(phys(t[2]), expected_initrd, len) != 0)
		return why("module is not initrd.txt (%u bytes, expected %u)", t[3] - t[2], len);
	return NULL;
}

static const struct boot_check checks[] = {
	{ "eax holds the Multiboot2 magic 0x36d76289", check_magic },
	{ "protected mode, paging and interrupts off, cs 0x08", check_machine_state },
	{ "mbi layout: aligned, total_size, end tag", check_layout },
	{ "cmdline tag", check_cmdline },
	{ "boot loader name tag", check_loader_name },
	{ "basic meminfo tag", check_meminfo },
	{ "mmap tag", check_mmap },
	{ "module tag: the initrd", check_module },
};

int run_mb2_checks(void)
{
	return run_checks(checks, ARRAY_SIZE(checks));
}
