/* Unit tests for src/core/multiboot2.c: MBIs built in memory, good and malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/multiboot2.h>

/* ---- Building an MBI: header, tags padded to 8 bytes, end tag (spec §3.6.1). ---- */

struct mbi {
	u8 buf[8192];
	u32 len;
	u8 *copy; /* malloc'd exactly total_size bytes, so ASan sees any over-read */
};

static void mbi_start(struct mbi *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8;
}

static void put32(struct mbi *m, u32 off, u32 v)
{
	memcpy(m->buf + off, &v, 4);
}

/* Append a tag with @p size given explicitly (may lie) and @p body bytes. */
static void mbi_tag_sized(struct mbi *m, u32 type, u32 size, const void *body, u32 body_len)
{
	put32(m, m->len, type);
	put32(m, m->len + 4, size);
	if (body_len)
		memcpy(m->buf + m->len + 8, body, body_len);
	m->len += (8 + body_len + 7) & ~7u;
}

static void mbi_tag(struct mbi *m, u32 type, const void *body, u32 body_len)
{
	mbi_tag_sized(m, type, 8 + body_len, body, body_len);
}

static void mbi_string(struct mbi *m, u32 type, const char *s)
{
	mbi_tag(m, type, s, (u32)strlen(s) + 1);
}

static void mbi_module(struct mbi *m, u32 start, u32 end, const char *cmdline)
{
	u8 body[256];
	memcpy(body, &start, 4);
	memcpy(body + 4, &end, 4);
	strcpy((char *)body + 8, cmdline);
	mbi_tag(m, MB2_TAG_MODULE, body, 8 + (u32)strlen(cmdline) + 1);
}

/* A memory map tag of @p n entries, each @p entry_size bytes. */
static void mbi_mmap(struct mbi *m, u32 entry_size, u32 n)
{
	u8 body[4096] = { 0 };
	u32 version = 0;
	memcpy(body, &entry_size, 4);
	memcpy(body + 4, &version, 4);
	for (u32 i = 0; i < n; i++) {
		u64 base = (u64)i << 20, len = 0x1000 * (i + 1);
		u32 type = i % 2 ? MB2_MMAP_RESERVED : MB2_MMAP_AVAILABLE;
		memcpy(body + 8 + i * entry_size, &base, 8);
		memcpy(body + 8 + i * entry_size + 8, &len, 8);
		memcpy(body + 8 + i * entry_size + 16, &type, 4);
	}
	mbi_tag(m, MB2_TAG_MMAP, body, 8 + n * entry_size);
}

/* Add the end tag, set total_size and make the exact-size copy. */
static const void *mbi_finish(struct mbi *m)
{
	mbi_tag(m, MB2_TAG_END, NULL, 0);
	put32(m, 0, m->len);
	m->copy = malloc(m->len);
	memcpy(m->copy, m->buf, m->len);
	return m->copy;
}

/* Parse the finished MBI with limit = its size; the copy lives until mbi_done(). */
static int parse(struct mbi *m, struct mb2_info *info)
{
	const void *p = mbi_finish(m);
	return mb2_parse(p, m->len, info);
}

static void mbi_done(struct mbi *m)
{
	free(m->copy);
	m->copy = NULL;
}

static struct mbi m;
static struct mb2_info info;

static void test_minimal_mbi_gives_empty_info(void **state)
{
	mbi_start(&m);
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_int_equal(info.mbi_size, 16);
	assert_string_equal(info.cmdline, "");
	assert_string_equal(info.bootloader, "");
	assert_int_equal(info.nmodules, 0);
	assert_int_equal(info.nmmap, 0);
	assert_null(info.rsdp);
	mbi_done(&m);
}

static void test_cmdline_and_bootloader_name(void **state)
{
	mbi_start(&m);
	mbi_string(&m, MB2_TAG_CMDLINE, "console=com1 debug");
	mbi_string(&m, MB2_TAG_BOOTLOADER, "GRUB 2.06");
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_string_equal(info.cmdline, "console=com1 debug");
	assert_string_equal(info.bootloader, "GRUB 2.06");
	mbi_done(&m);
}

