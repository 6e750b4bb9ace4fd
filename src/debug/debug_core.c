/**
 * @file debug_core.c
 * @brief The debug core: stop, step, continue, breakpoints and guest memory for
 * debuggers (the gdbstub, the monitor). The rules are in debug.h; the hardware side
 * (exits, MTF, debug registers) is src/arch/x86/vmx/debug_vmx.c.
 *
 * State per partition (struct debug_part, under its lock): whether a debugger is
 * attached, the recorded stop, the breakpoint table, and the current *step batch*: the
 * vCPUs running one instruction while the partition stays paused (debug_hot.stepping),
 * and what follows when the last of them is done: report the step, or (a step over a
 * breakpoint before continuing) resume the partition. The batch is finished on the CPU
 * of the vCPU that completes it, so no poller is needed.
 *
 * Lock order: a debug_part lock is never held while calling the lifecycle (which takes
 * p->lock), so the lifecycle may call in here (debug_vcpu_may_step()) freely.
 */
#include <hvlab/debug.h>
#include <hvlab/partition.h>
#include <hvlab/lifecycle.h>
#include <hvlab/spinlock.h>
#include <hvlab/irq.h>
#include <hvlab/lib.h>
#include <arch/debug_arch.h>
#include <arch/guest_mem.h>
#include <arch/vmexit.h>

#define INT3 0xcc

struct debug_part {
	spinlock_t lock;
	bool attached;
	struct debug_stop stop;    /**< reason NONE while it runs */
	bool then_continue;        /**< the step batch steps over breakpoints before continuing */
	struct debug_bptable bp;
};

struct debug_hot debug_hot[CONFIG_MAX_PARTITIONS];
static struct debug_part parts[CONFIG_MAX_PARTITIONS];

static struct debug_part *dp_of(const struct partition *p)
{
	return &parts[p->id];
}

static u32 all_vcpus(const struct partition *p)
{
	return p->nvcpus >= 32 ? ~0u : (1u << p->nvcpus) - 1;
}

static int fail(const char **why, const char *text, int err)
{
	if (why)
		*why = text;
	return err;
}

/* ---- Breakpoint bytes in guest memory ---- */

static void poke(struct partition *p, u64 gpa, u8 byte)
{
	guest_write_phys(p, gpa, &byte, 1);
}

/* Put the int3s back that a step batch lifted (under the lock). */
static void lower_lifted(struct partition *p, struct debug_part *d)
{
	for (size_t i = 0; i < DEBUG_SW_MAX; i++) {
		struct debug_swbp *bp = &d->bp.sw[i];
		if (bp->refs && bp->lifted) {
			poke(p, bp->gpa, INT3);
			bp->lifted = false;
		}
	}
}

/* @p v is about to step: if it stands on one of our int3s, put the original byte back
 * for this step (every other vCPU is parked, so none can miss the breakpoint). */
static void lift_at_pc(struct vcpu *v, struct debug_part *d)
{
	u64 linear, gpa;

	if (!arch_debug_pc(v, &linear, &gpa))
		return;
	spin_lock(&d->lock);
	for (size_t i = 0; i < DEBUG_SW_MAX; i++) {
		struct debug_swbp *bp = &d->bp.sw[i];
		if (bp->refs && bp->gpa == gpa && !bp->lifted) {
			poke(v->part, gpa, bp->orig);
			bp->lifted = true;
		}
	}
	spin_unlock(&d->lock);
}

/* ---- Attaching ---- */

int debug_attach(struct partition *p, const char **why)
{
	struct debug_part *d = dp_of(p);

	if (p->direct_irqs)
		return fail(why, "a partition with interception = off cannot be stopped", LC_ERR_STATE);
	spin_lock(&d->lock);
	if (!d->attached) {
		d->attached = true;
		debug_hot[p->id].gen++; /* its vCPUs turn on #BP/#DB exits at their next entry */
	}
	spin_unlock(&d->lock);
	return 0;
}

bool debug_attached(const struct partition *p)
{
	return dp_of(p)->attached;
}

void debug_detach(struct partition *p)
{
	struct debug_part *d = dp_of(p);
	bool resume;

	spin_lock(&d->lock);
	/* An ended partition's memory no longer matters (and a destroyed one's is gone). */
	for (size_t i = 0; i < DEBUG_SW_MAX && !partition_ended(p); i++)
		if (d->bp.sw[i].refs) /* aliases restore the same byte twice: harmless */
			poke(p, d->bp.sw[i].gpa, d->bp.sw[i].orig);
	bptable_init(&d->bp);
	d->attached = false;
	d->then_continue = false;
	debug_hot[p->id].gen++; /* its vCPUs drop their #BP/#DB exits and debug registers */
	resume = debug_stopped(p) && d->stop.reason != DEBUG_STOP_NONE; /* stopped by us */
	d->stop.reason = DEBUG_STOP_NONE;
	spin_unlock(&d->lock);
	if (resume)
		partition_resume(p, NULL);
}

