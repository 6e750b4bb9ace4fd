/**
 * @file monitor_target.c
 * @brief What monitor commands look at: partitions and vCPUs named in their arguments,
 * in words, and a vCPU's VMCS.
 *
 * The engine (monitor.c) checked the shape of each argument; here the names meet the
 * machine: "7" must be a partition that exists, "1.3" a vCPU it has. Every refusal says
 * what there is instead, since that is what the user needs next.
 *
 * A VMCS is readable only while no CPU runs it (SDM Vol. 3C §25.11.1: a VMCS is active on
 * at most one processor, and its contents live partly inside that processor). The
 * lifecycle parks every vCPU of a paused partition with VMCLEAR, after which CPU 0 may
 * load it (arch_vcpu_with_vmcs()); a running partition's VMCS is not shown ("pause it
 * first"), and no snapshot of it is kept.
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/lifecycle.h>
#include <hvlab/lib.h>
#include <arch/lifecycle_arch.h>

_Static_assert(MON_ERR_BUSY == LC_ERR_BUSY && MON_ERR_STATE == LC_ERR_STATE,
	       "the monitor's error numbers are the lifecycle's (docs/design/monitor-protocol.md)");

/* "0 (a), 1 (b)": every partition, for "no partition" messages. */
static void list_partitions(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (u32 i = 0; i < npartitions && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u (%s)", i ? ", " : "", partitions[i].id,
					 partitions[i].name);
}

struct partition *monitor_partition(struct monitor_call *call, int i)
{
	const struct monitor_arg *a = &call->arg[i];
	char list[160];

	for (u32 k = 0; k < npartitions; k++) {
		struct partition *p = &partitions[k];
		if (a->is_number ? a->num == p->id : strcmp(a->word, p->name) == 0)
			return p;
	}
	/* A name made of digits ("2024") is looked up by name too, after the numbers. */
	for (u32 k = 0; a->is_number && k < npartitions; k++)
		if (strcmp(a->word, partitions[k].name) == 0)
			return &partitions[k];
	list_partitions(list, sizeof(list));
	monitor_fail(call, MON_ERR_NOENT, "no partition '%s'; there are %s", a->word,
		     npartitions ? list : "none");
	return NULL;
}

struct vcpu *monitor_vcpu(struct monitor_call *call, int i)
{
	struct partition *p = monitor_partition(call, i);
	u32 v = call->arg[i].vcpu;

	if (!p)
		return NULL;
	if (v >= p->nvcpus) {
		monitor_fail(call, MON_ERR_NOENT, "partition %u (%s) has no vCPU %u; it has %u (0-%u)", p->id,
			     p->name, v, p->nvcpus, p->nvcpus - 1);
		return NULL;
	}
	return &p->vcpu[v];
}

/* The words for a pending lifecycle request (enum lc_request). */
static const char *const request_words[] = {
	[LC_PAUSE] = "pausing",
	[LC_RESET] = "resetting",
	[LC_DESTROY] = "destroying",
};

/* The words for how an ended partition ended (enum end_kind). */
static const char *const end_words[] = {
	[END_NONE] = "ended",
	[END_EXIT] = "exited",
	[END_FAULT] = "faulted",
	[END_DESTROYED] = "destroyed",
};

const char *monitor_partition_state(const struct partition *p)
{
	u8 request = p->lc.request;

	if (p->lc.destroyed)
		return "destroyed";
	if (request != LC_NONE && request < ARRAY_SIZE(request_words))
		return request_words[request];
	if (partition_ended(p))
		return p->end_kind < ARRAY_SIZE(end_words) ? end_words[p->end_kind] : "ended";
	if (p->lc.paused)
		return "paused";
	return p->state == PART_READY ? "ready" : "running";
}

int monitor_check_parked(struct monitor_call *call, const struct vcpu *v)
{
	const struct partition *p = v->part;

	if (p->lc.destroyed)
		return monitor_fail(call, MON_ERR_STATE, "partition %u (%s) was destroyed: nothing of it is left",
				    p->id, p->name);
	if (!(p->lc.parked & BIT(v->id)))
		return monitor_fail(call, MON_ERR_STATE, "partition %u (%s) is %s: pause it first", p->id,
				    p->name, monitor_partition_state(p));
	return MON_OK;
}

int monitor_with_vmcs(struct monitor_call *call, struct vcpu *v, int (*fn)(struct vcpu *v, void *ctx),
		      void *ctx)
{
	int err = monitor_check_parked(call, v);

	if (err)
		return err;
	int r = arch_vcpu_with_vmcs(v, fn, ctx);
	if (r == -1)
		return monitor_fail(call, MON_ERR_STATE,
				    "vCPU %u.%u has no VMCS to show (not started, or reset and not run since)",
				    v->part->id, v->id);
	return r;
}
