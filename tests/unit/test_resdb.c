/* Unit tests for src/core/resdb.c and resdb_view.c: the resource database (MECHANISMS.md §2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvlab/resdb.h>

enum { A = 0, B = 1, C = 2 }; /* partition ids */

static struct resdb db;
static struct resdb before; /* a snapshot, to prove a failed commit changed nothing */
static char err[256];

static int setup(void **state)
{
	resdb_init(&db, 4);
	resdb_set_partition_name(&db, A, "a");
	resdb_set_partition_name(&db, B, "b");
	resdb_set_partition_name(&db, C, "c");
	return 0;
}

/* Commit the open transaction and expect success. */
static void commit_ok(void)
{
	int rc = resdb_tx_commit(&db, err, sizeof(err));
	if (rc != 0)
		fail_msg("commit refused: %s", err);
}

/* Commit and expect exactly @p message, with the table and generation as before begin. */
static void commit_refused(const char *message)
{
	assert_int_equal(resdb_tx_commit(&db, err, sizeof(err)), -1);
	assert_string_equal(err, message);
	assert_memory_equal(db.entries, before.entries, sizeof(db.entries));
	assert_int_equal(db.generation, before.generation);
}

/* Begin, remembering the table as it is now. */
static void begin(void)
{
	before = db;
	assert_int_equal(resdb_tx_begin(&db), 0);
}

/* One-operation transaction that must succeed. */
static void give(struct resdb_res r, u16 owner, u8 mode)
{
	begin();
	resdb_tx_alloc(&db, r, owner, mode);
	commit_ok();
}

static void test_init(void **state)
{
	assert_int_equal(db.magic, RESDB_MAGIC);
	assert_int_equal(db.version, RESDB_VERSION);
	assert_int_equal(db.ncpus, 4);
	assert_int_equal(resdb_owners(&db, resdb_cpu(0), NULL), 0);
	resdb_init(&db, 1000);
	assert_int_equal(db.ncpus, RESDB_MAX_CPUS);
}

static void test_dedicated_cpu_conflict(void **state)
{
	give(resdb_cpu(1), A, RESDB_EXCLUSIVE);
	u8 mode;
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), &mode), BIT(A));
	assert_int_equal(mode, RESDB_EXCLUSIVE);

	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), B, RESDB_EXCLUSIVE);
	commit_refused("CPU 1 is already dedicated to partition 'a'");
	assert_int_equal(resdb_tx_failed_op(&db), 0);

	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), B, RESDB_SHARED);
	commit_refused("CPU 1 is already dedicated to partition 'a'");
}

static void test_hypervisor_and_unnamed_owners(void **state)
{
	give(resdb_cpu(0), RESDB_HV, RESDB_EXCLUSIVE);
	begin();
	resdb_tx_alloc(&db, resdb_cpu(0), A, RESDB_EXCLUSIVE);
	commit_refused("CPU 0 is already reserved by the hypervisor");

	give(resdb_cpu(3), 7, RESDB_EXCLUSIVE); /* partition 7 has no name */
	begin();
	resdb_tx_alloc(&db, resdb_cpu(3), A, RESDB_EXCLUSIVE);
	commit_refused("CPU 3 is already dedicated to partition 7");
}

