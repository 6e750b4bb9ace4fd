/**
 * @file partition_arch.h
 * @brief What generic partition code asks of the architecture.
 */
#ifndef ARCH_PARTITION_ARCH_H
#define ARCH_PARTITION_ARCH_H

#include <hvlab/types.h>

struct partition;
struct vcpu;

/** Build @p p's second-level translation (EPT: guest RAM only) and VMX bitmaps. Returns 0 or -1. */
int arch_partition_init(struct partition *p);

/** Free what arch_partition_init() allocated. */
void arch_partition_destroy(struct partition *p);

/** Run @p v on the calling CPU until its partition ends. */
void arch_run_vcpu(struct vcpu *v);

#endif
