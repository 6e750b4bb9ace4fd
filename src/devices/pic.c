/**
 * @file pic.c
 * @brief The 8259A programmable interrupt controller pair of a PC (master 0x20/0x21,
 * slave 0xA0/0xA1, cascaded on the master's IR2), with the edge/level control
 * registers (ELCR) at 0x4D0/0x4D1.
 *
 * Datasheet: Intel 8259A (order no. 231468): the IRR/ISR/IMR registers and the priority
 * resolver (Figure 2 and "Interrupt sequence"), ICW1-ICW4 ("Initialization command
 * words", Figure 6), OCW1-OCW3 ("Operation command words", Figure 8), automatic EOI,
 * poll command, special mask mode, and the spurious IR7 of the slave (vector base + 7,
 * not in service) when its request vanished before the acknowledge. On the master the
 * same case returns -1 instead (irq.h: the injecting code then delivers nothing, which a
 * guest cannot tell from a spurious IRQ 7 it ignores). Edge or level per line comes
 * from the PIIX ELCR (82371AB datasheet §4.1.8), as on every PC since the PCI chipsets;
 * ICW1's LTIM bit is ignored there too.
 *
 * The master's output goes to vCPU 0's LINT0 (src/arch/x86/vlapic.c decides whether the
 * guest takes it); when it rises, vCPU 0 is kicked, and before the next VM entry the
 * injection code asks vpic_pending_vector() and acknowledges with vpic_acknowledge().
 */
#include <hvlab/partition.h>
#include <hvlab/irq.h>
#include <hvlab/spinlock.h>
#include <hvlab/lib.h>

/* One 8259A. Bit n of each mask is input IRn. */
struct i8259 {
	u8 irr;            /**< Interrupt Request Register: requests not yet acknowledged */
	u8 isr;            /**< In-Service Register: acknowledged, waiting for EOI */
	u8 imr;            /**< Interrupt Mask Register (OCW1) */
	u8 line;           /**< current input levels, to see edges */
	u8 elcr;           /**< 1 = level-triggered (ELCR) */
	u8 elcr_writable;  /**< ELCR bits that exist (the timer, keyboard, cascade, FPU stay edge) */
	u8 vector_base;    /**< ICW2: T7-T3 of the vector */
	u8 icw3;           /**< cascade wiring (kept for reading back; the pair is fixed) */
	u8 lowest;         /**< priority rotation: IR(lowest+1) has the highest priority */
	u8 init_step;      /**< 0 = operational; 1-3 = ICW2-ICW4 expected next */
	bool need_icw4, single, auto_eoi, rotate_auto_eoi, special_nested, special_mask;
	bool read_isr;     /**< OCW3 RR/RIS: the command port reads ISR (else IRR) */
	bool poll;         /**< OCW3 P: the next read is a poll */
};

struct vpic {
	spinlock_t lock;
	struct i8259 chip[2]; /* 0 = master, 1 = slave */
	bool output;          /**< the master's INT pin */
};

static struct vpic vpics[MAX_PARTITIONS];

#define MASTER 0
#define SLAVE 1
#define CASCADE_IRQ 2
#define SPURIOUS_IRQ 7

/* Initialization and operation command words (datasheet Figures 6 and 8). */
#define ICW1_IC4 0x01    /* ICW4 will follow */
#define ICW1_SNGL 0x02   /* single 8259, no ICW3 */
#define ICW1_INIT 0x10   /* distinguishes ICW1 from OCW2/OCW3 on the command port */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SELECT 0x08 /* distinguishes OCW3 from OCW2 */
#define OCW3_RR 0x02
#define OCW3_RIS 0x01
#define OCW3_POLL 0x04
#define OCW3_ESMM 0x40
#define OCW3_SMM 0x20

/* Priority (0 = highest) of the best request in @mask under the current rotation, 8 if none. */
static int priority_of(const struct i8259 *c, u8 mask)
{
	if (!mask)
		return 8;
	int prio = 0;
	while (!(mask & (1u << ((prio + c->lowest + 1) & 7))))
		prio++;
	return prio;
}

