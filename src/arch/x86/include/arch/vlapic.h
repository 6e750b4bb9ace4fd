/**
 * @file vlapic.h
 * @brief The virtual local APIC of one vCPU (SDM Vol. 3A Chapter 11), xAPIC and x2APIC.
 */
#ifndef ARCH_VLAPIC_H
#define ARCH_VLAPIC_H

#include <hvlab/types.h>
#include <hvlab/vtimer.h>

struct vcpu;
struct partition;

#define VLAPIC_BASE 0xfee00000ULL
#define VLAPIC_LVT_COUNT 7 /* CMCI, timer, thermal, perf, LINT0, LINT1, error */

/** One vCPU's local APIC. IRR is set by other CPUs with atomic operations. */
struct vlapic {
	u32 id;              /**< APIC ID = vCPU number */
	u64 apic_base;       /**< IA32_APIC_BASE: enable (bit 11), x2APIC (bit 10), BSP (bit 8) */
	u32 tpr, ldr, dfr, svr, esr;
	u32 lvt[VLAPIC_LVT_COUNT];
	u32 icr_low, icr_high;
	u32 irr[8], isr[8], tmr[8]; /**< 256-bit request, in-service, trigger-mode registers */
	u32 timer_initial, timer_divide;
	u64 timer_start;     /**< TSC when the current count was loaded */
	u64 tsc_deadline;    /**< IA32_TSC_DEADLINE, TSC-deadline mode */
	struct vtimer timer;
	volatile u32 nmi_pending;
	volatile u32 init_pending;
	volatile u32 sipi_vector; /**< 0x100 | vector when a STARTUP IPI is waiting */
};

/** Reset @p v's local APIC to its power-on state (SDM Vol. 3A §11.4.7.1). */
void vlapic_reset(struct vcpu *v);

/** Take a pending INIT (SDM Vol. 3A §9.4.4): reset @p v to wait for a STARTUP IPI.
 *  Returns false when no INIT was pending. */
bool vlapic_take_init(struct vcpu *v);

/** Register the xAPIC page of @p p (at 0xfee00000) with the MMIO dispatcher. */
int vlapic_attach(struct partition *p);

/** Highest-priority vector that may be delivered to @p v now, or -1 (SDM §11.8.3.1). */
int vlapic_pending_vector(struct vcpu *v);

/** The CPU accepted @p vector: move it from IRR to ISR (§11.8.4). */
void vlapic_accept(struct vcpu *v, int vector);

/** Does LINT0 take the 8259's interrupts (ExtINT, unmasked), or is the APIC off? */
bool vlapic_accepts_pic(struct vcpu *v);

/** Set vector @p vector pending in @p v (fixed delivery), level-triggered if @p level. */
void vlapic_set_irr(struct vcpu *v, u8 vector, bool level);

/** RDMSR/WRMSR of an x2APIC register (0x800-0x8ff), IA32_APIC_BASE or IA32_TSC_DEADLINE.
 *  Return false for #GP. */
bool vlapic_rdmsr(struct vcpu *v, u32 msr, u64 *value);
bool vlapic_wrmsr(struct vcpu *v, u32 msr, u64 value);

#endif
