/**
 * @file lifecycle.c
 * @brief Pause, resume, soft reset and destroy of a running partition, and what
 * `on_fault = reset` does (issue 3, item 7 "Partition lifecycle"; MECHANISMS.md §2).
 *
 * The problem: a request may come from any CPU (a guest's hypercall, later the monitor),
 * but a partition's vCPUs run on their own CPUs, and a vCPU's VMCS may only be touched
 * on the CPU where it is active. So nothing is done to a vCPU from afar; instead:
 *
 *  1. Request. The requester records the operation in p->lc.request (under p->lock; one
 *     at a time: a second one gets LC_ERR_BUSY) and kicks every vCPU's CPU.
 *  2. Park. Each of those CPUs notices the request before its next VM entry (vmx_run_vcpu
 *     yields) or in the scheduler (lifecycle_vcpu_may_run()), and parks its vCPU itself:
 *     arch_vcpu_park() saves the vCPU's MSRs and VMCLEARs its VMCS, then bit vCPU-id of
 *     p->lc.parked is set. A parked vCPU keeps its state (RUNNABLE, HALTED...) and does
 *     not run while a request is pending or the partition is paused.
 *  3. Complete. Whoever sees the last bit set while a request is pending — the CPU that
 *     parked the last vCPU, or the requester itself when every vCPU was already parked
 *     (paused, or ended) — claims the work (p->lc.completing) and does it: nothing of the
 *     partition runs, so its memory, devices and vCPU structures are plain data by then.
 *     It clears the request and kicks every vCPU again.
 *  4. Go on. A CPU whose vCPU is parked, with no request pending and the partition not
 *     paused, clears its bit (under p->lock, so it cannot race a completion) and runs it;
 *     load_vmcs() makes the VMCS current again (or fills it anew after a reset).
 *
 * Pause completes by setting p->lc.paused; resume just clears it and kicks (the vCPUs
 * are parked already). A partition that ended is parked by its CPUs once
 * (lifecycle_vcpu_ended()), so it can be destroyed even after its CPUs stopped running.
 * One completion runs at a time in the machine (lifecycle_lock): the ACPI builder's buffer
 * and the resource database are shared by every partition.
 *
 * Not supported: a partition with interception = off (its guest owns a physical local
 * APIC: pausing it needs that APIC quieted first) may only be destroyed after it ended.
 */
#include <hvlab/lifecycle.h>
#include <hvlab/partition.h>
#include <hvlab/resources.h>
#include <hvlab/guest_abi.h>
#include <hvlab/memory.h>
#include <hvlab/console.h>
#include <hvlab/irq.h>
#include <hvlab/debug.h>
#include <hvlab/lib.h>
#include <arch/lifecycle_arch.h>
#include <arch/loader.h>
#include <arch/cpu.h>

_Static_assert(MAX_VCPUS <= 32, "lc.parked has one bit per vCPU");
_Static_assert(LC_STATE_PAUSED == HVLAB_PART_PAUSED && LC_STATE_DESTROYED == HVLAB_PART_DESTROYED,
	       "the query hypercall returns enum lc_state as guest_abi.h numbers it");

extern const struct device_type __devices_start[], __devices_end[];

static spinlock_t lifecycle_lock;

static u32 all_vcpus(const struct partition *p)
{
	return p->nvcpus >= 32 ? ~0u : (1u << p->nvcpus) - 1;
}

static void kick_all(struct partition *p)
{
	for (u32 i = 0; i < p->nvcpus; i++)
		vcpu_kick(&p->vcpu[i]);
}

/* Tell every device model the run is over (the UART prints a last unfinished line). */
static void devices_ended(struct partition *p)
{
	for (const struct device_type *d = __devices_start; d < __devices_end; d++)
		if (d->ended)
			d->ended(p);
}

/* ---- Step 2: parking, on the vCPU's own CPU ---- */

static void park(struct vcpu *v)
{
	struct partition *p = v->part;
	u32 bit = 1u << v->id;

	if (p->lc.parked & bit)
		return; /* only this CPU sets or clears this bit */
	arch_vcpu_park(v);
	spin_lock(&p->lock);
	p->lc.parked |= bit;
	spin_unlock(&p->lock);
}

/* ---- Step 3: the work itself, on whichever CPU completes ---- */

