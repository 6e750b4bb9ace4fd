/**
 * @file direct_irq.h
 * @brief Interception off: a partition's interrupts going straight to its CPU.
 */
#ifndef ARCH_DIRECT_IRQ_H
#define ARCH_DIRECT_IRQ_H

#include <hvlab/types.h>
#include <arch/acpi.h>

struct partition;

/** Find the physical IOAPIC (from the MADT) so redirection entries can be written. */
void ioapic_phys_init(const struct madt_info *madt);

/** Give @p p's dedicated devices and local APIC to the guest: their I/O ports and the
 *  APIC page pass through (I/O bitmap, EPT). Returns 0 or -1. */
int direct_irq_partition_init(struct partition *p);

/**
 * The guest programmed pin @p pin of its (virtual) IOAPIC with @p rte. If the pin belongs
 * to one of its dedicated devices, program the physical IOAPIC the same way, once the
 * vector is the partition's in the resource database and the destination is one of its
 * dedicated CPUs (MECHANISMS.md §4, "interrupt interception per CPU").
 */
void direct_irq_route(struct partition *p, u32 pin, u64 rte);

/** @p p ended: mask its physical IOAPIC pins, and on this CPU quiet the local APIC it used. */
void direct_irq_partition_ended(struct partition *p);

#endif
