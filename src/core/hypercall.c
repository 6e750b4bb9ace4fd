/**
 * @file hypercall.c
 * @brief The hypercall table, its dispatcher, and the basic hypercalls.
 */
#include <hvlab/hypercall.h>
#include <hvlab/guest_abi.h>
#include <hvlab/partition.h>
#include <hvlab/lib.h>
#include <hvlab/memory.h>
#include <arch/vmexit.h>

extern const struct hypercall __hypercalls_start[], __hypercalls_end[];

s64 hypercall_dispatch(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2)
{
	v->part->counters.hypercalls++;
	for (const struct hypercall *h = __hypercalls_start; h < __hypercalls_end; h++)
		if (h->nr == nr)
			return h->fn(v, a0, a1, a2);
	return HC_ERR_NOSYS;
}

static s64 hc_version(struct vcpu *v, u64 a0, u64 a1, u64 a2)
{
	return HVLAB_ABI_VERSION;
}
HYPERCALL(HC_VERSION, "version", hc_version);

static s64 hc_partition_id(struct vcpu *v, u64 a0, u64 a1, u64 a2)
{
	return v->part->id;
}
HYPERCALL(HC_PARTITION_ID, "partition_id", hc_partition_id);

static s64 hc_nop(struct vcpu *v, u64 a0, u64 a1, u64 a2)
{
	return 0;
}
HYPERCALL(HC_NOP, "nop", hc_nop);

static s64 hc_counters(struct vcpu *v, u64 gpa, u64 a1, u64 a2)
{
	const struct partition_counters *c = &v->part->counters;
	struct hvlab_counters out = {
		.vm_exits = c->exits_total,
		.injections = c->injections,
		.external_interrupt_exits = c->exits[EXIT_REASON_EXTERNAL_INTERRUPT],
	};

	return partition_write(v->part, gpa, &out, sizeof(out)) ? 0 : HC_ERR_INVAL;
}
HYPERCALL(HC_COUNTERS, "counters", hc_counters);
