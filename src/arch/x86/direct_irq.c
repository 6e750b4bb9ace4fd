/**
 * @file direct_irq.c
 * @brief Interrupts delivered to a guest with no VM exit (MECHANISMS.md §4, the Hitachi
 * "interrupt interception per CPU": interception off for a dedicated CPU).
 *
 * A partition with `interception = off` runs on dedicated CPUs and is identity-mapped
 * (MECHANISMS.md §3, the "first guest"): so its interrupt vectors can be the physical ones
 * and its devices may DMA to the addresses it gives them. Then:
 *  - its vCPUs run without external-interrupt exiting and without HLT exiting (SDM Vol. 3C
 *    §25.6.1, §25.6.2): a physical interrupt goes straight through the guest's IDT;
 *  - the local APIC page is the real one (EPT maps 0xfee00000 to itself): the guest
 *    programs its CPU's APIC timer and sends EOIs itself;
 *  - a dedicated device's I/O ports pass through (I/O bitmap), and when the guest
 *    programs its device's pin in its virtual IOAPIC, the same entry goes into the
 *    physical IOAPIC, after the vector is allocated to the partition in the resource
 *    database (the same number on the same CPU, as MECHANISMS.md §3 requires).
 * The hypervisor still reaches such a CPU: NMI exiting stays on, and kicks are NMIs.
 */
#include <arch/direct_irq.h>
#include <arch/partition_arch.h>
#include <arch/percpu.h>
#include <arch/lapic.h>
#include <arch/cpu.h>
#include <arch/ept.h>
#include <hvlab/partition.h>
#include <hvlab/resources.h>
#include <hvlab/console.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

#define LAPIC_PAGE 0xfee00000ULL

/* Redirection-entry fields (82093AA datasheet §3.2.4). */
#define RTE_VECTOR(r) ((u8)(r))
#define RTE_DELIVERY(r) (((r) >> 8) & 7)
#define RTE_LOGICAL BIT(11)
#define RTE_MASKED BIT(16)
#define RTE_DEST(r) ((u32)((r) >> 56))

static volatile u32 *ioapic_regs; /* IOREGSEL at 0x00, IOWIN at 0x10 */
static spinlock_t ioapic_lock = SPINLOCK_INIT;

/* Which physical pins a partition routed (to mask them when it ends), and how. */
static u32 routed_pins[MAX_PARTITIONS];
static u64 routed_rte[MAX_PARTITIONS][24];

void ioapic_phys_init(const struct madt_info *madt)
{
	if (madt->nioapics)
		ioapic_regs = phys_to_virt(madt->ioapic[0].base);
}

static void ioapic_phys_write_rte(u32 pin, u64 rte)
{
	spin_lock(&ioapic_lock);
	ioapic_regs[0] = 0x10 + 2 * pin + 1; /* high half first: destination before unmasking */
	ioapic_regs[4] = (u32)(rte >> 32);
	ioapic_regs[0] = 0x10 + 2 * pin;
	ioapic_regs[4] = (u32)rte;
	spin_unlock(&ioapic_lock);
}

/* The physical IOAPIC pin of a dedicated device of @p p wired to @p pin, or NULL. */
static const struct resdb_known_device *dedicated_device_at(struct partition *p, u32 pin)
{
	const struct partition_config *pc = p->cfg;

	for (u32 i = 0; i < pc->ndevices; i++) {
		const struct resdb_known_device *d = resdb_known_device(pc->devices[i]);
		if (d && pc->device_mode[i] == DEVICE_DEDICATED && (d->irq == 0 ? 2u : d->irq) == pin)
			return d;
	}
	return NULL;
}

int direct_irq_partition_init(struct partition *p)
{
	const struct partition_config *pc = p->cfg;
	u8 *io_bitmap = phys_to_virt(p->arch.io_bitmap_pa);

	for (u32 i = 0; i < pc->ndevices; i++) {
		const struct resdb_known_device *d = resdb_known_device(pc->devices[i]);
		if (!d || pc->device_mode[i] != DEVICE_DEDICATED)
			continue;
		for (u32 port = d->port_base; port < (u32)d->port_base + d->port_count; port++)
			io_bitmap[port / 8] &= ~(1 << (port % 8)); /* SDM Vol. 3C §25.6.4 */
	}
	return ept_map(&p->arch.ept, LAPIC_PAGE, LAPIC_PAGE, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_UC);
}

/* Is APIC ID @apic_id one of @p's (dedicated) CPUs? Its CPU index, or -1. */
static int partition_cpu_with_apic_id(struct partition *p, u32 apic_id)
{
	for (u32 i = 0; i < p->nvcpus; i++)
		if (cpus[p->vcpu[i].cpu].apic_id == apic_id)
			return (int)p->vcpu[i].cpu;
	return -1;
}

void direct_irq_route(struct partition *p, u32 pin, u64 rte)
{
	if (!p->direct_irqs || !ioapic_regs || pin >= 24 || !dedicated_device_at(p, pin))
		return;
	if (rte & RTE_MASKED) {
		ioapic_phys_write_rte(pin, rte);
		return;
	}
	int cpu = (rte & RTE_LOGICAL) ? -1 : partition_cpu_with_apic_id(p, RTE_DEST(rte));
	if (RTE_DELIVERY(rte) != 0 || cpu < 0 || RTE_VECTOR(rte) < 32) {
		printk("hvlab: partition %s: IOAPIC pin %u not routed directly: fixed delivery to one of "
		       "its own CPUs, by physical APIC ID, with a vector of 32 or more is required\n", p->name, pin);
		return;
	}
	/* The vector becomes the partition's on that CPU (unless it already is). */
	struct resdb_res vec = resdb_vector((u32)cpu, RTE_VECTOR(rte));
	u8 mode;
	char err[160];
	int claimed = 0;
	resources_lock();
	if (resdb_owners(&resdb, vec, &mode) != BIT(p->id)) {
		resdb_tx_begin(&resdb);
		resdb_tx_alloc(&resdb, vec, p->id, RESDB_EXCLUSIVE);
		claimed = resdb_tx_commit(&resdb, err, sizeof(err)) < 0 ? -1 : 1;
	}
	resources_unlock();
	if (claimed < 0) {
		printk("hvlab: partition %s: IOAPIC pin %u not routed: %s\n", p->name, pin, err);
		return;
	}
	if (claimed)
		resources_refresh_view(p); /* the vector is now in its view */
	ioapic_phys_write_rte(pin, rte);
	bool news = !(routed_pins[p->id] & (1u << pin)) || routed_rte[p->id][pin] != rte;
	routed_pins[p->id] |= 1u << pin;
	routed_rte[p->id][pin] = rte;
	if (news)
		printk("hvlab: partition %s: IOAPIC pin %u -> vector 0x%x on cpu%d, delivered directly\n",
	       p->name, pin, RTE_VECTOR(rte), cpu);
}

void direct_irq_partition_ended(struct partition *p)
{
	for (u32 pin = 0; pin < 24; pin++)
		if (routed_pins[p->id] & (1u << pin))
			ioapic_phys_write_rte(pin, RTE_MASKED);
	routed_pins[p->id] = 0;
	lapic_quiesce();
}