static void test_port_overlaps(void **state)
{
	give(resdb_ports(0x3f8, 8), B, RESDB_EXCLUSIVE);
	static const struct {
		u32 base, count;
		const char *message;
	} cases[] = {
		{ 0x3f8, 8, "I/O ports 0x3f8-0x3ff overlap ports 0x3f8-0x3ff of partition 'b'" },
		{ 0x3fc, 8, "I/O ports 0x3fc-0x403 overlap ports 0x3f8-0x3ff of partition 'b'" },
		{ 0x3f0, 9, "I/O ports 0x3f0-0x3f8 overlap ports 0x3f8-0x3ff of partition 'b'" },
		{ 0x3ff, 1, "I/O port 0x3ff overlaps ports 0x3f8-0x3ff of partition 'b'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		begin();
		resdb_tx_alloc(&db, resdb_ports(cases[i].base, cases[i].count), A, RESDB_EXCLUSIVE);
		commit_refused(cases[i].message);
	}
	/* Neighbours on both sides are free. */
	give(resdb_ports(0x3f0, 8), A, RESDB_EXCLUSIVE);
	give(resdb_ports(0x400, 1), A, RESDB_EXCLUSIVE);
	begin();
	resdb_tx_alloc(&db, resdb_ports(0xfff0, 0x11), A, RESDB_EXCLUSIVE);
	commit_refused("bad I/O port range base 0xfff0 count 17");
}

static void test_memory_overlaps_and_checks(void **state)
{
	give(resdb_mem(0, MiB(1)), RESDB_HV, RESDB_EXCLUSIVE);
	give(resdb_mem(MiB(2), MiB(2)), A, RESDB_EXCLUSIVE);

	begin();
	resdb_tx_alloc(&db, resdb_mem(0x80000, MiB(1)), B, RESDB_EXCLUSIVE);
	commit_refused("memory 0x80000-0x17ffff overlaps memory 0x0-0xfffff of the hypervisor");
	begin();
	resdb_tx_alloc(&db, resdb_mem(MiB(3), MiB(4)), B, RESDB_EXCLUSIVE);
	commit_refused("memory 0x300000-0x6fffff overlaps memory 0x200000-0x3fffff of partition 'a'");
	begin();
	resdb_tx_alloc(&db, resdb_mem(0x1234, PAGE_SIZE), B, RESDB_EXCLUSIVE);
	commit_refused("bad memory range base 0x1234 size 0x1000 (4 KiB multiples, not empty)");
	begin();
	resdb_tx_alloc(&db, resdb_mem(MiB(8), 0), B, RESDB_EXCLUSIVE);
	commit_refused("bad memory range base 0x800000 size 0x0 (4 KiB multiples, not empty)");
	give(resdb_mem(MiB(1), MiB(1)), B, RESDB_EXCLUSIVE); /* exactly the gap */
}

/* A transaction of 3 operations whose 3rd conflicts changes nothing. */
static void test_all_or_nothing(void **state)
{
	give(resdb_cpu(1), B, RESDB_EXCLUSIVE);
	begin();
	assert_int_equal(resdb_tx_alloc(&db, resdb_cpu(2), A, RESDB_EXCLUSIVE), 0);
	assert_int_equal(resdb_tx_alloc(&db, resdb_mem(MiB(64), MiB(16)), A, RESDB_EXCLUSIVE), 1);
	assert_int_equal(resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE), 2);
	commit_refused("CPU 1 is already dedicated to partition 'b'");
	assert_int_equal(resdb_tx_failed_op(&db), 2);
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), NULL), 0);
	assert_int_equal(resdb_owners(&db, resdb_mem(MiB(64), PAGE_SIZE), NULL), 0);

	/* Frees and joins are undone too. */
	give(resdb_cpu(3), B, RESDB_SHARED);
	begin();
	resdb_tx_free(&db, resdb_cpu(1), B);
	resdb_tx_alloc(&db, resdb_cpu(3), A, RESDB_SHARED);
	resdb_tx_release_all(&db, B);
	resdb_tx_alloc(&db, resdb_vector(0, 0x10), A, RESDB_EXCLUSIVE);
	commit_refused("vector 0x10 on CPU 0: only vectors 0x20-0xff can be allocated");
	assert_int_equal(resdb_tx_failed_op(&db), 3);
	assert_int_equal(resdb_owners(&db, resdb_cpu(3), NULL), BIT(B));

	/* The same operations without the bad one apply, and the generation moves. */
	u64 generation = db.generation;
	begin();
	resdb_tx_free(&db, resdb_cpu(1), B);
	resdb_tx_alloc(&db, resdb_cpu(3), A, RESDB_SHARED);
	commit_ok();
	assert_int_equal(db.generation, generation + 1);
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), NULL), 0);
	assert_int_equal(resdb_owners(&db, resdb_cpu(3), NULL), BIT(A) | BIT(B));
}

static void test_free_resources(void **state)
{
	give(resdb_cpu(1), A, RESDB_EXCLUSIVE);
	begin();
	resdb_tx_free(&db, resdb_cpu(1), B);
	commit_refused("CPU 1 is not held by partition 'b'");
	begin();
	resdb_tx_free(&db, resdb_cpu(1), A);
	commit_ok();
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), NULL), 0);
	begin();
	resdb_tx_free(&db, resdb_cpu(1), A);
	commit_refused("CPU 1 is not held by partition 'a'"); /* a double free is reported */

	/* Ranges are freed whole, not in part. */
	give(resdb_mem(MiB(2), MiB(2)), A, RESDB_EXCLUSIVE);
	begin();
	resdb_tx_free(&db, resdb_mem(MiB(2), MiB(1)), A);
	commit_refused("memory 0x200000-0x2fffff is not held by partition 'a'");
	begin();
	resdb_tx_free(&db, resdb_mem(MiB(2), MiB(2)), RESDB_HV);
	commit_refused("memory 0x200000-0x3fffff is not held by the hypervisor");
}

