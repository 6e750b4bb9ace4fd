/**
 * @file vmcs_describe.c
 * @brief Monitor commands `info vcpu P.V` and `info vmcs P.V`: a vCPU's registers, and
 * its VMCS decoded in words.
 *
 * The VMCS (SDM Vol. 3C Chapter 25, field encodings in Vol. 3D Appendix B) has six
 * parts; `info vmcs` shows three of them, each field named as the SDM names it:
 *   - VM-execution, VM-exit and VM-entry controls (§25.6, §25.7, §25.8): which guest
 *     actions exit and how entries and exits load state, one word per bit set, from the
 *     same name tables the capability checks use (vmx_ctl_bit_name(), vmx_caps.c);
 *   - VM-exit information (§25.9): why the vCPU last left the guest, with the exit
 *     qualification decoded for the exits that happen most (§28.2.1);
 *   - guest-state area (§25.4): what the CPU loads at the next VM entry.
 * The host-state area is the hypervisor's own and the same in every VMCS: left out.
 *
 * Both commands need the vCPU parked (monitor_with_vmcs(): its partition paused or
 * ended); they run with its VMCS current on CPU 0 and read it with VMREAD. A field this
 * CPU does not have reads as 0 rather than stopping the hypervisor (vmread_safe()).
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/lib.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/vmx_caps.h>
#include <arch/vmexit.h>
#include <arch/shadow_mmu.h>
#include <arch/cpu.h>

#define WRAP 74 /* columns: hvmon's panes are about 75 wide */

/* VMREAD, 0 for a field this CPU does not implement. */
static u64 rd(enum vmcs_field field)
{
	u64 value;

	return vmread_safe(field, &value) ? value : 0;
}

/* ---- A line of words that wraps under its label ---- */

/* "label: word, word," then "       word, word": a list of words as one or more lines,
 * never wider than WRAP, continuation lines indented under the first word. */
struct wrapped {
	struct monitor_call *call;
	char line[WRAP + 2];
	size_t len, indent;
	int words;
};

/* Start a list headed "@p label: ". */
static void wrap_start(struct wrapped *w, struct monitor_call *call, const char *label)
{
	w->call = call;
	w->len = w->indent = (size_t)snprintf(w->line, sizeof(w->line), "%s: ", label);
	w->words = 0;
}

/* Add @p word, printing the line first if it would not fit any more. */
static void wrap_add(struct wrapped *w, const char *word)
{
	if (w->words && w->len + 2 + strlen(word) > WRAP) {
		monitor_printf(w->call, "%s,\n", w->line);
		w->len = (size_t)snprintf(w->line, sizeof(w->line), "%*s", (int)w->indent, "");
	} else if (w->words) {
		w->len += (size_t)snprintf(w->line + w->len, sizeof(w->line) - w->len, ", ");
	}
	w->len += (size_t)snprintf(w->line + w->len, sizeof(w->line) - w->len, "%s", word);
	if (w->len >= sizeof(w->line))
		w->len = sizeof(w->line) - 1; /* a word longer than a line was cut */
	w->words++;
}

/* Print the last line; an empty list says @p if_empty. */
static void wrap_end(struct wrapped *w, const char *if_empty)
{
	if (!w->words)
		wrap_add(w, if_empty);
	monitor_printf(w->call, "%s\n", w->line);
}

/* ---- Controls (§25.6-§25.8) ---- */

/* The control fields, in the order the SDM describes them. */
static const struct {
	enum vmcs_field field;
	enum vmx_ctl_field ctl;
	const char *label;
} control_fields[] = {
	{ PIN_BASED_VM_EXEC_CONTROL, VMX_CTL_PIN, "pin-based controls" },       /* §25.6.1 */
	{ CPU_BASED_VM_EXEC_CONTROL, VMX_CTL_PROC, "processor controls" },      /* §25.6.2 */
	{ SECONDARY_VM_EXEC_CONTROL, VMX_CTL_PROC2, "secondary controls" },     /* §25.6.2 */
	{ VM_EXIT_CONTROLS, VMX_CTL_EXIT, "VM-exit controls" },                 /* §25.7.1 */
	{ VM_ENTRY_CONTROLS, VMX_CTL_ENTRY, "VM-entry controls" },              /* §25.8.1 */
};

/* "#PF" for vector 14: the first word of exception_name() (SDM Vol. 3A §7.3, Table 7-1),
 * or "vector N" for the ones without a mnemonic. */
