/*
 * ticker.c — a guest that stays alive for a while, for the debugger (issue 5): hvmon's
 * live test pauses and resumes it, shows its VMCS, counts its exits and walks an
 * address of it (tests/harness/hvmon_live_tests.py, images/scenarios/monitor.cfg).
 *
 * It prints "tick N" every `ms` milliseconds (default 500), `ticks` times (default 60),
 * then exits 0. Time comes from the ACPI PM timer, which runs on while the partition is
 * paused, so a pause delays the ticks but does not make the run longer than it would be
 * anyway. Each tick stores N in `ticks_done`, whose address it prints first
 * ("ticker: counter at 0x..."): a debugger has a known address to look at, and `x/8`
 * there shows the count. Reading the timer is an I/O exit, so its exit counters move.
 */
#include "guest.h"

#define PM_HZ 3579545UL
#define PM_MASK 0xffffffu

volatile u64 ticks_done;

static u32 pm_now(void)
{
	return inl(HVLAB_PM_TMR_BLK) & PM_MASK;
}

/* Spin for @ms milliseconds (at most the timer's 4.6 s wrap). */
static void sleep_ms(u64 ms)
{
	u32 start = pm_now();
	u64 ticks = ms * PM_HZ / 1000;

	while (((pm_now() - start) & PM_MASK) < ticks)
		cpu_relax();
}

int main(const struct hvlab_boot_info *bi)
{
	u64 n = cmdline_get_u64("ticks", 60), ms = cmdline_get_u64("ms", 500);

	if (ms > 4000)
		ms = 4000;
	gprintf("ticker: counter at %p, %lu ticks of %lu ms\n", (void *)&ticks_done, n, ms);
	while (ticks_done < n) {
		sleep_ms(ms);
		ticks_done++;
		gprintf("tick %lu\n", ticks_done);
	}
	gprintf("ticker: done\n");
	return 0;
}
