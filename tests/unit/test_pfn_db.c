/* Unit tests for src/mm/pfn_db.c: ownership bookkeeping and the frame allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <hvlab/pfn_db.h>

#define NFRAMES 64

static struct pfn_entry storage[NFRAMES];

/* A 64-frame machine: frames 1..63 usable RAM unless a test says otherwise. */
static void make_db(struct pfn_db *db)
{
	pfn_db_init(db, storage, NFRAMES);
	pfn_db_set_range(db, 0, NFRAMES, PFN_FREE, 0);
}

/* Count free entries the slow way, to check the free_frames counter. */
static u64 count_free(const struct pfn_db *db)
{
	return pfn_count_owner(db, PFN_FREE, 0);
}

static void test_init_marks_everything_reserved(void **state)
{
	struct pfn_db db;
	pfn_db_init(&db, storage, NFRAMES);
	assert_int_equal(db.free_frames, 0);
	assert_int_equal(pfn_count_owner(&db, PFN_RESERVED, 0), NFRAMES);
	assert_int_equal(pfn_alloc(&db, PFN_HYPERVISOR, 0), 0);
}

static void test_frame_zero_stays_reserved_when_range_freed(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_int_equal(pfn_lookup(&db, 0)->kind, PFN_RESERVED);
	assert_int_equal(db.free_frames, NFRAMES - 1);
	assert_int_equal(count_free(&db), NFRAMES - 1);
}

static void test_set_range_clips_at_table_end(void **state)
{
	struct pfn_db db;
	pfn_db_init(&db, storage, NFRAMES);
	pfn_db_set_range(&db, 60, 100, PFN_FREE, 0);
	assert_int_equal(db.free_frames, 4);
	pfn_db_set_range(&db, 1000, 5, PFN_FREE, 0);
	assert_int_equal(db.free_frames, 4);
}

static void test_set_range_keeps_free_count_exact(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 10, 5, PFN_HYPERVISOR, 0);
	pfn_db_set_range(&db, 12, 5, PFN_PARTITION, 3); /* overlaps: 12..14 change owner */
	assert_int_equal(db.free_frames, count_free(&db));
	assert_int_equal(db.free_frames, NFRAMES - 1 - 7);
	assert_int_equal(pfn_count_owner(&db, PFN_HYPERVISOR, 0), 2);
	assert_int_equal(pfn_count_owner(&db, PFN_PARTITION, 3), 5);
}

static void test_alloc_records_owner_and_returns_address(void **state)
{
	struct pfn_db db;
	make_db(&db);
	u64 pa = pfn_alloc(&db, PFN_PARTITION, 7);
	assert_int_equal(pa, 1 * PAGE_SIZE);
	const struct pfn_entry *e = pfn_lookup(&db, pa);
	assert_non_null(e);
	assert_int_equal(e->kind, PFN_PARTITION);
	assert_int_equal(e->id, 7);
	assert_int_equal(db.free_frames, NFRAMES - 2);
}

static void test_alloc_is_next_fit(void **state)
{
	struct pfn_db db;
	make_db(&db);
	u64 a = pfn_alloc(&db, PFN_HYPERVISOR, 0);
	u64 b = pfn_alloc(&db, PFN_HYPERVISOR, 0);
	assert_true(pfn_free(&db, a));
	/* Next fit continues after b instead of reusing a at once. */
	assert_int_equal(pfn_alloc(&db, PFN_HYPERVISOR, 0), b + PAGE_SIZE);
}

static void test_alloc_wraps_around_and_skips_frame_zero(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 1, NFRAMES - 1, PFN_HYPERVISOR, 0);
	pfn_db_set_range(&db, 5, 1, PFN_FREE, 0);
	db.next_hint = 40;
	assert_int_equal(pfn_alloc(&db, PFN_HYPERVISOR, 0), 5 * PAGE_SIZE);
	assert_int_equal(pfn_alloc(&db, PFN_HYPERVISOR, 0), 0);
	assert_int_equal(pfn_lookup(&db, 0)->kind, PFN_RESERVED);
}

static void test_alloc_until_empty_hands_out_each_frame_once(void **state)
{
	struct pfn_db db;
	make_db(&db);
	bool seen[NFRAMES] = { false };
	for (int i = 0; i < NFRAMES - 1; i++) {
		u64 pa = pfn_alloc(&db, PFN_PAGETABLE, 1);
		assert_int_not_equal(pa, 0);
		assert_false(seen[pa / PAGE_SIZE]);
		seen[pa / PAGE_SIZE] = true;
	}
	assert_int_equal(db.free_frames, 0);
	assert_int_equal(pfn_alloc(&db, PFN_PAGETABLE, 1), 0);
}

