/* Unit tests for src/core/config.c: the scenario file parser and its messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/config.h>

static struct hv_config cfg;
static char err[256];

/* Parse @p text from an exactly-sized, unterminated heap copy (ASan catches over-reads). */
static int parse_named(const char *text, const char *filename)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	memcpy(copy, text, len);
	memset(err, 'X', sizeof(err));
	int rc = config_parse(copy, len, filename, &cfg, err, sizeof(err));
	free(copy);
	return rc;
}

static int parse(const char *text)
{
	return parse_named(text, "x.cfg");
}

/* Assert that @p text is refused with exactly @p message. */
static void assert_refused(const char *text, const char *message)
{
	assert_int_equal(parse(text), -1);
	assert_string_equal(err, message);
}

static void test_full_scenario_parses(void **state)
{
	assert_int_equal(parse("# demo scenario\n"
			       "[partition a]\n"
			       "image = guest_hello\n"
			       "memory = 16M\n"
			       "cpus = 0\n"
			       "paging = ept\n"
			       "cmdline = \"quiet\"\n"
			       "on_fault = end\n"
			       "\n"
			       "[partition b]\n"
			       "image=guest_mmio\n"
			       "memory=1G\n"
			       "cpus=1,2\n"
			       "paging=ept\n"
			       "on_fault=reset\n"
			       "\n"
			       "[partition c]\n"
			       "image=g\n"
			       "memory=4M\n"
			       "paging=shadow\n"
			       "shadow_cache=off\n"),
			 0);
	assert_int_equal(cfg.nparts, 3);
	struct partition_config *a = &cfg.part[0], *b = &cfg.part[1];
	assert_string_equal(a->name, "a");
	assert_string_equal(a->image, "guest_hello");
	assert_int_equal(a->memory, 16 << 20);
	assert_int_equal(a->ncpus, 1);
	assert_int_equal(a->cpus[0], 0);
	assert_string_equal(a->cmdline, "quiet");
	assert_int_equal(a->line, 2);
	assert_string_equal(b->name, "b");
	assert_int_equal(b->memory, 1ULL << 30);
	assert_int_equal(b->ncpus, 2);
	assert_int_equal(b->cpus[0], 1);
	assert_int_equal(b->cpus[1], 2);
	assert_int_equal(b->paging, PAGING_EPT);
	assert_int_equal(cfg.part[2].paging, PAGING_SHADOW);
	assert_int_equal(cfg.part[2].shadow_cache, 0);
	assert_int_equal(b->on_fault, FAULT_RESET);
	assert_int_equal(b->line, 10);
}

static void test_defaults(void **state)
{
	assert_int_equal(parse("[partition a]\nimage = g\nmemory = 4K\n"), 0);
	assert_int_equal(cfg.part[0].ncpus, 1);
	assert_int_equal(cfg.part[0].cpus[0], 0);
	assert_int_equal(cfg.part[0].paging, PAGING_AUTO); /* EPT if the CPU has it */
	assert_int_equal(cfg.part[0].shadow_cache, 1);
	assert_int_equal(cfg.part[0].on_fault, FAULT_END);
	assert_string_equal(cfg.part[0].cmdline, "");
}

static void test_comments_whitespace_quotes_and_crlf(void **state)
{
	assert_int_equal(parse("  # leading comment\r\n"
			       "\t[ partition   web ]   # trailing comment\r\n"
			       "image\t=\t\"g # not a comment\"\r\n"
			       "memory    =    \"8M\"   # eight\r\n"
			       "cmdline = \"  spaced  \"\r\n"
			       "cpus = 3 , 1\r\n"),
			 0);
	assert_string_equal(cfg.part[0].name, "web");
	assert_string_equal(cfg.part[0].image, "g # not a comment");
	assert_int_equal(cfg.part[0].memory, 8 << 20);
	assert_string_equal(cfg.part[0].cmdline, "  spaced  ");
	assert_int_equal(cfg.part[0].ncpus, 2);
	assert_int_equal(cfg.part[0].cpus[0], 3);
	assert_int_equal(cfg.part[0].cpus[1], 1);
}

static void test_last_line_without_newline(void **state)
{
	assert_int_equal(parse("[partition a]\nimage = g\nmemory = 64K"), 0);
	assert_int_equal(cfg.part[0].memory, 64 << 10);
}

