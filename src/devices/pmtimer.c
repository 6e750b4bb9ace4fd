/**
 * @file pmtimer.c
 * @brief The ACPI power-management timer and the PM1a event and control registers
 * (ports 0x600-0x60b, the layout QEMU's ICH9/PIIX4 use; the FADT points here).
 *
 * ACPI 6.5 §4.8.3.3 "Power Management Timer": a free-running counter at 3.579545 MHz,
 * 24 bits wide (the FADT's TMR_VAL_EXT flag is clear), read as a 32-bit register whose
 * bits 31:24 are zero. §4.8.3.1 "PM1 Event Grouping": PM1_STS (write 1 to clear) and
 * PM1_EN, 16 bits each; TMR_STS is set whenever bit 23 of the timer changes. §4.8.3.2
 * "PM1 Control Grouping": SCI_EN reads 1, because the FADT's SMI_CMD is zero and the
 * machine is therefore always in ACPI mode (§4.8.2.1). No SCI is ever raised yet.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/vtimer.h>
#include <hvlab/spinlock.h>

/* Must match the FADT (acpi_tables.c). */
#define PM_BASE HVLAB_PM1A_EVT_BLK
#define PM1_STS HVLAB_PM1A_EVT_BLK
#define PM1_EN 0x602
#define PM1_CNT HVLAB_PM1A_CNT_BLK
#define PM_TMR HVLAB_PM_TMR_BLK
#define PM_PORTS 12

#define PM_TIMER_HZ 3579545ULL
#define PM_TIMER_MASK 0xffffffULL
#define STS_TMR BIT(0)
#define STS_WRITABLE 0x8731ULL /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK (Table 4.15) */
#define EN_WRITABLE 0x0721ULL  /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN (Table 4.16) */
#define CNT_SCI_EN BIT(0)
#define CNT_WRITABLE 0x1c02ULL /* BM_RLD, SLP_TYPx; GBL_RLS and SLP_EN are write-only */

struct pmtimer {
	spinlock_t lock;
	u64 start;              /**< vtime when the timer read 0 */
	u64 tmr_sts_epoch;      /**< timer >> 23 when TMR_STS was last cleared */
	u16 sts, en, cnt;
};

static struct pmtimer pmtimers[MAX_PARTITIONS];

/* The counter's ticks since the partition was created (not yet wrapped to 24 bits). */
static u64 ticks(const struct pmtimer *s)
{
	u64 hz = vtime_tsc_hz() ? vtime_tsc_hz() : 1;
	u64 d = vtime_now() - s->start;

	return d / hz * PM_TIMER_HZ + d % hz * PM_TIMER_HZ / hz;
}

/* The 16-bit registers and the timer, as one function of the port's offset. */
static u32 reg_read(struct pmtimer *s, u16 reg)
{
	switch (reg) {
	case PM1_STS: {
		u16 sts = s->sts;
		if ((ticks(s) >> 23) != s->tmr_sts_epoch)
			sts |= STS_TMR;
		return sts;
	}
	case PM1_EN: return s->en;
	case PM1_CNT: return s->cnt | CNT_SCI_EN;
	case PM_TMR: return (u32)(ticks(s) & PM_TIMER_MASK);
	default: return 0;
	}
}

static void reg_write(struct pmtimer *s, u16 reg, u32 value)
{
	switch (reg) {
	case PM1_STS:
		if (value & STS_TMR)
			s->tmr_sts_epoch = ticks(s) >> 23;
		s->sts &= ~(value & STS_WRITABLE);
		break;
	case PM1_EN: s->en = value & EN_WRITABLE; break;
	case PM1_CNT: s->cnt = value & CNT_WRITABLE; break;
	default: break; /* the timer is read-only */
	}
}

/* A port belongs to the register that starts at its 2-byte (PM1) or 4-byte (timer)
 * boundary; a narrow access reads or writes the addressed bytes of it. */
static u16 reg_of(u16 port)
{
	return port >= PM_TMR ? PM_TMR : port & ~1;
}

static u32 pm_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct pmtimer *s = state;
	u16 reg = reg_of(port);

	spin_lock(&s->lock);
	u32 value = reg_read(s, reg) >> (8 * (port - reg));
	spin_unlock(&s->lock);
	return value;
}

static void pm_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct pmtimer *s = state;
	u16 reg = reg_of(port);
	unsigned shift = 8 * (port - reg);
	u32 mask = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;

	spin_lock(&s->lock);
	/* Bytes not written keep their value, except in PM1_STS where a 0 clears nothing. */
	u32 merged = reg == PM1_STS ? (value << shift) & mask
				    : (reg_read(s, reg) & ~mask) | ((value << shift) & mask);
	reg_write(s, reg, merged);
	spin_unlock(&s->lock);
}

static const struct pio_ops pm_ops = { pm_read, pm_write };

static int pmtimer_attach(struct partition *p)
{
	struct pmtimer *s = &pmtimers[p->id];

	*s = (struct pmtimer){ .start = vtime_now() };
	return pio_register(p, PM_BASE, PM_PORTS, &pm_ops, s, "acpi pm1a + pm timer");
}
DEVICE_TYPE(pmtimer_device) = { "pmtimer", pmtimer_attach };
