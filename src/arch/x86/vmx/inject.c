/**
 * @file inject.c
 * @brief Giving the guest its interrupts: event injection before each VM entry.
 *
 * Order of business before an entry (SDM Vol. 3C §27.6 "Event injection"):
 *  1. an event whose delivery a VM exit interrupted (IDT-vectoring information,
 *     §28.2.4) is re-injected first, exactly as it was;
 *  2. otherwise an event a handler already queued (an exception) goes in alone;
 *  3. otherwise a pending NMI, then the highest-priority interrupt of the virtual local
 *     APIC (or the 8259's, through LINT0), if the guest can take one now: RFLAGS.IF set
 *     and no STI/MOV-SS blocking (§26.3.1.2). If it cannot, interrupt-window exiting
 *     (§26.2) brings the vCPU back the moment it can.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <hvlab/partition.h>
#include <hvlab/irq.h>

#define INTERRUPTIBILITY_STI BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_NMI BIT(3)

void vmx_save_idt_vectoring(struct vcpu *v)
{
	u32 info = (u32)vmread(IDT_VECTORING_INFO);

	v->arch.reinject_info = 0;
	if (!(info & INTR_INFO_VALID))
		return;
	v->arch.reinject_info = info & ~BIT(12); /* bit 12 is reserved in the entry field */
	if (info & INTR_INFO_DELIVER_CODE)
		v->arch.reinject_error = (u32)vmread(IDT_VECTORING_ERROR_CODE);
	v->arch.reinject_len = (u32)vmread(VM_EXIT_INSTRUCTION_LEN);
}

static void set_interrupt_window(struct vcpu *v, bool on)
{
	if (v->arch.intr_window == on)
		return; /* remembered, to spare a VMREAD and VMWRITE on every entry */
	u64 ctl = vmread(CPU_BASED_VM_EXEC_CONTROL);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, on ? ctl | CPU_INTR_WINDOW_EXITING : ctl & ~(u64)CPU_INTR_WINDOW_EXITING);
	v->arch.intr_window = on;
}

/* The vector the guest should take next: the local APIC's, else the 8259's via LINT0. */
static int next_interrupt(struct vcpu *v, bool *from_pic)
{
	int vec = vlapic_pending_vector(v);

	*from_pic = false;
	if (vec < 0 && vlapic_accepts_pic(v) && vpic_pending_vector(v->part) >= 0) {
		*from_pic = true;
		vec = 0;
	}
	return vec;
}

void vmx_inject_pending(struct vcpu *v)
{
	struct vlapic *l = &v->arch.lapic;

	if (v->arch.reinject_info) {
		vmwrite(VM_ENTRY_INTR_INFO, v->arch.reinject_info);
		if (v->arch.reinject_info & INTR_INFO_DELIVER_CODE)
			vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, v->arch.reinject_error);
		vmwrite(VM_ENTRY_INSTRUCTION_LEN, v->arch.reinject_len);
		v->arch.reinject_info = 0;
		return;
	}
	bool from_pic;
	int vec = next_interrupt(v, &from_pic);
	bool nmi = l->nmi_pending;

	if (vec < 0 && !nmi) { /* the common case: nothing to give, nothing to wait for */
		set_interrupt_window(v, false);
		return;
	}
	if (vmread(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		set_interrupt_window(v, vec >= 0 || nmi); /* come back for them after this event */
		return;
	}
	u64 blocking = vmread(GUEST_INTERRUPTIBILITY);
	if (nmi && !(blocking & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS))) {
		__atomic_store_n(&l->nmi_pending, 0, __ATOMIC_SEQ_CST);
		vmwrite(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | EXC_NMI);
		v->part->counters.injections++;
		set_interrupt_window(v, vec >= 0);
		return;
	}
	if (vec < 0) {
		set_interrupt_window(v, false);
		return;
	}
	if (!(vmread(GUEST_RFLAGS) & RFLAGS_IF) || (blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))) {
		set_interrupt_window(v, true);
		return;
	}
	if (from_pic) {
		vec = vpic_acknowledge(v->part);
		if (vec < 0) { /* the request went away (spurious): nothing to deliver */
			set_interrupt_window(v, false);
			return;
		}
	} else {
		vlapic_accept(v, vec);
	}
	vmwrite(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (u32)vec);
	v->part->counters.injections++;
	set_interrupt_window(v, next_interrupt(v, &from_pic) >= 0);
}

bool vcpu_has_wakeup(struct vcpu *v)
{
	struct vlapic *l = &v->arch.lapic;
	bool from_pic;

	if (l->nmi_pending || l->init_pending)
		return true;
	return v->halted_with_if && next_interrupt(v, &from_pic) >= 0;
}

/* Interrupt window open (exit reason 7): the guest can take an interrupt now. */
static enum exit_action handle_interrupt_window(struct vcpu *v, struct vmexit *e)
{
	set_interrupt_window(v, false); /* vmx_inject_pending() decides again before the entry */
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_INTERRUPT_WINDOW, handle_interrupt_window);