static const char *short_exception(u32 vector, char *buf, size_t len)
{
	const char *name = exception_name(vector);
	size_t n = 0;

	if (vector == 2)
		return "NMI";
	if (name[0] != '#') {
		snprintf(buf, len, "vector %u", vector);
		return buf;
	}
	while (name[n] && name[n] != ' ' && n + 1 < len) {
		buf[n] = name[n];
		n++;
	}
	buf[n] = '\0';
	return buf;
}

static void show_controls(struct monitor_call *call)
{
	struct wrapped w;
	char unnamed[16], reserved[32];

	for (size_t i = 0; i < ARRAY_SIZE(control_fields); i++) {
		u64 value = rd(control_fields[i].field);
		if (control_fields[i].ctl == VMX_CTL_PROC2 && !(rd(CPU_BASED_VM_EXEC_CONTROL) & CPU_SECONDARY_CONTROLS))
			value = 0; /* not in use: its contents do not count (§25.6.2) */
		wrap_start(&w, call, control_fields[i].label);
		int reserved_set = 0;
		for (int bit = 0; bit < 32; bit++) {
			const char *name = vmx_ctl_bit_name(control_fields[i].ctl, bit);
			if (!(value & BIT(bit)))
				continue;
			if (name)
				wrap_add(&w, name);
			else
				reserved_set++; /* "default1" reserved bits the CPU wants set (SDM Vol. 3D §A.2) */
		}
		if (reserved_set) {
			snprintf(reserved, sizeof(reserved), "(and %d reserved bits)", reserved_set);
			wrap_add(&w, reserved);
		}
		wrap_end(&w, "none");
	}
	/* Exception bitmap (§25.6.3): a 1 in bit n makes exception n exit. */
	u64 bitmap = rd(EXCEPTION_BITMAP);
	wrap_start(&w, call, "exceptions that exit");
	for (u32 v = 0; v < 32; v++)
		if (bitmap & BIT(v))
			wrap_add(&w, short_exception(v, unnamed, sizeof(unnamed)));
	wrap_end(&w, "none");
	/* Guest/host masks (§25.6.6): bits the guest reads from the read shadow, and whose
	 * writes exit. */
	monitor_printf(call, "CR0 bits the hypervisor owns 0x%lx, CR4 bits 0x%lx\n", rd(CR0_GUEST_HOST_MASK),
		       rd(CR4_GUEST_HOST_MASK));
	if (rd(SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT)
		monitor_printf(call, "EPT pointer 0x%lx (SDM Vol. 3C §25.6.11)\n", rd(EPT_POINTER));
}

/* ---- Exit information (§25.9) and qualifications (§28.2.1) ---- */

/* Exception or NMI (reason 0): the VM-exit interruption information (§25.9.2). */
static void say_exception(struct monitor_call *call, u64 q)
{
	static const char *const types[8] = { "external interrupt", "?", "NMI", "hardware exception",
					      "software interrupt", "privileged software exception",
					      "software exception", "other event" };
	u64 info = rd(VM_EXIT_INTR_INFO), vector = info & 0xff;

	monitor_printf(call, "  %s, %s", types[(info >> 8) & 7], exception_name(vector));
	if (info & BIT(11))
		monitor_printf(call, ", error code 0x%lx", rd(VM_EXIT_INTR_ERROR_CODE));
	if (vector == 14)
		monitor_printf(call, ", linear address 0x%lx", q); /* #PF: the qualification is CR2 */
	monitor_printf(call, "\n");
}

/* Control-register access (reason 28): Table 28-3. */
static void say_cr(struct monitor_call *call, u64 q)
{
	static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
						   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	u32 cr = q & 0xf, type = (q >> 4) & 3;
	const char *gpr = gpr_names[(q >> 8) & 0xf];

	if (type == 0)
		monitor_printf(call, "  mov %s, cr%u\n", gpr, cr);
	else if (type == 1)
		monitor_printf(call, "  mov cr%u, %s\n", cr, gpr);
	else if (type == 2)
		monitor_printf(call, "  clts\n");
	else
		monitor_printf(call, "  lmsw 0x%lx\n", (q >> 16) & 0xffff);
}

/* I/O instruction (reason 30): Table 28-5. */
static void say_io(struct monitor_call *call, u64 q)
{
	monitor_printf(call, "  %s%s%s of %u byte%s at port 0x%lx\n", (q & BIT(5)) ? "rep " : "",
		       (q & BIT(3)) ? "in" : "out", (q & BIT(4)) ? "s" : "", (u32)(q & 7) + 1,
		       (q & 7) ? "s" : "", (q >> 16) & 0xffff);
}

/* EPT violation (reason 48): Table 28-7, and the guest-physical address (§25.9.4). */
static void say_ept(struct monitor_call *call, u64 q)
{
	monitor_printf(call, "  %s at guest-physical 0x%lx; the EPT entry allowed %s%s%s%s\n",
		       (q & BIT(1)) ? "write" : (q & BIT(2)) ? "instruction fetch" : "read",
		       rd(GUEST_PHYSICAL_ADDRESS), (q & BIT(3)) ? "R" : "", (q & BIT(4)) ? "W" : "",
		       (q & BIT(5)) ? "X" : "", (q & 0x38) ? "" : "nothing (not mapped)");
	if (q & BIT(7))
		monitor_printf(call, "  guest-linear address 0x%lx\n", rd(GUEST_LINEAR_ADDRESS));
}

/* The exits whose qualification (or other exit information) is decoded here. */
static const struct {
	u32 reason;
	void (*say)(struct monitor_call *call, u64 qualification);
} decoders[] = {
	{ EXIT_REASON_EXCEPTION_NMI, say_exception },
	{ EXIT_REASON_CR_ACCESS, say_cr },
	{ EXIT_REASON_IO, say_io },
	{ EXIT_REASON_EPT_VIOLATION, say_ept },
};

static void show_last_exit(struct monitor_call *call)
{
	u64 raw = rd(VM_EXIT_REASON), q = rd(EXIT_QUALIFICATION);
	u32 reason = raw & 0xffff; /* basic exit reason, §25.9.1 */

	monitor_printf(call, "last exit: %u %s%s, qualification 0x%lx\n", reason, exit_reason_name(reason),
		       (raw & EXIT_REASON_ENTRY_FAILURE) ? " (VM entry failed)" : "", q);
	for (size_t i = 0; i < ARRAY_SIZE(decoders); i++)
		if (decoders[i].reason == reason)
			decoders[i].say(call, q);
	u64 vectoring = rd(IDT_VECTORING_INFO); /* §25.9.3: an event the exit interrupted */
	if (vectoring & INTR_INFO_VALID)
		monitor_printf(call, "  it interrupted the delivery of vector 0x%lx\n", vectoring & 0xff);
	if (rd(VM_INSTRUCTION_ERROR))
		monitor_printf(call, "VM-instruction error %lu (SDM Vol. 3C §31.4)\n", rd(VM_INSTRUCTION_ERROR));
}

/* ---- Guest state (§25.4) ---- */

/* The segment registers of the guest-state area (§25.4.1), each a group of four fields. */
static const struct {
	const char *name;
	enum vmcs_field selector, base, limit, ar;
} segments[] = {
	{ "cs", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR },
	{ "ss", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR },
	{ "ds", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR },
	{ "es", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR },
	{ "fs", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR },
	{ "gs", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR },
	{ "tr", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR },
	{ "ldtr", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR },
};

/* Activity states (§25.4.2, Table 25-3). */
static const char *const activity_names[4] = { "active", "HLT", "shutdown", "wait-for-SIPI" };

static void show_guest_state(struct monitor_call *call, struct vcpu *v)
{
	u64 activity = rd(GUEST_ACTIVITY_STATE), intr = rd(GUEST_INTERRUPTIBILITY);

	monitor_printf(call, "guest state (what the CPU loads at the next entry):\n");
	monitor_printf(call, "rip %016lx  rsp %016lx  rflags %08lx\n", rd(GUEST_RIP), rd(GUEST_RSP),
		       rd(GUEST_RFLAGS));
	monitor_printf(call, "cr0 %016lx  cr3 %016lx  cr4 %08lx\n", rd(GUEST_CR0), rd(GUEST_CR3), rd(GUEST_CR4));
	monitor_printf(call, "efer 0x%lx  dr7 0x%lx  pat 0x%lx\n", vmx_guest_efer(v), rd(GUEST_DR7),
		       rd(GUEST_IA32_PAT));
	for (size_t i = 0; i < ARRAY_SIZE(segments); i++)
		monitor_printf(call, "%-4s %04lx base %016lx limit %08lx access %05lx\n", segments[i].name,
			       rd(segments[i].selector), rd(segments[i].base), rd(segments[i].limit),
			       rd(segments[i].ar));
	monitor_printf(call, "gdtr %016lx/%lx  idtr %016lx/%lx\n", rd(GUEST_GDTR_BASE), rd(GUEST_GDTR_LIMIT),
		       rd(GUEST_IDTR_BASE), rd(GUEST_IDTR_LIMIT));
	/* Interruptibility (§25.4.2, Table 25-2): bit 0 STI, 1 MOV SS, 2 SMI, 3 NMI blocking. */
	monitor_printf(call, "activity %s, interrupts%s%s%s%s\n", activity < 4 ? activity_names[activity] : "?",
		       (intr & BIT(0)) ? " blocked by STI" : "", (intr & BIT(1)) ? " blocked by MOV SS" : "",
		       (intr & BIT(3)) ? " NMIs blocked" : "", (intr & 0xb) ? "" : " not blocked");
}

/* info vmcs P.V, with the vCPU's VMCS current. */
static int vmcs_dump(struct vcpu *v, void *ctx)
{
	struct monitor_call *call = ctx;

	monitor_printf(call, "VMCS of vCPU %u.%u (%s), %s paging, runs on cpu%u\n", v->part->id, v->id,
		       v->part->name, vcpu_shadow_paging(v) ? "shadow" : "EPT", v->cpu);
	show_controls(call);
	show_last_exit(call);
	show_guest_state(call, v);
	return 0;
}

static int info_vmcs(struct monitor_call *call)
{
	struct vcpu *v = monitor_vcpu(call, 0);

	return v ? monitor_with_vmcs(call, v, vmcs_dump, call) : MON_ERR_NOENT;
}

MONITOR_COMMAND(cmd_info_vmcs) = {
	"info vmcs", "P.V", "the VMCS of a vCPU, decoded in words: controls, exit reason, qualification",
	info_vmcs
};

/* ---- info vcpu: the registers as the guest sees them ---- */

/* The general registers in the order people read them; rsp lives in the VMCS (§25.4.1). */
static const struct {
	const char *name;
	int gpr; /* enum gpr, or -1 for rsp */
} gprs[] = {
	{ "rax", GPR_RAX }, { "rbx", GPR_RBX }, { "rcx", GPR_RCX }, { "rdx", GPR_RDX },
	{ "rsi", GPR_RSI }, { "rdi", GPR_RDI }, { "rbp", GPR_RBP }, { "rsp", -1 },
	{ "r8", GPR_R8 },   { "r9", GPR_R9 },   { "r10", GPR_R10 }, { "r11", GPR_R11 },
	{ "r12", GPR_R12 }, { "r13", GPR_R13 }, { "r14", GPR_R14 }, { "r15", GPR_R15 },
};

static int vcpu_dump(struct vcpu *v, void *ctx)
{
	struct monitor_call *call = ctx;
	struct shadow_guest_state gs;

	vcpu_paging_state(v, &gs); /* CR0, CR3, CR4, EFER as the guest wrote them */
	monitor_printf(call, "vCPU %u.%u of %s\n", v->part->id, v->id, v->part->name);
	for (size_t i = 0; i < ARRAY_SIZE(gprs); i++) {
		u64 value = gprs[i].gpr < 0 ? rd(GUEST_RSP) : v->arch.regs.gpr[gprs[i].gpr];
		monitor_printf(call, "%-3s %016lx%s", gprs[i].name, value, i % 3 == 2 ? "\n" : "  ");
	}
	monitor_printf(call, "rip %016lx  rflags %08lx\n", rd(GUEST_RIP), rd(GUEST_RFLAGS));
	monitor_printf(call, "cs %04lx  ss %04lx  ds %04lx  es %04lx  fs %04lx  gs %04lx\n",
		       rd(GUEST_CS_SELECTOR), rd(GUEST_SS_SELECTOR), rd(GUEST_DS_SELECTOR), rd(GUEST_ES_SELECTOR),
		       rd(GUEST_FS_SELECTOR), rd(GUEST_GS_SELECTOR));
	monitor_printf(call, "fs_base %016lx  gs_base %016lx\n", rd(GUEST_FS_BASE), rd(GUEST_GS_BASE));
	monitor_printf(call, "cr0 %016lx  cr2 %016lx  cr3 %016lx\n", gs.cr0, v->arch.cr2, gs.cr3);
	monitor_printf(call, "cr4 %016lx  efer %016lx\n", gs.cr4, gs.efer);
	return 0;
}

static int info_vcpu(struct monitor_call *call)
{
	struct vcpu *v = monitor_vcpu(call, 0);

	return v ? monitor_with_vmcs(call, v, vcpu_dump, call) : MON_ERR_NOENT;
}

MONITOR_COMMAND(cmd_info_vcpu) = { "info vcpu", "P.V", "the registers of vCPU V of partition P", info_vcpu };
