/**
 * @file irq.c
 * @brief A device's interrupt line, wired as on a PC: ISA IRQs 0-15 go to both the 8259
 * pair and IOAPIC pins 0-15 (the guest's ACPI MADT says which one it uses), higher GSIs
 * to the IOAPIC alone (ACPI 6.5 §5.2.12.5, "Interrupt Source Override").
 */
#include <hvlab/irq.h>
#include <hvlab/partition.h>
#include <arch/direct_irq.h>

#define ISA_IRQS 16

void irq_set_level(struct partition *p, u32 gsi, bool level)
{
	if (gsi >= IRQ_GSI_COUNT)
		return;
	/* On PCs the PIT's IRQ 0 is wired to IOAPIC pin 2 (the MADT's override says so). */
	u32 pin = gsi == 0 ? 2 : gsi;

	if (gsi < ISA_IRQS)
		vpic_set_irq(p, gsi, level);
	vioapic_set_irq(p, pin, level);
}

void irq_pulse(struct partition *p, u32 gsi)
{
	irq_set_level(p, gsi, true);
	irq_set_level(p, gsi, false);
}

void irq_route_changed(struct partition *p, u32 pin, u64 rte)
{
	direct_irq_route(p, pin, rte);
}
