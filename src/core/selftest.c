/**
 * @file selftest.c
 * @brief Deliberate hypervisor faults, chosen on the command line, to show the crash report.
 *
 * "selftest=exception" executes UD2 inside the hypervisor after boot: the report names
 * the exception, dumps the registers and resolves RIP and the call chain to function
 * names (src/arch/x86/idt.c). "selftest=unhandled-cpuid" leaves CPUID out of the
 * exit-handler table, so the dispatcher's report of an exit nobody handles, and its
 * containment to one guest, can be seen (src/arch/x86/vmx/exit.c). The test suite checks
 * both; students can use them to see what a hypervisor bug looks like before they
 * write one.
 */
#include <hvlab/selftest.h>
#include <hvlab/cmdline.h>
#include <hvlab/console.h>

static void __attribute__((noinline)) selftest_invalid_opcode(void)
{
	printk("hvlab: selftest: executing UD2 in the hypervisor\n");
	__asm__ volatile("ud2");
}

static const char *selftest_cmdline = "";

bool selftest_requested(const char *name)
{
	return cmdline_is(selftest_cmdline, "selftest", name);
}

void selftest_run(const char *cmdline)
{
	selftest_cmdline = cmdline;
	if (cmdline_is(cmdline, "selftest", "exception"))
		selftest_invalid_opcode();
}
