/**
 * @file rtc.c
 * @brief The MC146818 real-time clock and its CMOS memory: index port 0x70, data 0x71.
 *
 * Datasheet: Motorola MC146818A: "Address map" (Figure 3: registers 0-9 time, calendar
 * and alarm, A-D control, 14-63 user RAM; a PC's chipset extends the RAM to 128 bytes),
 * "Time, calendar and alarm data modes" (Table 3: BCD or binary per register B's DM bit,
 * 12- or 24-hour per its 24/12 bit, PM in bit 7 of the hour), "Register A" (UIP,
 * divider, rate select with the periodic rates of Table 4), "Register B" (SET, PIE, AIE,
 * UIE, DM, 24/12), "Register C" (IRQF, PF, AF, UF; reading clears them), "Register D"
 * (VRT). The interrupt is IRQ 8.
 *
 * The clock starts at 2020-01-01 00:00:00 (the date Bochs' time0 gives the machine) when
 * the partition is created and runs with guest time. The PC's memory-size bytes in CMOS
 * RAM (IBM PC/AT BIOS convention, as Bochs and SeaBIOS fill them) describe the
 * partition's RAM, so a guest that asks the old way learns it too.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/irq.h>
#include <hvlab/vtimer.h>
#include <hvlab/spinlock.h>

#define RTC_EPOCH 1577836800ULL /* 2020-01-01 00:00:00 UTC, seconds since 1970 */
#define CMOS_SIZE 128
#define RTC_IRQ 8

enum {
	R_SEC = 0, R_SEC_ALARM, R_MIN, R_MIN_ALARM, R_HOUR, R_HOUR_ALARM,
	R_WEEKDAY, R_DAY, R_MONTH, R_YEAR, R_A, R_B, R_C, R_D,
	R_CENTURY = HVLAB_RTC_CENTURY, /* IBM convention; the FADT's CENTURY field points here */
};

#define A_UIP 0x80
#define A_RATE 0x0f
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define ALARM_DONT_CARE 0xc0 /* an alarm byte of 0xC0-0xFF matches every value */
#define UIP_NS 244000ULL     /* UIP is set this long before each update (datasheet Figure 10) */

struct vrtc {
	spinlock_t lock;
	struct partition *part;
	u8 cmos[CMOS_SIZE];     /**< registers 0-13 hold the time only while SET is on */
	u8 index;               /**< last value written to port 0x70 */
	u64 base_tsc;           /**< vtime at which the clock read base_seconds */
	u64 base_seconds;       /**< seconds since 1970 */
	u64 seen_tsc;           /**< flags in register C account for events up to here */
	struct vtimer timer;    /**< next periodic/update/alarm event, while an enable is on */
};

static struct vrtc vrtcs[MAX_PARTITIONS];

/* ---- calendar arithmetic (proleptic Gregorian, H. Hinnant's days_from_civil) ------------ */

