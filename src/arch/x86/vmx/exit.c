/**
 * @file exit.c
 * @brief Running a vCPU for one turn, and the VM-exit dispatcher.
 *
 * Enter the guest; when it exits, read why (SDM Vol. 3C §28.2) and call the handler
 * registered for that reason in the exit-handler table. A reason with no handler is
 * reported with its number, name, qualification and guest RIP, and ends that guest only:
 * the hypervisor and every other partition go on. The turn ends when the vCPU halts, its
 * time slice or a timer deadline comes (VMX-preemption timer, §26.5.1), or its partition
 * ends; the scheduler (src/core/sched.c) then decides what runs next.
 */
#include <arch/vmx.h>
#include <arch/vmcs.h>
#include <arch/vmexit.h>
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/direct_irq.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <hvlab/vtimer.h>
#include <hvlab/selftest.h>
#include <hvlab/lifecycle.h>
#include <hvlab/debug.h>

extern const struct exit_handler __exit_handlers_start[], __exit_handlers_end[];
extern const struct exit_handler __exception_handlers_start[], __exception_handlers_end[];

/* Filled from the tables on first use: reason → handler, exception vector → handler. */
static enum exit_action (*handler_for[EXIT_REASON_MAX])(struct vcpu *, struct vmexit *);
static enum exit_action (*exception_handler_for[32])(struct vcpu *, struct vmexit *);
static bool handlers_ready;

static void build_handler_index(void)
{
	for (const struct exit_handler *h = __exit_handlers_start; h < __exit_handlers_end; h++)
		if (h->reason < EXIT_REASON_MAX)
			handler_for[h->reason] = h->handle;
	for (const struct exit_handler *h = __exception_handlers_start; h < __exception_handlers_end; h++)
		if (h->reason < 32)
			exception_handler_for[h->reason] = h->handle;
	if (selftest_requested("unhandled-cpuid")) /* to show report_unhandled() at work */
		handler_for[EXIT_REASON_CPUID] = NULL;
	handlers_ready = true;
}

void vcpu_skip_instruction(struct vcpu *v, const struct vmexit *e)
{
	vmwrite(GUEST_RIP, e->rip + e->insn_len);
	/* An instruction that completes ends any STI/MOV-SS blocking (SDM Vol. 3C §27.3.1.5). */
	u64 intr = vmread(GUEST_INTERRUPTIBILITY);
	if (intr & 3)
		vmwrite(GUEST_INTERRUPTIBILITY, intr & ~3ULL);
}

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error_code)
{
	u32 info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;

	if (has_error) {
		info |= INTR_INFO_DELIVER_CODE;
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmwrite(VM_ENTRY_INTR_INFO, info);
	v->arch.reinject_info = 0; /* the new exception replaces an interrupted delivery */
	v->part->counters.injections++;
}

/* A VM entry that failed, or an exit no handler claims: say everything, end this guest. */
static enum exit_action report_unhandled(struct vcpu *v, struct vmexit *e)
{
	partition_fault(v->part, "unhandled VM exit %u (%s%s), qualification 0x%lx, guest RIP 0x%lx",
			e->reason, e->raw_reason & EXIT_REASON_ENTRY_FAILURE ? "entry failure: " : "",
			exit_reason_name(e->reason), e->qualification, e->rip);
	return EXIT_STOP;
}

static enum exit_action dispatch(struct vcpu *v)
{
	struct vmexit e;

	e.raw_reason = (u32)vmread(VM_EXIT_REASON);
	e.reason = e.raw_reason & 0xffff;
	e.qualification = vmread(EXIT_QUALIFICATION);
	e.rip = vmread(GUEST_RIP);
	e.insn_len = (u32)vmread(VM_EXIT_INSTRUCTION_LEN);
	vmx_save_idt_vectoring(v);

	struct partition_counters *cnt = &v->part->counters;
	cnt->exits_total++;
	if (e.reason < EXIT_REASON_COUNT)
		cnt->exits[e.reason]++;

	if (e.raw_reason & EXIT_REASON_ENTRY_FAILURE || e.reason >= EXIT_REASON_MAX ||
	    !handler_for[e.reason])
		return report_unhandled(v, &e);
	return handler_for[e.reason](v, &e);
}

/* Load the guest's extended-state mask while it runs (XSETBV is not switched by VMX). */
static void switch_xcr0(u64 value)
{
	if (read_cr4() & CR4_OSXSAVE)
		xsetbv(0, value);
}

/* Pass-through MSRs that VMX does not load or save (vmcs_setup.c lets the guest use them
 * directly): swapped by hand when a CPU changes vCPU, so no guest sees another's. */
static const u32 switched_msrs[6] = {
	MSR_IA32_STAR, MSR_IA32_LSTAR, 0xc0000083 /* CSTAR */, MSR_IA32_FMASK,
	MSR_IA32_KERNEL_GS_BASE, MSR_IA32_TSC_AUX,
};

static void switch_msrs(struct vcpu *from, struct vcpu *to)
{
	static int has_rdtscp = -1; /* TSC_AUX exists only with RDTSCP: ask CPUID once */

	if (has_rdtscp < 0)
		has_rdtscp = (cpuid(0x80000001, 0).edx >> 27) & 1;

	for (size_t i = 0; i < ARRAY_SIZE(switched_msrs); i++) {
		if (switched_msrs[i] == MSR_IA32_TSC_AUX && !has_rdtscp)
			continue;
		if (from)
			from->arch.switched_msrs[i] = rdmsr(switched_msrs[i]);
		wrmsr(switched_msrs[i], to->arch.switched_msrs[i]);
	}
}

/* Make @v's VMCS current on this CPU, setting it up on the first run (a vCPU never moves
 * between CPUs, so its VMCS never needs a VMCLEAR to migrate, §25.11.1). */
static int load_vmcs(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (c->current != v)
		switch_msrs(c->current, v);
	if (!v->arch.vmcs_pa || v->arch.reinit) {
		v->arch.reinit = false; /* after a soft reset the same page is filled again */
		return vmx_vcpu_init(v);
	}
	if (c->current != v) {
		u8 ok;
		__asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(v->arch.vmcs_pa) : "cc", "memory");
		if (!ok)
			return -1;
		c->current = v;
	}
	return 0;
}

