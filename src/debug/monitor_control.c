/**
 * @file monitor_control.c
 * @brief Monitor commands that change a partition: `pause`, `resume`, `reset`, and the
 * debugger's `step` and `break`.
 *
 * The first three are the partition lifecycle (src/core/lifecycle.c, lifecycle.h): each
 * records a request and returns at once, and the partition's own CPUs carry it out at
 * their vCPUs' next exit. The monitor never waits for that (CPU 0 must keep serving its
 * own vCPUs and the debug ports, debug_port.h), so an answer says what is already true:
 * "paused" when every vCPU had stopped by the time it was written, otherwise "pausing";
 * `info partitions` shows when it is done. Refusals carry the lifecycle's error number
 * (E10 busy, E16 wrong state) and its reason in words.
 *
 * `step` and `break` are the debug core's (hvlab/debug.h, shared with the gdbstub): one
 * instruction of one vCPU (the monitor trap flag where the CPU has it), a breakpoint in
 * the guest's debug registers.
 * Both attach the debugger to the partition first (its #DB and #BP exits on), and it
 * stays attached; `resume` of an attached partition goes through debug_continue(), which
 * steps over a breakpoint the partition stopped at.
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/lifecycle.h>
#include <hvlab/debug.h>
#include <hvlab/lib.h>
#include <arch/debug_arch.h>

/* A lifecycle operation refused: "cannot pause partition 1 (b): it is already paused". */
static int refused(struct monitor_call *call, const char *verb, const struct partition *p, int err,
		   const char *why)
{
	return monitor_fail(call, err, "cannot %s partition %u (%s): %s", verb, p->id, p->name,
			    why ? why : "refused");
}

/* pause P */
static int do_pause(struct monitor_call *call)
{
	struct partition *p = monitor_partition(call, 0);
	const char *why;

	if (!p)
		return MON_ERR_NOENT;
	int err = partition_pause(p, &why);
	if (err)
		return refused(call, "pause", p, err, why);
	if (partition_lifecycle_state(p) == LC_STATE_PAUSED)
		monitor_printf(call, "partition %u (%s) paused\n", p->id, p->name);
	else
		monitor_printf(call, "partition %u (%s) pausing: each vCPU stops at its next exit\n", p->id,
			       p->name);
	return MON_OK;
}

MONITOR_COMMAND(cmd_pause) = { "pause", "P", "stop every vCPU of partition P where it is", do_pause };

/* resume P: through the debug core when a debugger is attached (see the file comment). */
static int do_resume(struct monitor_call *call)
{
	struct partition *p = monitor_partition(call, 0);
	const char *why = NULL;
	int err;

	if (!p)
		return MON_ERR_NOENT;
	if (debug_attached(p) && debug_stopped(p))
		err = debug_continue(p, &why);
	else
		err = partition_resume(p, &why);
	if (err)
		return refused(call, "resume", p, err, why);
	monitor_printf(call, "partition %u (%s) resumed\n", p->id, p->name);
	return MON_OK;
}

MONITOR_COMMAND(cmd_resume) = { "resume", "P", "let paused partition P run on", do_resume };

/* reset P */
static int do_reset(struct monitor_call *call)
{
	struct partition *p = monitor_partition(call, 0);
	const char *why;

	if (!p)
		return MON_ERR_NOENT;
	int err = partition_reset(p, &why);
	if (err)
		return refused(call, "reset", p, err, why);
	monitor_printf(call, "partition %u (%s) resetting: its image is loaded again and vCPU 0 starts "
			     "at its entry\n", p->id, p->name);
	return MON_OK;
}

MONITOR_COMMAND(cmd_reset) = { "reset", "P", "soft-reset partition P: reload its image and start it again",
			       do_reset };

/* step P.V */
static int do_step(struct monitor_call *call)
{
	struct vcpu *v = monitor_vcpu(call, 0);
	const char *why = NULL;

	if (!v)
		return MON_ERR_NOENT;
	struct partition *p = v->part;
	if (!debug_stopped(p))
		return monitor_fail(call, MON_ERR_STATE, "partition %u (%s) is %s; pause it first", p->id,
				    p->name, monitor_partition_state(p));
	int err = debug_attach(p, &why);
	if (!err)
		err = debug_step(p, v->id, &why);
	if (err)
		return refused(call, "step", p, err, why);
	u64 pc, gpa;
	if (debug_stopped(p) && arch_debug_pc(v, &pc, &gpa)) { /* done already: its CPU was quick */
		monitor_printf(call, "vCPU %u.%u stepped to 0x%lx\n", p->id, v->id, pc);
		return MON_OK;
	}
	monitor_printf(call, "vCPU %u.%u stepping: its partition is paused again after one instruction\n",
		       p->id, v->id);
	return MON_OK;
}

MONITOR_COMMAND(cmd_step) = { "step", "P.V", "run one guest instruction on vCPU V of paused partition P",
			      do_step };

/* break P ADDR: an instruction breakpoint in every vCPU's debug registers (no page walk
 * needed: DR0-DR3 hold linear addresses, SDM Vol. 3B §19.2). */
static int do_break(struct monitor_call *call)
{
	struct partition *p = monitor_partition(call, 0);
	u64 addr = call->arg[1].num;
	const char *why = NULL;

	if (!p)
		return MON_ERR_NOENT;
	int err = debug_attach(p, &why);
	if (!err)
		err = debug_insert(p, 0, DEBUG_BP_HW, addr, 1, false, &why);
	if (err)
		return refused(call, "set a breakpoint in", p, err, why);
	monitor_printf(call, "breakpoint at 0x%lx in partition %u (%s): it pauses when a vCPU gets there\n", addr,
		       p->id, p->name);
	return MON_OK;
}

MONITOR_COMMAND(cmd_break) = { "break", "P ADDR",
			       "pause partition P when one of its vCPUs reaches guest address ADDR", do_break };
