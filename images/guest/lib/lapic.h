/**
 * @file lapic.h
 * @brief The guest's view of its local APIC (xAPIC page, SDM Vol. 3A §11.4.1).
 *
 * Every access is one MOV to the page at 0xfee00000, which the hypervisor emulates
 * (src/arch/x86/vlapic.c), or which is the real local APIC for a partition that owns its
 * CPU outright.
 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <hvlab/types.h>

#define GUEST_LAPIC_BASE 0xfee00000ULL
#define GUEST_IOAPIC_BASE 0xfec00000ULL

#define LAPIC_REG_ID 0x20
#define LAPIC_REG_TPR 0x80
#define LAPIC_REG_EOI 0xb0
#define LAPIC_REG_SVR 0xf0
#define LAPIC_REG_ICR_LOW 0x300
#define LAPIC_REG_ICR_HIGH 0x310
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0

#define LAPIC_TIMER_PERIODIC (1u << 17)
#define LAPIC_LVT_MASKED (1u << 16)

u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 value);

/** Software-enable this CPU's local APIC (SVR bit 8) with spurious vector 0xff, TPR 0. */
void lapic_enable(void);

/** This CPU's APIC ID. */
u32 lapic_id(void);

/** End of interrupt. */
void lapic_eoi(void);

/** Send a fixed IPI with @p vector to APIC ID @p dest and wait until it has gone. */
void lapic_send_ipi(u32 dest, u8 vector);

/** INIT, then two STARTUP IPIs with @p vector (start at @p vector << 12) to @p dest (SDM §9.4.4.1). */
void lapic_start_cpu(u32 dest, u8 vector);

#endif