void vmx_vcpu_put(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (c->current == v) {
		switch_msrs(v, v); /* saves its values; loading them back changes nothing */
		c->current = NULL;
	}
	if (v->arch.vmcs_pa) {
		/* VMCLEAR writes the VMCS back and makes it inactive and "clear": the next
		 * VMPTRLD makes it current again, and entry needs VMLAUNCH (§25.11.3). */
		__asm__ volatile("vmclear %0" : : "m"(v->arch.vmcs_pa) : "cc", "memory");
		v->arch.launched = false;
	}
}

/* Arm the VMX-preemption timer for @deadline (TSC), or turn it off for 0 (§26.5.1). */
static void set_preemption_deadline(struct vcpu *v, u64 deadline)
{
	u32 pin = v->arch.pin_controls;

	if (deadline && vmx_caps.preemption_timer) {
		u64 now = rdtsc();
		u64 ticks = deadline > now ? (deadline - now) >> vmx_caps.preemption_timer_shift : 0;
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
		pin |= PIN_PREEMPTION_TIMER;
	}
	if (pin != v->arch.pin_written) {
		vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin);
		v->arch.pin_written = pin;
	}
}

/* The debugger's work before a VM entry (debug_vmx.c): one comparison for a vCPU no
 * debugger touches. False: do not enter, the vCPU's single step just ended. */
static inline bool debug_before_entry(struct vcpu *v)
{
	const struct debug_hot *h = &debug_hot[v->part->id];

	if (h->gen == v->arch.dbg.applied_gen && !v->arch.dbg.active && !(h->stepping & BIT(v->id)))
		return true;
	return vmx_debug_entry_slow(v);
}

/* Enter and exit the guest until the vCPU must give up its CPU: it halted, received an
 * INIT, its partition has a lifecycle request, or @deadline passed (RUN_YIELD); or its
 * partition ended (RUN_ENDED). */
static enum vcpu_run_result run_until_yield(struct vcpu *v, u64 deadline)
{
	struct partition *p = v->part;
	u32 cpu = this_cpu()->index;

	while (!partition_ended(p)) {
		if (vlapic_take_init(v) || p->lc.request != LC_NONE) /* lifecycle.c: pause, reset... */
			return RUN_YIELD;
		vtimers_run(p, cpu);
		vmx_inject_pending(v);
		u64 next = vtimers_next_deadline(p, cpu);
		set_preemption_deadline(v, !next || (deadline && deadline < next) ? deadline : next);

		if (!debug_before_entry(v))
			return RUN_YIELD; /* its single step is done (src/debug/debug_core.c) */
		if (v->arch.xcr0 != 1)
			switch_xcr0(v->arch.xcr0);
		write_cr2(v->arch.cr2); /* VMX leaves CR2 alone; other vCPUs run on this CPU too */
		int err = vmx_enter(&v->arch.regs, v->arch.launched);
		if (v->arch.dbg.drs_loaded)
			vmx_debug_exit_slow(v); /* the CPU's own DR0-DR3 back */
		v->arch.cr2 = read_cr2();
		if (v->arch.xcr0 != 1)
			switch_xcr0(1);
		if (err) {
			u64 insn_err = 0;
			vmread_safe(VM_INSTRUCTION_ERROR, &insn_err);
			partition_fault(p, "VM entry failed (%s, VM-instruction error %lu)",
					err == 1 ? "VMfailInvalid" : "VMfailValid", insn_err);
			return RUN_ENDED;
		}
		v->arch.launched = true;
		switch (dispatch(v)) {
		case EXIT_STOP:
			return RUN_ENDED;
		case EXIT_YIELD:
			return RUN_YIELD;
		case EXIT_RESUME:
			if (deadline && rdtsc() >= deadline)
				return RUN_YIELD;
			break;
		}
	}
	return RUN_ENDED;
}

