/**
 * @file console.c
 * @brief The hypervisor console on COM1.
 *
 * Everything the hypervisor says goes here: its own messages and, prefixed with the
 * partition's name, every guest's console output (src/devices/uart.c). One lock keeps
 * each printk() call whole when several CPUs print at once.
 */
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <hvlab/spinlock.h>
#include <hvlab/uart16550.h>

#define CONSOLE_PORT 0x3f8

static spinlock_t console_lock = SPINLOCK_INIT;
static bool console_ready;

void console_init(void)
{
	uart_init(CONSOLE_PORT);
	console_ready = true;
}

void console_write(const char *s, size_t n)
{
	if (!console_ready)
		return;
	spin_lock(&console_lock);
	uart_write(CONSOLE_PORT, s, n);
	spin_unlock(&console_lock);
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf)) { /* truncated: keep the line ending so output stays line-shaped */
		n = sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	console_write(buf, (size_t)n);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void console_flush(void)
{
	if (console_ready)
		uart_flush(CONSOLE_PORT);
}
