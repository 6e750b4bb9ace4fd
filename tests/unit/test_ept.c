/* Unit tests for src/arch/x86/vmx/ept.c over tables from aligned_alloc(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <arch/ept.h>

/* The test allocator: counts tables, and can be told to fail after N more allocations. */
struct pool {
	int allocs, frees;
	int fail_after; /* -1: never fail */
};

static void *pool_alloc(void *ctx, u64 *pa)
{
	struct pool *p = ctx;
	if (p->fail_after == 0)
		return NULL;
	if (p->fail_after > 0)
		p->fail_after--;
	void *t = aligned_alloc(4096, 4096);
	assert_non_null(t);
	memset(t, 0, 4096);
	*pa = (u64)(uintptr_t)t;
	p->allocs++;
	return t;
}

static void pool_free(void *ctx, void *table, u64 pa)
{
	struct pool *p = ctx;
	assert_int_equal((u64)(uintptr_t)table, pa);
	p->frees++;
	free(table);
}

static void *pool_virt(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

static int live_tables(const struct pool *p)
{
	return p->allocs - p->frees;
}

/* Each test gets a fresh pool and hierarchy, and must end with no leaked table. */
struct fixture {
	struct pool pool;
	struct ept ept;
};

static struct fixture *new_fixture(bool allow_2m, bool allow_1g)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->pool.fail_after = -1;
	struct ept_ops ops = { pool_alloc, pool_free, pool_virt, &f->pool };
	assert_int_equal(ept_init(&f->ept, &ops, allow_2m, allow_1g), 0);
	return f;
}

static void end_fixture(struct fixture *f)
{
	ept_destroy(&f->ept);
	assert_int_equal(f->pool.allocs, f->pool.frees);
	assert_null(f->ept.root);
	free(f);
}

/* Translate and return the walk, asserting the mapped result. */
static struct ept_walk walk_mapped(struct fixture *f, u64 gpa)
{
	struct ept_walk w;
	assert_true(ept_translate(&f->ept, gpa, &w));
	assert_true(w.mapped);
	return w;
}

static void test_init_allocates_one_root_and_destroy_frees_it(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(f->pool.allocs, 1);
	assert_int_equal(f->ept.root_pa, (u64)(uintptr_t)f->ept.root);
	end_fixture(f);
}

static void test_init_fails_when_out_of_memory(void **state)
{
	struct pool pool = { 0, 0, 0 };
	struct ept_ops ops = { pool_alloc, pool_free, pool_virt, &pool };
	struct ept e;
	assert_int_equal(ept_init(&e, &ops, true, true), -1);
}

static void test_map_4k_translates_with_offset_perms_and_memtype(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0x5000, 0x123000, 0x1000, EPT_R | EPT_X, EPT_MT_WB), 0);
	struct ept_walk w = walk_mapped(f, 0x5abc);
	assert_int_equal(w.hpa, 0x123abc);
	assert_int_equal(w.page_size, 0x1000);
	assert_int_equal(w.levels, 4);
	assert_int_equal(w.perms, EPT_R | EPT_X);
	assert_int_equal((w.entry[3] >> EPT_MEMTYPE_SHIFT) & 7, EPT_MT_WB);
	assert_int_equal(w.entry[3] & EPT_IGNORE_PAT, 0);
	assert_int_equal(live_tables(&f->pool), 4);
	end_fixture(f);
}

static void test_non_leaf_entries_are_rwx_without_memtype(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0x5000, 0x123000, 0x1000, EPT_R, EPT_MT_UC), 0);
	struct ept_walk w = walk_mapped(f, 0x5000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w.entry[i] & 0xfff, EPT_RWX);
	assert_int_equal(w.entry[3] & 0xfff, EPT_R | (EPT_MT_UC << EPT_MEMTYPE_SHIFT));
	end_fixture(f);
}

