/**
 * @file selftest.c
 * @brief Deliberate hypervisor faults, chosen on the command line, to show the crash report.
 *
 * "selftest=exception" executes UD2 inside the hypervisor after boot: the report names
 * the exception, dumps the registers and resolves RIP and the call chain to function
 * names (src/arch/x86/idt.c). The test suite checks that report; students can use it to
 * see what a hypervisor bug looks like before they write one.
 */
#include <hvlab/selftest.h>
#include <hvlab/cmdline.h>
#include <hvlab/console.h>

static void __attribute__((noinline)) selftest_invalid_opcode(void)
{
	printk("hvlab: selftest: executing UD2 in the hypervisor\n");
	__asm__ volatile("ud2");
}

void selftest_run(const char *cmdline)
{
	if (cmdline_is(cmdline, "selftest", "exception"))
		selftest_invalid_opcode();
}
