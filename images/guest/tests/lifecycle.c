/*
 * lifecycle.c — partitions that pause, resume, reset and destroy each other, and one that
 * is reset because it crashed (issue 3, item 7; src/core/lifecycle.c).
 *
 * One program, several roles, chosen by the command line ("role=NAME target=ID"):
 *   crash_once    on_fault = reset: the first boot leaves a mark at the top of RAM and
 *                 triple-faults; the second boot (boot_count 2) checks the mark is gone
 *   crash_always  triple-faults on every boot, so the hypervisor must give up resetting
 *   counter       counts while watching the clock: when it is paused it does not run, so
 *                 the clock jumps by the length of the pause
 *   pauser        pauses partition `target` (a counter), waits, resumes it
 *   spinner       waits to be destroyed, printing its boot number
 *   destroyer     resets partition `target` (a spinner), then destroys it
 * The controlling roles may do so only because their configuration says
 * `controls = NAME` (HC_PARTITION_CONTROL, docs/hypercalls.md).
 *
 * Time is read from the ACPI PM timer (3.579545 MHz, 24 bits): it runs whether or not
 * this partition does.
 */
#include <hvlab/uart16550.h>
#include "guest.h"

#define PM_HZ 3579545UL
#define PM_MASK 0xffffffu
#define MS(n) ((u64)(n) * PM_HZ / 1000)   /* milliseconds in PM-timer ticks */
#define MARK 0x6c69666563796c65ULL         /* "lifecycl" */

static u32 pm_now(void)
{
	return inl(HVLAB_PM_TMR_BLK) & PM_MASK;
}

/* Spin for @ms milliseconds (less than the timer's 4.6 s wrap). */
static void sleep_ms(u32 ms)
{
	u32 start = pm_now();

	while (((pm_now() - start) & PM_MASK) < MS(ms))
		cpu_relax();
}

static long control(u64 op)
{
	return hypercall(HC_PARTITION_CONTROL, cmdline_get_u64("target", ~0ULL), op, 0);
}

/* Query the target every millisecond, up to 2 s, until it is in @state; returns the last state. */
static long wait_for_state(long state)
{
	long now = control(HC_PC_QUERY);

	for (int i = 0; i < 2000 && now != state; i++) {
		sleep_ms(1);
		now = control(HC_PC_QUERY);
	}
	return now;
}

static void __attribute__((noreturn)) triple_fault(void)
{
	struct dtr empty_idt = { .limit = 0, .base = 0 };

	uart_flush(HVLAB_PORT_COM1); /* get the last line out before the CPU stops */
	lidt(&empty_idt);
	__asm__ volatile("ud2"); /* #UD, no IDT entry: #GP, then #DF, then shutdown */
	for (;;)
		;
}

/* ---- crash_once: the partition is reset and boots again ---- */

static volatile u64 *top_of_ram(void)
{
	return (volatile u64 *)(boot_info->ram_base + boot_info->mem_size - 8);
}

static void test_second_boot(void)
{
	CHECK_EQ(boot_info->boot_count, 2);
}

static void test_ram_zeroed(void)
{
	CHECK_EQ(*top_of_ram(), 0);
}

static const struct guest_test reset_tests[] = {
	{ "second boot after a reset", test_second_boot },
	{ "guest RAM zeroed by the reset", test_ram_zeroed },
};

static int crash_once(void)
{
	if (boot_info->boot_count == 1) {
		*top_of_ram() = MARK;
		gputs("first boot: marking the top of RAM, then triple-faulting");
		triple_fault();
	}
	return run_tests(reset_tests, ARRAY_SIZE(reset_tests));
}

/* ---- counter and pauser ---- */

/* Count for a while, keeping the longest time between two looks at the clock: normally
 * a time slice (~2 ms), but the whole pause when we were paused. */