static void test_shared_cpus(void **state)
{
	give(resdb_cpu(2), A, RESDB_SHARED);
	give(resdb_cpu(2), B, RESDB_SHARED);
	u8 mode;
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), &mode), BIT(A) | BIT(B));
	assert_int_equal(mode, RESDB_SHARED);

	begin();
	resdb_tx_alloc(&db, resdb_cpu(2), C, RESDB_EXCLUSIVE);
	commit_refused("CPU 2 is already shared by partitions 'a', 'b'");
	begin();
	resdb_tx_alloc(&db, resdb_cpu(2), A, RESDB_SHARED); /* joining twice */
	commit_refused("CPU 2 is already shared by partitions 'a', 'b'");

	begin();
	resdb_tx_free(&db, resdb_cpu(2), A);
	commit_ok();
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), NULL), BIT(B));
	begin();
	resdb_tx_free(&db, resdb_cpu(2), B);
	commit_ok();
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), NULL), 0); /* last sharer gone: free */
	give(resdb_cpu(2), C, RESDB_EXCLUSIVE);

	/* The hypervisor can be a sharer (its console UART, say). */
	give(resdb_device("uart0"), RESDB_HV, RESDB_SHARED);
	give(resdb_device("uart0"), A, RESDB_SHARED);
	begin();
	resdb_tx_alloc(&db, resdb_device("uart0"), B, RESDB_EXCLUSIVE);
	commit_refused("device 'uart0' is already shared by the hypervisor and partition 'a'");

	/* Shared ranges are joined only when identical. */
	give(resdb_mem(MiB(8), MiB(2)), A, RESDB_SHARED);
	give(resdb_mem(MiB(8), MiB(2)), B, RESDB_SHARED);
	begin();
	resdb_tx_alloc(&db, resdb_mem(MiB(9), MiB(2)), C, RESDB_SHARED);
	commit_refused("memory 0x900000-0xafffff overlaps memory 0x800000-0x9fffff shared by partitions 'a', 'b'");
}

static void test_vectors_identical_on_two_cpus(void **state)
{
	give(resdb_vector(0, 0x20), A, RESDB_EXCLUSIVE);
	give(resdb_vector(1, 0x21), A, RESDB_EXCLUSIVE);

	begin();
	int both = resdb_tx_alloc_any_vector(&db, BIT(0) | BIT(1), B, RESDB_EXCLUSIVE);
	int one = resdb_tx_alloc_any_vector(&db, BIT(1), B, RESDB_EXCLUSIVE);
	int global = resdb_tx_alloc_any_vector(&db, 0, RESDB_HV, RESDB_EXCLUSIVE);
	commit_ok();
	assert_int_equal(resdb_tx_result(&db, both), 0x22); /* first free on CPU 0 and CPU 1 */
	assert_int_equal(resdb_owners(&db, resdb_vector(0, 0x22), NULL), BIT(B));
	assert_int_equal(resdb_owners(&db, resdb_vector(1, 0x22), NULL), BIT(B));
	assert_int_equal(resdb_tx_result(&db, one), 0x20);  /* CPU 1 alone: 0x20 is free there */
	assert_int_equal(resdb_tx_result(&db, global), 0x23);
	assert_int_equal(resdb_owners(&db, resdb_vector(3, 0x23), NULL), BIT(RESDB_HV));

	begin();
	resdb_tx_alloc(&db, resdb_vector(3, 0x23), A, RESDB_EXCLUSIVE);
	commit_refused("vector 0x23 on CPU 3 overlaps vector 0x23 on every CPU of the hypervisor");
	begin();
	resdb_tx_alloc(&db, resdb_vector(1, 0x22), A, RESDB_EXCLUSIVE);
	commit_refused("vector 0x22 on CPU 1 is already dedicated to partition 'b'");
	begin();
	resdb_tx_alloc(&db, resdb_vector(5, 0x40), A, RESDB_EXCLUSIVE);
	commit_refused("vector 0x40 on CPU 5: CPU 5 is not online (the machine has 4 CPUs)");
	begin();
	resdb_tx_alloc_any_vector(&db, BIT(4), A, RESDB_EXCLUSIVE);
	commit_refused("vector search on CPUs that are not online (the machine has 4 CPUs)");

	/* Fill CPU 2 to the last vector: the next search on it fails. */
	begin();
	for (u32 v = RESDB_VECTOR_FIRST; v <= RESDB_VECTOR_LAST; v++)
		if (v != 0x23)
			resdb_tx_alloc(&db, resdb_vector(2, v), C, RESDB_EXCLUSIVE);
	commit_ok();
	begin();
	resdb_tx_alloc_any_vector(&db, BIT(2), A, RESDB_EXCLUSIVE);
	commit_refused("no vector is free on all the CPUs asked for");
}