/* Soft reset (partition_reset()): the partition as partitions_create() left it. */
static void do_reset(struct partition *p)
{
	char err[128];

	if (partition_ended(p))
		return; /* it exited or failed meanwhile: that is final */
	/* 1. The old run's last words, then its timers: every device is attached anew below,
	 *    and each attach() re-initialises the timers it owns. */
	devices_ended(p);
	spin_lock(&p->timer_lock);
	p->timers = NULL;
	spin_unlock(&p->timer_lock);

	/* 2. Guest RAM back to zero, as frames_alloc() gave it. */
	memset(phys_to_virt(p->mem_hpa), 0, ALIGN_UP(p->mem_size, PAGE_SIZE));
	if (p->identity)
		memset(phys_to_virt(p->low_hpa), 0, IDENTITY_LOW_RAM);

	/* 3. vCPU 0 at the entry, the others waiting for a STARTUP IPI (SDM Vol. 3A §9.4). */
	for (u32 i = 0; i < p->nvcpus; i++) {
		struct vcpu *v = &p->vcpu[i];
		arch_vcpu_reset(v);
		v->halted_with_if = false;
		v->state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
	}

	/* 4. The image again, then every device with its power-on state. */
	p->counters.resets++;
	p->npio = p->nmmio = 0;
	int ok = partition_load_image(p, err, sizeof(err)) == 0 &&
		 partition_attach_devices(p, err, sizeof(err)) == 0;
	p->lc.paused = false;
	if (ok) {
		printk("hvlab: partition %s reset (%lu)\n", p->name, p->counters.resets);
		return;
	}
	p->lc.no_reset = true; /* so the fault below ends it rather than resetting it again */
	partition_fault(p, "reset failed: %s", err);
}

/* Give back everything of @p (partition_destroy()). */
static void do_destroy(struct partition *p)
{
	char err[160];

	if (!partition_ended(p)) {
		devices_ended(p);
		spin_lock(&p->lock);
		p->end_kind = END_DESTROYED;
		p->state = PART_ENDED; /* the scheduler skips it from now on */
		spin_unlock(&p->lock);
	}
	arch_partition_teardown(p);
	u64 frames = frames_free_owner(PFN_PARTITION, p->id); /* RAM (and identity low memory) */
	p->mem_hpa = p->low_hpa = 0;

	/* The resource database forgets it in one transaction (MECHANISMS.md §2). */
	resources_lock();
	resdb_tx_begin(&resdb);
	resdb_tx_release_all(&resdb, p->id);
	int released = resdb_tx_commit(&resdb, err, sizeof(err));
	resources_unlock();
	if (released < 0)
		printk("hvlab: partition %s: releasing its resources failed: %s\n", p->name, err);
	p->lc.destroyed = true;
	printk("hvlab: partition %s destroyed, %lu MiB freed\n", p->name, (frames << PAGE_SHIFT) >> 20);
}

/* Carry out @p's request if every vCPU is parked and no other CPU is already at it. */
static void try_complete(struct partition *p)
{
	u8 op = LC_NONE;

	spin_lock(&p->lock);
	if (p->lc.request != LC_NONE && !p->lc.completing && !p->lc.borrowed &&
	    (p->lc.parked & all_vcpus(p)) == all_vcpus(p)) {
		p->lc.completing = true;
		op = p->lc.request;
	}
	spin_unlock(&p->lock);
	if (op == LC_NONE)
		return;

	spin_lock(&lifecycle_lock);
	if (op == LC_PAUSE && !partition_ended(p)) {
		p->lc.paused = true;
		printk("hvlab: partition %s paused\n", p->name);
	} else if (op == LC_RESET) {
		do_reset(p);
	} else if (op == LC_DESTROY) {
		do_destroy(p);
	}
	spin_unlock(&lifecycle_lock);

	spin_lock(&p->lock);
	p->lc.request = LC_NONE;
	p->lc.completing = false;
	spin_unlock(&p->lock);
	kick_all(p); /* idle CPUs look again: run the vCPUs, or notice the partition is gone */
}

/* ---- Step 1: requests, from any CPU ---- */

static int request(struct partition *p, u8 op, const char **why)
{
	const char *problem = NULL;
	int err = LC_ERR_STATE;

	spin_lock(&p->lock);
	if (p->lc.destroyed)
		problem = "it has been destroyed";
	else if (p->lc.request != LC_NONE)
		problem = "another operation on it is in progress", err = LC_ERR_BUSY;
	else if (op != LC_DESTROY && partition_ended(p))
		problem = "it has ended; it can only be destroyed";
	else if (p->direct_irqs && !partition_ended(p))
		problem = "a partition with interception = off cannot be stopped while it runs";
	else if (op == LC_PAUSE && p->lc.paused)
		problem = "it is already paused";
	else
		p->lc.request = op;
	spin_unlock(&p->lock);
	if (why)
		*why = problem;
	if (problem)
		return err;
	kick_all(p);
	try_complete(p); /* every vCPU may be parked already: paused, or ended */
	return 0;
}

