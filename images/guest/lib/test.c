/**
 * @file test.c
 * @brief The test runner and the checks behind CHECK() and CHECK_EQ() (see test.h).
 */
#include <hvlab/lib.h>
#include "console.h"
#include "idt.h"
#include "test.h"
#include "try.h"

#define REASON_MAX 200

/* The test being run: its name, how many checks failed so far, a skip reason. */
static struct {
	const char *name;
	int failures;
	bool skipped;
	char skip_reason[REASON_MAX];
} current;

/* The file name without its directories: "cpuid_io.c", not "images/guest/tests/cpuid_io.c". */
static const char *base_name(const char *path)
{
	const char *slash = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			slash = p + 1;
	return slash;
}

/* Report a failure described by @msg: the first one of a test is its FAIL line, the
 * next ones follow it as "  # also:" lines. */
static void record_failure(const char *msg)
{
	if (current.failures++ == 0)
		gprintf("FAIL - %s: %s\n", current.name, msg);
	else
		gprintf("  # also: %s\n", msg);
}

bool test_check(bool ok, const char *file, int line, const char *cond, const char *fmt, ...)
{
	char msg[REASON_MAX], detail[REASON_MAX];
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s:%d: %s: %s", base_name(file), line, cond, detail);
	record_failure(msg);
	return false;
}

bool test_check_eq(u64 a, u64 b, const char *file, int line, const char *a_text,
		   const char *b_text)
{
	char msg[REASON_MAX];

	if (a == b)
		return true;
	snprintf(msg, sizeof(msg), "%s:%d: %s == %s: 0x%lx != 0x%lx", base_name(file), line,
		 a_text, b_text, a, b);
	record_failure(msg);
	return false;
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	current.skipped = true;
	va_start(ap, fmt);
	vsnprintf(current.skip_reason, sizeof(current.skip_reason), fmt, ap);
	va_end(ap);
}

/* guest_try() calls a function with one argument: here, the test to run. */
static void call_test(void *arg)
{
	const struct guest_test *t = arg;

	t->fn();
}

int run_tests(const struct guest_test *tests, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct fault_info fi;

		memset(&current, 0, sizeof(current));
		current.name = tests[i].name;

		/* Run the test under guest_try(), so an unexpected exception fails this test
		 * and the next one still runs. */
		int vector = guest_try(call_test, (void *)&tests[i], &fi);
		if (vector >= 0) {
			char msg[REASON_MAX];
			snprintf(msg, sizeof(msg),
				 "unexpected exception #%d (%s) err=0x%lx rip=0x%lx cr2=0x%lx",
				 vector, exception_name(vector), fi.error_code, fi.rip, fi.cr2);
			record_failure(msg);
		}

		if (current.failures) {
			failed++; /* its FAIL line is already out */
		} else if (current.skipped) {
			gprintf("ok - %s # skip: %s\n", tests[i].name, current.skip_reason);
		} else {
			gprintf("ok - %s\n", tests[i].name);
		}
	}

	/* Deliberately not "N passed, N failed": that shape is the closing line of the
	 * whole `make test` run, which the CI log reader looks for. */
	gprintf("results: %d ok, %d failed\n", (int)n - failed, failed);
	return failed;
}