enum vcpu_run_result vmx_run_vcpu(struct vcpu *v, u64 deadline)
{
	struct partition *p = v->part;
	struct cpu *c = this_cpu();

	if (!handlers_ready)
		build_handler_index();
	if (load_vmcs(v) < 0) {
		if (!partition_ended(p))
			partition_fault(p, "could not set up the VMCS of vCPU %u", v->id);
		return RUN_ENDED;
	}
	if (v->arch.start_sipi) {
		if (!(v->arch.proc2 & CPU2_UNRESTRICTED_GUEST)) {
			partition_fault(p, "vCPU %u cannot start: an application processor starts in real "
					"mode, which needs the VMX unrestricted-guest control (and that needs EPT)",
					v->id);
			return RUN_ENDED;
		}
		vmx_vcpu_enter_real_mode(v, v->arch.start_sipi & 0xff);
		v->arch.start_sipi = 0;
	}
	v->state = VCPU_RUNNING;
	c->kick_with_nmi = p->direct_irqs; /* its guest owns the CPU's interrupts (direct_irq.c) */
	enum vcpu_run_result result = run_until_yield(v, deadline);
	c->kick_with_nmi = false;

	if (result == RUN_ENDED) {
		v->state = VCPU_STOPPED;
		if (p->direct_irqs)
			direct_irq_partition_ended(p); /* on this CPU: its local APIC was the guest's */
	} else if (v->state == VCPU_RUNNING) {
		v->state = VCPU_RUNNABLE; /* not halted, not waiting for a SIPI: just out of turn */
	}
	return result;
}

/* VMX-preemption timer expired (exit reason 52): a timer is due or the slice is over. */
static enum exit_action handle_preemption_timer(struct vcpu *v, struct vmexit *e)
{
	vtimers_run(v->part, this_cpu()->index);
	return EXIT_RESUME; /* vmx_run_vcpu() checks the slice deadline */
}
EXIT_HANDLER(EXIT_REASON_PREEMPTION_TIMER, handle_preemption_timer);

/* A physical interrupt arrived while the guest ran (exit reason 1). With "acknowledge
 * interrupt on exit" the vector is in the exit information (SDM Vol. 3C §28.2.2); the
 * hypervisor's own handler runs (a kick, a timer wake-up). */
static enum exit_action handle_external_interrupt(struct vcpu *v, struct vmexit *e)
{
	u32 info = (u32)vmread(VM_EXIT_INTR_INFO);

	if (info & INTR_INFO_VALID)
		host_irq_handle(info & 0xff);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_EXTERNAL_INTERRUPT, handle_external_interrupt);

/* Exception or NMI (exit reason 0). NMIs are kicks of a CPU whose guest runs with
 * interception off (direct_irq.c): the run loop looks at the partition's state again.
 * Exceptions come only for vectors set in the exception bitmap, each with its handler in
 * the exception table (EXCEPTION_HANDLER: #PF for shadow paging, exit_shadow.c). */
static enum exit_action handle_exception_nmi(struct vcpu *v, struct vmexit *e)
{
	u32 info = (u32)vmread(VM_EXIT_INTR_INFO);

	if ((info & 0x7ff) == (INTR_TYPE_NMI | EXC_NMI))
		return EXIT_RESUME;
	/* Hardware exceptions, and INT3 (a software exception, type 6) and INT1 (type 5) for
	 * the debugger (SDM Vol. 3C §25.9.2, Table 25-19). */
	u32 type = info & 0x700;
	if ((type == INTR_TYPE_HW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION || type == (5 << 8)) &&
	    exception_handler_for[info & 0x1f])
		return exception_handler_for[info & 0x1f](v, e);
	partition_fault(v->part, "unexpected exception exit (interruption info 0x%x) at RIP 0x%lx", info, e->rip);
	return EXIT_STOP;
}
EXIT_HANDLER(EXIT_REASON_EXCEPTION_NMI, handle_exception_nmi);
