/**
 * @file test.h
 * @brief A tiny test framework: checks, and a table of tests run one after another.
 *
 * A test program lists its tests in a table and hands it to run_tests():
 *
 *	static void test_magic(void)
 *	{
 *		CHECK_EQ(boot_info->magic, HVLAB_BOOT_MAGIC);
 *	}
 *
 *	static const struct guest_test tests[] = {
 *		{ "boot info magic", test_magic },
 *	};
 *
 *	int main(const struct hvlab_boot_info *bi)
 *	{
 *		return run_tests(tests, ARRAY_SIZE(tests));
 *	}
 *
 * Output, one line per test, then a summary:
 *
 *	ok - boot info magic
 *	FAIL - hypercall version: cpuid_io.c:42: hypercall(HC_VERSION, 0, 0, 0) == HVLAB_ABI_VERSION: 0xffffffffffffffda != 0x1
 *	ok - xsetbv # skip: no XSAVE on this CPU
 *	results: 2 ok, 1 failed
 *
 * The first failed check of a test prints its FAIL line at once. It does not stop the
 * test: the rest of the checks still run, and further failures follow as "  # also: ..."
 * lines. A test that raises an exception nobody expected fails with the exception's
 * details, and the next test runs. Lines starting with "  #" are comments for people.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include <hvlab/types.h>

/** One test: a name for the report and a function that runs CHECKs. */
struct guest_test {
	const char *name;
	void (*fn)(void);
};

/** Run @p n tests from @p tests, report each, and return the number that failed. */
int run_tests(const struct guest_test *tests, size_t n);

/**
 * CHECK(cond, fmt, ...): if @p cond is false, fail the current test with the message.
 * Evaluates to @p cond, so a test can stop early: if (!CHECK(p, "no page")) return;
 */
#define CHECK(cond, ...) test_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/** CHECK_EQ(a, b): fail the current test unless a == b, showing both values in hex. */
#define CHECK_EQ(a, b) test_check_eq((u64)(a), (u64)(b), __FILE__, __LINE__, #a, #b)

/** Mark the current test as skipped (for a feature this CPU lacks), with a reason. The
 *  test function should return right after. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The functions behind the macros. */
bool test_check(bool ok, const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
bool test_check_eq(u64 a, u64 b, const char *file, int line, const char *a_text,
		   const char *b_text);

#endif
