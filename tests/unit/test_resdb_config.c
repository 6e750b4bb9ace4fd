/* Unit tests for src/core/resdb_config.c: a configuration claimed as one resource transaction. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/config.h>
#include <hvlab/resdb.h>

static struct resdb db;
static struct resdb before;
static struct hv_config cfg;
static char err[256];

/* The machine of most tests: 4 CPUs, 1 GiB free, the hypervisor in the low 16 MiB. */
#define ONLINE 4
#define FREE GiB(1)
static const struct resdb_range reserved[] = { { 0, MiB(16) } };

static int setup(void **state)
{
	resdb_init(&db, ONLINE);
	return 0;
}

/* Parse @p text (it must parse) and claim it on the standard machine. */
static int claim(const char *text)
{
	int rc = config_parse(text, strlen(text), "x.cfg", &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config refused: %s", err);
	before = db;
	memset(err, 'X', sizeof(err));
	return resdb_claim_config(&db, &cfg, ONLINE, FREE, reserved, 1, err, sizeof(err));
}

/* Assert that @p text is refused with exactly @p message and the database is untouched. */
static void assert_refused(const char *text, const char *message)
{
	assert_int_equal(claim(text), -1);
	assert_string_equal(err, message);
	assert_memory_equal(&db, &before, offsetof(struct resdb, tx)); /* names and entries */
}

#define PART(name, extra) "[partition " name "]\nimage = g\nmemory = 16M\n" extra

static void test_good_configuration(void **state)
{
	assert_int_equal(claim(PART("a", "identity = yes\naddress = 0x40000000\ncpus = 1\n"
					 "cpu_mode = dedicated\ninterception = off\n"
					 "devices = uart0:dedicated, rtc\n")
			       PART("b", "cpus = 0,2\ndevices = rtc:shared\n")
			       PART("c", "cpus = 2\n")),
			 0);
	u8 mode;
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), &mode), BIT(0));
	assert_int_equal(mode, RESDB_EXCLUSIVE);
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), &mode), BIT(1) | BIT(2));
	assert_int_equal(mode, RESDB_SHARED);
	assert_int_equal(resdb_owners(&db, resdb_mem(0x40000000, MiB(16)), &mode), BIT(0));
	assert_int_equal(resdb_owners(&db, resdb_device("uart0"), &mode), BIT(0));
	assert_int_equal(mode, RESDB_EXCLUSIVE);
	assert_int_equal(resdb_owners(&db, resdb_ports(0x3f8, 8), NULL), BIT(0));
	assert_int_equal(resdb_owners(&db, resdb_device("rtc"), &mode), BIT(0) | BIT(1));
	assert_int_equal(mode, RESDB_SHARED);
	assert_int_equal(resdb_owners(&db, resdb_ports(0x70, 2), NULL), 0); /* shared: emulated */
	assert_string_equal(db.part_name[2], "c");

	static struct resdb_view v;
	assert_int_equal(resdb_view_fill(&db, 0, &v), 0);
	assert_string_equal(v.name, "a");
	assert_int_equal(v.ncpus, 1);
	assert_int_equal(v.nmem, 1);
	assert_int_equal(v.mem[0].base, 0x40000000);
	assert_int_equal(v.ndevices, 2);
	assert_int_equal(v.nports, 1);
}

static void test_cpu_dedicated_twice(void **state)
{
	assert_refused(PART("a", "cpus = 1\ncpu_mode = dedicated\n")
		       PART("b", "cpu_mode = dedicated\ncpus = 3,1\n"),
		       "x.cfg:10: partition 'b': CPU 1 is already dedicated to partition 'a'");
}

static void test_cpu_dedicated_and_shared(void **state)
{
	assert_refused(PART("a", "cpus = 1\ncpu_mode = dedicated\n") PART("b", "cpus = 1\n"),
		       "x.cfg:9: partition 'b': CPU 1 is already dedicated to partition 'a'");
	assert_refused(PART("a", "cpus = 1\n") PART("b", "cpus = 1\n") PART("c", "cpus = 1\ncpu_mode = dedicated\n"),
		       "x.cfg:12: partition 'c': CPU 1 is already shared by partitions 'a', 'b'");
	/* cpus not given means CPU 0: the message names the section line. */
	assert_refused(PART("a", "") PART("b", "cpu_mode = dedicated\n"),
		       "x.cfg:4: partition 'b': CPU 0 is already shared by partition 'a'");
}

static void test_overlapping_identity_memory(void **state)
{
	assert_refused(PART("a", "identity = yes\naddress = 0x40000000\n")
		       PART("b", "identity = yes\naddress = 0x40e00000\n"),
		       "x.cfg:10: partition 'b': memory 0x40e00000-0x41dfffff overlaps memory "
		       "0x40000000-0x40ffffff of partition 'a'");
	assert_refused(PART("a", "identity = yes\naddress = 0xe00000\n"),
		       "x.cfg:5: partition 'a': memory 0xe00000-0x1dfffff overlaps memory 0x0-0xffffff "
		       "of the hypervisor");
	/* Memory the hypervisor recorded in the database is refused by the transaction. */
	resdb_tx_begin(&db);
	resdb_tx_alloc(&db, resdb_mem(MiB(64), MiB(2)), RESDB_HV, RESDB_EXCLUSIVE);
	assert_int_equal(resdb_tx_commit(&db, err, sizeof(err)), 0);
	assert_refused(PART("a", "identity = yes\naddress = 0x3200000\n"),
		       "x.cfg:5: partition 'a': memory 0x3200000-0x41fffff overlaps memory "
		       "0x4000000-0x41fffff of the hypervisor");
}

