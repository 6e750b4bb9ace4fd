/* Unit tests for src/arch/x86/acpi.c: RSDP → RSDT/XSDT → MADT over tables built here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <arch/acpi.h>

/* Fix byte @p at of @p len bytes so that they sum to 0. */
static void fix_checksum(u8 *t, u64 len, u64 at)
{
	t[at] = 0;
	t[at] = (u8)(0x100 - acpi_checksum(t, len));
}

/* An RSDP (ACPI 6.5 §5.2.5.3) of revision @p rev. */
static void make_rsdp(u8 *r, u8 rev, u32 rsdt, u64 xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "HVLAB ", 6);
	r[15] = rev;
	memcpy(r + 16, &rsdt, 4);
	u32 len = 36;
	memcpy(r + 20, &len, 4);
	memcpy(r + 24, &xsdt, 8);
	fix_checksum(r, 20, 8);
	if (rev >= 2)
		fix_checksum(r, 36, 32);
}

/* A table with a standard header (§5.2.6) and @p body, in @p mem (or malloc'd exactly). */
static u8 *make_sdt(u8 *mem, const char *sig, const void *body, u32 body_len)
{
	u32 len = 36 + body_len;
	u8 *t = mem ? mem : malloc(len);
	memset(t, 0, 36);
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	t[8] = 1;
	memcpy(t + 10, "HVLAB ", 6);
	memcpy(t + 36, body, body_len);
	fix_checksum(t, len, 9);
	return t;
}

static u64 addr(const void *p)
{
	return (u64)(uintptr_t)p;
}

/* ---- RSDP / XSDT / RSDT ---- */

static void test_checksum_sums_bytes_mod_256(void **state)
{
	u8 b[4] = { 0x80, 0x80, 0x01, 0x02 };
	assert_int_equal(acpi_checksum(b, 4), 3);
	assert_int_equal(acpi_checksum(b, 0), 0);
}

static void test_find_table_through_xsdt(void **state)
{
	u8 body[8] = { 0 };
	u8 *facp = make_sdt(NULL, "FACP", body, 8);
	u8 *apic = make_sdt(NULL, "APIC", body, 8);
	u64 entries[2] = { addr(facp), addr(apic) };
	u8 *xsdt = make_sdt(NULL, "XSDT", entries, sizeof(entries));
	u8 rsdp[36];
	make_rsdp(rsdp, 2, 0, addr(xsdt));

	assert_ptr_equal(acpi_find_table(rsdp, "APIC"), apic);
	assert_ptr_equal(acpi_find_table(rsdp, "FACP"), facp);
	assert_null(acpi_find_table(rsdp, "HPET"));
	free(facp), free(apic), free(xsdt);
}

/* RSDT entries are 32-bit, so these tables must live below 4 GiB. */
static void test_find_table_through_rsdt(void **state)
{
	u8 *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	assert_true(low != MAP_FAILED);
	u8 body[8] = { 0 };
	u8 *apic = make_sdt(low, "APIC", body, 8);
	u8 *hpet = make_sdt(low + 256, "HPET", body, 8);
	u32 entries[2] = { (u32)addr(hpet), (u32)addr(apic) };
	u8 *rsdt = make_sdt(low + 512, "RSDT", entries, sizeof(entries));
	u8 rsdp[36];

	make_rsdp(rsdp, 0, (u32)addr(rsdt), 0);
	assert_ptr_equal(acpi_find_table(rsdp, "APIC"), apic);
	assert_ptr_equal(acpi_find_table(rsdp, "HPET"), hpet);

	/* Revision 2 without an XSDT address falls back to the RSDT. */
	make_rsdp(rsdp, 2, (u32)addr(rsdt), 0);
	assert_ptr_equal(acpi_find_table(rsdp, "APIC"), apic);
	munmap(low, 4096);
}

static void test_bad_rsdp_finds_nothing(void **state)
{
	u8 body[8] = { 0 };
	u8 *apic = make_sdt(NULL, "APIC", body, 8);
	u64 entries[1] = { addr(apic) };
	u8 *xsdt = make_sdt(NULL, "XSDT", entries, sizeof(entries));
	u8 rsdp[36];

	make_rsdp(rsdp, 2, 0, addr(xsdt));
	rsdp[0] = 'X'; /* signature */
	assert_null(acpi_find_table(rsdp, "APIC"));

	make_rsdp(rsdp, 2, 0, addr(xsdt));
	rsdp[8]++; /* ACPI 1.0 checksum */
	assert_null(acpi_find_table(rsdp, "APIC"));

	make_rsdp(rsdp, 2, 0, addr(xsdt));
	rsdp[32]++; /* extended checksum */
	assert_null(acpi_find_table(rsdp, "APIC"));

	assert_null(acpi_find_table(NULL, "APIC"));
	free(apic), free(xsdt);
}