static void test_alloc_refuses_free_and_reserved_as_owner(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_int_equal(pfn_alloc(&db, PFN_FREE, 0), 0);
	assert_int_equal(pfn_alloc(&db, PFN_RESERVED, 0), 0);
	assert_int_equal(db.free_frames, NFRAMES - 1);
}

static void test_alloc_contig_returns_aligned_run(void **state)
{
	struct pfn_db db;
	make_db(&db);
	u64 pa = pfn_alloc_contig(&db, 4, 4 * PAGE_SIZE, PFN_PARTITION, 2);
	assert_int_equal(pa, 4 * PAGE_SIZE); /* frame 0 is reserved, so 0 is no candidate */
	assert_int_equal(pfn_count_owner(&db, PFN_PARTITION, 2), 4);
	assert_int_equal(db.free_frames, NFRAMES - 1 - 4);
}

static void test_alloc_contig_skips_runs_with_a_taken_frame(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 10, 1, PFN_HYPERVISOR, 0);  /* breaks the run 8..15 */
	pfn_db_set_range(&db, 17, 1, PFN_RESERVED, 0);    /* breaks the run 16..23 */
	u64 pa = pfn_alloc_contig(&db, 8, 8 * PAGE_SIZE, PFN_PARTITION, 1);
	assert_int_equal(pa, 24 * PAGE_SIZE);
}

static void test_alloc_contig_fails_when_no_aligned_run(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 33, 1, PFN_HYPERVISOR, 0);
	/* 32 frames aligned to 128 KiB: the only candidate is frame 32, and 33 is taken. */
	assert_int_equal(pfn_alloc_contig(&db, 32, 32 * PAGE_SIZE, PFN_PARTITION, 1), 0);
	assert_int_equal(db.free_frames, NFRAMES - 2);
}

static void test_alloc_contig_refuses_bad_alignment_and_zero_count(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_int_equal(pfn_alloc_contig(&db, 1, 3 * PAGE_SIZE, PFN_PARTITION, 1), 0);
	assert_int_equal(pfn_alloc_contig(&db, 1, 512, PFN_PARTITION, 1), 0);
	assert_int_equal(pfn_alloc_contig(&db, 0, PAGE_SIZE, PFN_PARTITION, 1), 0);
	assert_int_equal(pfn_alloc_contig(&db, NFRAMES, PAGE_SIZE, PFN_PARTITION, 1), 0);
	assert_int_equal(db.free_frames, NFRAMES - 1);
}

static void test_claim_range_takes_exact_frames(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_true(pfn_claim_range(&db, 20, 4, PFN_PARTITION, 9));
	for (u64 f = 20; f < 24; f++)
		assert_int_equal(pfn_lookup(&db, f * PAGE_SIZE)->id, 9);
	assert_int_equal(db.free_frames, NFRAMES - 1 - 4);
}

static void test_claim_range_is_all_or_nothing(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 23, 1, PFN_HYPERVISOR, 0);
	assert_false(pfn_claim_range(&db, 20, 4, PFN_PARTITION, 9));
	assert_int_equal(pfn_count_owner(&db, PFN_PARTITION, 9), 0);
	assert_int_equal(db.free_frames, NFRAMES - 2);
}

static void test_claim_range_refuses_frame_zero_and_outside(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_false(pfn_claim_range(&db, 0, 2, PFN_PARTITION, 1));
	assert_false(pfn_claim_range(&db, 60, 8, PFN_PARTITION, 1));
	assert_false(pfn_claim_range(&db, UINT64_MAX, 2, PFN_PARTITION, 1));
	assert_int_equal(db.free_frames, NFRAMES - 1);
}

static void test_free_refuses_double_free(void **state)
{
	struct pfn_db db;
	make_db(&db);
	u64 pa = pfn_alloc(&db, PFN_HYPERVISOR, 0);
	assert_true(pfn_free(&db, pa));
	assert_int_equal(db.free_frames, NFRAMES - 1);
	assert_false(pfn_free(&db, pa));
	assert_int_equal(db.free_frames, NFRAMES - 1);
}

