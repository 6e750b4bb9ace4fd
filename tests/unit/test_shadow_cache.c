/* Unit tests for src/arch/x86/shadow/shadow_cache.c with fake shadow roots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <arch/shadow_cache.h>

/* The fake shadow MMU: hands out roots 0x1000, 0x2000, ... and logs what is freed. */
struct fake {
	u64 next_root;
	int live;            /* roots allocated and not freed */
	int fail_allocs;     /* fail this many allocations, then succeed */
	int max_live;        /* >0: fail while this many roots are live */
	u64 freed_key[16];
	u64 freed_root[16];
	int nfreed;
};

static int fake_alloc(void *ctx, u64 key, u64 *root)
{
	struct fake *f = ctx;
	if (f->fail_allocs > 0) {
		f->fail_allocs--;
		return -1;
	}
	if (f->max_live && f->live >= f->max_live)
		return -1;
	f->next_root += 0x1000;
	*root = f->next_root;
	f->live++;
	return 0;
}

static void fake_free(void *ctx, u64 key, u64 root)
{
	struct fake *f = ctx;
	assert_true(f->nfreed < 16);
	f->freed_key[f->nfreed] = key;
	f->freed_root[f->nfreed] = root;
	f->nfreed++;
	f->live--;
}

static struct fake fk;
static struct shadow_cache cache;

static void setup(unsigned capacity)
{
	memset(&fk, 0, sizeof(fk));
	struct shadow_cache_ops ops = { fake_alloc, fake_free, &fk };
	shadow_cache_init(&cache, &ops, capacity);
}

/* Guest roots for the tests: 4-level CR3 values 0x10000, 0x20000, ... */
static u64 key(int n)
{
	return shadow_cache_key(0x10000ULL * n, GUEST_PAGING_4LEVEL, 0);
}

static void test_key(void **state)
{
	/* PCID / PWT / PCD do not change the key; the mode and the role do. */
	assert_int_equal(shadow_cache_key(0x123000 | 0x18 | 0x5, GUEST_PAGING_4LEVEL, 0),
			 shadow_cache_key(0x123000, GUEST_PAGING_4LEVEL, 0));
	assert_int_not_equal(shadow_cache_key(0x123000, GUEST_PAGING_4LEVEL, 0),
			     shadow_cache_key(0x123000, GUEST_PAGING_32BIT, 0));
	assert_int_not_equal(shadow_cache_key(0x123000, GUEST_PAGING_4LEVEL, 0),
			     shadow_cache_key(0x123000, GUEST_PAGING_4LEVEL, 1));
	/* PAE roots are 32-byte aligned: bits 11:5 matter there. */
	assert_int_not_equal(shadow_cache_key(0x123020, GUEST_PAGING_PAE, 0),
			     shadow_cache_key(0x123040, GUEST_PAGING_PAE, 0));
}

static void test_hit_miss(void **state)
{
	setup(4);
	u64 root, again;
	assert_false(shadow_cache_lookup(&cache, key(1), &root));
	assert_int_equal(shadow_cache_insert(&cache, key(1), &root), 0);
	assert_int_equal(root, 0x1000);
	assert_true(shadow_cache_lookup(&cache, key(1), &again));
	assert_int_equal(again, root);
	assert_int_equal(shadow_cache_get(&cache, key(2), &root), 0);
	assert_int_equal(root, 0x2000);
	assert_int_equal(shadow_cache_get(&cache, key(1), &root), 1);
	assert_int_equal(root, 0x1000);
	assert_int_equal(cache.stats.hits, 2);
	assert_int_equal(cache.stats.misses, 2);
	assert_int_equal(cache.stats.evictions, 0);
	assert_int_equal(shadow_cache_count(&cache), 2);
	assert_int_equal(fk.nfreed, 0);
}

static void test_lru_eviction(void **state)
{
	setup(3);
	u64 root;
	for (int n = 1; n <= 3; n++)
		assert_int_equal(shadow_cache_get(&cache, key(n), &root), 0);
	/* Use 1 then 3: 2 becomes the least recently used. */
	assert_int_equal(shadow_cache_get(&cache, key(1), &root), 1);
	assert_int_equal(shadow_cache_get(&cache, key(3), &root), 1);
	assert_int_equal(shadow_cache_get(&cache, key(4), &root), 0);
	assert_int_equal(fk.nfreed, 1);
	assert_int_equal(fk.freed_key[0], key(2));
	assert_int_equal(fk.freed_root[0], 0x2000);
	/* Next victim is 1 (used before 3 and 4). */
	assert_int_equal(shadow_cache_get(&cache, key(5), &root), 0);
	assert_int_equal(fk.freed_key[1], key(1));
	assert_int_equal(shadow_cache_get(&cache, key(3), &root), 1);
	assert_int_equal(root, 0x3000);
	assert_int_equal(cache.stats.evictions, 2);
	assert_int_equal(shadow_cache_count(&cache), 3);
	assert_int_equal(fk.live, 3); /* the bound holds */
}

