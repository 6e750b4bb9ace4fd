/**
 * @file vtimer.h
 * @brief Time for device models: the guest's clock and one-shot timers.
 *
 * Guest time is the TSC, which the hypervisor does not offset: guests read it directly
 * with RDTSC. A virtual timer fires its callback on the physical CPU that owns it — the
 * CPU of the partition's vCPU 0 for device models, the vCPU's own CPU for its local APIC
 * timer — in hypervisor context between two VM entries; that CPU arms the VMX-preemption
 * timer for its earliest deadline (SDM Vol. 3C §26.5.1). So a callback never races with
 * the vCPU whose state it touches.
 */
#ifndef HVLAB_VTIMER_H
#define HVLAB_VTIMER_H

#include <hvlab/types.h>

struct partition;
struct vtimer;

/** Called when @p t expires, without any timer lock held; it may re-arm @p t, but only
 *  for a deadline in the future (vtimers_run() fires everything due at one instant). */
typedef void (*vtimer_fn)(struct vtimer *t, void *ctx);

/** One virtual timer, owned by a device model of one partition. */
struct vtimer {
	struct partition *part;
	vtimer_fn fn;
	void *ctx;
	u64 deadline;     /**< TSC value at which it fires; 0 = not armed */
	u32 cpu;          /**< physical CPU that fires it */
	struct vtimer *next; /**< on the partition's list, kept by vtimer.c */
};

/** The guest clock now, in TSC ticks. */
u64 vtime_now(void);

/** TSC ticks per second (measured against the PIT at boot). */
u64 vtime_tsc_hz(void);

/** Convert @p ns nanoseconds to TSC ticks (and back). */
u64 vtime_ns_to_ticks(u64 ns);
u64 vtime_ticks_to_ns(u64 ticks);

/** Prepare @p t for partition @p p, fired on the CPU of its vCPU 0; it starts disarmed. */
void vtimer_init(struct vtimer *t, struct partition *p, vtimer_fn fn, void *ctx);

/** Fire @p t when the TSC reaches @p deadline (replacing any earlier arming). */
void vtimer_arm(struct vtimer *t, u64 deadline);

/** Disarm @p t. */
void vtimer_cancel(struct vtimer *t);

/* For the scheduler. */

/** Set the TSC frequency measured at boot. */
void vtime_set_tsc_hz(u64 hz);

#define VTIMER_ANY_CPU 0xffffffffu

/** Fire every timer of @p p owned by CPU @p cpu whose deadline has passed. */
void vtimers_run(struct partition *p, u32 cpu);

/** The earliest armed deadline of @p p's timers owned by @p cpu (VTIMER_ANY_CPU: all),
 *  or 0 when none is armed. */
u64 vtimers_next_deadline(struct partition *p, u32 cpu);

#endif