/* ---- Stopping ---- */

int debug_request_stop(struct partition *p, const char **why)
{
	struct debug_part *d = dp_of(p);
	const char *problem = NULL;

	if (partition_ended(p))
		return fail(why, "it has ended", LC_ERR_STATE);
	if (!arch_debug_vcpu_started(&p->vcpu[0]))
		return 1; /* nothing to show yet: wait for its first instruction */
	spin_lock(&d->lock);
	if (d->stop.reason == DEBUG_STOP_NONE)
		d->stop = (struct debug_stop){ DEBUG_STOP_REQUESTED, 0, 0 };
	spin_unlock(&d->lock);
	if (partition_lifecycle_state(p) == LC_STATE_PAUSED)
		return 0;
	int err = partition_pause(p, &problem);
	if (err == LC_ERR_BUSY)
		return 0; /* a pause (a breakpoint's) is on its way already */
	return err ? fail(why, problem, err) : 0;
}

bool debug_stopped(const struct partition *p)
{
	return partition_lifecycle_state(p) == LC_STATE_PAUSED &&
	       (p->lc.parked & all_vcpus(p)) == all_vcpus(p) && debug_hot[p->id].stepping == 0;
}

struct debug_stop debug_last_stop(const struct partition *p)
{
	struct debug_stop s = dp_of(p)->stop;

	if (s.reason == DEBUG_STOP_NONE)
		s = (struct debug_stop){ DEBUG_STOP_REQUESTED, 0, 0 };
	return s;
}

void debug_vcpu_stopped(struct vcpu *v, u8 reason, u64 addr)
{
	struct partition *p = v->part;
	struct debug_part *d = dp_of(p);
	u32 bit = 1u << v->id;

	spin_lock(&d->lock);
	if (d->stop.reason == DEBUG_STOP_NONE)
		d->stop = (struct debug_stop){ reason, v->id, addr };
	if (debug_hot[p->id].stepping & bit) {
		/* It hit something during its step: the batch ends in this stop. */
		debug_hot[p->id].stepping &= ~bit;
		d->then_continue = false;
		if (!debug_hot[p->id].stepping)
			lower_lifted(p, d);
	}
	spin_unlock(&d->lock);
	if (partition_lifecycle_state(p) != LC_STATE_PAUSED)
		partition_pause(p, NULL); /* busy: someone's pause is on its way; fine */
}

/* ---- Running again ---- */

/* Start a step batch of the vCPUs in @p mask (all parked, stop cleared by the caller). */
static void start_batch(struct partition *p, struct debug_part *d, u32 mask, bool then_continue)
{
	for (u32 i = 0; i < p->nvcpus; i++)
		if (mask & (1u << i))
			lift_at_pc(&p->vcpu[i], d);
	spin_lock(&d->lock);
	d->then_continue = then_continue;
	debug_hot[p->id].stepping = mask;
	spin_unlock(&d->lock);
	for (u32 i = 0; i < p->nvcpus; i++)
		if (mask & (1u << i))
			vcpu_kick(&p->vcpu[i]);
}

int debug_continue(struct partition *p, const char **why)
{
	struct debug_part *d = dp_of(p);

	if (!debug_stopped(p))
		return fail(why, "it is not stopped", LC_ERR_STATE);
	spin_lock(&d->lock);
	struct debug_stop last = d->stop;
	d->stop.reason = DEBUG_STOP_NONE;
	spin_unlock(&d->lock);

	/* The vCPU that reported an int3 still stands on it: step it over first. */
	u64 linear, gpa;
	struct vcpu *v = &p->vcpu[last.vcpu % p->nvcpus];
	if (last.reason == DEBUG_STOP_SW_BREAK && arch_debug_pc(v, &linear, &gpa) &&
	    debug_sw_breakpoint_at(p, gpa)) {
		start_batch(p, d, 1u << v->id, true);
		return 0;
	}
	const char *problem = NULL;
	int err = partition_resume(p, &problem);
	return err ? fail(why, problem, err) : 0;
}

/* Can @p v execute an instruction now? Not when halted with nothing to wake it, or never
 * started: a step of it would wait forever. */