/* The input this chip would signal now, or -1: the best unmasked request, if it beats
 * everything in service (fully nested mode; special mask mode lets masked in-service
 * levels through; special fully nested lets the slave interrupt its own service). */
static int chip_request(const struct i8259 *c, bool is_master)
{
	int prio = priority_of(c, c->irr & ~c->imr);
	if (prio == 8)
		return -1;
	u8 in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (c->special_nested && is_master)
		in_service &= ~(1u << CASCADE_IRQ);
	if (prio >= priority_of(c, in_service))
		return -1;
	return (prio + c->lowest + 1) & 7;
}

/* An input changed level: latch an edge, or follow a level (datasheet "Edge and level
 * triggered modes"). */
static void chip_set_input(struct i8259 *c, int irq, bool level)
{
	u8 bit = 1u << irq;

	if (c->elcr & bit) {
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->line & bit)) {
		c->irr |= bit;
	}
	c->line = level ? c->line | bit : c->line & ~bit;
}

/* Propagate the slave's INT to the master's IR2 and recompute the master's INT.
 * Returns true when the INT pin rose (the caller kicks vCPU 0 after unlocking). */
static bool update(struct vpic *s)
{
	bool slave_int = chip_request(&s->chip[SLAVE], false) >= 0;

	/* The slave's INT is a pulse to the master: a fresh edge while it is asserted. */
	chip_set_input(&s->chip[MASTER], CASCADE_IRQ, false);
	if (slave_int)
		chip_set_input(&s->chip[MASTER], CASCADE_IRQ, true);
	bool was = s->output;
	s->output = chip_request(&s->chip[MASTER], true) >= 0;
	return s->output && !was;
}

/* The acknowledge of @irq on @c: move it from IRR to ISR (or not, in auto-EOI mode). */
static void chip_ack(struct i8259 *c, int irq)
{
	u8 bit = 1u << irq;

	if (c->auto_eoi) {
		if (c->rotate_auto_eoi)
			c->lowest = irq;
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit)) /* an edge request is consumed; a level one lasts while the line is high */
		c->irr &= ~bit;
}

/* Interrupt acknowledge of the pair: the vector, or -1 when nothing is requested. A
 * cascade request the slave no longer has gives the slave's spurious IR7 (vector
 * base + 7, not marked in service), as the datasheet describes. */
static int pair_ack(struct vpic *s)
{
	int irq = chip_request(&s->chip[MASTER], true);
	int vector;

	if (irq < 0)
		return -1;
	chip_ack(&s->chip[MASTER], irq);
	if (irq == CASCADE_IRQ && !s->chip[MASTER].single) {
		int irq2 = chip_request(&s->chip[SLAVE], false);
		if (irq2 >= 0)
			chip_ack(&s->chip[SLAVE], irq2);
		vector = s->chip[SLAVE].vector_base + (irq2 >= 0 ? irq2 : SPURIOUS_IRQ);
	} else {
		vector = s->chip[MASTER].vector_base + irq;
	}
	return vector;
}

/* OCW2 (datasheet Figure 8): end of interrupt and priority rotation. R, SL, EOI are bits 7:5. */
static void ocw2(struct i8259 *c, u8 value)
{
	int irq = value & 7;
	int prio;

	switch (value >> 5) {
	case 0: c->rotate_auto_eoi = false; return; /* clear rotate in automatic EOI mode */
	case 4: c->rotate_auto_eoi = true; return;  /* set rotate in automatic EOI mode */
	case 1:                                     /* non-specific EOI */
	case 5:                                     /* rotate on non-specific EOI */
		prio = priority_of(c, c->isr);
		if (prio == 8)
			return;
		irq = (prio + c->lowest + 1) & 7;
		c->isr &= ~(1u << irq);
		if (value >> 5 == 5)
			c->lowest = irq;
		return;
	case 3: c->isr &= ~(1u << irq); return;     /* specific EOI */
	case 7:                                     /* rotate on specific EOI */
		c->isr &= ~(1u << irq);
		c->lowest = irq;
		return;
	case 6: c->lowest = irq; return;            /* set priority: IRn becomes the lowest */
	default: return;                            /* 2: no operation */
	}
}

