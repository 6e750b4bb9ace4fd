/**
 * @file vmexit.h
 * @brief VM exits: the reasons, the information an exit handler gets, and the handler table.
 *
 * Each handler lives with the mechanism it emulates and registers itself with
 * EXIT_HANDLER(); the dispatcher (src/arch/x86/vmx/exit.c) never learns their names.
 */
#ifndef ARCH_VMEXIT_H
#define ARCH_VMEXIT_H

#include <hvlab/types.h>
#include <arch/trap.h>

struct vcpu;

/* Basic exit reasons (SDM Vol. 3D Appendix C, Table C-1). */
enum exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0, EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2, EXIT_REASON_INIT = 3, EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTERRUPT_WINDOW = 7, EXIT_REASON_NMI_WINDOW = 8, EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10, EXIT_REASON_GETSEC = 11, EXIT_REASON_HLT = 12,
	EXIT_REASON_INVD = 13, EXIT_REASON_INVLPG = 14, EXIT_REASON_RDPMC = 15,
	EXIT_REASON_RDTSC = 16, EXIT_REASON_RSM = 17, EXIT_REASON_VMCALL = 18,
	EXIT_REASON_VMCLEAR = 19, EXIT_REASON_VMLAUNCH = 20, EXIT_REASON_VMPTRLD = 21,
	EXIT_REASON_VMPTRST = 22, EXIT_REASON_VMREAD = 23, EXIT_REASON_VMRESUME = 24,
	EXIT_REASON_VMWRITE = 25, EXIT_REASON_VMXOFF = 26, EXIT_REASON_VMXON = 27,
	EXIT_REASON_CR_ACCESS = 28, EXIT_REASON_DR_ACCESS = 29, EXIT_REASON_IO = 30,
	EXIT_REASON_RDMSR = 31, EXIT_REASON_WRMSR = 32, EXIT_REASON_INVALID_GUEST_STATE = 33,
	EXIT_REASON_MSR_LOADING = 34, EXIT_REASON_MWAIT = 36, EXIT_REASON_MTF = 37,
	EXIT_REASON_MONITOR = 39, EXIT_REASON_PAUSE = 40, EXIT_REASON_MACHINE_CHECK = 41,
	EXIT_REASON_TPR_BELOW_THRESHOLD = 43, EXIT_REASON_APIC_ACCESS = 44,
	EXIT_REASON_GDTR_IDTR = 46, EXIT_REASON_LDTR_TR = 47, EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49, EXIT_REASON_INVEPT = 50, EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPTION_TIMER = 52, EXIT_REASON_INVVPID = 53, EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55, EXIT_REASON_APIC_WRITE = 56, EXIT_REASON_RDRAND = 57,
	EXIT_REASON_INVPCID = 58, EXIT_REASON_VMFUNC = 59, EXIT_REASON_ENCLS = 60,
	EXIT_REASON_RDSEED = 61, EXIT_REASON_PML_FULL = 62, EXIT_REASON_XSAVES = 63,
	EXIT_REASON_XRSTORS = 64,
	EXIT_REASON_MAX = 80,
};

#define EXIT_REASON_ENTRY_FAILURE BIT(31) /**< set in the exit-reason field when VM entry failed */

/** What one VM exit says, read once from the VMCS for its handler. */
struct vmexit {
	u32 reason;        /**< basic exit reason (bits 15:0) */
	u32 raw_reason;    /**< the whole exit-reason field */
	u64 qualification; /**< exit qualification (SDM Vol. 3C §28.2.1) */
	u64 rip;           /**< guest RIP of the exiting instruction */
	u32 insn_len;      /**< its length, for exits caused by instructions */
};

/** What the dispatcher does after a handler. */
enum exit_action {
	EXIT_RESUME,   /**< enter the guest again */
	EXIT_STOP,     /**< the vCPU stops (its partition ended or paused) */
	EXIT_YIELD,    /**< back to the scheduler: the vCPU halted, or its time is up */
};

/** A handler for one exit reason. */
struct exit_handler {
	u32 reason;
	enum exit_action (*handle)(struct vcpu *v, struct vmexit *e);
};

/** Register @p fn as the handler for exit reason @p reason. */
#define EXIT_HANDLER(reason_, fn_)                                                              \
	static const struct exit_handler exit_handler_##reason_                                     \
		__attribute__((used, section(".table.exit_handlers"), aligned(8))) = { reason_, fn_ }

/**
 * Register @p fn for guest exceptions with vector @p vector that exit (exit reason 0,
 * with the vector's bit set in the exception bitmap, SDM Vol. 3C §25.6.3).
 */
#define EXCEPTION_HANDLER(vector_, fn_)                                                         \
	static const struct exit_handler exception_handler_##vector_                               \
		__attribute__((used, section(".table.exception_handlers"), aligned(8))) = { vector_, fn_ }

/** The name of basic exit reason @p reason ("EPT violation"), or "unknown". */
const char *exit_reason_name(u32 reason);

/** Move the guest past the instruction that exited. */
void vcpu_skip_instruction(struct vcpu *v, const struct vmexit *e);

/** Remember an event whose delivery this exit interrupted, to re-inject it (inject.c). */
void vmx_save_idt_vectoring(struct vcpu *v);

/** Inject what is pending for @p v, or ask for an interrupt window (inject.c). */
void vmx_inject_pending(struct vcpu *v);

/** Would a halted @p v wake now (interrupt it can take, NMI, INIT)? */
bool vcpu_has_wakeup(struct vcpu *v);

/** Inject hardware exception @p vector (with @p error_code if @p has_error) at the next entry. */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error_code);

struct shadow_guest_state;

/** True when @p v's partition runs on shadow page tables (exit_shadow.c). */
bool vcpu_shadow_paging(const struct vcpu *v);

/** The guest's own view of CR0, CR3, CR4, EFER and RFLAGS (what it wrote), for page walks. */
void vcpu_paging_state(struct vcpu *v, struct shadow_guest_state *gs);

/** The CR0 the CPU runs @p v with when the guest wants @p guest_cr0 (fixed bits, shadow paging). */
u64 vcpu_real_cr0(const struct vcpu *v, u64 guest_cr0);

/** The CR4 the CPU runs @p v with when the guest wants @p guest_cr4. */
u64 vcpu_real_cr4(const struct vcpu *v, u64 guest_cr4);

/**
 * Shadow paging: switch @p v to the shadow root for its current paging state (after a
 * CR3 load or a CR0/CR4/EFER change). Returns 0; -1 if the guest's instruction must take
 * #GP (PAE PDPTEs with reserved bits); -2 after ending the partition.
 */
int vcpu_shadow_reload(struct vcpu *v);

/**
 * A guest access to guest-physical @p gpa that is not RAM it may use that way: an
 * emulated device (MMIO, the instruction is emulated) or a stray access, reported with
 * @p via ("EPT violation", "shadow paging") and ending the partition (exit_ept.c).
 */
enum exit_action guest_memory_violation(struct vcpu *v, struct vmexit *e, u64 gpa, bool write, bool fetch,
					const char *via);

#endif