static void test_memory_search_with_alignment(void **state)
{
	const struct resdb_range ram[] = { { MiB(1), MiB(3) }, { MiB(16) + PAGE_SIZE, MiB(64) } };
	give(resdb_mem(MiB(2), MiB(2)), RESDB_HV, RESDB_EXCLUSIVE);

	begin();
	int first = resdb_tx_alloc_any_mem(&db, MiB(4), MiB(2), ram, 2, A, RESDB_EXCLUSIVE);
	int second = resdb_tx_alloc_any_mem(&db, MiB(2), MiB(2), ram, 2, B, RESDB_EXCLUSIVE);
	int small = resdb_tx_alloc_any_mem(&db, PAGE_SIZE, PAGE_SIZE, ram, 2, C, RESDB_EXCLUSIVE);
	commit_ok();
	/* The first range has no 2 MiB-aligned 4 MiB; in the second, 16 MiB + 4 KiB rounds up to 18 MiB. */
	assert_int_equal(resdb_tx_result(&db, first), MiB(18));
	assert_int_equal(resdb_tx_result(&db, second), MiB(22)); /* sees the first one */
	assert_int_equal(resdb_tx_result(&db, small), MiB(1));
	assert_int_equal(resdb_owners(&db, resdb_mem(MiB(21), PAGE_SIZE), NULL), BIT(A));

	begin();
	resdb_tx_alloc_any_mem(&db, MiB(128), MiB(2), ram, 2, A, RESDB_EXCLUSIVE);
	commit_refused("no free memory range of 0x8000000 bytes aligned to 0x200000 in the ranges given");
	begin();
	resdb_tx_alloc_any_mem(&db, MiB(2), MiB(3), ram, 2, A, RESDB_EXCLUSIVE);
	commit_refused("bad memory search: size 0x200000, alignment 0x300000");
	/* A range reaching the top of the address space does not wrap. */
	const struct resdb_range top[] = { { UINT64_MAX - MiB(4) + 1, MiB(4) } };
	begin();
	int t = resdb_tx_alloc_any_mem(&db, MiB(2), MiB(2), top, 1, A, RESDB_EXCLUSIVE);
	commit_ok();
	assert_int_equal(resdb_tx_result(&db, t), UINT64_MAX - MiB(4) + 1);
}

static void test_any_cpu(void **state)
{
	give(resdb_cpu(0), RESDB_HV, RESDB_EXCLUSIVE);
	give(resdb_cpu(1), A, RESDB_EXCLUSIVE);
	begin();
	int op = resdb_tx_alloc_any_cpu(&db, B, RESDB_EXCLUSIVE);
	int op2 = resdb_tx_alloc_any_cpu(&db, C, RESDB_SHARED);
	commit_ok();
	assert_int_equal(resdb_tx_result(&db, op), 2);
	assert_int_equal(resdb_tx_result(&db, op2), 3);
	begin();
	resdb_tx_alloc_any_cpu(&db, A, RESDB_EXCLUSIVE);
	commit_refused("no free CPU (all 4 are taken)");
	begin();
	resdb_tx_alloc(&db, resdb_cpu(4), A, RESDB_EXCLUSIVE);
	commit_refused("CPU 4 is not online (the machine has 4 CPUs)");
}

static void test_devices(void **state)
{
	give(resdb_device("uart0"), A, RESDB_EXCLUSIVE);
	give(resdb_device("00:1f.3"), B, RESDB_EXCLUSIVE);
	begin();
	resdb_tx_alloc(&db, resdb_device("uart0"), B, RESDB_SHARED);
	commit_refused("device 'uart0' is already dedicated to partition 'a'");
	begin();
	resdb_tx_alloc(&db, resdb_device("a_name_much_too_long"), B, RESDB_SHARED);
	commit_refused("bad device name (1 to 15 characters)");
	begin();
	resdb_tx_alloc(&db, resdb_device(""), B, RESDB_SHARED);
	commit_refused("bad device name (1 to 15 characters)");
}

