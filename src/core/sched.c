/**
 * @file sched.c
 * @brief Which vCPU each physical CPU runs.
 *
 * Every vCPU is bound to one physical CPU (its configuration's `cpus`). Each CPU takes
 * turns among its runnable vCPUs, round-robin, a time slice each: a dedicated CPU has
 * one vCPU, which then runs with no slice at all; shared CPUs are time-sliced with the
 * VMX-preemption timer. A halted vCPU waits until an interrupt can wake it; a CPU with
 * nothing runnable sleeps until a kick or the next timer deadline. When every vCPU of a
 * partition is halted and nothing can ever wake one, the partition is ended and says so,
 * instead of hanging the run.
 */
#include <hvlab/sched.h>
#include <hvlab/debug_port.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <hvlab/irq.h>
#include <hvlab/vtimer.h>
#include <hvlab/lifecycle.h>
#include <arch/partition_arch.h>
#include <arch/vmexit.h>
#include <arch/vlapic.h>
#include <arch/cpu.h>

#define SLICE_US 2000 /* time slice on a shared CPU */

static volatile u32 cpus_finished;

void vcpu_kick(struct vcpu *v)
{
	arch_kick_cpu(v->cpu);
}

/* Can @v run now? A halted vCPU becomes runnable when something would wake it. */
static bool runnable(struct vcpu *v)
{
	vlapic_take_init(v);
	if (v->state == VCPU_HALTED && vcpu_has_wakeup(v))
		v->state = VCPU_RUNNABLE;
	if (v->state == VCPU_WAIT_SIPI && v->arch.lapic.sipi_vector) {
		v->arch.start_sipi = __atomic_exchange_n(&v->arch.lapic.sipi_vector, 0, __ATOMIC_SEQ_CST);
		v->state = VCPU_RUNNABLE;
	}
	return v->state == VCPU_RUNNABLE;
}

/* A partition whose every vCPU sleeps with no timer and nothing pending is stuck for good. */
static void end_if_stuck(struct partition *p)
{
	for (u32 i = 0; i < p->nvcpus; i++) {
		struct vcpu *v = &p->vcpu[i];
		if (v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING || vcpu_has_wakeup(v) ||
		    v->arch.lapic.sipi_vector)
			return;
	}
	if (vtimers_next_deadline(p, VTIMER_ANY_CPU) || partition_ended(p))
		return;
	bool any_if = false;
	for (u32 i = 0; i < p->nvcpus; i++)
		any_if |= p->vcpu[i].state == VCPU_HALTED && p->vcpu[i].halted_with_if;
	partition_fault(p, "every vCPU is halted%s and nothing can wake them",
			any_if ? " waiting for interrupts" : " with interrupts disabled");
}

/* The vCPUs this CPU runs, in partition order. */
static u32 my_vcpus(struct cpu *c, struct vcpu **list, u32 max)
{
	u32 n = 0;

	for (u32 i = 0; i < npartitions; i++)
		for (u32 j = 0; j < partitions[i].nvcpus && n < max; j++)
			if (partitions[i].vcpu[j].cpu == c->index)
				list[n++] = &partitions[i].vcpu[j];
	return n;
}

/* True while some partition of the machine has not ended. */
static bool any_partition_alive(void)
{
	for (u32 i = 0; i < npartitions; i++)
		if (!partition_ended(&partitions[i]))
			return true;
	return false;
}

/* CPU 0 serves the debugger ports (debug_port.h): no slice or idle wait there may be
 * longer than DEBUG_POLL_US, and it keeps serving while any partition lives, even with
 * no vCPU of its own left. */
static bool serves_debuggers(const struct cpu *c)
{
	return c->index == 0 && debug_services_active();
}

static u64 earlier(u64 a, u64 b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

void sched_run(struct cpu *c)
{
	struct vcpu *mine[MAX_PARTITIONS * MAX_VCPUS];
	u32 n = my_vcpus(c, mine, ARRAY_SIZE(mine));
	u32 next = 0;
	bool debug = serves_debuggers(c);
	u64 poll_ticks = vtime_ns_to_ticks(DEBUG_POLL_US * 1000ULL);

	for (;;) {
		u32 alive = 0, ran = 0;
		u64 wake = 0;

		if (debug)
			debug_services_poll();
		for (u32 k = 0; k < n; k++) {
			struct vcpu *v = mine[(next + k) % n];
			struct partition *p = v->part;
			if (partition_ended(p)) {
				lifecycle_vcpu_ended(v); /* off this CPU, so it can be destroyed */
				continue;
			}
			alive++;
			if (!lifecycle_vcpu_may_run(v))
				continue; /* paused, or stopping for a reset or destroy (lifecycle.c) */
			vtimers_run(p, c->index);
			u64 t = vtimers_next_deadline(p, c->index);
			if (t && (!wake || t < wake))
				wake = t;
			if (!runnable(v)) {
				end_if_stuck(p);
				continue;
			}
			p->state = PART_RUNNING;
			u64 deadline = n > 1 ? rdtsc() + vtime_ns_to_ticks(SLICE_US * 1000ULL) : 0;
			if (debug)
				deadline = earlier(deadline, rdtsc() + poll_ticks);
			arch_run_vcpu(v, deadline);
			next = (next + k + 1) % n;
			ran = 1;
			break;
		}
		if (!alive && !(debug && any_partition_alive()))
			break;
		if (!ran)
			arch_idle_until(debug ? earlier(wake, rdtsc() + poll_ticks) : wake);
	}
	/* The last CPU to finish ends the run; the others wait to be powered off. */
	if (__atomic_add_fetch(&cpus_finished, 1, __ATOMIC_ACQ_REL) == ncpus)
		hv_poweroff(partitions_summary());
	for (;;)
		halt();
}
