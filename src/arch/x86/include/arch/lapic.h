/**
 * @file lapic.h
 * @brief The physical local APIC in xAPIC mode (SDM Vol. 3A Chapter 11), and a delay.
 */
#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H

#include <hvlab/types.h>

/* Register offsets (SDM Vol. 3A §11.4.1, Table 11-1). */
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310

/** Map and software-enable this CPU's local APIC. */
void lapic_init(void);

/** This CPU's APIC ID. */
u32 lapic_id(void);

/** Send the INIT-SIPI-SIPI sequence (SDM Vol. 3A §9.4.4.1) to @p apic_id, starting it at @p vector << 12. */
void lapic_start_ap(u32 apic_id, u8 vector);

/** Busy-wait at least @p us microseconds, timed by the 8254 PIT (channel 2). */
void udelay(u64 us);

#endif
