/**
 * @file partition_control.c
 * @brief HC_PARTITION_CONTROL: a guest pauses, resumes, resets or destroys a partition
 * (the lifecycle of src/core/lifecycle.c), until the monitor (issue 5) does it instead.
 *
 * The rule that keeps a hostile guest from stopping anyone: a partition may control only
 * the partitions its configuration names in `controls = NAME, NAME` (docs/config.md),
 * itself included only if named. Every other id, and any id that is not a partition,
 * gets HC_ERR_PERM, so a guest cannot even learn which ids exist.
 */
#include <hvlab/hypercall.h>
#include <hvlab/lifecycle.h>
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>

/* Is @p target named in the `controls` list of @p caller ("b, c")? */
static bool may_control(const struct partition *caller, const struct partition *target)
{
	const char *s = caller->cfg->controls;
	size_t len = strlen(target->name);

	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		size_t n = 0;
		while (s[n] && s[n] != ',' && s[n] != ' ' && s[n] != '\t')
			n++;
		if (n && n == len && memcmp(s, target->name, n) == 0)
			return true;
		s += n;
	}
	return false;
}

/* RDI = partition id, RSI = HC_PC_*. Query returns HVLAB_PART_*; the others 0 once the
 * request is accepted (it completes asynchronously: query until it shows), or
 * HC_ERR_BUSY / HC_ERR_INVAL (not possible in the target's state). */
static s64 hc_partition_control(struct vcpu *v, u64 id, u64 op, u64 a2)
{
	if (id >= npartitions || !may_control(v->part, &partitions[id]))
		return HC_ERR_PERM;
	struct partition *t = &partitions[id];
	const char *why;

	switch (op) {
	case HC_PC_QUERY: return partition_lifecycle_state(t);
	case HC_PC_PAUSE: return partition_pause(t, &why);
	case HC_PC_RESUME: return partition_resume(t, &why);
	case HC_PC_RESET: return partition_reset(t, &why);
	case HC_PC_DESTROY: return partition_destroy(t, &why);
	default: return HC_ERR_INVAL;
	}
}
HYPERCALL(HC_PARTITION_CONTROL, "partition_control", hc_partition_control);

_Static_assert(LC_ERR_BUSY == HC_ERR_BUSY && LC_ERR_STATE == HC_ERR_INVAL,
	       "lifecycle errors are returned to the guest unchanged");
