/**
 * @file vlapic.c
 * @brief The virtual local APIC: registers, interrupt acceptance, IPIs, the APIC timer.
 *
 * Implements SDM Vol. 3A Chapter 11 for one vCPU: the xAPIC register page at 0xfee00000
 * (§11.4.1, Table 11-1) and the same registers as x2APIC MSRs 0x800-0x8ff (§11.12.1),
 * fixed/NMI/INIT/STARTUP delivery (§11.6), priorities (§11.8.3), EOI (§11.8.5) and the
 * timer in one-shot, periodic and TSC-deadline modes (§11.5.4). Interrupts it accepts are
 * injected by src/arch/x86/vmx/inject.c. Other CPUs set IRR bits atomically; everything
 * else is touched only by the CPU running this vCPU.
 */
#include <arch/vlapic.h>
#include <arch/vmexit.h>
#include <arch/cpu.h>
#include <hvlab/partition.h>
#include <hvlab/irq.h>
#include <hvlab/lib.h>

/* Register offsets (Table 11-1). */
#define R_ID 0x20
#define R_VERSION 0x30
#define R_TPR 0x80
#define R_APR 0x90
#define R_PPR 0xa0
#define R_EOI 0xb0
#define R_LDR 0xd0
#define R_DFR 0xe0
#define R_SVR 0xf0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_LVT_CMCI 0x2f0
#define R_ICR_LOW 0x300
#define R_ICR_HIGH 0x310
#define R_LVT_TIMER 0x320
#define R_LVT_ERROR 0x370
#define R_TIMER_INITIAL 0x380
#define R_TIMER_CURRENT 0x390
#define R_TIMER_DIVIDE 0x3e0
#define R_SELF_IPI 0x3f0 /* x2APIC only */

#define LVT_MASKED BIT(16)
#define LVT_TIMER_MODE(l) (((l) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };
#define LVT_INDEX_TIMER 1
#define LVT_INDEX_LINT0 4
#define SVR_ENABLED BIT(8)

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)

#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff
#define MSR_TSC_DEADLINE 0x6e0

#define VERSION_VALUE 0x00060014 /* version 0x14, 7 LVT entries (max LVT index 6) */

static struct vlapic *lapic_of(struct vcpu *v)
{
	return &v->arch.lapic;
}

static bool bit_test(const u32 *bits, int n) { return bits[n / 32] & (1u << (n % 32)); }
static void bit_clear(u32 *bits, int n) { __atomic_and_fetch(&bits[n / 32], ~(1u << (n % 32)), __ATOMIC_SEQ_CST); }
static void bit_set(u32 *bits, int n) { __atomic_or_fetch(&bits[n / 32], 1u << (n % 32), __ATOMIC_SEQ_CST); }

/* Highest set bit of a 256-bit register, or -1. */
static int highest_bit(const u32 *bits)
{
	for (int i = 7; i >= 0; i--) {
		u32 word = __atomic_load_n(&bits[i], __ATOMIC_SEQ_CST);
		if (word)
			return i * 32 + 31 - __builtin_clz(word);
	}
	return -1;
}

static bool software_enabled(const struct vlapic *l)
{
	return (l->apic_base & APIC_BASE_ENABLE) && (l->svr & SVR_ENABLED);
}

