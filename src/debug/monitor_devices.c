/**
 * @file monitor_devices.c
 * @brief Monitor commands about the machine's interrupts and devices: `info irq` and
 * `info pci`.
 *
 * Two sources for each. The partition's virtual PC (docs/design/virtual-platform.md):
 * its IOAPIC redirection entries and 8259 pair say which vector each of its interrupt
 * lines becomes, its PCI bus which functions it sees. And the resource database
 * (MECHANISMS.md §2, resdb.h): which physical vectors and devices belong to whom, which
 * matters for partitions whose interrupts bypass the hypervisor (interception off,
 * docs/design/interrupt-routing.md).
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/resources.h>
#include <hvlab/irq.h>
#include <hvlab/pci.h>
#include <hvlab/lib.h>

/* The IOAPIC pins the virtual PC's own devices drive (irq.c: ISA IRQ 0 arrives on pin 2). */
static const struct {
	u32 pin;
	const char *device;
} pin_devices[] = {
	{ 2, "PIT" },
	{ 8, "RTC" },
};

static const char *pin_device(u32 pin)
{
	for (size_t i = 0; i < ARRAY_SIZE(pin_devices); i++)
		if (pin_devices[i].pin == pin)
			return pin_devices[i].device;
	return NULL;
}

/* Print every entry of the resource database of @p kind. Returns how many. */
static u32 print_resdb_kind(struct monitor_call *call, u8 kind)
{
	char text[200];
	u32 n = 0;

	for (u32 i = 0; i < RESDB_MAX_ENTRIES; i++) {
		const struct resdb_entry *e = &resdb.entries[i];
		if (e->mode == RESDB_FREE || e->res.kind != kind)
			continue;
		resdb_entry_text(&resdb, e, text, sizeof(text));
		monitor_printf(call, "  %s\n", text);
		n++;
	}
	return n;
}

/* Partition @p p's interrupt routing: how its lines reach it, and their vectors. */
static void irq_of_partition(struct monitor_call *call, const struct partition *p)
{
	char text[160];
	u32 shown = 0;

	monitor_printf(call, "partition %u (%s): %s\n", p->id, p->name,
		       p->direct_irqs ? "its dedicated devices interrupt it directly (interception off)"
				      : "interrupts injected by the hypervisor (interception on)");
	for (u32 pin = 0; pin < IRQ_GSI_COUNT; pin++) {
		if (!vioapic_pin_text(p, pin, text, sizeof(text)))
			continue;
		const char *dev = pin_device(pin);
		monitor_printf(call, "  IOAPIC pin %u%s%s%s: %s\n", pin, dev ? " (" : "", dev ? dev : "",
			       dev ? ")" : "", text);
		shown++;
	}
	if (!shown)
		monitor_printf(call, "  IOAPIC: every pin masked\n");
	vpic_text(p, text, sizeof(text));
	monitor_printf(call, "  8259 pair: %s\n", text);
	for (u32 i = 0; i < p->cfg->ndevices; i++)
		monitor_printf(call, "  device %s: %s\n", p->cfg->devices[i],
			       p->cfg->device_mode[i] == DEVICE_DEDICATED ? "dedicated" : "shared");
}

/* info irq */
static int info_irq(struct monitor_call *call)
{
	for (u32 i = 0; i < npartitions; i++)
		if (!partitions[i].lc.destroyed)
			irq_of_partition(call, &partitions[i]);
	monitor_printf(call, "physical vectors in the resource database:\n");
	if (!print_resdb_kind(call, RESDB_VECTOR))
		monitor_printf(call, "  none claimed by partitions\n");
	return MON_OK;
}

MONITOR_COMMAND(cmd_info_irq) = {
	"info irq", "", "interrupt routing: which interrupt goes to which partition and vector", info_irq
};

/* PCI class codes (PCI Code and ID Assignment Specification §1), the few worth a word. */
static const char *class_name(u8 class_code)
{
	static const char *const names[] = {
		[0x01] = "storage", [0x02] = "network", [0x03] = "display", [0x04] = "multimedia",
		[0x06] = "bridge",  [0x0c] = "serial bus",
	};
	return class_code < ARRAY_SIZE(names) && names[class_code] ? names[class_code] : "device";
}

/* One partition's bus: "  00:00.0 8086:1237 bridge 06.00" per function. */
static void pci_of_partition(struct monitor_call *call, const struct partition *p)
{
	u8 hdr[16];
	u16 bdf;

	monitor_printf(call, "partition %u (%s), its virtual bus:\n", p->id, p->name);
	for (u32 i = 0; pci_function_header(p, i, &bdf, hdr); i++)
		monitor_printf(call, "  %02x:%02x.%x %04x:%04x %s (class %02x.%02x)\n", bdf >> 8,
			       (bdf >> 3) & 0x1f, bdf & 7, hdr[PCI_VENDOR_ID] | hdr[PCI_VENDOR_ID + 1] << 8,
			       hdr[PCI_DEVICE_ID] | hdr[PCI_DEVICE_ID + 1] << 8, class_name(hdr[PCI_CLASS]),
			       hdr[PCI_CLASS], hdr[PCI_SUBCLASS]);
}

/* info pci */
static int info_pci(struct monitor_call *call)
{
	for (u32 i = 0; i < npartitions; i++)
		if (!partitions[i].lc.destroyed)
			pci_of_partition(call, &partitions[i]);
	monitor_printf(call, "physical devices in the resource database:\n");
	if (!print_resdb_kind(call, RESDB_DEVICE))
		monitor_printf(call, "  none given to partitions\n");
	return MON_OK;
}

MONITOR_COMMAND(cmd_info_pci) = {
	"info pci", "", "PCI devices, and the partition each belongs to", info_pci
};