static bool can_move(struct vcpu *v)
{
	if (v->state == VCPU_HALTED)
		return vcpu_has_wakeup(v);
	return v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING;
}

int debug_step(struct partition *p, u32 vcpu, const char **why)
{
	struct debug_part *d = dp_of(p);

	if (vcpu >= p->nvcpus)
		return fail(why, "no such vCPU", DEBUG_ERR_FAULT);
	if (!debug_stopped(p))
		return fail(why, "it is not stopped", LC_ERR_STATE);
	struct vcpu *v = &p->vcpu[vcpu];
	spin_lock(&d->lock);
	d->stop.reason = DEBUG_STOP_NONE;
	if (!can_move(v))
		d->stop = (struct debug_stop){ DEBUG_STOP_STEP, vcpu, 0 }; /* done, without moving */
	spin_unlock(&d->lock);
	if (d->stop.reason == DEBUG_STOP_NONE)
		start_batch(p, d, 1u << vcpu, false);
	return 0;
}

void debug_step_done(struct vcpu *v)
{
	struct partition *p = v->part;
	struct debug_part *d = dp_of(p);
	bool resume = false;

	spin_lock(&d->lock);
	if (debug_hot[p->id].stepping & (1u << v->id)) {
		debug_hot[p->id].stepping &= ~(1u << v->id);
		if (!debug_hot[p->id].stepping) {
			lower_lifted(p, d);
			/* Continue as asked, or because the debugger detached while the step was on
			 * its way: nobody is left to resume the partition otherwise. */
			resume = (d->then_continue && d->stop.reason == DEBUG_STOP_NONE) || !d->attached;
			if (!d->then_continue && d->stop.reason == DEBUG_STOP_NONE)
				d->stop = (struct debug_stop){ DEBUG_STOP_STEP, v->id, 0 };
			d->then_continue = false;
		}
	}
	spin_unlock(&d->lock);
	if (resume)
		partition_resume(p, NULL);
}

bool debug_vcpu_may_step(struct vcpu *v)
{
	if (!(debug_hot[v->part->id].stepping & (1u << v->id)))
		return false;
	if (can_move(v))
		return true;
	debug_step_done(v); /* it halted (or was sent INIT) during its step: that was the step */
	return false;
}

/* ---- Breakpoints ---- */

bool debug_sw_breakpoint_at(struct partition *p, u64 gpa)
{
	struct debug_part *d = dp_of(p);

	spin_lock(&d->lock);
	struct debug_swbp *bp = bptable_sw_find_gpa(&d->bp, gpa);
	bool ours = bp && !bp->lifted;
	spin_unlock(&d->lock);
	return ours;
}

bool debug_hw_snapshot(struct partition *p, struct debug_hwbp *hw)
{
	struct debug_part *d = dp_of(p);

	spin_lock(&d->lock);
	memcpy(hw, d->bp.hw, sizeof(d->bp.hw));
	bool attached = d->attached;
	spin_unlock(&d->lock);
	return attached;
}

/* The debugger reaches the partition's RAM only: never a device page mapped through
 * (a host LAPIC under interception = off), nor the read-only resource page. */
static bool is_ram(const struct partition *p, u64 gpa)
{
	return gpa >= p->ram_base && gpa - p->ram_base < p->mem_size;
}

/* Guest-physical address of @p addr: itself in phys mode, else through vCPU @p vcpu. */
static bool to_gpa(struct partition *p, u32 vcpu, u64 addr, bool phys, u64 *gpa)
{
	if (phys)
		*gpa = addr;
	else if (vcpu >= p->nvcpus || !arch_debug_translate(&p->vcpu[vcpu], addr, gpa))
		return false;
	return is_ram(p, *gpa);
}

static int insert_sw(struct partition *p, struct debug_part *d, u64 addr, u64 gpa, const char **why)
{
	bool fresh;
	u8 orig;

	spin_lock(&d->lock);
	struct debug_swbp *bp = bptable_sw_add(&d->bp, addr, gpa, &fresh);
	if (bp && fresh) {
		if (guest_read_phys(p, gpa, &orig, 1) == 1) {
			bp->orig = orig;
			poke(p, gpa, INT3);
		} else {
			bptable_sw_put(&d->bp, bp);
			bp = NULL;
		}
	}
	spin_unlock(&d->lock);
	return bp ? 0 : fail(why, "no free software breakpoint", DEBUG_ERR_NOSPC);
}