static void test_modules_are_listed_in_order(void **state)
{
	mbi_start(&m);
	mbi_module(&m, 0x200000, 0x201000, "config");
	mbi_module(&m, 0x300000, 0x380000, "guest1 extra args");
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_int_equal(info.nmodules, 2);
	assert_int_equal(info.modules[0].start, 0x200000);
	assert_int_equal(info.modules[0].end, 0x201000);
	assert_string_equal(info.modules[1].cmdline, "guest1 extra args");
	mbi_done(&m);
}

static void test_module_ending_before_its_start_is_refused(void **state)
{
	mbi_start(&m);
	mbi_module(&m, 0x300000, 0x2ff000, "backwards");
	assert_int_equal(parse(&m, &info), MB2_ERR_MODULE);
	mbi_done(&m);
}

static void test_find_module_matches_first_word_only(void **state)
{
	mbi_start(&m);
	mbi_module(&m, 0x200000, 0x201000, "guest10");
	mbi_module(&m, 0x300000, 0x380000, "  guest1 arg=1");
	mbi_module(&m, 0x400000, 0x401000, "config");
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_ptr_equal(mb2_find_module(&info, "guest1"), &info.modules[1]);
	assert_ptr_equal(mb2_find_module(&info, "config"), &info.modules[2]);
	assert_null(mb2_find_module(&info, "guest"));
	assert_null(mb2_find_module(&info, "arg=1"));
	assert_null(mb2_find_module(&info, ""));
	assert_null(mb2_find_module(&info, NULL));
	mbi_done(&m);
}

static void test_memory_map_entries(void **state)
{
	mbi_start(&m);
	mbi_mmap(&m, 24, 3);
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_int_equal(info.nmmap, 3);
	assert_int_equal(info.mmap[2].base, 2 << 20);
	assert_int_equal(info.mmap[2].len, 0x3000);
	assert_int_equal(info.mmap[1].type, MB2_MMAP_RESERVED);
	mbi_done(&m);
}

static void test_memory_map_with_larger_entries_uses_entry_size(void **state)
{
	mbi_start(&m);
	mbi_mmap(&m, 40, 4);
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_int_equal(info.nmmap, 4);
	assert_int_equal(info.mmap[3].base, 3 << 20);
	assert_int_equal(info.mmap[3].type, MB2_MMAP_RESERVED);
	mbi_done(&m);
}

static void test_memory_map_entry_size_below_24_is_refused(void **state)
{
	mbi_start(&m);
	mbi_mmap(&m, 16, 2);
	assert_int_equal(parse(&m, &info), MB2_ERR_MMAP);
	mbi_done(&m);
}

static void test_too_many_mmap_entries(void **state)
{
	mbi_start(&m);
	mbi_mmap(&m, 24, MB2_MAX_MMAP + 1);
	assert_int_equal(parse(&m, &info), MB2_ERR_TOO_MANY);
	mbi_done(&m);
}

static void test_too_many_modules(void **state)
{
	mbi_start(&m);
	for (int i = 0; i <= MB2_MAX_MODULES; i++)
		mbi_module(&m, 0x1000, 0x2000, "g");
	assert_int_equal(parse(&m, &info), MB2_ERR_TOO_MANY);
	mbi_done(&m);
}

static void test_acpi_old_rsdp(void **state)
{
	u8 rsdp[20] = "RSD PTR ";
	mbi_start(&m);
	mbi_tag(&m, MB2_TAG_ACPI_OLD, rsdp, sizeof(rsdp));
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_non_null(info.rsdp);
	assert_memory_equal(info.rsdp, "RSD PTR ", 8);
	assert_int_equal(info.rsdp_len, 20);
	assert_int_equal(info.rsdp_revision, 0);
	mbi_done(&m);
}

