/**
 * @file lifecycle_arch.h
 * @brief What the partition lifecycle (src/core/lifecycle.c) asks of the architecture.
 */
#ifndef ARCH_LIFECYCLE_ARCH_H
#define ARCH_LIFECYCLE_ARCH_H

#include <hvlab/types.h>

struct partition;
struct vcpu;

/**
 * On @p v's own CPU: take it off the CPU. Its pass-through MSRs are saved, its VMCS is
 * written back to memory and made inactive (VMCLEAR, SDM Vol. 3C §25.11.1), so any CPU
 * may then reset or free it; the next run loads it again and enters with VMLAUNCH.
 */
void arch_vcpu_park(struct vcpu *v);

/**
 * Any CPU, @p v parked: forget every register and event of @p v. Its VMCS page is kept,
 * cleared to a fresh region, and filled again by vmx_vcpu_init() before its next entry.
 */
void arch_vcpu_reset(struct vcpu *v);

/**
 * Any CPU, every vCPU of @p p parked: free its vCPUs' VMCS pages, its read-only resource
 * view page, its EPT tables and VMX bitmaps (arch_partition_destroy()).
 */
void arch_partition_teardown(struct partition *p);

/**
 * Run @p fn(@p v, @p ctx) on the calling CPU with @p v's VMCS current, so VMREAD/VMWRITE,
 * vcpu_paging_state() and the guest-memory helpers (guest_mem.h) act on @p v. For the
 * debugger and the monitor: @p v must be parked (its partition paused, or ended), which
 * leaves its VMCS clear, loadable on any CPU (SDM Vol. 3C §25.11.1); the calling CPU's
 * own vCPU, if any, is current again afterwards. Returns fn's result, or -1 when @p v is
 * not parked.
 */
int arch_vcpu_with_vmcs(struct vcpu *v, int (*fn)(struct vcpu *v, void *ctx), void *ctx);

#endif
