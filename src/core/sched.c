/**
 * @file sched.c
 * @brief The simplest scheduler that is correct for one vCPU per CPU at a time.
 *
 * Each CPU runs the vCPUs configured on it one after another, each until its partition
 * ends. Time-slicing shared CPUs with the VMX-preemption timer comes with issue 3; the
 * table of partitions and the per-vCPU "cpu" field are already what it will use.
 */
#include <hvlab/sched.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <arch/partition_arch.h>
#include <arch/cpu.h>

static volatile u32 cpus_finished;

void sched_run(struct cpu *c)
{
	for (u32 i = 0; i < npartitions; i++) {
		struct partition *p = &partitions[i];
		for (u32 n = 0; n < p->nvcpus; n++) {
			struct vcpu *v = &p->vcpu[n];
			if (v->cpu != c->index || partition_ended(p))
				continue;
			p->state = PART_RUNNING;
			arch_run_vcpu(v);
		}
	}
	/* The last CPU to finish ends the run; the others wait to be powered off. */
	if (__atomic_add_fetch(&cpus_finished, 1, __ATOMIC_ACQ_REL) == ncpus)
		hv_poweroff(partitions_summary());
	for (;;)
		halt();
}