static void test_parse_size_accepts_suffixes(void **state)
{
	static const struct {
		const char *text;
		u64 bytes;
	} good[] = {
		{ "16M", 16ULL << 20 }, { "4096", 4096 }, { "1G", 1ULL << 30 }, { "64K", 64 << 10 },
		{ "2m", 2ULL << 20 },   { "0", 0 },       { "17179869183G", 17179869183ULL << 30 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		u64 v = 0;
		assert_int_equal(config_parse_size(good[i].text, &v), 0);
		assert_int_equal(v, good[i].bytes);
	}
}

static void test_parse_size_refuses_garbage_and_overflow(void **state)
{
	static const char *const bad[] = {
		"", "M", "16Q", "16MB", "-1", " 16M", "16 M", "1.5G", "99999999999999999999",
		"17179869184G", "18446744073709551616",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u64 v = 77;
		assert_int_equal(config_parse_size(bad[i], &v), -1);
		assert_int_equal(v, 77);
	}
}

static void test_unknown_key_names_line_and_section(void **state)
{
	assert_int_equal(parse_named("[partition a]\nimage = g\n\nmemroy = 16M\n", "scenario.cfg"), -1);
	assert_string_equal(err, "scenario.cfg:4: unknown key 'memroy' in [partition a]");
}

static void test_bad_size(void **state)
{
	assert_refused("[partition a]\nmemory = 16Q\n", "x.cfg:2: bad size '16Q' for memory (use K, M or G)");
}

static void test_memory_not_multiple_of_4k(void **state)
{
	assert_refused("[partition a]\nimage = g\nmemory = 5000\n",
		       "x.cfg:3: memory '5000' is not a multiple of 4 KiB");
}

static void test_memory_zero(void **state)
{
	assert_refused("[partition a]\nmemory = 0M\n", "x.cfg:2: memory must not be zero");
}

static void test_duplicate_partition_name(void **state)
{
	assert_refused("[partition a]\nimage = g\nmemory = 4K\n"
		       "[partition b]\nimage = g\nmemory = 4K\n"
		       "[partition a]\n",
		       "x.cfg:7: duplicate partition name 'a' (first at line 1)");
}

static void test_partition_without_image(void **state)
{
	assert_refused("[partition a]\nmemory = 16M\n[partition b]\nimage = g\nmemory = 4K\n",
		       "x.cfg: partition 'a' has no image");
}

static void test_partition_without_memory_at_end_of_file(void **state)
{
	assert_refused("[partition a]\nimage = g\n", "x.cfg: partition 'a' has no memory");
}

static void test_key_before_any_section(void **state)
{
	assert_refused("image = g\n[partition a]\n",
		       "x.cfg:1: key 'image' before any [partition NAME] section");
}

static void test_unknown_section_type(void **state)
{
	assert_refused("# hi\n[domain a]\n", "x.cfg:2: unknown section type 'domain' (only [partition NAME])");
}

static void test_section_header_errors(void **state)
{
	assert_refused("[partition a\n", "x.cfg:1: section header without ']'");
	assert_refused("[partition]\n", "x.cfg:1: partition without a name");
	assert_refused("[partition a b]\n",
		       "x.cfg:1: bad partition name 'a b' (use letters, digits, '_', '-', '.')");
	assert_refused("[partition abcdefghijabcdefghijabcdefghij12]\n",
		       "x.cfg:1: partition name 'abcdefghijabcdefghijabcdefghij12' is too long (at most 31 characters)");
}

static void test_cpu_listed_twice(void **state)
{
	assert_refused("[partition a]\nimage = g\ncpus = 1,0,1\n", "x.cfg:3: CPU 1 listed twice in cpus");
}

static void test_bad_cpu_lists(void **state)
{
	assert_refused("[partition a]\ncpus = 0,,1\n",
		       "x.cfg:2: bad CPU list '0,,1' for cpus (use e.g. 0 or 0,1)");
	assert_refused("[partition a]\ncpus = x\n", "x.cfg:2: bad CPU list 'x' for cpus (use e.g. 0 or 0,1)");
	assert_refused("[partition a]\ncpus = \n", "x.cfg:2: bad CPU list '' for cpus (use e.g. 0 or 0,1)");
	assert_refused("[partition a]\ncpus = 99999999999\n",
		       "x.cfg:2: bad CPU list '99999999999' for cpus (use e.g. 0 or 0,1)");
	assert_refused("[partition a]\ncpus = 0,1,2,3,4,5,6,7,8\n", "x.cfg:2: more than 8 CPUs in cpus");
}

static void test_bad_choice_values(void **state)
{
	assert_refused("[partition a]\npaging = nested\n",
		       "x.cfg:2: bad value 'nested' for paging (use auto, ept or shadow)");
	/* Shadow paging runs one vCPU (APs need unrestricted guest, which needs EPT). */
	assert_refused("[partition a]\nimage = g\nmemory = 4M\ncpus = 0,1\npaging = shadow\n",
		       "x.cfg:5: paging = shadow runs one vCPU only (more need the unrestricted-guest "
		       "control, which needs EPT)");
	assert_refused("[partition a]\nimage = g\nmemory = 4M\npaging = ept\nshadow_cache = off\n",
		       "x.cfg:5: shadow_cache is only used with paging = shadow (or auto without EPT)");
	assert_refused("[partition a]\non_fault = panic\n",
		       "x.cfg:2: bad value 'panic' for on_fault (use end or reset)");
}

static void test_too_many_partitions(void **state)
{
	char text[4096] = "";
	for (int i = 0; i <= CONFIG_MAX_PARTITIONS; i++) {
		char sect[64];
		snprintf(sect, sizeof(sect), "[partition p%d]\nimage = g\nmemory = 4K\n", i);
		strcat(text, sect);
	}
	assert_refused(text, "x.cfg:49: too many partitions (at most 16)");
}

static void test_quote_errors(void **state)
{
	assert_refused("[partition a]\ncmdline = \"abc\n", "x.cfg:2: unmatched '\"' in value of cmdline");
	assert_refused("[partition a]\ncmdline = a\"b\n", "x.cfg:2: unmatched '\"' in value of cmdline");
	assert_refused("[partition a]\ncmdline = \"\n", "x.cfg:2: unmatched '\"' in value of cmdline");
}

static void test_duplicate_key(void **state)
{
	assert_refused("[partition a]\nimage = g\nmemory = 4K\nimage = h\n",
		       "x.cfg:4: duplicate key 'image' in [partition a] (first at line 2)");
}

static void test_line_without_equals(void **state)
{
	assert_refused("[partition a]\nimage g\n", "x.cfg:2: expected 'key = value' or '[partition NAME]'");
	assert_refused("[partition a]\n = g\n", "x.cfg:2: missing key before '='");
}

static void test_empty_file_has_no_partition(void **state)
{
	assert_refused("", "x.cfg: no [partition NAME] section");
	assert_refused("# nothing\n\n", "x.cfg: no [partition NAME] section");
}

static void test_long_values_and_lines_are_refused(void **state)
{
	char text[1024];
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "[partition a]\nimage = %s\n", big);
	assert_refused(text, "x.cfg:2: image is too long (at most 127 characters)");

	char line[400];
	memset(line, 'b', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	snprintf(text, sizeof(text), "[partition a]\ncmdline = %s\n", line);
	assert_refused(text, "x.cfg:2: line too long (at most 255 characters)");
}

static void test_empty_image_is_refused(void **state)
{
	assert_refused("[partition a]\nimage = \"\"\n", "x.cfg:2: image must not be empty");
}

static void test_nul_byte_is_refused(void **state)
{
	const char text[] = "[partition a]\nimage = g\0h\nmemory = 4K\n";
	assert_int_equal(config_parse(text, sizeof(text) - 1, "x.cfg", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "x.cfg:2: NUL byte in the file");
}

static void test_small_error_buffer_is_terminated(void **state)
{
	char small[12];
	memset(small, 'X', sizeof(small));
	assert_int_equal(config_parse("[x]", 3, "scenario.cfg", &cfg, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "scenario.cf", 11);
	/* No error buffer at all is fine too. */
	assert_int_equal(config_parse("[x]", 3, "scenario.cfg", &cfg, NULL, 0), -1);
}

/* A partition section with the required keys, then @p extra lines (starting at line 4). */
#define PART(extra) "[partition a]\nimage = g\nmemory = 16M\n" extra

static void test_new_keys_parse(void **state)
{
	assert_int_equal(parse(PART("identity = yes\n"
				    "address = 0x40000000\n"
				    "cpus = 1,2\n"
				    "cpu_mode = dedicated\n"
				    "interception = off\n"
				    "devices = uart0:dedicated, rtc , 00:1f.3:shared, pit:shared\n")),
			 0);
	struct partition_config *a = &cfg.part[0];
	assert_int_equal(a->identity, 1);
	assert_int_equal(a->address, 0x40000000);
	assert_int_equal(a->cpu_mode, CPU_DEDICATED);
	assert_int_equal(a->interception, 0);
	assert_int_equal(a->ndevices, 4);
	assert_string_equal(a->devices[0], "uart0");
	assert_int_equal(a->device_mode[0], DEVICE_DEDICATED);
	assert_string_equal(a->devices[1], "rtc");
	assert_int_equal(a->device_mode[1], DEVICE_SHARED);
	assert_string_equal(a->devices[2], "00:1f.3");
	assert_int_equal(a->device_mode[2], DEVICE_SHARED);
	assert_string_equal(a->devices[3], "pit");
	assert_int_equal(config_key_line(a, "address"), 5);
	assert_int_equal(config_key_line(a, "devices"), 9);
	assert_int_equal(config_key_line(a, "initrd"), 1);  /* not given: the section's line */
	assert_int_equal(config_key_line(a, "nonsense"), 1);
	assert_string_equal(cfg.filename, "x.cfg");
}

static void test_new_key_defaults_and_address_forms(void **state)
{
	assert_int_equal(parse(PART("")), 0);
	assert_int_equal(cfg.part[0].identity, 0);
	assert_int_equal(cfg.part[0].cpu_mode, CPU_SHARED);
	assert_int_equal(cfg.part[0].interception, 1);
	assert_int_equal(cfg.part[0].ndevices, 0);
	assert_int_equal(parse(PART("identity = yes\naddress = 64M\n")), 0);
	assert_int_equal(cfg.part[0].address, 64 << 20);
	assert_int_equal(parse(PART("identity = yes\naddress = 0X0000000000A00000\n")), 0);
	assert_int_equal(cfg.part[0].address, 10 << 20);
	assert_int_equal(parse(PART("identity = no\ninterception = on\ncpu_mode = shared\n")), 0);
	assert_int_equal(parse(PART("devices = \"uart1\"\n")), 0);
	assert_int_equal(cfg.part[0].device_mode[0], DEVICE_SHARED);
}

static void test_bad_address(void **state)
{
	assert_refused(PART("identity = yes\naddress = 0x12345000\n"),
		       "x.cfg:5: address '0x12345000' is not 2 MiB aligned");
	assert_refused(PART("address = zz\n"), "x.cfg:4: bad address 'zz' for address (use e.g. 0x40000000)");
	assert_refused(PART("address = 0x\n"), "x.cfg:4: bad address '0x' for address (use e.g. 0x40000000)");
	assert_refused(PART("address = 0x4g\n"), "x.cfg:4: bad address '0x4g' for address (use e.g. 0x40000000)");
	assert_refused(PART("address = 0x10000000000000000\n"),
		       "x.cfg:4: bad address '0x10000000000000000' for address (use e.g. 0x40000000)");
}

static void test_identity_needs_address_and_vice_versa(void **state)
{
	assert_refused(PART("cmdline = x\nidentity = yes\n"),
		       "x.cfg:5: identity = yes needs an address (the host-physical base)");
	assert_refused(PART("address = 0x200000\ncmdline = x\n"),
		       "x.cfg:4: address is only used with identity = yes");
	assert_refused(PART("identity = no\naddress = 0x200000\n"),
		       "x.cfg:5: address is only used with identity = yes");
	assert_refused(PART("identity = yes\naddress = 0xfffffffffe00000\n"),
		       "x.cfg:5: address + memory is beyond the 52-bit physical address space");
	assert_refused(PART("identity = maybe\n"), "x.cfg:4: bad value 'maybe' for identity (use no or yes)");
}

static void test_interception_off_needs_dedicated_cpus(void **state)
{
	assert_refused(PART("interception = off\n"), "x.cfg:4: interception = off needs cpu_mode = dedicated");
	assert_refused(PART("interception = off\ncpu_mode = shared\n"),
		       "x.cfg:4: interception = off needs cpu_mode = dedicated");
	/* The check names the line even when the section is not the last one. */
	assert_refused(PART("interception = off\n") "[partition b]\n",
		       "x.cfg:4: interception = off needs cpu_mode = dedicated");
	assert_int_equal(parse(PART("cpu_mode = dedicated\ninterception = off\n")), 0);
	assert_refused(PART("interception = no\n"), "x.cfg:4: bad value 'no' for interception (use off or on)");
	assert_refused(PART("cpu_mode = exclusive\n"),
		       "x.cfg:4: bad value 'exclusive' for cpu_mode (use shared or dedicated)");
}

/* controls (partition lifecycle): a list of partition names, checked at the end of the file. */
static void test_controls(void **state)
{
	assert_int_equal(parse("[partition a]\nimage = g\nmemory = 4K\ncontrols = b, a\n"
			       "[partition b]\nimage = g\nmemory = 4K\n"),
			 0);
	assert_string_equal(cfg.part[0].controls, "b, a");
	assert_string_equal(cfg.part[1].controls, "");
	assert_refused("[partition a]\nimage = g\nmemory = 4K\ncontrols = b, c\n"
		       "[partition b]\nimage = g\nmemory = 4K\n",
		       "x.cfg:4: controls names 'c', which is not a partition of this file");
}

static void test_bad_device_lists(void **state)
{
	assert_refused(PART("devices = uart0:dedicate\n"),
		       "x.cfg:4: bad mode 'dedicate' for device 'uart0' in devices (use dedicated or shared)");
	assert_refused(PART("devices = uart0:\n"),
		       "x.cfg:4: bad mode '' for device 'uart0' in devices (use dedicated or shared)");
	assert_refused(PART("devices = uart0,,rtc\n"),
		       "x.cfg:4: bad device list 'uart0,,rtc' for devices (use e.g. uart0:dedicated, rtc)");
	assert_refused(PART("devices = :shared\n"),
		       "x.cfg:4: bad device list ':shared' for devices (use e.g. uart0:dedicated, rtc)");
	assert_refused(PART("devices = uart0, uart0:shared\n"), "x.cfg:4: device 'uart0' listed twice in devices");
	assert_refused(PART("devices = ua/rt\n"), "x.cfg:4: bad device name 'ua/rt' in devices");
	assert_refused(PART("devices = abcdefghijklmnop\n"),
		       "x.cfg:4: device name 'abcdefghijklmnop' is too long (at most 15 characters)");
	assert_refused(PART("devices = d0,d1,d2,d3,d4,d5,d6,d7,d8\n"), "x.cfg:4: more than 8 devices in devices");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_scenario_parses),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_comments_whitespace_quotes_and_crlf),
		cmocka_unit_test(test_last_line_without_newline),
		cmocka_unit_test(test_parse_size_accepts_suffixes),
		cmocka_unit_test(test_parse_size_refuses_garbage_and_overflow),
		cmocka_unit_test(test_unknown_key_names_line_and_section),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_memory_not_multiple_of_4k),
		cmocka_unit_test(test_memory_zero),
		cmocka_unit_test(test_duplicate_partition_name),
		cmocka_unit_test(test_partition_without_image),
		cmocka_unit_test(test_partition_without_memory_at_end_of_file),
		cmocka_unit_test(test_key_before_any_section),
		cmocka_unit_test(test_unknown_section_type),
		cmocka_unit_test(test_section_header_errors),
		cmocka_unit_test(test_cpu_listed_twice),
		cmocka_unit_test(test_bad_cpu_lists),
		cmocka_unit_test(test_bad_choice_values),
		cmocka_unit_test(test_too_many_partitions),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_line_without_equals),
		cmocka_unit_test(test_empty_file_has_no_partition),
		cmocka_unit_test(test_long_values_and_lines_are_refused),
		cmocka_unit_test(test_empty_image_is_refused),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_small_error_buffer_is_terminated),
		cmocka_unit_test(test_new_keys_parse),
		cmocka_unit_test(test_new_key_defaults_and_address_forms),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_identity_needs_address_and_vice_versa),
		cmocka_unit_test(test_interception_off_needs_dedicated_cpus),
		cmocka_unit_test(test_bad_device_lists),
		cmocka_unit_test(test_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
