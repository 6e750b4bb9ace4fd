/**
 * @file debug_vmx.c
 * @brief The debugger on VMX: #BP and #DB exits, single steps with the monitor trap
 * flag (or RFLAGS.TF), and the guest's debug registers while a debugger uses them.
 *
 * What the hardware gives (docs/gdb.md, "How it works"):
 *  - **Exception bitmap** (SDM Vol. 3C §25.6.3): with bit 3 set an int3 in the guest
 *    exits instead of reaching the guest's IDT; with bit 1 set so does every #DB. The
 *    bits are set only while a debugger is attached (debug_attach()); otherwise the
 *    bitmap is what vmcs_setup.c made (#PF only, under shadow paging). An int3 that is
 *    not the debugger's goes on to the guest, injected as the software exception it was.
 *  - **Monitor trap flag** (SDM Vol. 3C §26.5.2): with this processor-based control set,
 *    VM entry is followed by an MTF exit after one guest instruction (or after the
 *    delivery of an injected event, at the first instruction of its handler). CPUs
 *    without it (Bochs' core2_penryn) step with **RFLAGS.TF** instead: a #DB trap after
 *    one instruction, caught by the #DB exit and never delivered, TF cleared again
 *    before the guest can read RFLAGS in its registers (PUSHF during the step would
 *    still see it: a known limit).
 *  - **Debug registers** (SDM Vol. 3B Chapter 19): DR7 is in the VMCS guest state
 *    (loaded and saved with the "debug controls" entry/exit controls, §25.8.1, §25.7.1);
 *    DR0-DR3 are not, so for a vCPU with hardware breakpoints they are loaded just before
 *    VM entry and the CPU's own put back right after the exit. A hit exits with #DB; the
 *    exit qualification holds DR6's B0-B3/BS bits (§28.2.1), DR6 itself is not written.
 *    An instruction breakpoint is a fault: the vCPU resumes with RFLAGS.RF set so it
 *    does not hit again at once (§19.3.1.1).
 *
 * Emulated instructions and steps: an instruction that exits (CPUID, I/O, MMIO...) is
 * done by its handler, and no MTF exit follows it. So while a vCPU steps, an entry
 * with a RIP that moved since the step began ends the step without entering.
 */
#include <arch/debug_vmx.h>
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/trap.h>
#include <arch/guest_mem.h>
#include <hvlab/partition.h>
#include <hvlab/debug.h>
#include <hvlab/console.h>

#define RFLAGS_RF BIT(16)
#define INT3 0xcc

/* ---- Debug registers of the CPU ---- */

static u64 read_dr(int n)
{
	u64 v = 0;

	switch (n) {
	case 0: __asm__ volatile("mov %%db0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%db1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%db2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%db3, %0" : "=r"(v)); break;
	}
	return v;
}

static void write_dr(int n, u64 v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%db0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%db1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%db2" : : "r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%db3" : : "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%db6" : : "r"(v)); break;
	}
}

/* ---- Applying the partition's debug configuration ---- */

/* Exception bitmap, DR7 and the DR0-DR3 values for what the debugger now wants. */
static void apply_config(struct vcpu *v, u32 gen)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;
	struct debug_hwbp hw[DEBUG_HW_MAX];
	bool attached = debug_hw_snapshot(v->part, hw);

	u64 bitmap = vmread(EXCEPTION_BITMAP) & ~(BIT(EXC_BP) | BIT(EXC_DB));
	if (attached || d->step == VMX_STEP_TF)
		bitmap |= BIT(EXC_BP) | BIT(EXC_DB);
	vmwrite(EXCEPTION_BITMAP, bitmap);

	if (dr_plan(hw, DEBUG_HW_MAX, &d->plan) < 0)
		dr_plan(hw, 0, &d->plan); /* cannot happen: inserts are checked (arch_debug_hw_fits) */
	d->has_drs = (d->plan.dr7 & 0xff) != 0;
	if (d->has_drs) {
		if (!d->dr7_owned)
			d->guest_dr7 = vmread(GUEST_DR7);
		d->dr7_owned = true;
		vmwrite(GUEST_DR7, d->plan.dr7);
	} else if (d->dr7_owned) {
		vmwrite(GUEST_DR7, d->guest_dr7);
		d->dr7_owned = false;
	}
	d->applied_gen = gen;
}

