/**
 * @file ioapic.c
 * @brief The I/O APIC: 24 interrupt pins, each turned into an APIC message by its
 * redirection-table entry.
 *
 * Datasheet: Intel 82093AA I/O Advanced Programmable Interrupt Controller (order no.
 * 290566). §3.2 "Register description": software selects a register by writing its
 * index to IOREGSEL (base + 0x00) and reads or writes it through IOWIN (base + 0x10).
 * Registers (Table 2): 0x00 IOAPICID, 0x01 IOAPICVER, 0x02 IOAPICARB, 0x10-0x3F the
 * redirection table, two 32-bit halves per pin (§3.2.4, bit layout below).
 *
 * Edge-triggered pins send one message per rising edge; one that arrives while the pin
 * is masked waits (Delivery Status shows it) and goes out when it is unmasked.
 * Level-triggered pins send while the line is asserted and then set Remote IRR until the
 * local APIC's EOI for that vector comes back (vioapic_eoi()), so one assertion gives
 * one interrupt. The line level arrives already meaning "asserted" (irq.h), so the
 * polarity bit is kept for the guest but not applied.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/irq.h>
#include <hvlab/spinlock.h>
#include <hvlab/lib.h>

#define IOAPIC_SIZE 0x1000ULL
#define IOREGSEL 0x00
#define IOWIN 0x10

#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_REDTBL 0x10
#define IOAPIC_VERSION 0x11
#define NPINS IRQ_GSI_COUNT

/* Redirection-table entry (§3.2.4). */
#define RTE_VECTOR 0xffULL
#define RTE_DELIVERY_SHIFT 8 /* 10:8 delivery mode */
#define RTE_DEST_LOGICAL BIT(11)
#define RTE_PENDING BIT(12)  /* delivery status, read-only */
#define RTE_POLARITY_LOW BIT(13)
#define RTE_REMOTE_IRR BIT(14) /* read-only */
#define RTE_LEVEL BIT(15)
#define RTE_MASKED BIT(16)
#define RTE_DEST_SHIFT 56
#define RTE_WRITABLE (0xfffULL | RTE_POLARITY_LOW | RTE_LEVEL | RTE_MASKED | (0xffULL << RTE_DEST_SHIFT))

struct vioapic {
	spinlock_t lock;
	u32 regsel;
	u32 id;               /**< IOAPICID bits 27:24 */
	u64 rte[NPINS];       /**< redirection table; RTE_PENDING and RTE_REMOTE_IRR are ours */
	u32 irr;              /**< pins with a request not yet sent */
	u32 line;             /**< asserted pins */
};

static struct vioapic vioapics[MAX_PARTITIONS];

/* Send every pending request that may go now, collecting the messages in @out (they are
 * delivered after the lock is dropped). Returns how many. */
static u32 service(struct vioapic *s, struct apic_message *out)
{
	u32 n = 0;

	for (u32 pin = 0; pin < NPINS; pin++) {
		u64 *rte = &s->rte[pin];
		if (!(s->irr & BIT(pin)) || (*rte & RTE_MASKED))
			continue;
		if (*rte & RTE_LEVEL) {
			if (*rte & RTE_REMOTE_IRR)
				continue; /* the last one was not EOIed yet */
			*rte |= RTE_REMOTE_IRR;
		} else {
			s->irr &= ~(u32)BIT(pin);
		}
		out[n++] = (struct apic_message){
			.vector = (u8)(*rte & RTE_VECTOR),
			.delivery = (u8)((*rte >> RTE_DELIVERY_SHIFT) & 7),
			.logical = *rte & RTE_DEST_LOGICAL,
			.level = *rte & RTE_LEVEL,
			.dest = (u32)(*rte >> RTE_DEST_SHIFT),
		};
	}
	/* Delivery Status: a request is waiting for this pin (here: masked or Remote IRR). */
	for (u32 pin = 0; pin < NPINS; pin++)
		s->rte[pin] = (s->irr & BIT(pin)) ? s->rte[pin] | RTE_PENDING : s->rte[pin] & ~RTE_PENDING;
	return n;
}

static void deliver_all(struct partition *p, const struct apic_message *m, u32 n)
{
	for (u32 i = 0; i < n; i++)
		vlapic_deliver(p, &m[i]);
}

static u32 reg_read(struct vioapic *s, u32 index)
{
	if (index == REG_ID)
		return s->id << 24;
	if (index == REG_VER)
		return (NPINS - 1) << 16 | IOAPIC_VERSION; /* maximum redirection entry, version */
	if (index == REG_ARB)
		return s->id << 24; /* arbitration ID: the APIC ID after reset */
	if (index >= REG_REDTBL && index < REG_REDTBL + 2 * NPINS) {
		u64 rte = s->rte[(index - REG_REDTBL) / 2];
		return (index & 1) ? (u32)(rte >> 32) : (u32)rte;
	}
	return 0; /* reserved indexes */
}

static void reg_write(struct vioapic *s, u32 index, u32 value)
{
	if (index == REG_ID) {
		s->id = (value >> 24) & 0xf;
	} else if (index >= REG_REDTBL && index < REG_REDTBL + 2 * NPINS) {
		u64 *rte = &s->rte[(index - REG_REDTBL) / 2];
		u64 half = (index & 1) ? (u64)value << 32 : value;
		u64 which = (index & 1) ? 0xffffffff00000000ULL : 0xffffffffULL;
		*rte = (*rte & ~(which & RTE_WRITABLE)) | (half & which & RTE_WRITABLE);
		if (!(*rte & RTE_LEVEL))
			*rte &= ~RTE_REMOTE_IRR; /* Remote IRR means nothing for edge pins */
	}
}