static void test_invalidate(void **state)
{
	setup(4);
	u64 root;
	shadow_cache_get(&cache, key(1), &root);
	shadow_cache_get(&cache, key(2), &root);
	shadow_cache_get(&cache, key(3), &root);
	assert_true(shadow_cache_invalidate(&cache, key(2)));
	assert_false(shadow_cache_invalidate(&cache, key(2)));
	assert_int_equal(fk.freed_root[0], 0x2000);
	assert_false(shadow_cache_lookup(&cache, key(2), &root));
	assert_int_equal(shadow_cache_get(&cache, key(2), &root), 0);
	assert_int_equal(root, 0x4000); /* rebuilt */
	shadow_cache_invalidate_all(&cache);
	assert_int_equal(shadow_cache_count(&cache), 0);
	assert_int_equal(fk.live, 0);
	assert_int_equal(cache.stats.invalidations, 4);
	assert_int_equal(cache.stats.evictions, 0);
	/* Inserting a key that is already cached replaces (and frees) the stale root. */
	shadow_cache_insert(&cache, key(7), &root);
	shadow_cache_insert(&cache, key(7), &root);
	assert_int_equal(shadow_cache_count(&cache), 1);
	assert_int_equal(fk.live, 1);
	assert_int_equal(cache.stats.invalidations, 5);
}

static void test_disabled(void **state)
{
	setup(4);
	u64 root;
	shadow_cache_get(&cache, key(1), &root);
	shadow_cache_get(&cache, key(2), &root);
	shadow_cache_set_enabled(&cache, false);
	assert_int_equal(fk.live, 0);
	assert_int_equal(cache.stats.invalidations, 2);
	/* Every switch misses, builds a new root and frees the previous one. */
	for (int i = 0; i < 6; i++)
		assert_int_equal(shadow_cache_get(&cache, key(1 + i % 2), &root), 0);
	assert_int_equal(cache.stats.hits, 0);
	assert_int_equal(cache.stats.misses, 8);
	assert_int_equal(cache.stats.evictions, 5);
	assert_int_equal(fk.live, 1);
	assert_int_equal(shadow_cache_count(&cache), 1);
	/* Same root reloaded: still a miss. */
	assert_int_equal(shadow_cache_get(&cache, key(2), &root), 0);
	shadow_cache_set_enabled(&cache, true);
	shadow_cache_get(&cache, key(1), &root);
	assert_int_equal(shadow_cache_get(&cache, key(1), &root), 1);
}

static void test_out_of_memory(void **state)
{
	setup(8);
	u64 root;
	fk.max_live = 2;
	shadow_cache_get(&cache, key(1), &root);
	shadow_cache_get(&cache, key(2), &root);
	/* Memory is full before the cache is: the LRU root is given back and the allocation retried. */
	assert_int_equal(shadow_cache_get(&cache, key(3), &root), 0);
	assert_int_equal(fk.freed_key[0], key(1));
	assert_int_equal(cache.stats.evictions, 1);
	/* Nothing left to evict: -1, nothing recorded. */
	shadow_cache_invalidate_all(&cache);
	fk.fail_allocs = 1;
	assert_int_equal(shadow_cache_get(&cache, key(4), &root), -1);
	assert_int_equal(shadow_cache_count(&cache), 0);
	assert_false(shadow_cache_lookup(&cache, key(4), &root));
}

static void test_capacity_clamp(void **state)
{
	setup(0);
	assert_int_equal(cache.capacity, 1);
	setup(1000);
	assert_int_equal(cache.capacity, SHADOW_CACHE_MAX);
	u64 root;
	for (int n = 1; n <= SHADOW_CACHE_MAX + 5; n++)
		shadow_cache_get(&cache, key(n), &root);
	assert_int_equal(shadow_cache_count(&cache), SHADOW_CACHE_MAX);
	assert_int_equal(cache.stats.evictions, 5);
	assert_true(shadow_cache_lookup(&cache, key(SHADOW_CACHE_MAX + 5), &root));
	assert_false(shadow_cache_lookup(&cache, key(5), &root));
	assert_true(shadow_cache_lookup(&cache, key(6), &root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_invalidate),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_capacity_clamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