static void test_bad_xsdt_finds_nothing(void **state)
{
	u8 body[8] = { 0 };
	u8 *apic = make_sdt(NULL, "APIC", body, 8);
	u64 entries[1] = { addr(apic) };
	u8 *xsdt = make_sdt(NULL, "XSDT", entries, sizeof(entries));
	u8 rsdp[36];
	make_rsdp(rsdp, 2, 0, addr(xsdt));

	xsdt[9]++; /* checksum */
	assert_null(acpi_find_table(rsdp, "APIC"));
	xsdt[9]--;
	memcpy(xsdt, "RSDT", 4); /* wrong signature for an XSDT */
	fix_checksum(xsdt, 44, 9);
	assert_null(acpi_find_table(rsdp, "APIC"));
	free(apic), free(xsdt);
}

/* ---- MADT ---- */

struct madt_builder {
	u8 body[1024];
	u32 len;
};

static void madt_start(struct madt_builder *b, u32 lapic, u32 flags)
{
	memcpy(b->body, &lapic, 4);
	memcpy(b->body + 4, &flags, 4);
	b->len = 8;
}

static void madt_entry(struct madt_builder *b, u8 type, u8 len, const void *rest)
{
	b->body[b->len] = type;
	b->body[b->len + 1] = len;
	if (len > 2)
		memcpy(b->body + b->len + 2, rest, len - 2);
	b->len += len < 2 ? 2 : len;
}

static void madt_lapic(struct madt_builder *b, u8 apic_id, u32 flags)
{
	u8 rest[6] = { 0, apic_id };
	memcpy(rest + 2, &flags, 4);
	madt_entry(b, 0, 8, rest);
}

static void madt_ioapic(struct madt_builder *b, u8 id, u32 base, u32 gsi)
{
	u8 rest[10] = { id, 0 };
	memcpy(rest + 2, &base, 4);
	memcpy(rest + 6, &gsi, 4);
	madt_entry(b, 1, 12, rest);
}

static void madt_x2apic(struct madt_builder *b, u32 id, u32 flags)
{
	u8 rest[14] = { 0 };
	memcpy(rest + 2, &id, 4);
	memcpy(rest + 6, &flags, 4);
	madt_entry(b, 9, 16, rest);
}

static int parse_madt(struct madt_builder *b, struct madt_info *info)
{
	u8 *t = make_sdt(NULL, "APIC", b->body, b->len);
	int rc = madt_parse(t, info);
	free(t);
	return rc;
}

static void test_madt_lists_cpus_ioapics_and_override(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	u8 override[10] = { 0 };
	u64 lapic64 = 0xfee00000ULL + 0x100000000ULL;
	memcpy(override + 2, &lapic64, 8);
	u8 unknown[4] = { 1, 2, 3, 4 };

	madt_start(&b, 0xfee00000, 1);
	madt_lapic(&b, 0, 1);       /* enabled */
	madt_lapic(&b, 1, 0);       /* disabled: not listed */
	madt_lapic(&b, 2, 2);       /* online capable */
	madt_entry(&b, 0x7f, 6, unknown);
	madt_ioapic(&b, 4, 0xfec00000, 0);
	madt_ioapic(&b, 5, 0xfec01000, 24);
	madt_x2apic(&b, 300, 1);
	madt_entry(&b, 5, 12, override);
	assert_int_equal(parse_madt(&b, &info), ACPI_OK);

	assert_int_equal(info.ncpus, 3);
	assert_int_equal(info.apic_id[0], 0);
	assert_int_equal(info.apic_id[1], 2);
	assert_int_equal(info.apic_id[2], 300);
	assert_int_equal(info.nioapics, 2);
	assert_int_equal(info.ioapic[1].id, 5);
	assert_int_equal(info.ioapic[1].base, 0xfec01000);
	assert_int_equal(info.ioapic[1].gsi_base, 24);
	assert_int_equal(info.lapic_base, lapic64);
	assert_true(info.pic_present);
}

static void test_madt_without_override_keeps_32bit_base(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	madt_start(&b, 0xfee00000, 0);
	madt_lapic(&b, 7, 1);
	assert_int_equal(parse_madt(&b, &info), ACPI_OK);
	assert_int_equal(info.lapic_base, 0xfee00000);
	assert_false(info.pic_present);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.apic_id[0], 7);
}

static void test_madt_caps_cpus_at_the_limit(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	madt_start(&b, 0xfee00000, 0);
	for (int i = 0; i < ACPI_MAX_CPUS + 10; i++)
		madt_lapic(&b, (u8)i, 1);
	assert_int_equal(parse_madt(&b, &info), ACPI_OK);
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.apic_id[ACPI_MAX_CPUS - 1], ACPI_MAX_CPUS - 1);
}

