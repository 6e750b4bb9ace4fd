/**
 * @file check.c
 * @brief run_checks() and the console of the boot-protocol test kernels (see check.h).
 * Built twice: -m32 for the Multiboot kernel, 64-bit for the bzImage kernel.
 */
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>
#include <hvlab/uart16550.h>
#include <arch/cpu.h>
#include "check.h"

static char reason[200];
static const char *current_note;

void boot_console_init(void)
{
	uart_init(HVLAB_PORT_COM1);
}

void boot_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	uart_write(HVLAB_PORT_COM1, buf, strlen(buf));
}

const char *why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return reason;
}

void boot_note(const char *note)
{
	current_note = note;
}

int run_checks(const struct boot_check *checks, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		current_note = NULL;
		const char *r = checks[i].fn();
		if (r) {
			failed++;
			boot_printf("FAIL - %s: %s\n", checks[i].name, r);
		} else if (current_note) {
			boot_printf("ok - %s # %s\n", checks[i].name, current_note);
		} else {
			boot_printf("ok - %s\n", checks[i].name);
		}
	}
	boot_printf("results: %d ok, %d failed\n", n - failed, failed);
	return failed;
}

void boot_exit(u32 status)
{
	uart_flush(HVLAB_PORT_COM1);
	outl(HVLAB_PORT_EXIT, status);
	for (;;)  /* no exit port: stop here */
		__asm__ volatile("cli; hlt");
}
