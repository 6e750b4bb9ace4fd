/**
 * @file irq.h
 * @brief Virtual interrupts inside a partition: device lines, the PIC/IOAPIC, the LAPIC.
 *
 * A device model raises a guest interrupt line (a GSI, as ACPI numbers them: 0-15 are
 * the ISA IRQs, wired to both the 8259 pair and IOAPIC pins 0-15; 16-23 IOAPIC only).
 * src/core/irq.c forwards the line to the virtual PIC (src/devices/pic.c) and IOAPIC
 * (src/devices/ioapic.c); they turn it into an APIC message for the virtual local APICs
 * (src/arch/x86/vlapic.c), which make the vCPU take it (event injection, SDM Vol. 3C
 * §27.6). This is the "interception on" path of MECHANISMS.md §4: the hypervisor
 * emulates the interrupt controller and injects.
 */
#ifndef HVLAB_IRQ_H
#define HVLAB_IRQ_H

#include <hvlab/types.h>

struct partition;
struct vcpu;

#define IRQ_GSI_COUNT 24 /**< pins of the one virtual IOAPIC */

/* APIC delivery modes (SDM Vol. 3A §11.6.1, ICR bits 10:8; the IOAPIC uses the same). */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/** One interrupt message on the (virtual) APIC bus. */
struct apic_message {
	u8 vector;
	u8 delivery;      /**< enum apic_delivery */
	bool logical;     /**< destination mode: false = physical APIC ID, true = logical */
	bool level;       /**< level-triggered (the target's EOI goes back to the IOAPIC) */
	u32 dest;         /**< APIC ID (physical), or logical mask; 0xff / 0xffffffff = broadcast */
	u32 shorthand;    /**< ICR shorthand: 0 none, 1 self, 2 all including self, 3 all but self */
	u32 source_vcpu;  /**< sender for shorthands (IPIs) */
};

/** Set guest interrupt line @p gsi of @p p to @p level (true = asserted). Lines 0-15 are
 *  the ISA IRQs (IRQ 0, the PIT, reaches IOAPIC pin 2, as the MADT override says). */
void irq_set_level(struct partition *p, u32 gsi, bool level);

/** An edge on line @p gsi: assert then deassert. */
void irq_pulse(struct partition *p, u32 gsi);

/** Deliver @p m to the virtual local APIC(s) it addresses in @p p. */
void vlapic_deliver(struct partition *p, const struct apic_message *m);

/* The virtual PIC and IOAPIC, for irq.c and the local APICs. */

/** Virtual 8259 pair: line @p irq (0-15) changed. */
void vpic_set_irq(struct partition *p, u32 irq, bool level);
/** Vector the PIC would deliver now (highest-priority unmasked request), or -1. */
int vpic_pending_vector(struct partition *p);
/** The CPU's interrupt acknowledge: returns the vector and marks it in service, or -1. */
int vpic_acknowledge(struct partition *p);

/** Virtual IOAPIC: pin @p pin changed. */
void vioapic_set_irq(struct partition *p, u32 pin, bool level);
/** A local APIC signalled EOI for level-triggered @p vector: clear Remote IRR, re-deliver if still asserted. */
void vioapic_eoi(struct partition *p, u8 vector);

/** For the monitor (`info irq`): pin @p pin of @p p's virtual IOAPIC in words ("vector
 *  0x30 fixed, edge, to APIC ID 0") into @p buf; false, with nothing written, when the pin
 *  is masked or does not exist. */
bool vioapic_pin_text(const struct partition *p, u32 pin, char *buf, size_t len);

/** For the monitor: @p p's virtual 8259 pair in words (vector ranges, unmasked IRQs). */
void vpic_text(const struct partition *p, char *buf, size_t len);

/** The guest programmed pin @p pin of its IOAPIC with redirection entry @p rte (the
 *  IOAPIC model calls this, outside its lock): mirrored to hardware for a dedicated device
 *  of a partition with interception off (src/arch/x86/direct_irq.c). */
void irq_route_changed(struct partition *p, u32 pin, u64 rte);

/**
 * Make @p v look at its pending interrupts soon: if it runs on another physical CPU,
 * interrupt that CPU so the vCPU exits; if it is halted, wake it.
 */
void vcpu_kick(struct vcpu *v);

#endif
