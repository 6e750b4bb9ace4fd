/**
 * @file exit.c
 * @brief The vCPU run loop and the VM-exit dispatcher.
 *
 * Enter the guest; when it exits, read why (SDM Vol. 3C §28.2) and call the handler
 * registered for that reason in the exit-handler table. A reason with no handler is
 * reported with its number, name, qualification and guest RIP, and ends that guest only:
 * the hypervisor and every other partition go on.
 */
#include <arch/vmx.h>
#include <arch/vmcs.h>
#include <arch/vmexit.h>
#include <arch/cpu.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>

extern const struct exit_handler __exit_handlers_start[], __exit_handlers_end[];

/* Filled from the table on first use: reason → handler. */
static enum exit_action (*handler_for[EXIT_REASON_MAX])(struct vcpu *, struct vmexit *);
static bool handlers_ready;

static void build_handler_index(void)
{
	for (const struct exit_handler *h = __exit_handlers_start; h < __exit_handlers_end; h++)
		if (h->reason < EXIT_REASON_MAX)
			handler_for[h->reason] = h->handle;
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

void vmx_run_vcpu(struct vcpu *v)
{
	struct partition *p = v->part;

	if (!handlers_ready)
		build_handler_index();
	if (vmx_vcpu_init(v) < 0) {
		partition_fault(p, "could not set up the VMCS of vCPU %u", v->id);
		return;
	}
	v->state = VCPU_RUNNING;
	while (!partition_ended(p)) {
		if (v->arch.xcr0 != 1)
			switch_xcr0(v->arch.xcr0);
		int err = vmx_enter(&v->arch.regs, v->arch.launched);
		if (v->arch.xcr0 != 1)
			switch_xcr0(1);
		if (err) {
			u64 insn_err = 0;
			vmread_safe(VM_INSTRUCTION_ERROR, &insn_err);
			partition_fault(p, "VM entry failed (%s, VM-instruction error %lu)",
					err == 1 ? "VMfailInvalid" : "VMfailValid", insn_err);
			break;
		}
		v->arch.launched = true;
		if (dispatch(v) == EXIT_STOP)
			break;
	}
	v->state = VCPU_STOPPED;
}