/* Processor priority: the higher of TPR and the class of the highest in-service vector (§11.8.3.1). */
static u32 ppr(const struct vlapic *l)
{
	int isrv = highest_bit(l->isr);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* ---- timer (§11.5.4) ------------------------------------------------------------- */

/* The timer counts at TSC rate divided by the divide configuration (Figure 11-10). */
static u32 timer_divisor(const struct vlapic *l)
{
	u32 d = (l->timer_divide & 3) | ((l->timer_divide >> 1) & 4);
	return d == 7 ? 1 : 2u << d;
}

static void timer_start(struct vlapic *l)
{
	l->timer_start = vtime_now();
	if (l->timer_initial)
		vtimer_arm(&l->timer, l->timer_start + (u64)l->timer_initial * timer_divisor(l));
	else
		vtimer_cancel(&l->timer);
}

static u32 timer_current(const struct vlapic *l)
{
	if (!l->timer_initial || LVT_TIMER_MODE(l->lvt[LVT_INDEX_TIMER]) == TIMER_TSC_DEADLINE)
		return 0;
	u64 elapsed = (vtime_now() - l->timer_start) / timer_divisor(l);
	if (LVT_TIMER_MODE(l->lvt[LVT_INDEX_TIMER]) == TIMER_PERIODIC)
		return l->timer_initial - (u32)(elapsed % l->timer_initial);
	return elapsed >= l->timer_initial ? 0 : l->timer_initial - (u32)elapsed;
}

static void timer_fired(struct vtimer *t, void *ctx)
{
	struct vcpu *v = ctx;
	struct vlapic *l = lapic_of(v);
	u32 lvt = l->lvt[LVT_INDEX_TIMER];

	if (!(lvt & LVT_MASKED))
		vlapic_set_irr(v, lvt & 0xff, false);
	if (LVT_TIMER_MODE(lvt) == TIMER_PERIODIC && l->timer_initial) {
		l->timer_start += (u64)l->timer_initial * timer_divisor(l);
		vtimer_arm(&l->timer, l->timer_start + (u64)l->timer_initial * timer_divisor(l));
	} else if (LVT_TIMER_MODE(lvt) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0;
	}
	vcpu_kick(v);
}

/* ---- delivery (§11.6) ------------------------------------------------------------ */

void vlapic_set_irr(struct vcpu *v, u8 vector, bool level)
{
	struct vlapic *l = lapic_of(v);

	if (vector < 16) { /* illegal vector: "send/receive illegal vector" error (§11.5.3) */
		l->esr |= BIT(6);
		return;
	}
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
	bit_set(l->irr, vector);
}

static bool matches(struct vcpu *target, const struct apic_message *m)
{
	struct vlapic *l = lapic_of(target);
	bool x2 = l->apic_base & APIC_BASE_X2APIC;

	switch (m->shorthand) {
	case 1: return target->id == m->source_vcpu;
	case 2: return true;
	case 3: return target->id != m->source_vcpu;
	}
	if (!m->logical)
		return m->dest == (x2 ? 0xffffffffu : 0xffu) || m->dest == l->id;
	if (x2) /* x2APIC logical: cluster in bits 31:16, member bitmap in 15:0 (§11.12.10.2) */
		return (m->dest >> 16) == (l->ldr >> 16) && (m->dest & l->ldr & 0xffff);
	return ((l->ldr >> 24) & m->dest) != 0; /* flat model (§11.6.2.2) */
}

static void deliver_one(struct vcpu *t, const struct apic_message *m)
{
	struct vlapic *l = lapic_of(t);

	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		vlapic_set_irr(t, m->vector, m->level);
		break;
	case APIC_DM_NMI:
		__atomic_store_n(&l->nmi_pending, 1, __ATOMIC_SEQ_CST);
		break;
	case APIC_DM_INIT:
		__atomic_store_n(&l->init_pending, 1, __ATOMIC_SEQ_CST);
		break;
	case APIC_DM_STARTUP: /* heeded only by a processor waiting for one (SDM §9.4.4) */
		if (t->state != VCPU_WAIT_SIPI && !l->init_pending)
			return;
		__atomic_store_n(&l->sipi_vector, 0x100 | m->vector, __ATOMIC_SEQ_CST);
		break;
	default: /* SMI, ExtINT through the APIC bus: not modelled */
		return;
	}
	vcpu_kick(t);
}

void vlapic_deliver(struct partition *p, const struct apic_message *m)
{
	for (u32 i = 0; i < p->nvcpus; i++) {
		struct vcpu *t = &p->vcpu[i];
		if (!matches(t, m))
			continue;
		deliver_one(t, m);
		if (m->delivery == APIC_DM_LOWEST) /* lowest priority: the first match takes it */
			return;
	}
}