static void test_map_uses_2m_page_when_aligned_and_allowed(void **state)
{
	struct fixture *f = new_fixture(true, false);
	assert_int_equal(ept_map(&f->ept, MiB(4), MiB(64), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	struct ept_walk w = walk_mapped(f, MiB(4) + 0x12345);
	assert_int_equal(w.page_size, MiB(2));
	assert_int_equal(w.levels, 3);
	assert_int_equal(w.hpa, MiB(64) + 0x12345);
	assert_true(w.entry[2] & EPT_LARGE);
	assert_int_equal(live_tables(&f->pool), 3);
	end_fixture(f);
}

static void test_map_uses_4k_pages_when_2m_not_allowed(void **state)
{
	struct fixture *f = new_fixture(false, false);
	assert_int_equal(ept_map(&f->ept, MiB(4), MiB(64), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	struct ept_walk w = walk_mapped(f, MiB(4) + 0x12345);
	assert_int_equal(w.page_size, KiB(4));
	assert_int_equal(w.hpa, MiB(64) + 0x12345);
	assert_int_equal(live_tables(&f->pool), 4);
	end_fixture(f);
}

static void test_map_uses_1g_page_when_aligned_and_allowed(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, GiB(1), GiB(3), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	struct ept_walk w = walk_mapped(f, GiB(1) + MiB(5) + 7);
	assert_int_equal(w.page_size, GiB(1));
	assert_int_equal(w.levels, 2);
	assert_int_equal(w.hpa, GiB(3) + MiB(5) + 7);
	assert_int_equal(live_tables(&f->pool), 2);
	end_fixture(f);
}

static void test_map_1g_range_uses_2m_pages_without_1g_support(void **state)
{
	struct fixture *f = new_fixture(true, false);
	assert_int_equal(ept_map(&f->ept, GiB(1), GiB(3), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(walk_mapped(f, GiB(2) - 1).page_size, MiB(2));
	assert_int_equal(walk_mapped(f, GiB(2) - 1).hpa, GiB(4) - 1);
	end_fixture(f);
}

static void test_map_uses_4k_when_hpa_alignment_differs(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, MiB(2), MiB(8) + 0x1000, MiB(2), EPT_RWX, EPT_MT_WB), 0);
	struct ept_walk w = walk_mapped(f, MiB(2));
	assert_int_equal(w.page_size, KiB(4));
	assert_int_equal(w.hpa, MiB(8) + 0x1000);
	end_fixture(f);
}

static void test_map_mixes_page_sizes_across_unaligned_range(void **state)
{
	struct fixture *f = new_fixture(true, true);
	/* [2M-4K, 4M+4K): one 4 KiB page, one 2 MiB page, one 4 KiB page. */
	assert_int_equal(ept_map(&f->ept, MiB(2) - 0x1000, MiB(10) - 0x1000, MiB(2) + 0x2000,
				 EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(walk_mapped(f, MiB(2) - 0x1000).page_size, KiB(4));
	assert_int_equal(walk_mapped(f, MiB(2)).page_size, MiB(2));
	assert_int_equal(walk_mapped(f, MiB(3)).hpa, MiB(11));
	assert_int_equal(walk_mapped(f, MiB(4)).page_size, KiB(4));
	assert_int_equal(walk_mapped(f, MiB(4)).hpa, MiB(12));
	struct ept_walk w;
	assert_false(ept_translate(&f->ept, MiB(4) + 0x1000, &w));
	assert_false(ept_translate(&f->ept, MiB(2) - 0x2000, &w));
	end_fixture(f);
}

static void test_remap_inside_2m_page_splits_and_keeps_the_rest(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, MiB(4), MiB(64), MiB(2), EPT_R | EPT_X, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&f->ept, MiB(4) + 0x3000, GiB(2), 0x1000, EPT_R | EPT_W, EPT_MT_UC), 0);

	struct ept_walk w = walk_mapped(f, MiB(4) + 0x3008);
	assert_int_equal(w.hpa, GiB(2) + 8);
	assert_int_equal(w.perms, EPT_R | EPT_W);
	assert_int_equal((w.entry[3] >> EPT_MEMTYPE_SHIFT) & 7, EPT_MT_UC);

	for (u64 off = 0; off < MiB(2); off += 0x1000) {
		if (off == 0x3000)
			continue;
		w = walk_mapped(f, MiB(4) + off);
		assert_int_equal(w.hpa, MiB(64) + off);
		assert_int_equal(w.page_size, KiB(4));
		assert_int_equal(w.perms, EPT_R | EPT_X);
		assert_int_equal((w.entry[3] >> EPT_MEMTYPE_SHIFT) & 7, EPT_MT_WB);
	}
	end_fixture(f);
}

static void test_remap_inside_1g_page_splits_into_2m_and_4k(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0, GiB(4), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&f->ept, MiB(10), GiB(8), 0x1000, EPT_R, EPT_MT_UC), 0);
	assert_int_equal(walk_mapped(f, MiB(10)).hpa, GiB(8));
	assert_int_equal(walk_mapped(f, MiB(10) + 0x1000).hpa, GiB(4) + MiB(10) + 0x1000);
	assert_int_equal(walk_mapped(f, MiB(10) + 0x1000).page_size, KiB(4));
	assert_int_equal(walk_mapped(f, MiB(100)).page_size, MiB(2));
	assert_int_equal(walk_mapped(f, MiB(100)).hpa, GiB(4) + MiB(100));
	assert_int_equal(walk_mapped(f, GiB(1) - 1).hpa, GiB(5) - 1);
	end_fixture(f);
}

static void test_large_map_over_small_pages_frees_their_tables(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, MiB(2), MiB(20), 0x3000, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(live_tables(&f->pool), 4);
	assert_int_equal(ept_map(&f->ept, MiB(2), MiB(40), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(live_tables(&f->pool), 3);
	assert_int_equal(walk_mapped(f, MiB(2) + 0x1000).hpa, MiB(40) + 0x1000);
	end_fixture(f);
}

static void test_unmap_4k_inside_2m_keeps_neighbours(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, MiB(4), MiB(64), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&f->ept, MiB(4) + 0x5000, 0x1000), 0);
	struct ept_walk w;
	assert_false(ept_translate(&f->ept, MiB(4) + 0x5000, &w));
	assert_int_equal(w.levels, 4);
	assert_int_equal(walk_mapped(f, MiB(4) + 0x4000).hpa, MiB(64) + 0x4000);
	assert_int_equal(walk_mapped(f, MiB(4) + 0x6000).hpa, MiB(64) + 0x6000);
	end_fixture(f);
}

static void test_unmap_everything_frees_all_but_root(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0x1000, 0x1000, MiB(3), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&f->ept, GiB(600), 0, 0x1000, EPT_RWX, EPT_MT_WB), 0);
	/* The first 512 GiB (PML4 entry 0) go; GiB(600) under entry 1 keeps its 3 tables. */
	assert_int_equal(ept_unmap(&f->ept, 0, GiB(512)), 0);
	assert_int_equal(live_tables(&f->pool), 1 + 3);
	assert_int_equal(walk_mapped(f, GiB(600)).hpa, 0);
	/* Unmapping the last page empties the tables above it, which are freed. */
	assert_int_equal(ept_unmap(&f->ept, GiB(600), 0x1000), 0);
	assert_int_equal(live_tables(&f->pool), 1);
	assert_int_equal(f->ept.root[1], 0);
	end_fixture(f);
}

