/*
 * smp.c — a multiprocessor guest: it starts its own application processors and takes
 * interrupts through its local APICs.
 *
 * vCPU 0 sends INIT-SIPI-SIPI to every other vCPU (SDM Vol. 3A §9.4.4), as an OS does;
 * each AP reports its APIC ID and waits for interrupts. Then, all through the virtual
 * local APIC the hypervisor emulates: fixed IPIs from the bootstrap processor to each AP
 * and back, the APIC timer in one-shot, periodic and TSC-deadline modes, HLT woken by a
 * timer interrupt, and the x2APIC interface (MSRs 0x800-0x8ff). Runs with any number of vCPUs (boot info nvcpus).
 */
#include "guest.h"

#define VEC_IPI 0x40
#define VEC_TIMER 0x41
#define VEC_TO_BSP 0x42
#define VEC_X2APIC_SELF 0x43
#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_VERSION 0x803
#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_SELF_IPI 0x83f
#define MAX_CPUS 8
#define MSR_TSC_DEADLINE 0x6e0
#define SPIN_LIMIT 100000000ULL

static volatile u32 ap_apic_id[MAX_CPUS];
static volatile u32 ap_cpuid_apic_id[MAX_CPUS];
static volatile u32 ap_started[MAX_CPUS];
static volatile u32 ipis_received[MAX_CPUS];
static volatile u32 timer_ticks;
static volatile u32 ipis_to_bsp;
static volatile u32 x2apic_self_ipis;
static u32 started;

static void on_ipi(u64 vector)
{
	__atomic_add_fetch(&ipis_received[lapic_id() % MAX_CPUS], 1, __ATOMIC_SEQ_CST);
	lapic_eoi();
}

static void on_timer(u64 vector)
{
	timer_ticks++;
	lapic_eoi();
}

static void on_ipi_to_bsp(u64 vector)
{
	ipis_to_bsp++;
	lapic_eoi();
}

/* In x2APIC mode the registers are MSRs: EOI is a WRMSR (SDM Vol. 3A §11.12.1). */
static void on_x2apic_self_ipi(u64 vector)
{
	x2apic_self_ipis++;
	wrmsr(MSR_X2APIC_EOI, 0);
}

/* What each AP does: report, greet the BSP with an IPI, then sleep between interrupts. */
static void ap_main(u32 cpu)
{
	ap_apic_id[cpu] = lapic_id();
	ap_cpuid_apic_id[cpu] = cpuid(1, 0).ebx >> 24;
	ap_started[cpu] = 1;
	lapic_send_ipi(0, VEC_TO_BSP);
	for (;;)
		__asm__ volatile("sti; hlt");
}

/* Wait, interrupts on, until *@counter reaches @target; false on timeout. */
static bool wait_for(volatile u32 *counter, u32 target)
{
	for (u64 i = 0; i < SPIN_LIMIT; i++) {
		if (*counter >= target)
			return true;
		__asm__ volatile("sti; pause");
	}
	return false;
}

static void test_aps_start(void)
{
	started = smp_start_aps(boot_info->nvcpus, ap_main);
	CHECK_EQ(started, boot_info->nvcpus);
	for (u32 cpu = 1; cpu < started && cpu < MAX_CPUS; cpu++) {
		/* smp_start_aps() returns once the AP is online; ap_main() follows right after. */
		if (!CHECK(wait_for(&ap_started[cpu], 1), "vCPU %u never ran ap_main", cpu))
			continue;
		CHECK_EQ(ap_apic_id[cpu], cpu);
		CHECK_EQ(ap_cpuid_apic_id[cpu], cpu);
	}
	gprintf("  # %u vCPUs online\n", started);
}

static void test_ap_to_bsp_ipi(void)
{
	CHECK(wait_for(&ipis_to_bsp, started - 1), "BSP got %u of %u greeting IPIs", ipis_to_bsp,
	      started - 1);
}

static void test_bsp_to_ap_ipi(void)
{
	/* One at a time: IPIs with the same vector that arrive before the first is taken
	 * merge into one request (one IRR bit, SDM Vol. 3A §11.8.4). */
	for (u32 cpu = 1; cpu < started && cpu < MAX_CPUS; cpu++) {
		u32 before = ipis_received[cpu];
		for (u32 n = 1; n <= 3; n++) {
			lapic_send_ipi(cpu, VEC_IPI);
			if (!CHECK(wait_for(&ipis_received[cpu], before + n), "vCPU %u got %u of %u IPIs", cpu,
				   ipis_received[cpu] - before, n))
				break;
		}
	}
}

