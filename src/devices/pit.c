/**
 * @file pit.c
 * @brief The 8254 programmable interval timer: three 16-bit counters at 1.193182 MHz
 * (ports 0x40-0x42, control word at 0x43), and port 0x61, where a PC wires counter 2's
 * gate and output.
 *
 * Datasheet: Intel 8254 (order no. 231164): "Control word format" (Figure 7), "Counter
 * latch command", "Read-back command" (Figures 9-11), "Modes" 0-5 (Figures 12-17).
 * Counter 0's output is IRQ 0; counter 2's gate is port 0x61 bit 0 and its output is
 * readable as bit 5 (IBM PC/AT technical reference, "System control port B"), which is
 * how Linux and this hypervisor's own udelay() time a delay against the PIT.
 *
 * Nothing ticks: a counter remembers when it started and computes its count and output
 * from the guest clock (vtime_now()) when read. Counter 0 arms a virtual timer for its
 * next output edge to raise IRQ 0. Counts are binary; the BCD bit is kept but not used.
 */
#include <hvlab/partition.h>
#include <hvlab/irq.h>
#include <hvlab/vtimer.h>
#include <hvlab/spinlock.h>

#define PIT_HZ 1193182ULL
#define PIT_PORT_CONTROL 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01       /* counter 2 gate */
#define PORT_B_SPEAKER 0x02     /* speaker data enable */
#define PORT_B_WRITABLE 0x0f
#define PORT_B_REFRESH 0x10     /* toggles every 15.085 us (DRAM refresh request) */
#define PORT_B_OUT2 0x20        /* counter 2 output */
#define REFRESH_NS 15085

/* Fewest PIT clocks between two interrupts of counter 0 (~42 us): a guest asking for a
 * faster interrupt rate gets this one, so it cannot flood the CPU it shares. */
#define MIN_IRQ_PERIOD 50

/* Control word bits (Figure 7). */
#define CW_SC(cw) ((cw) >> 6)        /* counter select; 3 = read-back */
#define CW_RW(cw) (((cw) >> 4) & 3)  /* 0 = latch, 1 = LSB, 2 = MSB, 3 = LSB then MSB */
#define CW_MODE(cw) (((cw) >> 1) & 7)
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3

struct pit_counter {
	u8 mode, rw, bcd;
	u32 initial;            /**< count register: 1-65536 (0 is written for 65536) */
	bool null_count;        /**< a count was programmed but not loaded yet */
	bool gate;
	bool running;           /**< counting (armed and gated on) */
	u64 start;              /**< vtime when counting (re)started */
	u64 carried;            /**< PIT clocks counted before a pause (modes 0 and 4) */
	u8 write_lsb;           /**< LSB written, waiting for MSB (RW_WORD) */
	bool write_second;
	bool read_second;       /**< next read of a RW_WORD counter is its MSB */
	bool latched;           /**< a counter latch command holds latch_value */
	bool latch_second;
	u16 latch_value;
	bool status_latched;    /**< a read-back command holds status */
	u8 status;
};

struct vpit {
	spinlock_t lock;
	struct partition *part;
	struct pit_counter c[3];
	u8 port_b;              /**< writable bits of port 0x61 */
	struct vtimer timer;    /**< counter 0's next interrupt */
	u64 irq_periods;        /**< periods of counter 0 already signalled */
};

static struct vpit vpits[MAX_PARTITIONS];

/* @v * @mul / @div without overflowing 64 bits when @v is large. */
static u64 scale(u64 v, u64 mul, u64 div)
{
	return v / div * mul + v % div * mul / div;
}

static u64 tsc_hz(void)
{
	u64 hz = vtime_tsc_hz();
	return hz ? hz : 1;
}

/* PIT clocks counted so far by @c. */
static u64 elapsed(const struct pit_counter *c, u64 now)
{
	return c->carried + (c->running ? scale(now - c->start, PIT_HZ, tsc_hz()) : 0);
}

/* The counting element and the OUT pin after @d clocks of a count of N (Figures 12-17). */
static void count_and_out(const struct pit_counter *c, u64 d, u16 *count, bool *out)
{
	u64 n = c->initial;

	if (c->null_count) { /* nothing loaded yet: the output sits at its programmed level */
		*count = (u16)n;
		*out = c->mode != 0;
		return;
	}
	switch (c->mode) {
	case 0: /* interrupt on terminal count: low until N clocks, then high */
	case 1: /* hardware one-shot: low for N clocks after the trigger */
		*count = (u16)(n - d);
		*out = c->mode == 0 ? d >= n : d >= n || !c->running;
		break;
	case 2: /* rate generator: N..1, low for the clock at 1, reload */
		*count = (u16)(n - d % n);
		*out = d % n != n - 1;
		break;
	case 3: /* square wave: high for the first half, low for the second */
		*count = (u16)(n - (2 * d) % n);
		*out = d % n < (n + 1) / 2;
		break;
	default: /* 4, 5: strobe: low for one clock at terminal count */
		*count = (u16)(n - d);
		*out = d != n;
		break;
	}
}

