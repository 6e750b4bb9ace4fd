/**
 * @file lapic.c
 * @brief The local APIC, as far as the hypervisor itself uses it: identifying CPUs and
 * starting the application processors.
 */
#include <arch/lapic.h>
#include <arch/cpu.h>
#include <hvlab/memory.h>
#include <arch/idt.h>

#define APIC_BASE_MASK 0xfffff000ULL
#define APIC_BASE_ENABLE BIT(11)
#define SVR_APIC_ENABLE BIT(8)

/* ICR fields (SDM Vol. 3A §11.6.1, Figure 11-12). */
#define ICR_INIT (5 << 8)
#define ICR_STARTUP (6 << 8)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_DELIVERY_PENDING BIT(12)

static volatile u32 *lapic_regs;

static void send_ipi(u32 apic_id, u32 icr_low);

static u32 lapic_read(u32 reg)
{
	return lapic_regs[reg / 4];
}

static void lapic_write(u32 reg, u32 v)
{
	lapic_regs[reg / 4] = v;
}

static void host_irq_trap(struct trap_frame *f)
{
	host_irq_handle((u8)f->vector);
}

void lapic_init(void)
{
	/* The 8259 pair stays masked: interrupts come through the local APICs and the IOAPIC. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	idt_set_handler(HOST_VECTOR_TIMER, host_irq_trap);
	idt_set_handler(HOST_VECTOR_KICK, host_irq_trap);
	idt_set_handler(HOST_VECTOR_SPURIOUS, host_irq_trap);
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic_regs = phys_to_virt(base & APIC_BASE_MASK);
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_APIC_ENABLE | HOST_VECTOR_SPURIOUS);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void host_irq_handle(u8 vector)
{
	/* Kicks and wake-ups carry no work of their own: what they announce is found by the
	 * scheduler and the run loop when they look at the vCPU's state again. */
	if (vector != HOST_VECTOR_SPURIOUS)
		lapic_eoi();
}

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TPR 0x80
#define LVT_TSC_DEADLINE (2 << 17)
#define MSR_TSC_DEADLINE 0x6e0

bool lapic_timer_deadline(u64 deadline)
{
	static int has_tsc_deadline = -1;

	if (has_tsc_deadline < 0)
		has_tsc_deadline = (cpuid(1, 0).ecx >> 24) & 1; /* CPUID.1:ECX.TSC-Deadline */
	if (!has_tsc_deadline)
		return false;
	lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | HOST_VECTOR_TIMER);
	wrmsr(MSR_TSC_DEADLINE, deadline);
	return true;
}

void lapic_quiesce(void)
{
	/* A guest that owned this local APIC may leave its timer running and vectors in
	 * service: stop the timer and retire every in-service vector (SDM Vol. 3A §11.8.5). */
	lapic_write(LAPIC_LVT_TIMER, BIT(16));
	lapic_write(0x380, 0); /* timer initial count */
	for (int i = 0; i < 256; i++) {
		bool in_service = false;
		for (u32 reg = 0x100; reg < 0x180; reg += 0x10)
			in_service |= lapic_read(reg) != 0;
		if (!in_service)
			break;
		lapic_eoi();
	}
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_APIC_ENABLE | HOST_VECTOR_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
}

void lapic_send_nmi(u32 apic_id)
{
	send_ipi(apic_id, 4 << 8); /* delivery mode NMI (SDM Vol. 3A §11.6.1) */
}

u64 tsc_calibrate(void)
{
	u64 start = rdtsc();

	udelay(10000);
	return (rdtsc() - start) * 100;
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

static void send_ipi(u32 apic_id, u32 icr_low)
{
	lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, icr_low);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(u32 apic_id, u8 vector)
{
	send_ipi(apic_id, vector); /* fixed delivery, physical destination, edge */
}

void lapic_start_ap(u32 apic_id, u8 vector)
{
	/* The universal start-up algorithm: INIT, 10 ms, SIPI, 200 us, SIPI (SDM §9.4.4.1). */
	send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	send_ipi(apic_id, ICR_STARTUP | vector);
	udelay(200);
	send_ipi(apic_id, ICR_STARTUP | vector);
}

/* The 8254 runs at 1.193182 MHz; channel 2's gate and output are in port 0x61. */
#define PIT_HZ 1193182ULL
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE_PORT 0x61

void udelay(u64 us)
{
	while (us) {
		u64 chunk = us > 50000 ? 50000 : us; /* 16-bit counter: at most ~54 ms per round */
		u64 count = chunk * PIT_HZ / 1000000 + 1;

		outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~0x02) | 0x01); /* gate on, speaker off */
		outb(PIT_CMD, 0xb0);                                        /* ch2, lo/hi, mode 0 */
		outb(PIT_CH2, count & 0xff);
		outb(PIT_CH2, count >> 8);
		/* Mode 0 restarts when the count is written; OUT (bit 5) rises at terminal count. */
		for (u64 spins = 0; !(inb(PIT_GATE_PORT) & 0x20) && spins < 100000000; spins++)
			cpu_relax();
		us -= chunk;
	}
}
