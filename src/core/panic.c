/**
 * @file panic.c
 * @brief Stopping the machine when the hypervisor itself cannot go on.
 */
#include <hvlab/console.h>
#include <hvlab/symbols.h>

void panic(const char *fmt, ...)
{
	va_list ap;

	printk("hvlab: PANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	print_backtrace((u64)(uintptr_t)__builtin_frame_address(0));
	hv_poweroff(99);
}
