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

struct partition_config;

/**
 * Why partition configuration @p pc cannot have the paging it asks for on this CPU
 * (paging = ept without EPT; more than one vCPU or identity = yes on shadow paging,
 * chosen or automatic), or NULL when it can.
 */
const char *arch_paging_problem(const struct partition_config *pc);

/** Print what the architecture counted for @p p (shadow paging: faults, cache), if anything. */
void arch_partition_report(const struct partition *p);

/** Which paging @p p runs on and why, for the console: "ept", "shadow (no EPT on this CPU)"... */
const char *arch_paging_description(const struct partition *p);

/** Map host page @p hpa at guest-physical @p gpa of @p p, readable only. Returns 0 or -1. */
int arch_map_readonly(struct partition *p, u64 gpa, u64 hpa);

/** Free what arch_partition_init() allocated. */
void arch_partition_destroy(struct partition *p);

/** Why a vCPU's turn on its CPU ended. */
enum vcpu_run_result {
	RUN_ENDED, /**< its partition ended */
	RUN_YIELD, /**< it halted, waits for a SIPI, or its time (@p deadline) is up */
};

/** Run @p v on the calling CPU until @p deadline (TSC; 0 = none), a halt, or its partition's end. */
enum vcpu_run_result arch_run_vcpu(struct vcpu *v, u64 deadline);

/** Interrupt physical CPU @p cpu so the vCPU it runs exits, or it leaves its idle wait. */
void arch_kick_cpu(u32 cpu);

/** Wait on this CPU, interrupts on, until a kick or the TSC reaches @p deadline (0 = none). */
void arch_idle_until(u64 deadline);

#endif
