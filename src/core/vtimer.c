/**
 * @file vtimer.c
 * @brief Virtual timers of device models, fired between VM entries.
 *
 * Each partition keeps a list of armed timers, each owned by one physical CPU (vtimer.h).
 * Every CPU calls vtimers_run() for the partitions it runs before every VM entry and asks
 * vtimers_next_deadline() how long the guest may run before it must look again (turned
 * into a VMX-preemption-timer value, or a wake-up while the CPU is idle).
 */
#include <hvlab/vtimer.h>
#include <hvlab/partition.h>
#include <arch/cpu.h>

static u64 tsc_hz = 1000000000ULL; /* replaced by vtime_set_tsc_hz() at boot */

u64 vtime_now(void)
{
	return rdtsc();
}

u64 vtime_tsc_hz(void)
{
	return tsc_hz;
}

void vtime_set_tsc_hz(u64 hz)
{
	if (hz)
		tsc_hz = hz;
}

u64 vtime_ns_to_ticks(u64 ns)
{
	/* Split to avoid overflow: whole seconds, then the rest. */
	return ns / 1000000000ULL * tsc_hz + ns % 1000000000ULL * tsc_hz / 1000000000ULL;
}

u64 vtime_ticks_to_ns(u64 ticks)
{
	return ticks / tsc_hz * 1000000000ULL + ticks % tsc_hz * 1000000000ULL / tsc_hz;
}

void vtimer_init(struct vtimer *t, struct partition *p, vtimer_fn fn, void *ctx)
{
	*t = (struct vtimer){ .part = p, .fn = fn, .ctx = ctx, .cpu = p->vcpu[0].cpu };
}

/* Unlink @t from its partition's list; the caller holds the partition's timer lock. */
static void unlink(struct vtimer *t)
{
	for (struct vtimer **pp = &t->part->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
}

void vtimer_arm(struct vtimer *t, u64 deadline)
{
	struct partition *p = t->part;

	spin_lock(&p->timer_lock);
	if (t->deadline)
		unlink(t);
	t->deadline = deadline ? deadline : 1;
	t->next = p->timers;
	p->timers = t;
	spin_unlock(&p->timer_lock);
}

void vtimer_cancel(struct vtimer *t)
{
	struct partition *p = t->part;

	spin_lock(&p->timer_lock);
	if (t->deadline)
		unlink(t);
	t->deadline = 0;
	spin_unlock(&p->timer_lock);
}

void vtimers_run(struct partition *p, u32 cpu)
{
	if (!__atomic_load_n(&p->timers, __ATOMIC_ACQUIRE))
		return; /* the common case, on every VM entry: nothing armed */
	u64 now = vtime_now();

	for (;;) {
		/* Take one expired timer at a time: its callback may arm or cancel others. */
		struct vtimer *due = NULL;
		spin_lock(&p->timer_lock);
		for (struct vtimer *t = p->timers; t; t = t->next)
			if (t->cpu == cpu && t->deadline <= now && (!due || t->deadline < due->deadline))
				due = t;
		if (due) {
			unlink(due);
			due->deadline = 0;
		}
		spin_unlock(&p->timer_lock);
		if (!due)
			return;
		due->fn(due, due->ctx);
	}
}

u64 vtimers_next_deadline(struct partition *p, u32 cpu)
{
	u64 next = 0;

	if (!__atomic_load_n(&p->timers, __ATOMIC_ACQUIRE))
		return 0;
	spin_lock(&p->timer_lock);
	for (struct vtimer *t = p->timers; t; t = t->next)
		if ((cpu == VTIMER_ANY_CPU || t->cpu == cpu) && (!next || t->deadline < next))
			next = t->deadline;
	spin_unlock(&p->timer_lock);
	return next;
}
