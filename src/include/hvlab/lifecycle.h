/**
 * @file lifecycle.h
 * @brief Pausing, resuming, soft-resetting and destroying a running partition (issue 3,
 * item 7 "Partition lifecycle"; MECHANISMS.md §2, the ultravisor's partition control).
 *
 * Creation and start are partitions_create() and the scheduler; this is everything after.
 * Every operation may be asked for from any CPU (a hypercall today, the monitor later)
 * and returns at once: the partition's vCPUs run on their own CPUs, so the request is
 * recorded and they are kicked, and the work is finished by whichever CPU sees the last
 * vCPU stop. src/core/lifecycle.c describes the protocol.
 */
#ifndef HVLAB_LIFECYCLE_H
#define HVLAB_LIFECYCLE_H

#include <hvlab/types.h>

struct partition;
struct vcpu;

/** A request that waits for every vCPU of the partition to stop (enum value of lc.request). */
enum lc_request { LC_NONE = 0, LC_PAUSE, LC_RESET, LC_DESTROY };

/** What partition_lifecycle_state() reports (also the result of the query hypercall). */
enum lc_state {
	LC_STATE_RUNNING = 0,  /**< created, runs (or waits to) */
	LC_STATE_CHANGING = 1, /**< a pause, reset or destroy is being carried out */
	LC_STATE_PAUSED = 2,   /**< paused: none of its vCPUs runs until resumed */
	LC_STATE_ENDED = 3,    /**< exited or faulted; only destroy is still possible */
	LC_STATE_DESTROYED = 4,/**< its memory and resources are given back */
};

/** Errors, negative like the hypercall ones (guest_abi.h HC_ERR_*). */
#define LC_ERR_BUSY (-16)  /**< another operation on this partition is in progress */
#define LC_ERR_STATE (-22) /**< not possible in the partition's state (e.g. resume a running one) */

/** Automatic resets (on_fault = reset) a partition gets before a fault ends it. */
#define LC_MAX_AUTO_RESETS 3

/** Per-partition lifecycle bookkeeping, inside struct partition (field lc). */
struct partition_lifecycle {
	volatile u8 request;   /**< enum lc_request waiting to be carried out */
	volatile bool paused;  /**< set when a pause completes, cleared by resume or reset */
	bool completing;       /**< a CPU is carrying out the request now */
	bool no_reset;         /**< a reset failed: the next fault ends the partition */
	bool destroyed;        /**< partition_destroy() is done: nothing of it is left */
	volatile u32 parked;   /**< bit i: vCPU i is off its CPU (VMCS cleared, MSRs saved) */
	volatile u32 borrowed; /**< bit i: another CPU has vCPU i's VMCS loaded (arch_vcpu_with_vmcs) */
	u32 auto_resets;       /**< resets done because of on_fault = reset */
};

/* ---- Operations: 0, or a negative LC_ERR_* with *why saying it in words ---- */

/** Stop every vCPU of @p p where it is, until partition_resume(). Prints "paused" once done. */
int partition_pause(struct partition *p, const char **why);

/** Let a paused @p p run again, each vCPU from where it stopped. */
int partition_resume(struct partition *p, const char **why);

/**
 * Soft reset: stop every vCPU, zero guest RAM, load the image again with the same loader,
 * attach every device afresh, start vCPU 0 at the entry with the APs waiting for a
 * STARTUP IPI, as at creation. Counters are kept; counters.resets counts this one.
 */
int partition_reset(struct partition *p, const char **why);

/**
 * Stop @p p for good and give back its RAM, EPT tables, VMCS and bitmap pages, and every
 * resource it holds in the resource database. Prints "destroyed, N MiB freed". A partition
 * that had not ended shows as "destroyed" in the summary and counts as a success there; one
 * that had already ended keeps how it ended.
 */
int partition_destroy(struct partition *p, const char **why);

/** A VMCS of @p p borrowed by another CPU (arch_vcpu_with_vmcs) is back: carry out a
 *  request that waited for it. */
void lifecycle_borrow_done(struct partition *p);

/** Where @p p is in its life (enum lc_state). */
int partition_lifecycle_state(const struct partition *p);

/* ---- For the partition code, the scheduler and the VMX run loop ---- */

/**
 * partition_fault() calls this first. With on_fault = reset and fewer than
 * LC_MAX_AUTO_RESETS automatic resets so far, print "stopped: @p reason", ask for a reset
 * and return true. A fault while a reset is already on its way is absorbed (true). Else
 * return false (the caller ends @p p), after noting in @p reason, of @p len bytes, when
 * the reset limit was the cause.
 */
bool lifecycle_reset_on_fault(struct partition *p, char *reason, size_t len);

/**
 * The scheduler, on @p v's own CPU, before anything else it does for a partition that
 * has not ended: false when @p v must not run now (paused, or stopping for a request,
 * which this call then carries on with). A debugger's single step lets one vCPU of a
 * paused partition run (debug.h, debug_vcpu_may_step()).
 */
bool lifecycle_vcpu_may_run(struct vcpu *v);

/** The scheduler, on @p v's own CPU, for a vCPU whose partition has ended: take it off
 *  the CPU once (so the partition can be destroyed later), and help a pending destroy. */
void lifecycle_vcpu_ended(struct vcpu *v);

/** Stamp the boot information of a freshly loaded @p p (boot_count), if it has one. */
void lifecycle_stamp_boot_info(struct partition *p);

#endif
