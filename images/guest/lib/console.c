/**
 * @file console.c
 * @brief gprintf() and gputs(): format into a buffer on the stack, then send it to COM1.
 *
 * The formatter (vsnprintf, src/lib/printf.c) and the UART driver (src/drivers/
 * uart16550.c) are the hypervisor's own, linked into the guest too.
 */
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>
#include <hvlab/uart16550.h>
#include "console.h"

#define CONSOLE_LINE_MAX 256

void console_init(void)
{
	uart_init(HVLAB_PORT_COM1);
}

int gprintf(const char *fmt, ...)
{
	/* A buffer on the stack, not a static one: gprintf() may be called from the
	 * exception handler while another gprintf() is half done. */
	char buf[CONSOLE_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	uart_write(HVLAB_PORT_COM1, buf, strlen(buf));
	return n;
}

void gputs(const char *s)
{
	uart_write(HVLAB_PORT_COM1, s, strlen(s));
	uart_putc(HVLAB_PORT_COM1, '\n');
}