static void test_release_all(void **state)
{
	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc(&db, resdb_cpu(2), A, RESDB_SHARED);
	resdb_tx_alloc(&db, resdb_cpu(2), B, RESDB_SHARED);
	resdb_tx_alloc(&db, resdb_ports(0x60, 1), A, RESDB_EXCLUSIVE);
	commit_ok();
	begin();
	int op = resdb_tx_release_all(&db, A);
	commit_ok();
	assert_int_equal(resdb_tx_result(&db, op), 3);
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), NULL), 0);
	assert_int_equal(resdb_owners(&db, resdb_cpu(2), NULL), BIT(B));
	assert_int_equal(resdb_owners(&db, resdb_ports(0x60, 1), NULL), 0);
}

static void test_view_contents(void **state)
{
	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc(&db, resdb_cpu(2), A, RESDB_SHARED);
	resdb_tx_alloc(&db, resdb_cpu(2), B, RESDB_SHARED);
	resdb_tx_alloc(&db, resdb_mem(MiB(64), MiB(32)), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc(&db, resdb_device("uart0"), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc(&db, resdb_ports(0x3f8, 8), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc_any_vector(&db, BIT(1), A, RESDB_EXCLUSIVE);
	resdb_tx_alloc(&db, resdb_cpu(3), B, RESDB_EXCLUSIVE);
	commit_ok();

	static struct resdb_view v;
	memset(&v, 0xaa, sizeof(v));
	assert_int_equal(resdb_view_fill(&db, A, &v), 0);
	assert_true(sizeof(v) <= 4096);
	assert_int_equal(v.magic, RESDB_VIEW_MAGIC);
	assert_int_equal(v.version, RESDB_VIEW_VERSION);
	assert_int_equal(v.size, sizeof(v));
	assert_int_equal(v.partition, A);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.generation, db.generation);
	assert_string_equal(v.name, "a");
	assert_int_equal(v.ncpus, 2);
	assert_int_equal(v.cpus[0].cpu, 1);
	assert_int_equal(v.cpus[0].mode, RESDB_VIEW_DEDICATED);
	assert_int_equal(v.cpus[0].sharers, 1);
	assert_int_equal(v.cpus[1].cpu, 2);
	assert_int_equal(v.cpus[1].mode, RESDB_VIEW_SHARED);
	assert_int_equal(v.cpus[1].sharers, 2);
	assert_int_equal(v.nmem, 1);
	assert_int_equal(v.mem[0].base, MiB(64));
	assert_int_equal(v.mem[0].size, MiB(32));
	assert_int_equal(v.ndevices, 1);
	assert_string_equal(v.devices[0].name, "uart0");
	assert_int_equal(v.nports, 1);
	assert_int_equal(v.ports[0].base, 0x3f8);
	assert_int_equal(v.ports[0].count, 8);
	assert_int_equal(v.nvectors, 1);
	assert_int_equal(v.vectors[0].cpu, 1);
	assert_int_equal(v.vectors[0].vector, 0x20);
	assert_int_equal(v.cpus[2].cpu, 0); /* unused slots are zero, not stale */

	assert_int_equal(resdb_view_fill(&db, B, &v), 0);
	assert_int_equal(v.ncpus, 2); /* CPU 2 shared, CPU 3 dedicated; nothing of a's own */
	assert_int_equal(v.cpus[0].cpu, 2);
	assert_int_equal(v.cpus[1].cpu, 3);
	assert_int_equal(v.nmem + v.ndevices + v.nports + v.nvectors, 0);
	assert_int_equal(resdb_view_fill(&db, RESDB_MAX_PARTITIONS, &v), -1);

	/* More vectors than the view holds: the view says it is incomplete. */
	begin();
	for (u32 i = 0; i < RESDB_VIEW_MAX_VECTORS + 1; i++)
		resdb_tx_alloc(&db, resdb_vector(0, 0x40 + i), C, RESDB_EXCLUSIVE);
	commit_ok();
	assert_int_equal(resdb_view_fill(&db, C, &v), 0);
	assert_int_equal(v.nvectors, RESDB_VIEW_MAX_VECTORS);
	assert_int_equal(v.flags, RESDB_VIEW_TRUNCATED);
}

static void test_entry_text(void **state)
{
	give(resdb_cpu(1), A, RESDB_EXCLUSIVE);
	char line[128];
	for (int i = 0; i < RESDB_MAX_ENTRIES; i++) {
		if (db.entries[i].mode != RESDB_FREE) {
			resdb_entry_text(&db, &db.entries[i], line, sizeof(line));
			assert_string_equal(line, "CPU 1: dedicated to partition 'a'");
		}
	}
	resdb_entry_text(&db, &db.entries[1], line, sizeof(line));
	assert_string_equal(line, "(unused)");
}

static void test_table_full(void **state)
{
	begin();
	for (u32 i = 0; i < RESDB_MAX_ENTRIES; i++)
		resdb_tx_alloc(&db, resdb_ports(0x1000 + i, 1), A, RESDB_EXCLUSIVE);
	commit_ok();
	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), B, RESDB_EXCLUSIVE);
	commit_refused("no room for CPU 1: the resource table is full (256 entries)");

	/* Freeing everything and adding one more is 257 changes: more than the undo log holds. */
	begin();
	resdb_tx_release_all(&db, A);
	resdb_tx_alloc(&db, resdb_cpu(1), B, RESDB_EXCLUSIVE);
	commit_refused("transaction too large (more than 256 table changes)");
}

