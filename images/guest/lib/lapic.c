/**
 * @file lapic.c
 * @brief Programming the local APIC from a guest (register layout in lapic.h).
 */
#include "lapic.h"
#include "mmio.h"
#include <arch/cpu.h>

#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_ASSERT (1u << 14)

u32 lapic_read(u32 reg)
{
	return mmio_read32(GUEST_LAPIC_BASE + reg);
}

void lapic_write(u32 reg, u32 value)
{
	mmio_write32(GUEST_LAPIC_BASE + reg, value);
}

void lapic_enable(void)
{
	lapic_write(LAPIC_REG_TPR, 0);
	lapic_write(LAPIC_REG_SVR, 0x100 | 0xff);
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_REG_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_REG_EOI, 0);
}

static void send(u32 dest, u32 icr)
{
	lapic_write(LAPIC_REG_ICR_HIGH, dest << 24);
	lapic_write(LAPIC_REG_ICR_LOW, icr);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_REG_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(u32 dest, u8 vector)
{
	send(dest, vector);
}

void lapic_start_cpu(u32 dest, u8 vector)
{
	send(dest, ICR_INIT | ICR_ASSERT);
	send(dest, ICR_STARTUP | vector);
	send(dest, ICR_STARTUP | vector); /* the second SIPI is ignored by a CPU already started */
}