/* ICW1 starts the initialization sequence and resets the chip's state (datasheet
 * "Initialization command words": IMR cleared, IR7 lowest, special mask off, IRR read). */
static void icw1(struct i8259 *c, u8 value)
{
	struct i8259 old = *c;

	/* Edge requests are forgotten and an input must make a new low-to-high transition;
	 * a level request stays while its line is high. */
	*c = (struct i8259){ .irr = old.irr & old.elcr, .line = old.line, .elcr = old.elcr,
			     .elcr_writable = old.elcr_writable, .lowest = 7 };
	c->need_icw4 = value & ICW1_IC4;
	c->single = value & ICW1_SNGL;
	c->init_step = 1;
}

static void command_write(struct i8259 *c, u8 value)
{
	if (value & ICW1_INIT) {
		icw1(c, value);
	} else if (value & OCW3_SELECT) {
		if (value & OCW3_POLL)
			c->poll = true;
		if (value & OCW3_RR)
			c->read_isr = value & OCW3_RIS;
		if (value & OCW3_ESMM)
			c->special_mask = value & OCW3_SMM;
	} else {
		ocw2(c, value);
	}
}

/* The data port: ICW2-4 during initialization, otherwise OCW1 (the mask). */
static void data_write(struct i8259 *c, u8 value)
{
	switch (c->init_step) {
	case 1: /* ICW2: the vector base */
		c->vector_base = value & 0xf8;
		c->init_step = !c->single ? 2 : c->need_icw4 ? 3 : 0;
		break;
	case 2: /* ICW3: cascade wiring */
		c->icw3 = value;
		c->init_step = c->need_icw4 ? 3 : 0;
		break;
	case 3: /* ICW4 */
		c->auto_eoi = value & ICW4_AEOI;
		c->special_nested = value & ICW4_SFNM;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = value;
		break;
	}
}

/* Poll command: the read itself is the acknowledge; bit 7 says whether there was a request. */
static u8 poll_read(struct vpic *s, int chip)
{
	struct i8259 *c = &s->chip[chip];
	int irq = chip_request(c, chip == MASTER);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, irq);
	return 0x80 | irq;
}

static u32 pic_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct vpic *s = state;
	int chip = port >= 0xa0;
	struct i8259 *c = &s->chip[chip];
	bool kick;
	u8 value;

	spin_lock(&s->lock);
	if (c->poll)
		value = poll_read(s, chip);
	else if (port & 1)
		value = c->imr;
	else
		value = c->read_isr ? c->isr : c->irr;
	kick = update(s);
	spin_unlock(&s->lock);
	if (kick)
		vcpu_kick(&v->part->vcpu[0]);
	return value;
}

static void pic_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct vpic *s = state;
	struct i8259 *c = &s->chip[port >= 0xa0];
	bool kick;

	spin_lock(&s->lock);
	if (port & 1)
		data_write(c, (u8)value);
	else
		command_write(c, (u8)value);
	kick = update(s);
	spin_unlock(&s->lock);
	if (kick)
		vcpu_kick(&v->part->vcpu[0]);
}

static u32 elcr_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct vpic *s = state;

	return s->chip[port & 1].elcr;
}

static void elcr_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct vpic *s = state;
	struct i8259 *c = &s->chip[port & 1];

	spin_lock(&s->lock);
	c->elcr = (u8)value & c->elcr_writable;
	spin_unlock(&s->lock);
}

static const struct pio_ops pic_ops = { pic_read, pic_write };
static const struct pio_ops elcr_ops = { elcr_read, elcr_write };