static void test_unknown_device(void **state)
{
	assert_refused(PART("a", "devices = uart0, floppy:dedicated\n"),
		       "x.cfg:4: partition 'a': unknown device 'floppy' (known: uart0, uart1, rtc, pit)");
	assert_null(resdb_known_device("floppy"));
	const struct resdb_known_device *k = resdb_known_device("uart1");
	assert_non_null(k);
	assert_int_equal(k->port_base, 0x2f8);
	assert_int_equal(k->port_count, 8);
	assert_int_equal(k->irq, 3);
}

static void test_devices_claimed_twice(void **state)
{
	assert_refused(PART("a", "devices = uart0:dedicated\n") PART("b", "devices = pit, uart0\n"),
		       "x.cfg:8: partition 'b': device 'uart0' is already dedicated to partition 'a'");
	/* The hypervisor's console holds COM1's ports: uart0 cannot be dedicated. */
	resdb_tx_begin(&db);
	resdb_tx_alloc(&db, resdb_ports(0x3f8, 8), RESDB_HV, RESDB_EXCLUSIVE);
	assert_int_equal(resdb_tx_commit(&db, err, sizeof(err)), 0);
	assert_refused(PART("a", "devices = uart0:dedicated\n"),
		       "x.cfg:4: partition 'a': I/O ports 0x3f8-0x3ff overlap ports 0x3f8-0x3ff of the hypervisor");
	assert_int_equal(claim(PART("a", "devices = uart0\n")), 0);
}

static void test_cpu_not_online(void **state)
{
	assert_refused(PART("a", "cpus = 0\n") PART("b", "cpus = 2,4\n"),
		       "x.cfg:8: partition 'b': CPU 4 is not online (the machine has 4 CPUs)");
	int rc = config_parse(PART("a", "cpus = 1\n"), strlen(PART("a", "cpus = 1\n")), "y.cfg", &cfg, err,
			      sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(resdb_claim_config(&db, &cfg, 1, FREE, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "y.cfg:4: partition 'a': CPU 1 is not online (the machine has 1 CPU)");
}

static void test_more_memory_than_the_machine_has(void **state)
{
	/* 3 MiB rounds up to 4 MiB: 1020 + 4 = 1024 MiB fits exactly, one more 4K does not. */
	assert_int_equal(claim("[partition a]\nimage = g\nmemory = 1020M\n"
			       "[partition b]\nimage = g\nmemory = 3M\n"), 0);
	resdb_init(&db, ONLINE);
	assert_refused("[partition a]\nimage = g\nmemory = 1020M\n"
		       "[partition b]\nimage = g\nmemory = 4100K\n",
		       "x.cfg: the partitions need 1026 MiB of memory, but only 1024 MiB is free");
	/* Sizes near 2^64 do not wrap around into something small. */
	assert_refused("[partition a]\nimage = g\nmemory = 17179869183G\n"
		       "[partition b]\nimage = g\nmemory = 17179869183G\n",
		       "x.cfg: the partitions need 17592186044415 MiB of memory, but only 1024 MiB is free");
}

static void test_one_transaction_at_a_time(void **state)
{
	resdb_tx_begin(&db);
	assert_int_equal(claim(PART("a", "")), -1);
	assert_string_equal(err, "x.cfg: another resource transaction is open");
	resdb_tx_abort(&db);
	assert_int_equal(claim(PART("a", "")), 0);
}

static void test_small_error_buffer(void **state)
{
	char small[8];
	const char *text = PART("a", "cpus = 9\n");
	assert_int_equal(config_parse(text, strlen(text), "x.cfg", &cfg, err, sizeof(err)), 0);
	assert_int_equal(resdb_claim_config(&db, &cfg, ONLINE, FREE, NULL, 0, small, sizeof(small)), -1);
	assert_string_equal(small, "x.cfg:4");
	assert_int_equal(resdb_claim_config(&db, &cfg, ONLINE, FREE, NULL, 0, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_configuration, setup),
		cmocka_unit_test_setup(test_cpu_dedicated_twice, setup),
		cmocka_unit_test_setup(test_cpu_dedicated_and_shared, setup),
		cmocka_unit_test_setup(test_overlapping_identity_memory, setup),
		cmocka_unit_test_setup(test_unknown_device, setup),
		cmocka_unit_test_setup(test_devices_claimed_twice, setup),
		cmocka_unit_test_setup(test_cpu_not_online, setup),
		cmocka_unit_test_setup(test_more_memory_than_the_machine_has, setup),
		cmocka_unit_test_setup(test_one_transaction_at_a_time, setup),
		cmocka_unit_test_setup(test_small_error_buffer, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