static int insert_hw(struct partition *p, struct debug_part *d, u8 type, u64 addr, u64 len, const char **why)
{
	int err = 0;

	spin_lock(&d->lock);
	struct debug_hwbp *bp = bptable_hw_add(&d->bp, type, addr, len);
	if (!bp) {
		err = DEBUG_ERR_NOSPC;
	} else if (!arch_debug_hw_fits(d->bp.hw)) {
		bptable_hw_put(&d->bp, bp);
		err = type == DEBUG_WP_READ ? DEBUG_ERR_NOTSUP : DEBUG_ERR_NOSPC;
	} else {
		debug_hot[p->id].gen++; /* every vCPU loads the new debug registers */
	}
	spin_unlock(&d->lock);
	if (err)
		return fail(why, err == DEBUG_ERR_NOTSUP ? "this CPU cannot watch reads only"
							 : "not enough debug registers", err);
	return 0;
}

int debug_insert(struct partition *p, u32 vcpu, u8 type, u64 addr, u64 len, bool phys, const char **why)
{
	struct debug_part *d = dp_of(p);
	u64 gpa;

	if (!d->attached)
		return fail(why, "no debugger is attached", LC_ERR_STATE);
	if (type != DEBUG_BP_SW)
		return insert_hw(p, d, type, addr, len, why);
	if (!to_gpa(p, vcpu, addr, phys, &gpa))
		return fail(why, "the address is not mapped to RAM of the partition", DEBUG_ERR_FAULT);
	return insert_sw(p, d, addr, gpa, why);
}

int debug_remove(struct partition *p, u32 vcpu, u8 type, u64 addr, u64 len, bool phys, const char **why)
{
	struct debug_part *d = dp_of(p);
	int err = 0;

	spin_lock(&d->lock);
	if (type == DEBUG_BP_SW) {
		struct debug_swbp *bp = bptable_sw_find(&d->bp, addr);
		if (!bp)
			err = DEBUG_ERR_FAULT;
		else if (bptable_sw_put(&d->bp, bp) && !bp->lifted)
			poke(p, bp->gpa, bp->orig);
	} else {
		struct debug_hwbp *bp = bptable_hw_find(&d->bp, type, addr, len);
		if (bp) {
			bptable_hw_put(&d->bp, bp);
			debug_hot[p->id].gen++;
		} else {
			err = DEBUG_ERR_FAULT;
		}
	}
	spin_unlock(&d->lock);
	return err ? fail(why, "no such breakpoint", err) : 0;
}

/* ---- Memory ---- */

/* Copy one piece that lies within a page, in either direction, keeping breakpoints: a
 * read shows the original bytes, a write under an int3 changes what is restored. */
static size_t access_piece(struct partition *p, struct debug_part *d, u64 gpa, u8 *buf, size_t n, bool write)
{
	spin_lock(&d->lock);
	size_t done = write ? guest_write_phys(p, gpa, buf, n) : guest_read_phys(p, gpa, buf, n);
	for (size_t i = 0; i < DEBUG_SW_MAX; i++) {
		struct debug_swbp *bp = &d->bp.sw[i];
		if (!bp->refs || bp->gpa < gpa || bp->gpa >= gpa + done)
			continue;
		if (write) {
			bp->orig = buf[bp->gpa - gpa];
			if (!bp->lifted)
				poke(p, bp->gpa, INT3);
		} else {
			buf[bp->gpa - gpa] = bp->orig;
		}
	}
	spin_unlock(&d->lock);
	return done;
}

static size_t access(struct partition *p, u32 vcpu, u64 addr, u8 *buf, size_t len, bool phys, bool write)
{
	struct debug_part *d = dp_of(p);
	size_t done = 0;

	/* An ended or destroyed partition's memory may already be someone else's. A write
	 * while vCPUs run could race the shadow MMU, which only their own CPU may touch. */
	if (partition_ended(p) || p->lc.destroyed || (write && !debug_stopped(p)))
		return 0;

	while (done < len) {
		u64 gpa, at = addr + done;
		size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > len - done)
			chunk = len - done;
		if (!to_gpa(p, vcpu, at, phys, &gpa))
			break;
		size_t got = access_piece(p, d, gpa, buf + done, chunk, write);
		done += got;
		if (got < chunk)
			break;
	}
	return done;
}

size_t debug_read_mem(struct partition *p, u32 vcpu, u64 addr, void *buf, size_t len, bool phys)
{
	return access(p, vcpu, addr, buf, len, phys, false);
}

size_t debug_write_mem(struct partition *p, u32 vcpu, u64 addr, const void *buf, size_t len, bool phys)
{
	return access(p, vcpu, addr, (u8 *)buf, len, phys, true);
}