/* ---- Single steps ---- */

/*
 * Bochs 2.7 offers the monitor-trap-flag control but never makes the MTF exit (its MTF
 * was completed in later versions), so MTF is trusted only once one MTF exit has been
 * seen. Until then a step arms MTF and RFLAGS.TF together: whichever exit comes first
 * ends it after one instruction, and the other is taken away again.
 */
static bool mtf_seen;

static void set_proc_control(u32 bit, bool on)
{
	u64 ctl = vmread(CPU_BASED_VM_EXEC_CONTROL);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, on ? ctl | bit : ctl & ~(u64)bit);
}

/* Arm the step at the first entry of it: MTF, TF with #DB exits, or both. */
static void step_begin(struct vcpu *v)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;

	d->step_rip = vmread(GUEST_RIP);
	d->step = (vmx_caps.mtf ? VMX_STEP_MTF : 0) | (!vmx_caps.mtf || !mtf_seen ? VMX_STEP_TF : 0);
	if (d->step & VMX_STEP_MTF)
		set_proc_control(CPU_MONITOR_TRAP_FLAG, true);
	if (!(d->step & VMX_STEP_TF))
		return;
	u64 rflags = vmread(GUEST_RFLAGS);
	d->guest_tf = rflags & RFLAGS_TF;
	vmwrite(GUEST_RFLAGS, rflags | RFLAGS_TF);
	vmwrite(EXCEPTION_BITMAP, vmread(EXCEPTION_BITMAP) | BIT(EXC_DB));
	/* In an STI or MOV-SS shadow, VM entry with TF set insists on a pending single-step
	 * trap (SDM Vol. 3C §27.3.1.5): say it is pending, the #DB comes right after. */
	if (vmread(GUEST_INTERRUPTIBILITY) & 3)
		vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, vmread(GUEST_PENDING_DBG_EXCEPTIONS) | DR6_BS);
}

/* The step is over: take MTF and our TF away again, with a single-step trap TF may have
 * left pending (an MTF exit comes first), so the guest never sees either. */
static void step_end(struct vcpu *v)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;

	if (d->step & VMX_STEP_MTF)
		set_proc_control(CPU_MONITOR_TRAP_FLAG, false);
	if (d->step & VMX_STEP_TF) {
		u64 rflags = vmread(GUEST_RFLAGS) & ~(u64)RFLAGS_TF;
		vmwrite(GUEST_RFLAGS, rflags | (d->guest_tf ? RFLAGS_TF : 0));
		vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, vmread(GUEST_PENDING_DBG_EXCEPTIONS) & ~(u64)DR6_BS);
		if (!debug_attached(v->part)) /* #DB exits were for this step only */
			vmwrite(EXCEPTION_BITMAP, vmread(EXCEPTION_BITMAP) & ~(BIT(EXC_BP) | BIT(EXC_DB)));
	}
	d->step = VMX_STEP_NONE;
}

/* ---- Around VM entry ---- */

bool vmx_debug_entry_slow(struct vcpu *v)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;
	struct debug_hot *h = &debug_hot[v->part->id];

	if (d->applied_gen != h->gen)
		apply_config(v, h->gen);
	if (h->stepping & (1u << v->id)) {
		if (d->step == VMX_STEP_NONE) {
			step_begin(v);
		} else if (vmread(GUEST_RIP) != d->step_rip) {
			/* Its instruction exited and was emulated: that was the step. */
			step_end(v);
			debug_step_done(v);
			return false;
		}
	} else if (d->step != VMX_STEP_NONE) {
		step_end(v); /* a step that ended without its exit (the vCPU halted meanwhile) */
	}
	if (d->set_rf) {
		vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) | RFLAGS_RF);
		d->set_rf = false;
	}
	if (d->has_drs) {
		for (int i = 0; i < DR_COUNT; i++) {
			d->host_dr[i] = read_dr(i);
			write_dr(i, d->plan.dr[i]);
		}
		d->drs_loaded = true;
	}
	d->active = d->has_drs || d->step != VMX_STEP_NONE || d->applied_gen != h->gen;
	return true;
}