static u64 days_from_civil(u64 y, u64 m, u64 d)
{
	y -= m <= 2;
	u64 era = y / 400, yoe = y % 400;
	u64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct civil { u64 year, month, day, weekday, hour, min, sec; };

static struct civil civil_from_seconds(u64 t)
{
	struct civil c;
	u64 z = t / 86400 + 719468, secs = t % 86400;
	u64 era = z / 146097, doe = z % 146097;
	u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	u64 mp = (5 * doy + 2) / 153;

	c.day = doy - (153 * mp + 2) / 5 + 1;
	c.month = mp < 10 ? mp + 3 : mp - 9;
	c.year = yoe + era * 400 + (c.month <= 2);
	c.weekday = (t / 86400 + 4) % 7 + 1; /* 1970-01-01 was a Thursday; Sunday = 1 */
	c.hour = secs / 3600;
	c.min = secs / 60 % 60;
	c.sec = secs % 60;
	return c;
}

/* ---- register formats (Table 3) -------------------------------------------------------- */

static u8 to_reg(const struct vrtc *s, u64 v)
{
	return (s->cmos[R_B] & B_DM_BINARY) ? (u8)v : (u8)((v / 10 % 10) << 4 | v % 10);
}

static u64 from_reg(const struct vrtc *s, u8 v)
{
	return (s->cmos[R_B] & B_DM_BINARY) ? v : (u64)(v >> 4) * 10 + (v & 0xf);
}

static u8 hour_to_reg(const struct vrtc *s, u64 h)
{
	if (s->cmos[R_B] & B_24H)
		return to_reg(s, h);
	return to_reg(s, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static u64 hour_from_reg(const struct vrtc *s, u8 v)
{
	if (s->cmos[R_B] & B_24H)
		return from_reg(s, v);
	return from_reg(s, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static u64 tsc_hz(void)
{
	u64 hz = vtime_tsc_hz();
	return hz ? hz : 1;
}

static u64 seconds_at(const struct vrtc *s, u64 now)
{
	return s->base_seconds + (now - s->base_tsc) / tsc_hz();
}

/* Fill registers 0, 2, 4, 6-9 and the century byte with the time @t. */
static void store_time(struct vrtc *s, u64 t)
{
	struct civil c = civil_from_seconds(t);

	s->cmos[R_SEC] = to_reg(s, c.sec);
	s->cmos[R_MIN] = to_reg(s, c.min);
	s->cmos[R_HOUR] = hour_to_reg(s, c.hour);
	s->cmos[R_WEEKDAY] = to_reg(s, c.weekday);
	s->cmos[R_DAY] = to_reg(s, c.day);
	s->cmos[R_MONTH] = to_reg(s, c.month);
	s->cmos[R_YEAR] = to_reg(s, c.year % 100);
	s->cmos[R_CENTURY] = to_reg(s, c.year / 100);
}

/* The time the guest wrote into the registers, kept in range whatever it wrote. */
static u64 load_time(const struct vrtc *s)
{
	u64 year = from_reg(s, s->cmos[R_CENTURY]) % 100 * 100 + from_reg(s, s->cmos[R_YEAR]) % 100;
	u64 month = from_reg(s, s->cmos[R_MONTH]), day = from_reg(s, s->cmos[R_DAY]);

	year = year < 1970 ? 1970 : year;
	month = month < 1 || month > 12 ? 1 : month;
	day = day < 1 || day > 31 ? 1 : day;
	return days_from_civil(year, month, day) * 86400 + hour_from_reg(s, s->cmos[R_HOUR]) % 24 * 3600 +
	       from_reg(s, s->cmos[R_MIN]) % 60 * 60 + from_reg(s, s->cmos[R_SEC]) % 60;
}

static bool alarm_matches(const struct vrtc *s, u64 t)
{
	struct civil c = civil_from_seconds(t);
	static const struct { u8 reg; u8 alarm; } pairs[] = {
		{ R_SEC, R_SEC_ALARM }, { R_MIN, R_MIN_ALARM }, { R_HOUR, R_HOUR_ALARM },
	};
	u8 now[3] = { to_reg(s, c.sec), to_reg(s, c.min), hour_to_reg(s, c.hour) };

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		u8 a = s->cmos[pairs[i].alarm];
		if ((a & ALARM_DONT_CARE) != ALARM_DONT_CARE && a != now[i])
			return false;
	}
	return true;
}

/* ---- events and the interrupt ----------------------------------------------------------- */

/* The periodic interrupt's period in TSC ticks (Table 4: rate 3-15 gives 65536 >> rate Hz;
 * 1 and 2 repeat rates 8 and 9), or 0 when off. */
static u64 periodic_ticks(const struct vrtc *s)
{
	u8 rate = s->cmos[R_A] & A_RATE;

	if (!rate)
		return 0;
	if (rate < 3)
		rate += 7;
	return tsc_hz() / (65536u >> rate);
}

/* Set PF, UF and AF for what happened between seen_tsc and @now. Returns true when
 * IRQF rose (the caller pulses IRQ 8 after unlocking). AF only looks at the latest
 * update; with AIE on, the timer visits every update. */
static bool catch_up(struct vrtc *s, u64 now)
{
	u64 period = periodic_ticks(s);
	u8 flags = 0;

	if (period && (now - s->base_tsc) / period != (s->seen_tsc - s->base_tsc) / period)
		flags |= C_PF;
	if (!(s->cmos[R_B] & B_SET) && seconds_at(s, now) != seconds_at(s, s->seen_tsc)) {
		flags |= C_UF;
		if (alarm_matches(s, seconds_at(s, now)))
			flags |= C_AF;
	}
	s->seen_tsc = now;
	s->cmos[R_C] |= flags;
	u8 b = s->cmos[R_B], c = s->cmos[R_C];
	bool irq = ((b & B_PIE) && (c & C_PF)) || ((b & B_AIE) && (c & C_AF)) || ((b & B_UIE) && (c & C_UF));
	if (!irq || (c & C_IRQF))
		return false;
	s->cmos[R_C] |= C_IRQF;
	return true;
}

/* Arm the timer for the next event an enabled interrupt wants, unless IRQF is already up
 * (nothing new can reach the guest until it reads register C). */
static void arm_timer(struct vrtc *s, u64 now)
{
	u8 b = s->cmos[R_B];
	u64 next = 0, period = periodic_ticks(s);

	if (!(s->cmos[R_C] & C_IRQF)) {
		if ((b & B_PIE) && period)
			next = s->base_tsc + ((now - s->base_tsc) / period + 1) * period;
		if ((b & (B_AIE | B_UIE)) && !(b & B_SET)) {
			u64 sec = s->base_tsc + ((now - s->base_tsc) / tsc_hz() + 1) * tsc_hz();
			next = next && next < sec ? next : sec;
		}
	}
	if (next)
		vtimer_arm(&s->timer, next);
	else
		vtimer_cancel(&s->timer);
}

static void rtc_timer_fired(struct vtimer *t, void *ctx)
{
	struct vrtc *s = ctx;
	u64 now = vtime_now();

	spin_lock(&s->lock);
	bool irq = catch_up(s, now);
	arm_timer(s, now);
	spin_unlock(&s->lock);
	if (irq)
		irq_pulse(s->part, RTC_IRQ);
}

/* ---- ports 0x70/0x71 --------------------------------------------------------------------- */

static u8 cmos_read(struct vrtc *s, u8 index, u64 now)
{
	if (index <= R_YEAR && !(s->cmos[R_B] & B_SET))
		store_time(s, seconds_at(s, now));
	if (index == R_A) {
		u64 into_second = (now - s->base_tsc) % tsc_hz();
		bool uip = !(s->cmos[R_B] & B_SET) && into_second >= tsc_hz() - vtime_ns_to_ticks(UIP_NS);
		return (s->cmos[R_A] & ~A_UIP) | (uip ? A_UIP : 0);
	}
	if (index == R_C) {
		u8 c = s->cmos[R_C];
		s->cmos[R_C] = 0;
		arm_timer(s, now); /* the interrupt can fire again */
		return c;
	}
	return s->cmos[index];
}

/* Registers that hold the running time (not the alarm, control or RAM bytes). */
static bool is_time_reg(u8 index)
{
	return (index <= R_YEAR && index != R_SEC_ALARM && index != R_MIN_ALARM &&
		index != R_HOUR_ALARM) || index == R_CENTURY;
}

static void cmos_write(struct vrtc *s, u8 index, u8 value, u64 now)
{
	u8 old_b = s->cmos[R_B];

	switch (index) {
	case R_C: case R_D: return; /* read-only */
	case R_A: s->cmos[R_A] = value & ~A_UIP; break;
	case R_B:
		if (!(old_b & B_SET))
			store_time(s, seconds_at(s, now)); /* freeze what the guest will edit */
		s->cmos[R_B] = (value & B_SET) ? value & ~B_UIE : value; /* SET clears UIE */
		if (!(value & B_SET))
			store_time(s, seconds_at(s, now)); /* in the (possibly new) data mode */
		break;
	default:
		if (is_time_reg(index) && !(old_b & B_SET))
			store_time(s, seconds_at(s, now)); /* change one field of the current time */
		s->cmos[index] = value;
		break;
	}
	/* A time written (with SET off, or SET just cleared) becomes the running clock. */
	bool wrote_time = is_time_reg(index) && !(s->cmos[R_B] & B_SET);
	if (wrote_time || ((old_b & B_SET) && !(s->cmos[R_B] & B_SET))) {
		s->base_seconds = load_time(s);
		s->base_tsc = s->seen_tsc = now;
	}
	arm_timer(s, now);
}

static u32 rtc_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct vrtc *s = state;
	u64 now = vtime_now();
	u8 value;

	spin_lock(&s->lock);
	if (port == 0x70) {
		value = s->index;
	} else {
		bool irq = catch_up(s, now); /* polled flags are as fresh as interrupts */
		value = cmos_read(s, s->index & 0x7f, now);
		if (irq && s->index != R_C) {
			spin_unlock(&s->lock);
			irq_pulse(s->part, RTC_IRQ);
			return value;
		}
	}
	spin_unlock(&s->lock);
	return value;
}

static void rtc_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct vrtc *s = state;

	spin_lock(&s->lock);
	if (port == 0x70)
		s->index = (u8)value; /* bit 7 is the NMI mask on a PC; the index is bits 6:0 */
	else
		cmos_write(s, s->index & 0x7f, (u8)value, vtime_now());
	spin_unlock(&s->lock);
}

static const struct pio_ops rtc_ops = { rtc_read, rtc_write };

/* The PC/AT memory-size bytes (IBM convention; Bochs' and SeaBIOS' CMOS layout). */
static void store_memory_size(struct vrtc *s, u64 mem)
{
	u64 base_kib = 640;
	u64 ext_kib = mem > MiB(1) ? (mem - MiB(1)) >> 10 : 0;   /* above 1 MiB, at most 63 MiB */
	u64 blocks_16m = mem > MiB(16) ? (mem - MiB(16)) >> 16 : 0; /* 64 KiB blocks above 16 MiB */
	u64 blocks_4g = mem > GiB(4) ? (mem - GiB(4)) >> 16 : 0;

	ext_kib = ext_kib > 0xfc00 ? 0xfc00 : ext_kib;
	blocks_16m = blocks_16m > 0xffff ? 0xffff : blocks_16m;
	s->cmos[0x15] = (u8)base_kib;
	s->cmos[0x16] = (u8)(base_kib >> 8);
	s->cmos[0x17] = s->cmos[0x30] = (u8)ext_kib;
	s->cmos[0x18] = s->cmos[0x31] = (u8)(ext_kib >> 8);
	s->cmos[0x34] = (u8)blocks_16m;
	s->cmos[0x35] = (u8)(blocks_16m >> 8);
	s->cmos[0x5b] = (u8)blocks_4g;
	s->cmos[0x5c] = (u8)(blocks_4g >> 8);
	s->cmos[0x5d] = (u8)(blocks_4g >> 16);
}

/* Power-on state: 32.768 kHz divider and 1024 Hz rate (A = 0x26), 24-hour BCD
 * (B = 0x02), valid RAM and time (D = VRT), as a PC BIOS leaves it. */
static int rtc_attach(struct partition *p)
{
	struct vrtc *s = &vrtcs[p->id];
	u64 now = vtime_now();

	*s = (struct vrtc){ .part = p, .base_tsc = now, .seen_tsc = now, .base_seconds = RTC_EPOCH };
	s->cmos[R_A] = 0x26;
	s->cmos[R_B] = B_24H;
	s->cmos[R_D] = D_VRT;
	store_time(s, RTC_EPOCH);
	store_memory_size(s, p->mem_size);
	vtimer_init(&s->timer, p, rtc_timer_fired, s);
	return pio_register(p, 0x70, 2, &rtc_ops, s, "mc146818 rtc/cmos");
}
DEVICE_TYPE(rtc_device) = { "rtc", rtc_attach };
