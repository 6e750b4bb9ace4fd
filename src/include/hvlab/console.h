/**
 * @file console.h
 * @brief The hypervisor console: COM1, one line at a time, safe from every CPU.
 */
#ifndef HVLAB_CONSOLE_H
#define HVLAB_CONSOLE_H

#include <hvlab/types.h>
#include <stdarg.h>

struct partition;

/**
 * Copy the last (at most @p len) bytes partition @p p wrote to its console, oldest first,
 * into @p buf (no NUL). Returns how many were copied. The emulated UART keeps 4 KiB.
 */
size_t uart_console_history(const struct partition *p, char *buf, size_t len);

/** Initialise COM1. Before this, printk output is dropped. */
void console_init(void);

/** Format and print to the console; lines from different CPUs never interleave mid-call. */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** As printk() with a va_list. */
void vprintk(const char *fmt, va_list ap);

/** Write raw bytes under the console lock. */
void console_write(const char *s, size_t n);

/** Wait until the last byte has left COM1 (LSR.TEMT); call before power-off (PLATFORM.md). */
void console_flush(void);

/**
 * Stop the machine: flush the console, print "hvlab: exit status N" (the line the test
 * harness reads), then power off — in Bochs, status 0 through the debugger port so Bochs
 * exits 0, any other status with "Shutdown" so Bochs exits 1; in QEMU through
 * isa-debug-exit at 0xf4. Never returns.
 */
void __attribute__((noreturn)) hv_poweroff(int status);

/** Print a message prefixed "hvlab: PANIC: ", a stack trace, and power off with status 99. */
void __attribute__((noreturn, format(printf, 1, 2))) panic(const char *fmt, ...);

#endif