static void test_free_refuses_reserved_and_outside(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 30, 1, PFN_RESERVED, 0);
	assert_false(pfn_free(&db, 0));
	assert_false(pfn_free(&db, 30 * PAGE_SIZE));
	assert_false(pfn_free(&db, NFRAMES * PAGE_SIZE));
	assert_int_equal(pfn_lookup(&db, 30 * PAGE_SIZE)->kind, PFN_RESERVED);
}

static void test_free_owner_frees_only_that_owner(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 10, 3, PFN_PARTITION, 1);
	pfn_db_set_range(&db, 20, 2, PFN_PARTITION, 2);
	pfn_db_set_range(&db, 30, 2, PFN_PAGETABLE, 1);
	assert_int_equal(pfn_free_owner(&db, PFN_PARTITION, 1), 3);
	assert_int_equal(pfn_count_owner(&db, PFN_PARTITION, 2), 2);
	assert_int_equal(pfn_count_owner(&db, PFN_PAGETABLE, 1), 2);
	assert_int_equal(db.free_frames, count_free(&db));
}

static void test_free_owner_refuses_reserved(void **state)
{
	struct pfn_db db;
	make_db(&db);
	pfn_db_set_range(&db, 40, 4, PFN_RESERVED, 0);
	assert_int_equal(pfn_free_owner(&db, PFN_RESERVED, 0), 0);
	assert_int_equal(pfn_lookup(&db, 0)->kind, PFN_RESERVED);
	assert_int_equal(pfn_count_owner(&db, PFN_RESERVED, 0), 5);
}

static void test_lookup_outside_table_is_null(void **state)
{
	struct pfn_db db;
	make_db(&db);
	assert_null(pfn_lookup(&db, NFRAMES * PAGE_SIZE));
	assert_non_null(pfn_lookup(&db, NFRAMES * PAGE_SIZE - 1));
}

static void test_id_is_zero_for_kinds_without_owner_id(void **state)
{
	struct pfn_db db;
	make_db(&db);
	u64 pa = pfn_alloc(&db, PFN_HYPERVISOR, 42);
	assert_int_equal(pfn_lookup(&db, pa)->id, 0);
}

static void test_kind_names(void **state)
{
	assert_string_equal(pfn_kind_name(PFN_FREE), "free");
	assert_string_equal(pfn_kind_name(PFN_RESERVED), "reserved");
	assert_string_equal(pfn_kind_name(PFN_HYPERVISOR), "hypervisor");
	assert_string_equal(pfn_kind_name(PFN_PARTITION), "partition");
	assert_string_equal(pfn_kind_name(PFN_PAGETABLE), "page table");
	assert_string_equal(pfn_kind_name(200), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_marks_everything_reserved),
		cmocka_unit_test(test_frame_zero_stays_reserved_when_range_freed),
		cmocka_unit_test(test_set_range_clips_at_table_end),
		cmocka_unit_test(test_set_range_keeps_free_count_exact),
		cmocka_unit_test(test_alloc_records_owner_and_returns_address),
		cmocka_unit_test(test_alloc_is_next_fit),
		cmocka_unit_test(test_alloc_wraps_around_and_skips_frame_zero),
		cmocka_unit_test(test_alloc_until_empty_hands_out_each_frame_once),
		cmocka_unit_test(test_alloc_refuses_free_and_reserved_as_owner),
		cmocka_unit_test(test_alloc_contig_returns_aligned_run),
		cmocka_unit_test(test_alloc_contig_skips_runs_with_a_taken_frame),
		cmocka_unit_test(test_alloc_contig_fails_when_no_aligned_run),
		cmocka_unit_test(test_alloc_contig_refuses_bad_alignment_and_zero_count),
		cmocka_unit_test(test_claim_range_takes_exact_frames),
		cmocka_unit_test(test_claim_range_is_all_or_nothing),
		cmocka_unit_test(test_claim_range_refuses_frame_zero_and_outside),
		cmocka_unit_test(test_free_refuses_double_free),
		cmocka_unit_test(test_free_refuses_reserved_and_outside),
		cmocka_unit_test(test_free_owner_frees_only_that_owner),
		cmocka_unit_test(test_free_owner_refuses_reserved),
		cmocka_unit_test(test_lookup_outside_table_is_null),
		cmocka_unit_test(test_id_is_zero_for_kinds_without_owner_id),
		cmocka_unit_test(test_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