int partition_pause(struct partition *p, const char **why)
{
	return request(p, LC_PAUSE, why);
}

int partition_reset(struct partition *p, const char **why)
{
	return request(p, LC_RESET, why);
}

int partition_destroy(struct partition *p, const char **why)
{
	return request(p, LC_DESTROY, why);
}

int partition_resume(struct partition *p, const char **why)
{
	const char *problem = NULL;
	int err = LC_ERR_STATE;

	spin_lock(&p->lock);
	if (p->lc.destroyed || partition_ended(p))
		problem = "it has ended";
	else if (p->lc.request != LC_NONE)
		problem = "another operation on it is in progress", err = LC_ERR_BUSY;
	else if (!p->lc.paused)
		problem = "it is not paused";
	else
		p->lc.paused = false;
	spin_unlock(&p->lock);
	if (why)
		*why = problem;
	if (problem)
		return err;
	printk("hvlab: partition %s resumed\n", p->name);
	kick_all(p);
	return 0;
}

int partition_lifecycle_state(const struct partition *p)
{
	if (p->lc.destroyed)
		return LC_STATE_DESTROYED;
	if (p->lc.request != LC_NONE)
		return LC_STATE_CHANGING;
	if (partition_ended(p))
		return LC_STATE_ENDED;
	return p->lc.paused ? LC_STATE_PAUSED : LC_STATE_RUNNING;
}

/* ---- Hooks ---- */

bool lifecycle_reset_on_fault(struct partition *p, char *reason, size_t len)
{
	bool reset = false, absorbed = false;

	spin_lock(&p->lock);
	if (p->lc.no_reset || p->direct_irqs || p->cfg->on_fault != FAULT_RESET) {
		/* ends as configured (or after a failed reset) */
	} else if (p->lc.request == LC_RESET || p->lc.request == LC_DESTROY) {
		absorbed = true; /* it starts again, or goes away, anyway */
	} else if (p->lc.auto_resets >= LC_MAX_AUTO_RESETS) {
		size_t n = strlen(reason);
		snprintf(reason + n, len - n, " (not reset again after %u automatic resets)",
			 p->lc.auto_resets);
	} else {
		p->lc.request = LC_RESET; /* also replaces a pause on its way */
		p->lc.auto_resets++;
		reset = true;
	}
	spin_unlock(&p->lock);
	if (!reset)
		return absorbed;
	printk("hvlab: partition %s stopped: %s\n", p->name, reason);
	kick_all(p); /* the faulting vCPU itself stops when its exit handler returns */
	return true;
}

void lifecycle_borrow_done(struct partition *p)
{
	try_complete(p); /* a request that waited for the borrowed VMCS to come back */
}

bool lifecycle_vcpu_may_run(struct vcpu *v)
{
	struct partition *p = v->part;
	u32 bit = 1u << v->id;

	if (p->lc.request == LC_NONE && !p->lc.paused && !(p->lc.parked & bit))
		return true; /* the usual case, without a lock */
	if (p->lc.request != LC_NONE || p->lc.paused) {
		/* A debugger's single step runs this one vCPU of the paused partition, the
		 * others staying parked (src/debug/debug_core.c). */
		if (p->lc.request == LC_NONE && p->lc.paused && debug_vcpu_may_step(v)) {
			spin_lock(&p->lock);
			bool step = p->lc.request == LC_NONE && !(p->lc.borrowed & bit);
			if (step)
				p->lc.parked &= ~bit;
			spin_unlock(&p->lock);
			if (step)
				return true;
		}
		park(v);
		try_complete(p);
		/* If that completed it here, run on: a kick from this CPU to itself does nothing,
		 * and the CPU could otherwise go idle with nothing to wake it. */
		if (p->lc.request != LC_NONE || p->lc.paused || partition_ended(p))
			return false;
	}
	/* Resumed or reset: leave the parked set, unless a new request came meanwhile. */
	spin_lock(&p->lock);
	bool run = p->lc.request == LC_NONE && !p->lc.paused && !(p->lc.borrowed & bit);
	if (run)
		p->lc.parked &= ~bit;
	spin_unlock(&p->lock);
	return run;
}

void lifecycle_vcpu_ended(struct vcpu *v)
{
	park(v);
	if (v->part->lc.request != LC_NONE)
		try_complete(v->part);
}

void lifecycle_stamp_boot_info(struct partition *p)
{
	struct hvlab_boot_info *bi = guest_ram(p, HVLAB_BOOT_INFO, sizeof(*bi));

	if (bi && bi->magic == HVLAB_BOOT_MAGIC)
		bi->boot_count = (u32)p->counters.resets + 1;
}
