/**
 * @file console.h
 * @brief The guest's console: text out through the (emulated) 16550 UART at COM1.
 *
 * The hypervisor emulates the UART at HVLAB_PORT_COM1 and shows what the guest writes on
 * its own console. Lines end with a bare '\n'.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <hvlab/types.h>

/** Program the UART (115200 8N1, polled). Call once, before any output. */
void console_init(void);

/** printf() to the console (formats of src/lib/printf.c: %d %u %x %p %s %c, l/ll/z, width).
 *  Output longer than 256 bytes is cut. Returns the number of characters formatted. */
int gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Write @p s and a newline, like puts(). */
void gputs(const char *s);

#endif
