/**
 * @file debug.h
 * @brief The debug core: stopping a partition for a debugger, single-stepping one of its
 * vCPUs, breakpoints and watchpoints, guest memory as a debugger sees it.
 *
 * Used by the gdbstub (src/debug/gdbstub.c) and by the monitor (hvmon's `step`,
 * `break`, `x/N`). The rules, in short (docs/gdb.md, "How it works"):
 *
 *  - **All-stop.** A debugger stops a whole partition: partition_pause() parks every
 *    vCPU (src/core/lifecycle.c). Other partitions keep running.
 *  - **Stop events** come from a vCPU's own CPU (its exit handlers: int3, #DB, MTF) with
 *    debug_vcpu_stopped(): the first one is recorded and the partition paused. A second
 *    vCPU that hits an int3 meanwhile is left at it and hits it again when resumed.
 *  - **A step** runs one vCPU of the paused partition for one instruction while the
 *    others stay parked (lifecycle_vcpu_may_run() asks debug_vcpu_may_step()). It ends
 *    on that vCPU's CPU with debug_step_done().
 *  - **Continuing from a software breakpoint** the vCPU reported steps over it first:
 *    the original byte goes back for that one step, the int3 returns, then everything
 *    runs (debug_continue()).
 *  - Nothing changes for a partition no debugger attached to: its exception bitmap and
 *    debug registers are touched only after debug_attach().
 *
 * Every function takes the partition; vCPU numbers are p->vcpu[] indexes. Errors are
 * negative LC_ERR_* (lifecycle.h) or DEBUG_ERR_*, with *why saying it in words when
 * @p why is not NULL.
 */
#ifndef HVLAB_DEBUG_H
#define HVLAB_DEBUG_H

#include <hvlab/types.h>
#include <hvlab/config.h>
#include <hvlab/debug_bptable.h>

struct partition;
struct vcpu;

#define DEBUG_ERR_FAULT (-14)  /**< an address that is not RAM of the partition (EFAULT) */
#define DEBUG_ERR_NOSPC (-28)  /**< no free breakpoint slot or debug register (ENOSPC) */
#define DEBUG_ERR_NOTSUP (-95) /**< not possible on this machine (EOPNOTSUPP) */

/** Why a partition stopped (the stop reply GDB gets says it: "Stop Reply Packets"). */
enum debug_stop_reason {
	DEBUG_STOP_NONE = 0,     /**< running: no stop recorded */
	DEBUG_STOP_REQUESTED,    /**< the debugger asked (Ctrl-C, attach, the monitor's pause) */
	DEBUG_STOP_STEP,         /**< a single step finished */
	DEBUG_STOP_SW_BREAK,     /**< a vCPU executed the int3 of a software breakpoint */
	DEBUG_STOP_HW_BREAK,     /**< an instruction breakpoint in a debug register */
	DEBUG_STOP_WATCH_WRITE,  /**< a write watchpoint */
	DEBUG_STOP_WATCH_ACCESS, /**< an access (read or write) watchpoint */
};

/** The last stop of a partition. */
struct debug_stop {
	u8 reason; /**< enum debug_stop_reason */
	u32 vcpu;  /**< the vCPU it happened on */
	u64 addr;  /**< breakpoint or watched address, as the debugger gave it */
};

/** What the VM-entry path reads on every entry, per partition: kept tiny and lock-free. */
struct debug_hot {
	volatile u32 gen;      /**< bumped on every change of what the hardware must do */
	volatile u32 stepping; /**< bit i: vCPU i runs a single step now */
};
extern struct debug_hot debug_hot[CONFIG_MAX_PARTITIONS];

/* ---- For debuggers (CPU 0: the gdbstub and the monitor) ---- */

/** Start debugging @p p: its #BP and #DB exits are turned on. Idempotent. Refused for a
 *  partition with interception = off (it cannot be paused). */
int debug_attach(struct partition *p, const char **why);

/** Stop debugging @p p: every breakpoint is removed, its exits back as before, and it
 *  runs again if it was stopped. */
void debug_detach(struct partition *p);

/** True while a debugger is attached to @p p. */
bool debug_attached(const struct partition *p);

/**
 * Ask @p p to stop (asynchronous: poll debug_stopped()). Returns 0 once asked, 1 when it
 * cannot be asked yet because vCPU 0 has not run its first instruction (ask again later:
 * before that there are no registers to show), or an error.
 */
int debug_request_stop(struct partition *p, const char **why);

/** True when @p p is stopped and settled: paused, every vCPU parked, no step running. */
bool debug_stopped(const struct partition *p);

/** Why @p p stopped last (DEBUG_STOP_REQUESTED if it was paused by someone else). */
struct debug_stop debug_last_stop(const struct partition *p);

/** Let a stopped @p p run again (stepping over the software breakpoint it stopped at). */
int debug_continue(struct partition *p, const char **why);

/** Run one instruction on vCPU @p vcpu of stopped @p p, the others staying stopped; then
 *  @p p is stopped again with DEBUG_STOP_STEP (poll debug_stopped()). A halted vCPU or
 *  one never started does not move: the step ends at once. */
int debug_step(struct partition *p, u32 vcpu, const char **why);

/**
 * Insert a breakpoint or watchpoint of @p type at @p addr (@p len bytes; 1 for
 * breakpoints). Software breakpoints need the address translated: through vCPU
 * @p vcpu's page tables (the partition stopped), or as guest-physical when @p phys.
 * Duplicates count: each insert needs its own remove.
 */
int debug_insert(struct partition *p, u32 vcpu, u8 type, u64 addr, u64 len, bool phys, const char **why);

/** Remove one insertion made with the same arguments. */
int debug_remove(struct partition *p, u32 vcpu, u8 type, u64 addr, u64 len, bool phys, const char **why);

/** Read guest memory at @p addr (guest-virtual through vCPU @p vcpu, which needs @p p
 *  stopped, or guest-physical when @p phys), breakpoints shown with their original bytes.
 *  Returns the bytes read: fewer than @p len where the memory ends. */
size_t debug_read_mem(struct partition *p, u32 vcpu, u64 addr, void *buf, size_t len, bool phys);

/** Write guest memory likewise; a write over a breakpoint's byte changes what it restores. */
size_t debug_write_mem(struct partition *p, u32 vcpu, u64 addr, const void *buf, size_t len, bool phys);

/* ---- For the architecture and the lifecycle (a vCPU's own CPU) ---- */

/** A stop event on @p v (an exit handler): record it if it is the first, and pause. */
void debug_vcpu_stopped(struct vcpu *v, u8 reason, u64 addr);

/** @p v finished its single step (its arch step state is already off). */
void debug_step_done(struct vcpu *v);

/** True when guest-physical @p gpa holds one of the debugger's int3s. */
bool debug_sw_breakpoint_at(struct partition *p, u64 gpa);

/** Copy the hardware requests of @p p into @p hw (DEBUG_HW_MAX entries); returns whether a
 *  debugger is attached. */
bool debug_hw_snapshot(struct partition *p, struct debug_hwbp *hw);

/**
 * lifecycle_vcpu_may_run(), for a vCPU of a paused partition: true when @p v runs a step
 * now. A vCPU that cannot move (halted, waiting for SIPI) ends its step here instead.
 */
bool debug_vcpu_may_step(struct vcpu *v);

#endif