static void test_transaction_full(void **state)
{
	begin();
	for (u32 i = 0; i < RESDB_TX_MAX_OPS; i++)
		assert_int_equal(resdb_tx_alloc(&db, resdb_ports(i, 1), A, RESDB_EXCLUSIVE), (int)i);
	assert_int_equal(resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE), -1);
	commit_refused("transaction too large (at most 256 operations and 32 search ranges)");
	assert_int_equal(resdb_tx_failed_op(&db), -1);

	struct resdb_range many[RESDB_TX_MAX_RANGES + 1] = { { MiB(1), MiB(1) } };
	begin();
	assert_int_equal(resdb_tx_alloc_any_mem(&db, PAGE_SIZE, PAGE_SIZE, many, RESDB_TX_MAX_RANGES + 1,
						A, RESDB_EXCLUSIVE), -1);
	commit_refused("transaction too large (at most 256 operations and 32 search ranges)");
}

static void test_transaction_protocol(void **state)
{
	assert_int_equal(resdb_tx_commit(&db, err, sizeof(err)), -1);
	assert_string_equal(err, "no transaction is open");
	assert_int_equal(resdb_tx_begin(&db), 0);
	assert_int_equal(resdb_tx_begin(&db), -1); /* one at a time */
	resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE);
	resdb_tx_abort(&db);
	assert_int_equal(resdb_owners(&db, resdb_cpu(1), NULL), 0);
	assert_int_equal(resdb_tx_alloc(&db, resdb_cpu(1), A, RESDB_EXCLUSIVE), -1); /* none open */
	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), 64, RESDB_EXCLUSIVE);
	commit_refused("bad owner id 64");
	begin();
	resdb_tx_alloc(&db, resdb_cpu(1), A, 7);
	commit_refused("bad mode 7");
	begin();
	commit_ok(); /* an empty transaction is fine */
	assert_int_equal(resdb_set_partition_name(&db, RESDB_MAX_PARTITIONS, "x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init, setup),
		cmocka_unit_test_setup(test_dedicated_cpu_conflict, setup),
		cmocka_unit_test_setup(test_hypervisor_and_unnamed_owners, setup),
		cmocka_unit_test_setup(test_port_overlaps, setup),
		cmocka_unit_test_setup(test_memory_overlaps_and_checks, setup),
		cmocka_unit_test_setup(test_all_or_nothing, setup),
		cmocka_unit_test_setup(test_free_resources, setup),
		cmocka_unit_test_setup(test_shared_cpus, setup),
		cmocka_unit_test_setup(test_vectors_identical_on_two_cpus, setup),
		cmocka_unit_test_setup(test_memory_search_with_alignment, setup),
		cmocka_unit_test_setup(test_any_cpu, setup),
		cmocka_unit_test_setup(test_devices, setup),
		cmocka_unit_test_setup(test_release_all, setup),
		cmocka_unit_test_setup(test_view_contents, setup),
		cmocka_unit_test_setup(test_entry_text, setup),
		cmocka_unit_test_setup(test_table_full, setup),
		cmocka_unit_test_setup(test_transaction_full, setup),
		cmocka_unit_test_setup(test_transaction_protocol, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
