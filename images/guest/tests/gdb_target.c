/*
 * gdb_target.c — the guest that GDB debugs: in the gdbstub's test
 * (tests/harness/gdb_tests.py) and in the student walkthrough (docs/gdb.md).
 *
 * vCPU 0 starts its application processor, then calls gdb_target_hit() once per round,
 * with a pause between calls: a named function to break on, a variable it writes
 * (gdb_watched) to watch. The AP counts in ap_spin() until vCPU 0 is done, so GDB has a
 * second thread to switch to. The rounds end after GDB_ROUNDS (a minute or two in
 * Bochs: time to attach GDB), or at the end of the round in which GDB wrote gdb_poke,
 * which the guest never writes itself; it then prints gdb_poke, so the console shows
 * GDB's value.
 *
 * Built with symbols like every guest (build/guests/gdb_target.elf); GDB loads that file.
 */
#include "guest.h"

#define GDB_ROUNDS 3000
#define PAUSE_LOOPS 100000

volatile u64 gdb_counter; /* sum of the rounds so far */
volatile u64 gdb_watched; /* written once per round: a watchpoint target */
volatile u64 gdb_poke;    /* only GDB writes it */
volatile u64 ap_spins;    /* the AP's loop count */
static volatile bool done;

/* The breakpoint target: one call per round. noinline, so it exists as a function. */
__attribute__((noinline)) void gdb_target_hit(u64 round)
{
	gdb_counter += round;
	gdb_watched = round * 2;
}

/* The AP: a second thread with something to show, until vCPU 0 is done. */
__attribute__((noinline)) static void ap_spin(void)
{
	while (!done) {
		ap_spins++;
		cpu_relax();
	}
}

static void ap_main(u32 cpu)
{
	ap_spin();
	for (;;)
		halt();
}

int main(const struct hvlab_boot_info *bi)
{
	u32 started = smp_start_aps(boot_info->nvcpus, ap_main);

	gprintf("gdb_target: %u vCPUs, up to %u rounds\n", started, GDB_ROUNDS);
	u64 rounds = 0;
	while (rounds < GDB_ROUNDS && !gdb_poke) {
		gdb_target_hit(++rounds);
		for (volatile u32 i = 0; i < PAUSE_LOOPS; i++)
			cpu_relax();
		/* One VM exit per round (CPUID always exits): on a CPU without the
		 * VMX-preemption timer (core2_penryn) the hypervisor may not get its CPU back
		 * otherwise until the guest's next exit, and a debugger's stop would wait. */
		(void)cpuid(0, 0);
	}
	done = true;
	gprintf("gdb_target: %lu rounds, counter = %lu, gdb_poke = 0x%lx\n", rounds, gdb_counter, gdb_poke);
	return gdb_counter == rounds * (rounds + 1) / 2 ? 0 : 1;
}