/* ---- irq.h: the interface to device lines and the local APIC --------------------------- */

void vpic_set_irq(struct partition *p, u32 irq, bool level)
{
	struct vpic *s = &vpics[p->id];
	bool kick;

	if (irq >= 16)
		return;
	spin_lock(&s->lock);
	chip_set_input(&s->chip[irq >> 3], irq & 7, level);
	kick = update(s);
	spin_unlock(&s->lock);
	if (kick)
		vcpu_kick(&p->vcpu[0]);
}

int vpic_pending_vector(struct partition *p)
{
	struct vpic *s = &vpics[p->id];
	int vector = -1;

	/* Asked before every VM entry: with no request at all, answer without the lock. */
	if (!__atomic_load_n(&s->chip[MASTER].irr, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&s->chip[SLAVE].irr, __ATOMIC_ACQUIRE))
		return -1;
	spin_lock(&s->lock);
	int irq = chip_request(&s->chip[MASTER], true);
	if (irq == CASCADE_IRQ && !s->chip[MASTER].single) {
		int irq2 = chip_request(&s->chip[SLAVE], false);
		vector = s->chip[SLAVE].vector_base + (irq2 >= 0 ? irq2 : SPURIOUS_IRQ);
	} else if (irq >= 0) {
		vector = s->chip[MASTER].vector_base + irq;
	}
	spin_unlock(&s->lock);
	return vector;
}

int vpic_acknowledge(struct partition *p)
{
	struct vpic *s = &vpics[p->id];
	bool kick;

	spin_lock(&s->lock);
	int vector = pair_ack(s);
	kick = update(s);
	spin_unlock(&s->lock);
	if (kick)
		vcpu_kick(&p->vcpu[0]);
	return vector;
}

void vpic_text(const struct partition *p, char *buf, size_t len)
{
	const struct vpic *s = &vpics[p->id];
	size_t used;

	/* Unlocked reads of a few bytes: a snapshot for the monitor, each byte whole. */
	used = (size_t)snprintf(buf, len, "vectors 0x%02x-0x%02x and 0x%02x-0x%02x, unmasked IRQs:",
				s->chip[MASTER].vector_base, s->chip[MASTER].vector_base + 7,
				s->chip[SLAVE].vector_base, s->chip[SLAVE].vector_base + 7);
	u16 unmasked = (u16)~(s->chip[MASTER].imr | s->chip[SLAVE].imr << 8);
	for (int irq = 0; irq < 16 && used < len; irq++)
		if (unmasked & (1u << irq))
			used += (size_t)snprintf(buf + used, len - used, " %d", irq);
	if (!unmasked && used < len)
		snprintf(buf + used, len - used, " none");
}

/* Power-on state: as the BIOS would leave it is the guest's job; the chips start
 * uninitialized with everything masked, vectors 0x08/0x70 as after a PC BIOS. */
static int pic_attach(struct partition *p)
{
	struct vpic *s = &vpics[p->id];

	*s = (struct vpic){ 0 };
	for (int i = 0; i < 2; i++)
		s->chip[i] = (struct i8259){ .imr = 0xff, .lowest = 7 };
	s->chip[MASTER].vector_base = 0x08;
	s->chip[SLAVE].vector_base = 0x70;
	s->chip[MASTER].elcr_writable = 0xf8; /* IRQ 0, 1, 2 are always edge */
	s->chip[SLAVE].elcr_writable = 0xde;  /* IRQ 8, 13 are always edge */
	if (pio_register(p, 0x20, 2, &pic_ops, s, "8259 master") < 0 ||
	    pio_register(p, 0xa0, 2, &pic_ops, s, "8259 slave") < 0 ||
	    pio_register(p, 0x4d0, 2, &elcr_ops, s, "8259 ELCR"))
		return -1;
	return 0;
}
DEVICE_TYPE(pic_device) = { "pic", pic_attach };