/* ---- counter 0's interrupt ------------------------------------------------------------ */

/* Arm counter 0's timer for its next rising output edge (IRQ 0), if it has one. Modes 0
 * and 4 interrupt once at terminal count; 2 and 3 once per N clocks. */
static void arm_irq(struct vpit *s, u64 now)
{
	struct pit_counter *c = &s->c[0];
	bool periodic = c->mode == 2 || c->mode == 3;
	u64 period = c->initial, d = elapsed(c, now), k;

	if (!c->running || c->null_count || (c->mode != 0 && c->mode != 4 && !periodic)) {
		vtimer_cancel(&s->timer);
		return;
	}
	if (periodic) {
		if (period < MIN_IRQ_PERIOD)
			period = MIN_IRQ_PERIOD;
		k = d / period + 1; /* the next boundary strictly after now; missed ones are dropped */
	} else {
		if (s->irq_periods > 0 || d >= period) {
			vtimer_cancel(&s->timer);
			return;
		}
		k = 1;
	}
	s->irq_periods = k - 1;
	vtimer_arm(&s->timer, c->start + scale(k * period - c->carried, tsc_hz(), PIT_HZ) + 1);
}

static void pit_timer_fired(struct vtimer *t, void *ctx)
{
	struct vpit *s = ctx;

	spin_lock(&s->lock);
	s->irq_periods++;
	bool one_shot = s->c[0].mode == 0 || s->c[0].mode == 4;
	if (!one_shot)
		arm_irq(s, vtime_now());
	spin_unlock(&s->lock);
	irq_pulse(s->part, 0);
}

/* ---- programming ---------------------------------------------------------------------- */

/* A new count was written: load it and start counting if the gate allows (modes 1 and 5
 * wait for a gate trigger). */
static void load_count(struct vpit *s, int i, u32 value, u64 now)
{
	struct pit_counter *c = &s->c[i];

	c->initial = value ? value : 65536;
	c->null_count = false;
	c->carried = 0;
	c->start = now;
	c->running = c->gate && c->mode != 1 && c->mode != 5;
	if (i == 0) {
		s->irq_periods = 0;
		arm_irq(s, now);
	}
}

/* Counter 2's gate changed (port 0x61 bit 0). Modes 0 and 4 pause while it is low;
 * modes 1, 2, 3 and 5 (re)start counting on its rising edge. */
static void set_gate(struct pit_counter *c, bool gate, u64 now)
{
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (c->null_count)
		return;
	if (c->mode == 0 || c->mode == 4) {
		c->carried = elapsed(c, now);
		c->start = now;
		c->running = gate;
	} else if (gate) {
		c->carried = 0;
		c->start = now;
		c->running = true;
	} else if (c->mode == 2 || c->mode == 3) {
		c->carried = 0;
		c->running = false; /* output high, counting stops until the next rising edge */
	}
}

static void latch_count(struct pit_counter *c, u64 now)
{
	bool out;

	if (c->latched)
		return; /* a second latch before the first is read is ignored */
	count_and_out(c, elapsed(c, now), &c->latch_value, &out);
	c->latched = true;
	c->latch_second = false;
}

