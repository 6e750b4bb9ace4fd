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

/* Vectors the hypervisor uses on its own CPUs. */
#define HOST_VECTOR_TIMER 0xef /**< wake-up timer of an idle CPU */
#define HOST_VECTOR_KICK 0xf0  /**< "look at your vCPU": forces a VM exit or ends an idle wait */
#define HOST_VECTOR_SPURIOUS 0xff

/** Signal end of interrupt to this CPU's local APIC. */
void lapic_eoi(void);

/** Send fixed interrupt @p vector to the CPU with APIC ID @p apic_id. */
void lapic_send_ipi(u32 apic_id, u8 vector);

/** Send an NMI to the CPU with APIC ID @p apic_id (kicks a CPU whose guest runs with
 *  interception off). */
void lapic_send_nmi(u32 apic_id);

/** Return this CPU's local APIC to the hypervisor's settings after a guest owned it. */
void lapic_quiesce(void);

/** Handle host interrupt @p vector (from the IDT, or a VM exit that acknowledged it). */
void host_irq_handle(u8 vector);

/** Measure the TSC frequency against the PIT; returns ticks per second. */
u64 tsc_calibrate(void);

/** Arm this CPU's local APIC timer to interrupt at TSC @p deadline (TSC-deadline mode),
 *  if the CPU has it; returns false otherwise. 0 disarms. */
bool lapic_timer_deadline(u64 deadline);

/** Busy-wait at least @p us microseconds, timed by the 8254 PIT (channel 2). */
void udelay(u64 us);

#endif