static void test_madt_zero_length_entry_is_malformed(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	madt_start(&b, 0xfee00000, 0);
	madt_lapic(&b, 0, 1);
	madt_entry(&b, 0x7f, 0, NULL);
	assert_int_equal(parse_madt(&b, &info), ACPI_ERR_MALFORMED);
}

static void test_madt_entry_past_end_is_malformed(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	madt_start(&b, 0xfee00000, 0);
	madt_lapic(&b, 0, 1);
	b.body[b.len - 7] = 40; /* that entry now claims 40 bytes */
	assert_int_equal(parse_madt(&b, &info), ACPI_ERR_MALFORMED);

	madt_start(&b, 0xfee00000, 0);
	b.body[b.len++] = 0; /* a lone type byte, no length */
	assert_int_equal(parse_madt(&b, &info), ACPI_ERR_MALFORMED);
}

static void test_madt_entry_shorter_than_its_type_is_malformed(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	u8 rest[14] = { 0 };
	static const struct {
		u8 type, len;
	} shorts[] = { { 0, 6 }, { 1, 10 }, { 5, 8 }, { 9, 12 } };
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		madt_start(&b, 0xfee00000, 0);
		madt_entry(&b, shorts[i].type, shorts[i].len, rest);
		assert_int_equal(parse_madt(&b, &info), ACPI_ERR_MALFORMED);
	}
}

static void test_madt_header_errors(void **state)
{
	struct madt_builder b;
	struct madt_info info;
	madt_start(&b, 0xfee00000, 0);
	madt_lapic(&b, 0, 1);
	u8 *t = make_sdt(NULL, "APIC", b.body, b.len);

	t[9]++;
	assert_int_equal(madt_parse(t, &info), ACPI_ERR_CHECKSUM);
	t[9]--;
	memcpy(t, "APIX", 4);
	assert_int_equal(madt_parse(t, &info), ACPI_ERR_NO_MADT);
	assert_int_equal(madt_parse(NULL, &info), ACPI_ERR_NO_MADT);
	free(t);

	t = make_sdt(NULL, "APIC", b.body, 4); /* 40 bytes: no room for the flags */
	assert_int_equal(madt_parse(t, &info), ACPI_ERR_MALFORMED);
	free(t);
}

/* Random entries over an exactly-sized, correctly summed table: never an over-read. */
static void test_random_madts_never_read_out_of_bounds(void **state)
{
	struct madt_info info;
	srand(99);
	for (int round = 0; round < 3000; round++) {
		u32 n = 8 + (u32)(rand() % 64);
		u8 body[80];
		for (u32 i = 0; i < n; i++)
			body[i] = (u8)(rand() % 3 == 0 ? rand() % 18 : rand());
		u8 *t = make_sdt(NULL, "APIC", body, n);
		int rc = madt_parse(t, &info);
		assert_true(rc == ACPI_OK || rc == ACPI_ERR_MALFORMED);
		assert_true(info.ncpus <= ACPI_MAX_CPUS && info.nioapics <= ACPI_MAX_IOAPICS);
		free(t);
	}
}

static void test_strerror_names_each_code(void **state)
{
	assert_string_equal(acpi_strerror(ACPI_OK), "ok");
	assert_string_equal(acpi_strerror(ACPI_ERR_NO_MADT), "no MADT");
	assert_string_equal(acpi_strerror(ACPI_ERR_CHECKSUM), "bad table checksum");
	assert_string_not_equal(acpi_strerror(ACPI_ERR_NO_RSDP), "unknown error");
	assert_string_not_equal(acpi_strerror(ACPI_ERR_MALFORMED), "unknown error");
	assert_string_equal(acpi_strerror(-5), "unknown error");
	assert_string_equal(acpi_strerror(1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_sums_bytes_mod_256),
		cmocka_unit_test(test_find_table_through_xsdt),
		cmocka_unit_test(test_find_table_through_rsdt),
		cmocka_unit_test(test_bad_rsdp_finds_nothing),
		cmocka_unit_test(test_bad_xsdt_finds_nothing),
		cmocka_unit_test(test_madt_lists_cpus_ioapics_and_override),
		cmocka_unit_test(test_madt_without_override_keeps_32bit_base),
		cmocka_unit_test(test_madt_caps_cpus_at_the_limit),
		cmocka_unit_test(test_madt_zero_length_entry_is_malformed),
		cmocka_unit_test(test_madt_entry_past_end_is_malformed),
		cmocka_unit_test(test_madt_entry_shorter_than_its_type_is_malformed),
		cmocka_unit_test(test_madt_header_errors),
		cmocka_unit_test(test_random_madts_never_read_out_of_bounds),
		cmocka_unit_test(test_strerror_names_each_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
