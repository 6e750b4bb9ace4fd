/**
 * @file hypercall.h
 * @brief Hypercalls: requests a guest makes to the hypervisor (docs/hypercalls.md).
 *
 * Each hypercall is an entry in a table, registered where it is implemented with
 * HYPERCALL(); the dispatcher only looks numbers up.
 */
#ifndef HVLAB_HYPERCALL_H
#define HVLAB_HYPERCALL_H

#include <hvlab/types.h>

struct vcpu;

/** One hypercall: its number (guest_abi.h HC_*), name, and implementation. */
struct hypercall {
	u64 nr;
	const char *name;
	s64 (*fn)(struct vcpu *v, u64 a0, u64 a1, u64 a2);
};

#define HYPERCALL(nr_, name_, fn_)                                                        \
	static const struct hypercall hypercall_##fn_                                     \
		__attribute__((used, section(".table.hypercalls"), aligned(8))) = { nr_, name_, fn_ }

/** Run hypercall @p nr for @p v; HC_ERR_NOSYS when no entry has that number. */
s64 hypercall_dispatch(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2);

#endif