static void test_stood_still(void)
{
	u64 elapsed = 0, longest = 0, longest_at = 0, next_print = 0;
	u32 prev = pm_now(), count = 0;

	while (elapsed < MS(4000)) {
		u32 now = pm_now();
		u64 d = (now - prev) & PM_MASK;
		prev = now;
		elapsed += d;
		if (d > longest)
			longest = d, longest_at = elapsed;
		if (longest >= MS(100) && elapsed - longest_at >= MS(100))
			break; /* paused, and ran a while after it */
		if (elapsed >= next_print) {
			gprintf("count %u\n", count++);
			next_print = elapsed + MS(100);
		}
	}
	gprintf("  # longest stop: %lu ms\n", (u64)(longest * 1000 / PM_HZ));
	CHECK(longest >= MS(100), "never stopped for 100 ms: longest stop %lu ms", (u64)(longest * 1000 / PM_HZ));
}

static const struct guest_test counter_tests[] = {
	{ "stood still while paused", test_stood_still },
};

static void test_pause(void)
{
	sleep_ms(100); /* let the counter start counting first */
	CHECK_EQ(control(HC_PC_PAUSE), 0);
	CHECK_EQ(wait_for_state(HVLAB_PART_PAUSED), HVLAB_PART_PAUSED);
	CHECK_EQ(control(HC_PC_PAUSE), HC_ERR_INVAL); /* already paused */
}

static void test_resume(void)
{
	sleep_ms(300);
	CHECK_EQ(control(HC_PC_RESUME), 0);
	CHECK_EQ(control(HC_PC_QUERY), HVLAB_PART_RUNNING);
	CHECK_EQ(control(HC_PC_RESUME), HC_ERR_INVAL); /* not paused any more */
}

/* Only partitions named in our `controls` (not even ourselves), and only real operations. */
static void test_refused(void)
{
	long self = hypercall(HC_PARTITION_ID, 0, 0, 0);

	CHECK_EQ(hypercall(HC_PARTITION_CONTROL, self, HC_PC_PAUSE, 0), HC_ERR_PERM);
	CHECK_EQ(hypercall(HC_PARTITION_CONTROL, 77, HC_PC_QUERY, 0), HC_ERR_PERM);
	CHECK_EQ(control(99), HC_ERR_INVAL);
}

static const struct guest_test pauser_tests[] = {
	{ "pause another partition", test_pause },
	{ "resume it", test_resume },
	{ "control refused outside the controls list", test_refused },
};

/* ---- spinner and destroyer ---- */

static int spinner(void)
{
	gprintf("waiting to be destroyed (boot %u)\n", boot_info->boot_count);
	for (int i = 0; i < 10; i++)
		sleep_ms(500);
	gputs("ERROR: still running after 5 s");
	return 1;
}

static void test_reset(void)
{
	sleep_ms(100);
	CHECK_EQ(control(HC_PC_RESET), 0);
	CHECK_EQ(wait_for_state(HVLAB_PART_RUNNING), HVLAB_PART_RUNNING);
}

static void test_destroy(void)
{
	sleep_ms(100); /* let it print its boot number */
	CHECK_EQ(control(HC_PC_DESTROY), 0);
	CHECK_EQ(wait_for_state(HVLAB_PART_DESTROYED), HVLAB_PART_DESTROYED);
	CHECK_EQ(control(HC_PC_DESTROY), HC_ERR_INVAL);
	CHECK_EQ(control(HC_PC_RESUME), HC_ERR_INVAL);
	CHECK_EQ(control(HC_PC_RESET), HC_ERR_INVAL);
}

static const struct guest_test destroyer_tests[] = {
	{ "reset another partition", test_reset },
	{ "destroy it", test_destroy },
};

int main(const struct hvlab_boot_info *bi)
{
	const char *cmd = bi->cmdline;

	if (cmdline_is(cmd, "role", "crash_once"))
		return crash_once();
	if (cmdline_is(cmd, "role", "crash_always")) {
		gprintf("boot %u: triple-faulting\n", bi->boot_count);
		triple_fault();
	}
	if (cmdline_is(cmd, "role", "counter"))
		return run_tests(counter_tests, ARRAY_SIZE(counter_tests));
	if (cmdline_is(cmd, "role", "pauser"))
		return run_tests(pauser_tests, ARRAY_SIZE(pauser_tests));
	if (cmdline_is(cmd, "role", "spinner"))
		return spinner();
	if (cmdline_is(cmd, "role", "destroyer"))
		return run_tests(destroyer_tests, ARRAY_SIZE(destroyer_tests));
	gprintf("ERROR: unknown role in '%s'\n", cmd);
	return 1;
}