static void test_timer_oneshot(void)
{
	u32 before = timer_ticks;

	lapic_write(LAPIC_REG_TIMER_DIVIDE, 0xb); /* divide by 1 */
	lapic_write(LAPIC_REG_LVT_TIMER, VEC_TIMER);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 100000);
	CHECK(lapic_read(LAPIC_REG_TIMER_CURRENT) <= 100000, "current count above initial");
	CHECK(wait_for(&timer_ticks, before + 1), "no one-shot timer interrupt");
	CHECK_EQ(lapic_read(LAPIC_REG_TIMER_CURRENT), 0);
}

static void test_timer_periodic(void)
{
	u32 before = timer_ticks;

	lapic_write(LAPIC_REG_LVT_TIMER, VEC_TIMER | LAPIC_TIMER_PERIODIC);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 50000);
	CHECK(wait_for(&timer_ticks, before + 5), "periodic timer: %u ticks", timer_ticks - before);
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
}

static void test_timer_tsc_deadline(void)
{
	u32 before = timer_ticks;

	if (!(cpuid(1, 0).ecx & BIT(24))) {
		test_skip("no TSC-deadline timer in CPUID");
		return;
	}
	lapic_write(LAPIC_REG_LVT_TIMER, VEC_TIMER | (2u << 17));
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 200000);
	CHECK(wait_for(&timer_ticks, before + 1), "no TSC-deadline interrupt");
	CHECK_EQ(rdmsr(MSR_TSC_DEADLINE), 0);
}

/* HLT with interrupts on sleeps until the timer fires, and the time really passed. */
static void test_hlt_wakes_on_timer(void)
{
	u32 before = timer_ticks;
	u64 start = rdtsc();

	lapic_write(LAPIC_REG_LVT_TIMER, VEC_TIMER);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 300000);
	__asm__ volatile("sti; hlt; cli");
	CHECK_EQ(timer_ticks, before + 1);
	CHECK(rdtsc() - start >= 300000, "woke after %lu ticks", rdtsc() - start);
	__asm__ volatile("sti");
}

/* Last, as it leaves the BSP's APIC in x2APIC mode: the same APIC through MSRs. */
static void test_x2apic(void)
{
	if (!(cpuid(1, 0).ecx & BIT(21))) {
		test_skip("no x2APIC in CPUID");
		return;
	}
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | BIT(10));
	CHECK(rdmsr(MSR_APIC_BASE) & BIT(10), "x2APIC mode did not stick");
	CHECK_EQ(rdmsr(MSR_X2APIC_ID), 0);
	CHECK_EQ(rdmsr(MSR_X2APIC_VERSION) & 0xff, 0x14);
	wrmsr(MSR_X2APIC_SELF_IPI, VEC_X2APIC_SELF);
	CHECK(wait_for(&x2apic_self_ipis, 1), "no self IPI through MSR 0x83f");
	if (started > 1) { /* the 64-bit ICR: destination in bits 63:32 */
		u32 before = ipis_received[1];
		wrmsr(MSR_X2APIC_ICR, (1ULL << 32) | VEC_IPI);
		CHECK(wait_for(&ipis_received[1], before + 1), "no IPI to vCPU 1 through the x2APIC ICR");
	}
}

static const struct guest_test tests[] = {
	{ "smp: application processors start", test_aps_start },
	{ "smp: IPIs from each AP to the BSP", test_ap_to_bsp_ipi },
	{ "smp: IPIs from the BSP to each AP", test_bsp_to_ap_ipi },
	{ "lapic timer: one-shot", test_timer_oneshot },
	{ "lapic timer: periodic", test_timer_periodic },
	{ "lapic timer: TSC deadline", test_timer_tsc_deadline },
	{ "hlt: woken by the timer", test_hlt_wakes_on_timer },
	{ "x2apic: ID, self IPI and ICR through MSRs", test_x2apic },
};

int main(const struct hvlab_boot_info *bi)
{
	gprintf("smp guest %s: %u vCPUs\n", bi->name, bi->nvcpus);
	irq_set_handler(VEC_IPI, on_ipi);
	irq_set_handler(VEC_TIMER, on_timer);
	irq_set_handler(VEC_TO_BSP, on_ipi_to_bsp);
	irq_set_handler(VEC_X2APIC_SELF, on_x2apic_self_ipi);
	lapic_enable();
	__asm__ volatile("sti");
	int failed = run_tests(tests, ARRAY_SIZE(tests));
	__asm__ volatile("cli");
	return failed;
}
