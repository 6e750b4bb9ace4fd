/*
 * direct_irq.c — a device interrupt and a timer interrupt, and what the hypervisor did
 * meanwhile.
 *
 * The guest programs the RTC (ports 0x70/0x71) for periodic interrupts, routes its IRQ 8
 * through the IOAPIC to its own local APIC, and runs the local APIC timer in periodic
 * mode; then it sleeps (HLT) until both have interrupted it many times, and asks the
 * hypervisor (HC_COUNTERS) how many VM exits and injections happened in between.
 *
 * The same program runs in two partitions (images/scenarios/direct_irq.cfg):
 *  - mode=direct: identity-mapped on a dedicated CPU with interception off. The RTC and
 *    the local APIC are the real ones; the interrupts must arrive with zero VM exits and
 *    zero injections (MECHANISMS.md §4, interception off);
 *  - mode=injected: on a shared CPU. The RTC, IOAPIC and local APIC are emulated and
 *    every interrupt is injected by the hypervisor.
 */
#include "guest.h"

#define VEC_TIMER 0x50
#define VEC_RTC 0x51
#define TARGET 20
#define RTC_PIN 8
#define MAX_WAKEUPS 1000000

static volatile u32 timer_irqs, rtc_irqs;
static struct hvlab_counters before, after;
static bool direct;

static void on_timer(u64 vector)
{
	timer_irqs++;
	lapic_eoi();
}

static void on_rtc(u64 vector)
{
	outb(0x70, 0x0c); /* reading register C acknowledges the RTC's interrupt */
	inb(0x71);
	rtc_irqs++;
	lapic_eoi();
}

static u8 cmos_read(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(u8 reg, u8 value)
{
	outb(0x70, reg);
	outb(0x71, value);
}

static void ioapic_route(u32 pin, u8 vector, u32 dest, bool masked)
{
	mmio_write32(GUEST_IOAPIC_BASE, 0x10 + 2 * pin + 1);
	mmio_write32(GUEST_IOAPIC_BASE + 0x10, dest << 24);
	mmio_write32(GUEST_IOAPIC_BASE, 0x10 + 2 * pin);
	mmio_write32(GUEST_IOAPIC_BASE + 0x10, vector | (masked ? 1u << 16 : 0));
}

/* Start both sources, sleep until each fired TARGET times, stop them. */
static void test_interrupts_arrive(void)
{
	ioapic_route(RTC_PIN, VEC_RTC, lapic_id(), false);
	cmos_write(0x0a, 0x26);                      /* 32.768 kHz base, 1024 Hz periodic rate */
	cmos_write(0x0b, cmos_read(0x0b) | 0x40);     /* periodic interrupt enable */
	cmos_read(0x0c);
	lapic_write(LAPIC_REG_TIMER_DIVIDE, 0xb);
	lapic_write(LAPIC_REG_LVT_TIMER, VEC_TIMER | LAPIC_TIMER_PERIODIC);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 200000);

	hypercall(HC_COUNTERS, (u64)&before, 0, 0);
	for (u32 i = 0; i < MAX_WAKEUPS && (timer_irqs < TARGET || rtc_irqs < TARGET); i++)
		__asm__ volatile("sti; hlt; cli");
	hypercall(HC_COUNTERS, (u64)&after, 0, 0);

	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
	cmos_write(0x0b, cmos_read(0x0b) & ~0x40);
	ioapic_route(RTC_PIN, VEC_RTC, lapic_id(), true);
	__asm__ volatile("sti; nop; cli"); /* let a last interrupt in flight land */

	gprintf("  # %s: timer %u, rtc %u interrupts; meanwhile %lu VM exits, %lu injections\n",
		direct ? "direct" : "injected", timer_irqs, rtc_irqs,
		after.vm_exits - before.vm_exits - 1, after.injections - before.injections);
	CHECK(timer_irqs >= TARGET, "local APIC timer: %u interrupts", timer_irqs);
	CHECK(rtc_irqs >= TARGET, "RTC: %u interrupts", rtc_irqs);
}

/* The hypervisor saw nothing of them: the only exit is the second HC_COUNTERS call. */
static void test_no_exits_when_direct(void)
{
	if (!direct) {
		CHECK(after.injections - before.injections >= 2 * TARGET, "only %lu injections",
		      after.injections - before.injections);
		return;
	}
	CHECK_EQ(after.vm_exits - before.vm_exits - 1, 0);
	CHECK_EQ(after.injections - before.injections, 0);
	CHECK_EQ(after.external_interrupt_exits - before.external_interrupt_exits, 0);
}

static const struct guest_test tests[] = {
	{ "rtc and lapic timer interrupts arrive", test_interrupts_arrive },
	{ "vm exits while they arrive", test_no_exits_when_direct },
};

int main(const struct hvlab_boot_info *bi)
{
	direct = cmdline_is(bi->cmdline, "mode", "direct");
	gprintf("%s: %s interrupts, RAM at 0x%lx\n", bi->name, direct ? "direct" : "injected", bi->ram_base);
	irq_set_handler(VEC_TIMER, on_timer);
	irq_set_handler(VEC_RTC, on_rtc);
	lapic_enable();
	return run_tests(tests, ARRAY_SIZE(tests));
}