/* A write to the ICR sends an IPI (§11.6.1). */
static void send_ipi(struct vcpu *v, u32 low, u32 high)
{
	struct vlapic *l = lapic_of(v);
	struct apic_message m = {
		.vector = low & 0xff,
		.delivery = (low >> 8) & 7,
		.logical = low & BIT(11),
		.level = low & BIT(15),
		.dest = (l->apic_base & APIC_BASE_X2APIC) ? high : high >> 24,
		.shorthand = (low >> 18) & 3,
		.source_vcpu = v->id,
	};
	/* INIT level de-assert only synchronises arbitration IDs (§11.6.1): nothing to do. */
	if (m.delivery == APIC_DM_INIT && !(low & BIT(14)) && (low & BIT(15)))
		return;
	vlapic_deliver(v->part, &m);
}

int vlapic_pending_vector(struct vcpu *v)
{
	struct vlapic *l = lapic_of(v);
	int vec = highest_bit(l->irr);

	if (vec < 0 || !software_enabled(l) || ((u32)vec & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return vec;
}

void vlapic_accept(struct vcpu *v, int vector)
{
	struct vlapic *l = lapic_of(v);

	bit_clear(l->irr, vector);
	bit_set(l->isr, vector);
}

bool vlapic_accepts_pic(struct vcpu *v)
{
	struct vlapic *l = lapic_of(v);
	u32 lint0 = l->lvt[LVT_INDEX_LINT0];

	if (v->id != 0)
		return false; /* the 8259 is wired to the bootstrap processor's LINT0 */
	if (!(l->apic_base & APIC_BASE_ENABLE))
		return true; /* APIC globally off: the PIC's INTR reaches the CPU directly (§11.4.3) */
	return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == APIC_DM_EXTINT;
}

static void eoi(struct vcpu *v)
{
	struct vlapic *l = lapic_of(v);
	int vec = highest_bit(l->isr);

	if (vec < 0)
		return;
	bit_clear(l->isr, vec);
	if (bit_test(l->tmr, vec)) /* level-triggered: tell the IOAPIC (§11.8.5) */
		vioapic_eoi(v->part, (u8)vec);
}

/* ---- register access, shared by the xAPIC page and the x2APIC MSRs ----------------- */

static int lvt_index(u32 reg)
{
	if (reg == R_LVT_CMCI)
		return 0;
	if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR && !(reg & 0xf))
		return 1 + (reg - R_LVT_TIMER) / 0x10;
	return -1;
}

/* Read register @reg; false if it does not exist. */
static bool reg_read(struct vcpu *v, u32 reg, u32 *value)
{
	struct vlapic *l = lapic_of(v);
	bool x2 = l->apic_base & APIC_BASE_X2APIC;
	int lvt = lvt_index(reg);

	if (lvt >= 0) {
		*value = l->lvt[lvt];
		return true;
	}
	if (reg >= R_ISR && reg < R_ISR + 0x80) { *value = l->isr[(reg - R_ISR) / 0x10]; return true; }
	if (reg >= R_TMR && reg < R_TMR + 0x80) { *value = l->tmr[(reg - R_TMR) / 0x10]; return true; }
	if (reg >= R_IRR && reg < R_IRR + 0x80) { *value = l->irr[(reg - R_IRR) / 0x10]; return true; }
	switch (reg) {
	case R_ID: *value = x2 ? l->id : l->id << 24; return true;
	case R_VERSION: *value = VERSION_VALUE; return true;
	case R_TPR: *value = l->tpr; return true;
	case R_APR: *value = 0; return true;
	case R_PPR: *value = ppr(l); return true;
	case R_LDR: *value = l->ldr; return true;
	case R_DFR: *value = x2 ? 0 : l->dfr; return !x2;
	case R_SVR: *value = l->svr; return true;
	case R_ESR: *value = l->esr; return true;
	case R_ICR_LOW: *value = l->icr_low; return true;
	case R_ICR_HIGH: *value = l->icr_high; return !x2;
	case R_TIMER_INITIAL: *value = l->timer_initial; return true;
	case R_TIMER_CURRENT: *value = timer_current(l); return true;
	case R_TIMER_DIVIDE: *value = l->timer_divide; return true;
	case R_EOI: *value = 0; return !x2;
	}
	return false;
}

/* Write register @reg; false if it does not exist or is read-only. */
static bool reg_write(struct vcpu *v, u32 reg, u32 value)
{
	struct vlapic *l = lapic_of(v);
	bool x2 = l->apic_base & APIC_BASE_X2APIC;
	int lvt = lvt_index(reg);

	if (lvt >= 0) {
		if (!(l->svr & SVR_ENABLED))
			value |= LVT_MASKED; /* masks stay set while the APIC is software-disabled (§11.4.7.2) */
		l->lvt[lvt] = value;
		if (lvt == LVT_INDEX_TIMER && LVT_TIMER_MODE(value) == TIMER_TSC_DEADLINE)
			vtimer_cancel(&l->timer); /* the deadline MSR drives it from now on */
		return true;
	}
	switch (reg) {
	case R_ID: if (!x2) l->id = value >> 24; return !x2;
	case R_TPR: l->tpr = value & 0xff; return true;
	case R_EOI: eoi(v); return true;
	case R_LDR: if (!x2) l->ldr = value & 0xff000000; return !x2;
	case R_DFR: if (!x2) l->dfr = value | 0x0fffffff; return !x2;
	case R_SVR:
		l->svr = value & 0x1ff;
		if (!(value & SVR_ENABLED))
			for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
				l->lvt[i] |= LVT_MASKED;
		return true;
	case R_ESR: l->esr = 0; return true;
	case R_ICR_HIGH: l->icr_high = value; return !x2;
	case R_ICR_LOW:
		l->icr_low = value & ~BIT(12); /* delivery is instantaneous: never "send pending" */
		send_ipi(v, value, l->icr_high);
		return true;
	case R_TIMER_INITIAL:
		if (LVT_TIMER_MODE(l->lvt[LVT_INDEX_TIMER]) == TIMER_TSC_DEADLINE)
			return true; /* ignored in TSC-deadline mode */
		l->timer_initial = value;
		timer_start(l);
		return true;
	case R_TIMER_DIVIDE: l->timer_divide = value & 0xb; return true;
	case R_SELF_IPI:
		if (x2)
			vlapic_set_irr(v, value & 0xff, false);
		return x2;
	}
	return false;
}

/* ---- the xAPIC page ---------------------------------------------------------------- */

static u64 mmio_read(struct vcpu *v, void *state, u64 offset, u8 size)
{
	u32 value = 0;

	if (lapic_of(v)->apic_base & APIC_BASE_X2APIC)
		return ~0ULL; /* in x2APIC mode the page does not answer (§11.12.2) */
	reg_read(v, (u32)offset & 0xff0, &value);
	return value >> ((offset & 3) * 8);
}

static void mmio_write(struct vcpu *v, void *state, u64 offset, u8 size, u64 value)
{
	if (lapic_of(v)->apic_base & APIC_BASE_X2APIC || (offset & 0xf))
		return; /* registers are 32-bit at 16-byte alignment; other writes are dropped */
	reg_write(v, (u32)offset, (u32)value);
}

static const struct mmio_ops vlapic_mmio_ops = { mmio_read, mmio_write };

int vlapic_attach(struct partition *p)
{
	return mmio_register(p, VLAPIC_BASE, PAGE_SIZE, &vlapic_mmio_ops, NULL, "local APIC");
}

/* ---- MSRs -------------------------------------------------------------------------- */

bool vlapic_rdmsr(struct vcpu *v, u32 msr, u64 *value)
{
	struct vlapic *l = lapic_of(v);
	u32 low;

	if (msr == MSR_IA32_APIC_BASE) {
		*value = l->apic_base;
		return true;
	}
	if (msr == MSR_TSC_DEADLINE) {
		*value = l->tsc_deadline;
		return true;
	}
	if (!(l->apic_base & APIC_BASE_X2APIC) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return false;
	u32 reg = (msr - MSR_X2APIC_FIRST) << 4;
	if (reg == R_ICR_LOW) { /* the 64-bit ICR (§11.12.9) */
		*value = ((u64)l->icr_high << 32) | l->icr_low;
		return true;
	}
	if (!reg_read(v, reg, &low))
		return false;
	*value = low;
	return true;
}

bool vlapic_wrmsr(struct vcpu *v, u32 msr, u64 value)
{
	struct vlapic *l = lapic_of(v);

	if (msr == MSR_IA32_APIC_BASE) {
		/* Allowed: enable (11), x2APIC (10) with enable; the base stays at 0xfee00000. */
		if ((value & ~(APIC_BASE_ENABLE | APIC_BASE_X2APIC | APIC_BASE_BSP | 0xfffff000ULL)) ||
		    ((value & APIC_BASE_X2APIC) && !(value & APIC_BASE_ENABLE)))
			return false;
		l->apic_base = VLAPIC_BASE | (value & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) |
			       (l->apic_base & APIC_BASE_BSP);
		if (value & APIC_BASE_X2APIC) /* x2APIC logical ID derived from the APIC ID (§11.12.10.2) */
			l->ldr = ((l->id >> 4) << 16) | (1u << (l->id & 0xf));
		return true;
	}
	if (msr == MSR_TSC_DEADLINE) {
		l->tsc_deadline = value;
		if (LVT_TIMER_MODE(l->lvt[LVT_INDEX_TIMER]) != TIMER_TSC_DEADLINE)
			return true;
		if (value)
			vtimer_arm(&l->timer, value);
		else
			vtimer_cancel(&l->timer);
		return true;
	}
	if (!(l->apic_base & APIC_BASE_X2APIC) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return false;
	u32 reg = (msr - MSR_X2APIC_FIRST) << 4;
	if (reg == R_ICR_LOW) {
		l->icr_high = value >> 32;
		return reg_write(v, R_ICR_LOW, (u32)value);
	}
	return reg_write(v, reg, (u32)value);
}

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *l = lapic_of(v);

	memset(l, 0, sizeof(*l));
	l->id = v->id;
	l->apic_base = VLAPIC_BASE | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	/* What a PC's firmware leaves: the bootstrap processor in "virtual wire" mode, LINT0
	 * taking the 8259's interrupts (ExtINT), LINT1 the NMIs (MP specification §3.6.2.2). */
	if (v->id == 0) {
		l->lvt[LVT_INDEX_LINT0] = APIC_DM_EXTINT << 8;
		l->lvt[LVT_INDEX_LINT0 + 1] = APIC_DM_NMI << 8;
	}
	vtimer_init(&l->timer, v->part, timer_fired, v);
	l->timer.cpu = v->cpu; /* the APIC timer fires where its vCPU runs */
}

/* Every partition gets a local APIC per vCPU, reset, and the xAPIC page. */
static int vlapic_device_attach(struct partition *p)
{
	for (u32 i = 0; i < p->nvcpus; i++)
		vlapic_reset(&p->vcpu[i]);
	return vlapic_attach(p);
}
DEVICE_TYPE(vlapic_device) = { "lapic", vlapic_device_attach };

bool vlapic_take_init(struct vcpu *v)
{
	struct vlapic *l = lapic_of(v);

	if (!__atomic_exchange_n(&l->init_pending, 0, __ATOMIC_SEQ_CST))
		return false;
	/* INIT resets the processor and its APIC but keeps the APIC base MSR (§11.4.7.3);
	 * a STARTUP IPI that already arrived stays pending. */
	u64 base = l->apic_base;
	u32 sipi = l->sipi_vector;
	vtimer_cancel(&l->timer);
	vlapic_reset(v);
	l->apic_base = base;
	l->sipi_vector = sipi;
	v->arch.start_sipi = 0;
	v->state = VCPU_WAIT_SIPI;
	return true;
}