static void test_unmap_of_unmapped_range_is_harmless(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_unmap(&f->ept, GiB(7), MiB(6)), 0);
	assert_int_equal(live_tables(&f->pool), 1);
	end_fixture(f);
}

static void test_translate_ands_permissions_along_path(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0x5000, 0x9000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
	f->ept.root[0] &= ~(u64)(EPT_W | EPT_X); /* a read-only PML4 entry */
	struct ept_walk w = walk_mapped(f, 0x5000);
	assert_int_equal(w.perms, EPT_R);
	end_fixture(f);
}

static void test_translate_unmapped_reports_levels_read(void **state)
{
	struct fixture *f = new_fixture(true, true);
	struct ept_walk w;
	assert_false(ept_translate(&f->ept, 0x5000, &w));
	assert_false(w.mapped);
	assert_int_equal(w.levels, 1);
	assert_int_equal(w.entry[0], 0);
	assert_false(ept_translate(&f->ept, BIT(48), &w));
	end_fixture(f);
}

static void test_map_refuses_bad_arguments(void **state)
{
	struct fixture *f = new_fixture(true, true);
	struct ept *e = &f->ept;
	assert_int_equal(ept_map(e, 0x1001, 0, 0x1000, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0x10, 0x1000, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0x800, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0x1000, 0, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0x1000, EPT_W, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0x1000, EPT_RWX | BIT(7), EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0x1000, 0, 0x1000, EPT_RWX, 2), -1);
	assert_int_equal(ept_map(e, BIT(48) - 0x1000, 0, 0x2000, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_map(e, 0, BIT(52), 0x1000, EPT_RWX, EPT_MT_WB), -1);
	assert_int_equal(ept_unmap(e, 0x800, 0x1000), -1);
	assert_int_equal(live_tables(&f->pool), 1);
	end_fixture(f);
}

static void test_map_out_of_memory_fails_without_leak(void **state)
{
	struct fixture *f = new_fixture(false, false);
	f->pool.fail_after = 2; /* PDPT and PD succeed, the PT fails */
	assert_int_equal(ept_map(&f->ept, 0, 0, 0x1000, EPT_RWX, EPT_MT_WB), -1);
	end_fixture(f);
}

static void test_split_out_of_memory_leaves_large_page_intact(void **state)
{
	struct fixture *f = new_fixture(true, true);
	assert_int_equal(ept_map(&f->ept, 0, 0, MiB(2), EPT_RWX, EPT_MT_WB), 0);
	f->pool.fail_after = 0;
	assert_int_equal(ept_unmap(&f->ept, 0x1000, 0x1000), -1);
	struct ept_walk w = walk_mapped(f, 0x1000);
	assert_int_equal(w.page_size, MiB(2));
	end_fixture(f);
}

static void test_destroy_frees_every_table_of_a_busy_hierarchy(void **state)
{
	struct fixture *f = new_fixture(true, true);
	for (u64 i = 0; i < 40; i++)
		assert_int_equal(ept_map(&f->ept, i * GiB(13) + i * 0x1000, i * 0x1000, 0x1000,
					 EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&f->ept, 0, 0, GiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_true(live_tables(&f->pool) > 40);
	end_fixture(f); /* asserts allocs == frees */
}

static void test_make_leaf_sets_large_bit_and_memtype(void **state)
{
	assert_int_equal(ept_make_leaf(0x1234000, EPT_R, EPT_MT_WB, 1), 0x1234000 | EPT_R | (6 << 3));
	assert_int_equal(ept_make_leaf(MiB(6), EPT_RWX, EPT_MT_UC, 2), MiB(6) | EPT_RWX | EPT_LARGE);
	assert_int_equal(ept_make_leaf(GiB(3) + MiB(2), EPT_RWX, EPT_MT_WB, 3),
			 GiB(3) | EPT_RWX | (6 << 3) | EPT_LARGE);
	assert_int_equal(ept_make_leaf(0x1000, EPT_RWX, EPT_MT_WB, 0), 0);
	assert_int_equal(ept_make_leaf(0x1000, EPT_RWX, EPT_MT_WB, 4), 0);
}

static void test_pointer_has_wb_walk_length_and_optional_ad(void **state)
{
	struct fixture *f = new_fixture(true, true);
	u64 eptp = ept_pointer(&f->ept, false);
	assert_int_equal(eptp & 7, 6);
	assert_int_equal((eptp >> 3) & 7, 3);
	assert_int_equal(eptp & BIT(6), 0);
	assert_int_equal(eptp & EPT_ADDR_MASK, f->ept.root_pa);
	assert_int_equal(ept_pointer(&f->ept, true), eptp | BIT(6));
	end_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_allocates_one_root_and_destroy_frees_it),
		cmocka_unit_test(test_init_fails_when_out_of_memory),
		cmocka_unit_test(test_map_4k_translates_with_offset_perms_and_memtype),
		cmocka_unit_test(test_non_leaf_entries_are_rwx_without_memtype),
		cmocka_unit_test(test_map_uses_2m_page_when_aligned_and_allowed),
		cmocka_unit_test(test_map_uses_4k_pages_when_2m_not_allowed),
		cmocka_unit_test(test_map_uses_1g_page_when_aligned_and_allowed),
		cmocka_unit_test(test_map_1g_range_uses_2m_pages_without_1g_support),
		cmocka_unit_test(test_map_uses_4k_when_hpa_alignment_differs),
		cmocka_unit_test(test_map_mixes_page_sizes_across_unaligned_range),
		cmocka_unit_test(test_remap_inside_2m_page_splits_and_keeps_the_rest),
		cmocka_unit_test(test_remap_inside_1g_page_splits_into_2m_and_4k),
		cmocka_unit_test(test_large_map_over_small_pages_frees_their_tables),
		cmocka_unit_test(test_unmap_4k_inside_2m_keeps_neighbours),
		cmocka_unit_test(test_unmap_everything_frees_all_but_root),
		cmocka_unit_test(test_unmap_of_unmapped_range_is_harmless),
		cmocka_unit_test(test_translate_ands_permissions_along_path),
		cmocka_unit_test(test_translate_unmapped_reports_levels_read),
		cmocka_unit_test(test_map_refuses_bad_arguments),
		cmocka_unit_test(test_map_out_of_memory_fails_without_leak),
		cmocka_unit_test(test_split_out_of_memory_leaves_large_page_intact),
		cmocka_unit_test(test_destroy_frees_every_table_of_a_busy_hierarchy),
		cmocka_unit_test(test_make_leaf_sets_large_bit_and_memtype),
		cmocka_unit_test(test_pointer_has_wb_walk_length_and_optional_ad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