void vmx_debug_exit_slow(struct vcpu *v)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;

	for (int i = 0; i < DR_COUNT; i++)
		write_dr(i, d->host_dr[i]);
	d->drs_loaded = false;
}

/* ---- Exit handlers ---- */

/* Guest-linear address of RIP: in 64-bit code CS.base counts as 0 (SDM Vol. 3A §3.4.4). */
static u64 linear_rip(u64 rip)
{
	return vmread(GUEST_CS_AR) & BIT(13) ? rip : vmread(GUEST_CS_BASE) + rip;
}

/* #BP exit (exception bitmap bit 3). For INT3 the saved RIP is that of the INT3 itself
 * and the exit gives its length (SDM Vol. 3C §28.2.4, software exceptions). */
static enum exit_action handle_breakpoint(struct vcpu *v, struct vmexit *e)
{
	u64 la = linear_rip(e->rip), gpa;
	u8 byte;

	if (gva_to_gpa(v, la, &gpa)) {
		if (debug_sw_breakpoint_at(v->part, gpa)) {
			debug_vcpu_stopped(v, DEBUG_STOP_SW_BREAK, la); /* RIP stays on the int3 */
			return EXIT_YIELD;
		}
		if (guest_read_phys(v->part, gpa, &byte, 1) == 1 && byte != INT3)
			return EXIT_RESUME; /* the debugger removed it meanwhile: run what is there now */
	}
	/* The guest's own int3: it goes to the guest, as if nothing had exited. */
	vmwrite(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_SW_EXCEPTION | EXC_BP);
	vmwrite(VM_ENTRY_INSTRUCTION_LEN, e->insn_len ? e->insn_len : 1);
	return EXIT_RESUME;
}
EXCEPTION_HANDLER(EXC_BP, handle_breakpoint);

/* What a debug-register hit of request type @p type is, as a stop reason. */
static u8 hit_reason(u8 type)
{
	return type == DEBUG_BP_HW ? DEBUG_STOP_HW_BREAK
	     : type == DEBUG_WP_WRITE ? DEBUG_STOP_WATCH_WRITE : DEBUG_STOP_WATCH_ACCESS;
}

/* #DB exit (exception bitmap bit 1): a debug register of ours, our TF step, or the
 * guest's own #DB (its own TF or debug registers), which is delivered to it. */
static enum exit_action handle_debug(struct vcpu *v, struct vmexit *e)
{
	struct vmx_debug_vcpu *d = &v->arch.dbg;
	u64 q = e->qualification;
	struct debug_hwbp hw[DEBUG_HW_MAX];

	debug_hw_snapshot(v->part, hw);
	for (int i = 0; i < DR_COUNT; i++) {
		s8 r = d->plan.owner[i];
		if (!(q & BIT(i)) || r < 0 || !hw[r].refs)
			continue; /* B0-B3 may be set for registers that are not enabled (§19.2.3) */
		if (d->step != VMX_STEP_NONE)
			step_end(v);
		d->set_rf = hw[r].type == DEBUG_BP_HW; /* a fault: RIP is at the instruction */
		debug_vcpu_stopped(v, hit_reason(hw[r].type), hw[r].addr);
		return EXIT_YIELD;
	}
	if ((q & DR6_BS) && (d->step & VMX_STEP_TF)) {
		step_end(v);
		debug_step_done(v);
		return EXIT_YIELD;
	}
	write_dr(6, DR6_RESERVED1 | (q & (DR6_HITS | DR6_BD | DR6_BS)));
	vcpu_inject_exception(v, EXC_DB, false, 0);
	return EXIT_RESUME;
}
EXCEPTION_HANDLER(EXC_DB, handle_debug);

/* Monitor-trap-flag exit (reason 37, SDM Vol. 3C §26.5.2): one instruction has run. */
static enum exit_action handle_mtf(struct vcpu *v, struct vmexit *e)
{
	if (!mtf_seen) {
		mtf_seen = true;
		printk("hvlab: gdb: the monitor trap flag works here: single steps use it alone\n");
	}
	step_end(v);
	if (!(debug_hot[v->part->id].stepping & (1u << v->id)))
		return EXIT_RESUME; /* a stale one: the step had ended otherwise */
	debug_step_done(v);
	return EXIT_YIELD;
}
EXIT_HANDLER(EXIT_REASON_MTF, handle_mtf);
