/**
 * @file check.h
 * @brief The reporting the boot-protocol test kernels share (images/guest/mb1, a 32-bit
 * Multiboot kernel, and images/guest/bzimage, a 64-bit Linux-protocol kernel).
 *
 * These kernels are not built on the hvlab guest library (images/guest/lib): they are
 * entered the way other boot loaders enter a kernel, not as guest_abi.h promises. Each
 * lists its checks in a table; run_checks() runs them and prints, like the guest
 * library's test runner (images/guest/lib/test.h),
 *
 *	ok - magic in EAX
 *	FAIL - command line: "x" != "y"
 *	results: 1 ok, 1 failed
 *
 * on the 16550 at 0x3f8, and boot_exit() writes the status to port 0xf4.
 */
#ifndef BOOTCHECK_CHECK_H
#define BOOTCHECK_CHECK_H

#include <hvlab/types.h>

/** One check: a name for the report, and a function returning NULL when it holds or
 *  the reason (from why()) when it does not. */
struct boot_check {
	const char *name;
	const char *(*fn)(void);
};

/** Set up the UART. */
void boot_console_init(void);

/** printf to the console. */
void boot_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Format a failure reason (valid until the next call). */
const char *why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Add a comment to the current check's "ok" line (" # ..."), e.g. a known deviation. */
void boot_note(const char *note);

/** Run @p n checks, print one line each and the results line; return the failures. */
int run_checks(const struct boot_check *checks, int n);

/** Drain the console and end the partition with @p status (port 0xf4). */
void boot_exit(u32 status) __attribute__((noreturn));

#endif