static u64 ioapic_read(struct vcpu *v, void *state, u64 offset, u8 size)
{
	struct vioapic *s = state;
	u32 value = 0;

	spin_lock(&s->lock);
	if ((offset & ~3ULL) == IOREGSEL)
		value = s->regsel;
	else if ((offset & ~3ULL) == IOWIN)
		value = reg_read(s, s->regsel);
	spin_unlock(&s->lock);
	return value >> (8 * (offset & 3));
}

static void ioapic_write(struct vcpu *v, void *state, u64 offset, u8 size, u64 value)
{
	struct vioapic *s = state;
	struct apic_message msgs[NPINS];
	u32 n = 0;

	int pin = -1;
	u64 rte = 0;

	spin_lock(&s->lock);
	if (offset == IOREGSEL) {
		s->regsel = (u8)value;
	} else if (offset == IOWIN) {
		u32 v32 = (u32)value;
		if (size < 4) /* a partial write keeps the other bytes */
			v32 = (reg_read(s, s->regsel) & ~((1u << (8 * size)) - 1)) | (v32 & ((1u << (8 * size)) - 1));
		reg_write(s, s->regsel, v32);
		if (s->regsel >= REG_REDTBL && s->regsel < REG_REDTBL + 2 * NPINS) {
			pin = (s->regsel - REG_REDTBL) / 2;
			rte = s->rte[pin];
		}
		n = service(s, msgs); /* an unmasked pin may have a request waiting */
	}
	spin_unlock(&s->lock);
	deliver_all(v->part, msgs, n);
	if (pin >= 0) /* a dedicated device's pin may be routed in hardware too */
		irq_route_changed(v->part, (u32)pin, rte);
}

static const struct mmio_ops ioapic_ops = { ioapic_read, ioapic_write };

/* ---- irq.h: the interface to device lines and the local APIC --------------------------- */

void vioapic_set_irq(struct partition *p, u32 pin, bool level)
{
	struct vioapic *s = &vioapics[p->id];
	struct apic_message msgs[NPINS];
	u32 n;

	if (pin >= NPINS)
		return;
	spin_lock(&s->lock);
	bool rising = level && !(s->line & BIT(pin));
	s->line = level ? s->line | (u32)BIT(pin) : s->line & ~(u32)BIT(pin);
	if (s->rte[pin] & RTE_LEVEL)
		s->irr = level ? s->irr | (u32)BIT(pin) : s->irr & ~(u32)BIT(pin);
	else if (rising)
		s->irr |= BIT(pin);
	n = service(s, msgs);
	spin_unlock(&s->lock);
	deliver_all(p, msgs, n);
}

void vioapic_eoi(struct partition *p, u8 vector)
{
	struct vioapic *s = &vioapics[p->id];
	struct apic_message msgs[NPINS];
	u32 n;

	spin_lock(&s->lock);
	for (u32 pin = 0; pin < NPINS; pin++)
		if ((s->rte[pin] & RTE_VECTOR) == vector && (s->rte[pin] & RTE_LEVEL))
			s->rte[pin] &= ~RTE_REMOTE_IRR;
	n = service(s, msgs); /* a line still asserted interrupts again */
	spin_unlock(&s->lock);
	deliver_all(p, msgs, n);
}

/* Delivery modes of bits 10:8 (§3.2.4), as the monitor names them. */
static const char *const delivery_words[8] = {
	"fixed", "lowest priority", "SMI", "reserved 3", "NMI", "INIT", "reserved 6", "ExtINT",
};

bool vioapic_pin_text(const struct partition *p, u32 pin, char *buf, size_t len)
{
	u64 rte;

	if (pin >= NPINS)
		return false;
	rte = vioapics[p->id].rte[pin]; /* one aligned load: this entry or the next, never half */
	if (rte & RTE_MASKED)
		return false;
	snprintf(buf, len, "vector 0x%02x %s, %s, to %s %u%s%s", (u32)(rte & RTE_VECTOR),
		 delivery_words[(rte >> RTE_DELIVERY_SHIFT) & 7], (rte & RTE_LEVEL) ? "level" : "edge",
		 (rte & RTE_DEST_LOGICAL) ? "logical" : "APIC ID", (u32)(rte >> RTE_DEST_SHIFT),
		 (rte & RTE_REMOTE_IRR) ? ", waiting for EOI" : "", (rte & RTE_PENDING) ? ", pending" : "");
	return true;
}

/* After reset every entry is masked (§3.2.4, bit 16). The ID follows the vCPUs' APIC IDs
 * 0..n-1 so that all IDs on the (virtual) APIC bus differ; the MADT says the same. */
static int ioapic_attach(struct partition *p)
{
	struct vioapic *s = &vioapics[p->id];

	*s = (struct vioapic){ .id = p->nvcpus & 0xf };
	for (u32 pin = 0; pin < NPINS; pin++)
		s->rte[pin] = RTE_MASKED;
	return mmio_register(p, HVLAB_IOAPIC_BASE, IOAPIC_SIZE, &ioapic_ops, s, "ioapic");
}
DEVICE_TYPE(ioapic_device) = { "ioapic", ioapic_attach };