static void test_acpi_new_rsdp_wins_over_old_in_either_order(void **state)
{
	u8 old_rsdp[20] = "RSD PTR old", new_rsdp[36] = "RSD PTR new";
	for (int order = 0; order < 2; order++) {
		mbi_start(&m);
		if (order == 0)
			mbi_tag(&m, MB2_TAG_ACPI_OLD, old_rsdp, sizeof(old_rsdp));
		mbi_tag(&m, MB2_TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
		if (order == 1)
			mbi_tag(&m, MB2_TAG_ACPI_OLD, old_rsdp, sizeof(old_rsdp));
		assert_int_equal(parse(&m, &info), MB2_OK);
		assert_int_equal(info.rsdp_revision, 2);
		assert_int_equal(info.rsdp_len, 36);
		assert_memory_equal(info.rsdp, "RSD PTR new", 11);
		mbi_done(&m);
	}
}

static void test_acpi_new_rsdp_too_short_is_refused(void **state)
{
	u8 rsdp[20] = "RSD PTR ";
	mbi_start(&m);
	mbi_tag(&m, MB2_TAG_ACPI_NEW, rsdp, sizeof(rsdp));
	assert_int_equal(parse(&m, &info), MB2_ERR_TAG_SIZE);
	mbi_done(&m);
}

static void test_unknown_tags_are_skipped_with_padding(void **state)
{
	u8 junk[13] = { 1, 2, 3 };
	mbi_start(&m);
	mbi_tag(&m, 21, junk, sizeof(junk)); /* size 21: next tag at +24 */
	mbi_string(&m, MB2_TAG_CMDLINE, "after");
	assert_int_equal(parse(&m, &info), MB2_OK);
	assert_string_equal(info.cmdline, "after");
	mbi_done(&m);
}

static void test_null_mbi(void **state)
{
	assert_int_equal(mb2_parse(NULL, 4096, &info), MB2_ERR_NULL);
}

static void test_total_size_out_of_bounds(void **state)
{
	mbi_start(&m);
	const u8 *p = mbi_finish(&m);
	assert_int_equal(mb2_parse(p, 15, &info), MB2_ERR_SIZE); /* limit below total_size */
	assert_int_equal(mb2_parse(p, 4, &info), MB2_ERR_SIZE);  /* cannot even read the header */
	mbi_done(&m);

	u8 small[16] = { 8, 0, 0, 0 }; /* total_size 8: no room for the end tag */
	assert_int_equal(mb2_parse(small, sizeof(small), &info), MB2_ERR_SIZE);
}

static void test_tag_size_below_8_is_refused(void **state)
{
	mbi_start(&m);
	mbi_tag_sized(&m, 21, 4, NULL, 0);
	assert_int_equal(parse(&m, &info), MB2_ERR_TAG_SIZE);
	mbi_done(&m);
}

static void test_tag_size_past_the_end_is_refused(void **state)
{
	mbi_start(&m);
	mbi_tag_sized(&m, MB2_TAG_CMDLINE, 4000, "x", 2);
	assert_int_equal(parse(&m, &info), MB2_ERR_TAG_SIZE);
	mbi_done(&m);
}

static void test_missing_end_tag(void **state)
{
	mbi_start(&m);
	mbi_string(&m, MB2_TAG_CMDLINE, "abc");
	put32(&m, 0, m.len); /* no end tag */
	assert_int_equal(mb2_parse(m.buf, m.len, &info), MB2_ERR_NO_END);
}

static void test_string_without_nul_is_refused(void **state)
{
	mbi_start(&m);
	mbi_tag(&m, MB2_TAG_CMDLINE, "abcdefgh", 8);
	assert_int_equal(parse(&m, &info), MB2_ERR_STRING);
	mbi_done(&m);

	u8 body[12] = { 0, 0, 0x10, 0, 0, 0, 0x20, 0, 'a', 'b', 'c', 'd' };
	mbi_start(&m);
	mbi_tag(&m, MB2_TAG_MODULE, body, sizeof(body));
	assert_int_equal(parse(&m, &info), MB2_ERR_STRING);
	mbi_done(&m);
}

static void test_module_tag_too_short(void **state)
{
	u8 body[4] = { 0 };
	mbi_start(&m);
	mbi_tag(&m, MB2_TAG_MODULE, body, sizeof(body));
	assert_int_equal(parse(&m, &info), MB2_ERR_TAG_SIZE);
	mbi_done(&m);
}

/* Every shorter total_size over an exactly-sized buffer: an error or OK, never an over-read. */
static void test_truncated_mbis_never_read_out_of_bounds(void **state)
{
	u8 rsdp[36] = "RSD PTR ";
	mbi_start(&m);
	mbi_string(&m, MB2_TAG_CMDLINE, "console=com1");
	mbi_module(&m, 0x200000, 0x201000, "config");
	mbi_mmap(&m, 24, 5);
	mbi_tag(&m, MB2_TAG_ACPI_NEW, rsdp, sizeof(rsdp));
	mbi_finish(&m);
	for (u32 n = 8; n < m.len; n++) {
		u8 *p = malloc(n);
		memcpy(p, m.buf, n);
		memcpy(p, &n, 4);
		assert_int_not_equal(mb2_parse(p, n, &info), MB2_OK);
		free(p);
	}
	mbi_done(&m);
}

/* Random garbage with a plausible total_size: must not crash or over-read. */
static void test_random_mbis_never_read_out_of_bounds(void **state)
{
	srand(1234);
	for (int round = 0; round < 2000; round++) {
		u32 n = 8 + (u32)(rand() % 200);
		u8 *p = malloc(n);
		for (u32 i = 0; i < n; i++)
			p[i] = (u8)(rand() % 4 == 0 ? rand() : rand() % 24);
		memcpy(p, &n, 4);
		(void)mb2_parse(p, n, &info);
		free(p);
	}
}

static void test_strerror_names_each_code(void **state)
{
	assert_string_equal(mb2_strerror(MB2_OK), "ok");
	assert_string_equal(mb2_strerror(MB2_ERR_NO_END), "no end tag");
	assert_string_equal(mb2_strerror(MB2_ERR_MMAP), "bad memory map entry size");
	for (int e = MB2_ERR_NULL; e >= MB2_ERR_MODULE; e--)
		assert_string_not_equal(mb2_strerror(e), "unknown error");
	assert_string_equal(mb2_strerror(-100), "unknown error");
	assert_string_equal(mb2_strerror(5), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_mbi_gives_empty_info),
		cmocka_unit_test(test_cmdline_and_bootloader_name),
		cmocka_unit_test(test_modules_are_listed_in_order),
		cmocka_unit_test(test_module_ending_before_its_start_is_refused),
		cmocka_unit_test(test_find_module_matches_first_word_only),
		cmocka_unit_test(test_memory_map_entries),
		cmocka_unit_test(test_memory_map_with_larger_entries_uses_entry_size),
		cmocka_unit_test(test_memory_map_entry_size_below_24_is_refused),
		cmocka_unit_test(test_too_many_mmap_entries),
		cmocka_unit_test(test_too_many_modules),
		cmocka_unit_test(test_acpi_old_rsdp),
		cmocka_unit_test(test_acpi_new_rsdp_wins_over_old_in_either_order),
		cmocka_unit_test(test_acpi_new_rsdp_too_short_is_refused),
		cmocka_unit_test(test_unknown_tags_are_skipped_with_padding),
		cmocka_unit_test(test_null_mbi),
		cmocka_unit_test(test_total_size_out_of_bounds),
		cmocka_unit_test(test_tag_size_below_8_is_refused),
		cmocka_unit_test(test_tag_size_past_the_end_is_refused),
		cmocka_unit_test(test_missing_end_tag),
		cmocka_unit_test(test_string_without_nul_is_refused),
		cmocka_unit_test(test_module_tag_too_short),
		cmocka_unit_test(test_truncated_mbis_never_read_out_of_bounds),
		cmocka_unit_test(test_random_mbis_never_read_out_of_bounds),
		cmocka_unit_test(test_strerror_names_each_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