static void latch_status(struct pit_counter *c, u64 now)
{
	u16 count;
	bool out;

	if (c->status_latched)
		return;
	count_and_out(c, elapsed(c, now), &count, &out);
	c->status = (out ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | c->rw << 4 | c->mode << 1 | c->bcd;
	c->status_latched = true;
}

static void control_write(struct vpit *s, u8 cw, u64 now)
{
	if (CW_SC(cw) == 3) { /* read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status */
		for (int i = 0; i < 3; i++) {
			if (!(cw & (2 << i)))
				continue;
			if (!(cw & 0x20))
				latch_count(&s->c[i], now);
			if (!(cw & 0x10))
				latch_status(&s->c[i], now);
		}
		return;
	}
	struct pit_counter *c = &s->c[CW_SC(cw)];
	if (CW_RW(cw) == 0) {
		latch_count(c, now);
		return;
	}
	/* A new mode: the counter waits for a count; the output takes its initial level. */
	c->rw = CW_RW(cw);
	c->mode = CW_MODE(cw) > 5 ? CW_MODE(cw) - 4 : CW_MODE(cw); /* 6, 7 are 2, 3 */
	c->bcd = cw & 1;
	c->null_count = true;
	c->running = false;
	c->latched = c->status_latched = false;
	c->write_second = c->read_second = false;
	if (CW_SC(cw) == 0)
		vtimer_cancel(&s->timer);
}

static void counter_write(struct vpit *s, int i, u8 value, u64 now)
{
	struct pit_counter *c = &s->c[i];

	switch (c->rw) {
	case RW_LSB: load_count(s, i, value, now); break;
	case RW_MSB: load_count(s, i, (u32)value << 8, now); break;
	case RW_WORD:
		if (!c->write_second) {
			c->write_lsb = value;
			c->write_second = true;
		} else {
			c->write_second = false;
			load_count(s, i, c->write_lsb | (u32)value << 8, now);
		}
		break;
	default: break; /* no mode programmed yet */
	}
}

/* Reading a counter: a latched status first, then a latched count, else the live count,
 * a byte at a time in the order the access mode says. */
static u8 counter_read(struct pit_counter *c, u64 now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 count;
	bool out;
	bool msb;
	if (c->latched) {
		count = c->latch_value;
		msb = c->rw == RW_MSB || (c->rw == RW_WORD && c->latch_second);
		if (c->rw == RW_WORD && !c->latch_second)
			c->latch_second = true;
		else
			c->latched = false;
	} else {
		count_and_out(c, elapsed(c, now), &count, &out);
		msb = c->rw == RW_MSB || (c->rw == RW_WORD && c->read_second);
		if (c->rw == RW_WORD)
			c->read_second = !c->read_second;
	}
	return msb ? count >> 8 : count & 0xff;
}

static u32 pit_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct vpit *s = state;
	u8 value = 0xff; /* the control word register cannot be read */

	spin_lock(&s->lock);
	if (port != PIT_PORT_CONTROL)
		value = counter_read(&s->c[port - 0x40], vtime_now());
	spin_unlock(&s->lock);
	return value;
}

static void pit_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct vpit *s = state;

	spin_lock(&s->lock);
	if (port == PIT_PORT_CONTROL)
		control_write(s, (u8)value, vtime_now());
	else
		counter_write(s, port - 0x40, (u8)value, vtime_now());
	spin_unlock(&s->lock);
}

/* Port 0x61: counter 2's gate and speaker enable as written, its output, and the refresh
 * toggle some BIOS delay loops count. */
static u32 port_b_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct vpit *s = state;
	u64 now = vtime_now();
	u16 count;
	bool out;

	spin_lock(&s->lock);
	count_and_out(&s->c[2], elapsed(&s->c[2], now), &count, &out);
	u8 value = s->port_b | (out ? PORT_B_OUT2 : 0);
	spin_unlock(&s->lock);
	if ((vtime_ticks_to_ns(now) / REFRESH_NS) & 1)
		value |= PORT_B_REFRESH;
	return value;
}

static void port_b_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct vpit *s = state;

	spin_lock(&s->lock);
	s->port_b = value & PORT_B_WRITABLE;
	set_gate(&s->c[2], value & PORT_B_GATE2, vtime_now());
	spin_unlock(&s->lock);
}

static const struct pio_ops pit_ops = { pit_read, pit_write };
static const struct pio_ops port_b_ops = { port_b_read, port_b_write };

/* At power-on no counter has a mode or a count; counters 0 and 1 have their gates tied
 * high, counter 2's follows port 0x61 (initially low). */
static int pit_attach(struct partition *p)
{
	struct vpit *s = &vpits[p->id];

	*s = (struct vpit){ .part = p };
	for (int i = 0; i < 3; i++)
		s->c[i] = (struct pit_counter){ .initial = 65536, .null_count = true, .gate = i != 2 };
	vtimer_init(&s->timer, p, pit_timer_fired, s);
	if (pio_register(p, 0x40, 4, &pit_ops, s, "8254 pit") < 0 ||
	    pio_register(p, PORT_B, 1, &port_b_ops, s, "port 0x61 (pit counter 2 gate)") < 0)
		return -1;
	return 0;
}
DEVICE_TYPE(pit_device) = { "pit", pit_attach };
