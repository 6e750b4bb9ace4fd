/*
 * bench.c — what one trip through the hypervisor costs, in TSC ticks.
 *
 * Each measurement runs one exiting instruction ITER times between two timestamps and
 * divides. The same loop around a NOP (which never exits) gives the cost of the loop
 * itself, which is subtracted from the others and reported on its own line. ITER comes
 * from the command line ("iter=N", default 2000).
 *
 * Under Bochs with `clock: sync=none` the TSC advances with executed instructions, so
 * these numbers are deterministic: they count emulated work,
 * not wall-clock time, and are meant for comparing hvlab builds with each other.
 *
 * Output, one line each, parsed by the harness (`make bench`):
 *   bench cpuid_exit_ticks=N      CPUID leaf 0x40000000
 *   bench io_exit_ticks=N         IN from the UART scratch register
 *   bench mmio_exit_ticks=N       32-bit read of the test device's SCRATCH register
 *   bench hypercall_ticks=N       VMCALL HC_NOP
 *   bench loop_overhead_ticks=N   the loop alone
 */
#include <hvlab/uart16550.h>
#include "guest.h"

#define DEFAULT_ITER 2000

/* RDTSC may run ahead of earlier instructions; LFENCE makes it wait for them
 * (SDM Vol. 2B, RDTSC). */
static inline u64 tsc_fenced(void)
{
	__asm__ volatile("lfence" ::: "memory");
	u64 t = rdtsc();
	__asm__ volatile("lfence" ::: "memory");
	return t;
}

static void op_nop(void)
{
	__asm__ volatile("nop");
}

static void op_cpuid(void)
{
	cpuid(HVLAB_CPUID_SIGNATURE, 0);
}

static void op_io(void)
{
	inb(HVLAB_PORT_COM1 + UART_SCR);
}

static void op_mmio(void)
{
	mmio_read32(HVLAB_TESTDEV_BASE + HVLAB_TESTDEV_SCRATCH);
}

static void op_hypercall(void)
{
	hypercall(HC_NOP, 0, 0, 0);
}

/* Average ticks of one op() over @iter calls, loop included. */
__attribute__((noinline, noclone)) static u64 measure(void (*op)(void), u64 iter)
{
	u64 start = tsc_fenced();

	for (u64 i = 0; i < iter; i++)
		op();
	return (tsc_fenced() - start) / iter;
}

/* The table of benchmarks: adding one is one line. */
static const struct {
	const char *name;
	void (*op)(void);
} benches[] = {
	{ "cpuid_exit_ticks", op_cpuid },
	{ "io_exit_ticks", op_io },
	{ "mmio_exit_ticks", op_mmio },
	{ "hypercall_ticks", op_hypercall },
};

int main(const struct hvlab_boot_info *bi)
{
	u64 iter = cmdline_get_u64("iter", DEFAULT_ITER);

	if (iter == 0)
		iter = DEFAULT_ITER;
	gprintf("measuring %lu iterations of each exit\n", iter);

	/* Warm up (first-use costs: TLB, caches, lazily built hypervisor state), then the
	 * loop alone. */
	for (size_t i = 0; i < ARRAY_SIZE(benches); i++)
		measure(benches[i].op, 16);
	u64 overhead = measure(op_nop, iter);

	for (size_t i = 0; i < ARRAY_SIZE(benches); i++) {
		u64 t = measure(benches[i].op, iter);
		gprintf("bench %s=%lu\n", benches[i].name, t > overhead ? t - overhead : 0);
	}
	gprintf("bench loop_overhead_ticks=%lu\n", overhead);
	return 0;
}
