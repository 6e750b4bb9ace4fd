/**
 * @file debug_regs_vmx.c
 * @brief A parked vCPU's registers, program counter and address translation, as the
 * debug core and GDB want them (arch/debug_arch.h).
 *
 * One table, x86_regs[], is the register layout: GDB's target.xml and the order of the
 * `g` packet are generated from it (gdb_regs.c), and each row says where the value lives
 * (a saved general register, a VMCS field, the guest's view of a control register). GDB
 * insists that the "org.gnu.gdb.i386.core" feature names the x87 registers too; the
 * hypervisor does not keep guest FPU state apart, so they are shown as unavailable.
 * Control registers are shown as the guest sees them (its shadows, its CR3 under shadow
 * paging) and are read-only here: changing them under the guest's feet is what the
 * monitor's reset is for.
 */
#include <arch/debug_arch.h>
#include <arch/debug_dr.h>
#include <arch/lifecycle_arch.h>
#include <arch/guest_mem.h>
#include <arch/shadow_mmu.h>
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/cpu.h>
#include <arch/regs.h>
#include <hvlab/partition.h>

/* Where a register's value lives (struct gdb_reg_desc.src). */
enum reg_src { SRC_NONE, SRC_GPR, SRC_VMCS, SRC_CR, SRC_EFER };

#define GPR(name, n) { name, 64, "int64", "general", 0, SRC_GPR, n }
#define SEG(name, field) { name, 32, "int32", "general", GDB_REG_RO, SRC_VMCS, field }
#define CR(name, n) { name, 64, "int64", NULL, GDB_REG_RO, SRC_CR, n }
#define X87(name, bits, type) { name, bits, type, "float", GDB_REG_RO | GDB_REG_NOVALUE, SRC_NONE, 0 }

static const struct gdb_reg_desc x86_regs[] = {
	GPR("rax", GPR_RAX), GPR("rbx", GPR_RBX), GPR("rcx", GPR_RCX), GPR("rdx", GPR_RDX),
	GPR("rsi", GPR_RSI), GPR("rdi", GPR_RDI),
	{ "rbp", 64, "data_ptr", "general", 0, SRC_GPR, GPR_RBP },
	{ "rsp", 64, "data_ptr", "general", 0, SRC_VMCS, GUEST_RSP }, /* RSP is in the VMCS */
	GPR("r8", GPR_R8), GPR("r9", GPR_R9), GPR("r10", GPR_R10), GPR("r11", GPR_R11),
	GPR("r12", GPR_R12), GPR("r13", GPR_R13), GPR("r14", GPR_R14), GPR("r15", GPR_R15),
	{ "rip", 64, "code_ptr", "general", 0, SRC_VMCS, GUEST_RIP },
	{ "eflags", 32, "i386_eflags", "general", 0, SRC_VMCS, GUEST_RFLAGS },
	SEG("cs", GUEST_CS_SELECTOR), SEG("ss", GUEST_SS_SELECTOR), SEG("ds", GUEST_DS_SELECTOR),
	SEG("es", GUEST_ES_SELECTOR), SEG("fs", GUEST_FS_SELECTOR), SEG("gs", GUEST_GS_SELECTOR),
	{ "fs_base", 64, "int64", NULL, 0, SRC_VMCS, GUEST_FS_BASE },
	{ "gs_base", 64, "int64", NULL, 0, SRC_VMCS, GUEST_GS_BASE },
	CR("cr0", 0), CR("cr2", 2), CR("cr3", 3), CR("cr4", 4), CR("cr8", 8),
	{ "efer", 64, "int64", NULL, GDB_REG_RO, SRC_EFER, 0 },
	X87("st0", 80, "i387_ext"), X87("st1", 80, "i387_ext"), X87("st2", 80, "i387_ext"),
	X87("st3", 80, "i387_ext"), X87("st4", 80, "i387_ext"), X87("st5", 80, "i387_ext"),
	X87("st6", 80, "i387_ext"), X87("st7", 80, "i387_ext"),
	X87("fctrl", 32, "int"), X87("fstat", 32, "int"), X87("ftag", 32, "int"), X87("fiseg", 32, "int"),
	X87("fioff", 32, "int"), X87("foseg", 32, "int"), X87("fooff", 32, "int"), X87("fop", 32, "int"),
};

/* The flags type GDB's own 64bit-core.xml gives eflags, so `info registers` names them. */
static const char eflags_type[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n";

const struct gdb_target_desc arch_gdb_target = {
	"i386:x86-64", "org.gnu.gdb.i386.core", eflags_type, x86_regs, ARRAY_SIZE(x86_regs),
};

/* RFLAGS bits a debugger may change: the arithmetic flags, TF, IF, DF, RF, AC, ID. The
 * others (IOPL, VM, NT, VIF...) would change the guest's mode or fail VM entry. */
#define RFLAGS_DEBUGGER_MASK 0x250fd5ULL

bool arch_debug_vcpu_started(const struct vcpu *v)
{
	return v->arch.vmcs_pa && !v->arch.reinit;
}

/* ---- Reading ---- */

struct regs_ctx {
	u64 *values;
	bool *have;
};

static u64 cr_value(struct vcpu *v, const struct shadow_guest_state *gs, u32 n)
{
	switch (n) {
	case 0: return gs->cr0;
	case 2: return v->arch.cr2;
	case 3: return gs->cr3;
	case 4: return gs->cr4;
	default: return v->arch.cr8;
	}
}

static int read_regs(struct vcpu *v, void *arg)
{
	struct regs_ctx *c = arg;
	struct shadow_guest_state gs;

	vcpu_paging_state(v, &gs); /* the guest's own view of CR0, CR3, CR4, EFER */
	for (size_t i = 0; i < ARRAY_SIZE(x86_regs); i++) {
		const struct gdb_reg_desc *r = &x86_regs[i];
		c->have[i] = r->src != SRC_NONE;
		c->values[i] = r->src == SRC_GPR ? v->arch.regs.gpr[r->field]
			     : r->src == SRC_VMCS ? vmread(r->field)
			     : r->src == SRC_CR ? cr_value(v, &gs, r->field)
			     : r->src == SRC_EFER ? gs.efer : 0;
	}
	return 0;
}

int arch_debug_read_regs(struct vcpu *v, u64 *values, bool *have)
{
	struct regs_ctx c = { values, have };

	return arch_vcpu_with_vmcs(v, read_regs, &c) < 0 ? -1 : 0;
}

/* ---- Writing ---- */

struct write_ctx {
	const struct gdb_reg_desc *r;
	u64 value;
};

static bool canonical(u64 a)
{
	return (u64)((s64)(a << 16) >> 16) == a;
}

static int write_reg(struct vcpu *v, void *arg)
{
	struct write_ctx *c = arg;

	if (c->r->src == SRC_GPR) {
		v->arch.regs.gpr[c->r->field] = c->value;
		return 0;
	}
	u64 value = c->value;
	if (c->r->field == GUEST_RFLAGS)
		value = (vmread(GUEST_RFLAGS) & ~RFLAGS_DEBUGGER_MASK) | (value & RFLAGS_DEBUGGER_MASK);
	else if (!canonical(value))
		return -1; /* RIP, RSP, FS/GS base: VM entry would fail (SDM Vol. 3C §27.3.1) */
	vmwrite(c->r->field, value);
	return 0;
}

int arch_debug_write_reg(struct vcpu *v, u32 regno, u64 value)
{
	if (regno >= ARRAY_SIZE(x86_regs) || (x86_regs[regno].flags & GDB_REG_RO))
		return -1;
	struct write_ctx c = { &x86_regs[regno], value };
	return arch_vcpu_with_vmcs(v, write_reg, &c) < 0 ? -1 : 0;
}

/* ---- Addresses ---- */

struct xlate_ctx {
	u64 gva, gpa;
	bool pc; /* translate RIP (gva is set to its linear address) */
};

static int translate(struct vcpu *v, void *arg)
{
	struct xlate_ctx *c = arg;

	if (c->pc) {
		u64 rip = vmread(GUEST_RIP);
		/* In 64-bit code CS.base counts as 0 (SDM Vol. 3A §3.4.4). */
		c->gva = vmread(GUEST_CS_AR) & BIT(13) ? rip : vmread(GUEST_CS_BASE) + rip;
	}
	return gva_to_gpa(v, c->gva, &c->gpa) ? 0 : -1;
}

bool arch_debug_pc(struct vcpu *v, u64 *linear, u64 *gpa)
{
	struct xlate_ctx c = { .pc = true };

	if (arch_vcpu_with_vmcs(v, translate, &c) < 0)
		return false;
	*linear = c.gva;
	*gpa = c.gpa;
	return true;
}

bool arch_debug_translate(struct vcpu *v, u64 gva, u64 *gpa)
{
	struct xlate_ctx c = { .gva = gva };

	if (arch_vcpu_with_vmcs(v, translate, &c) < 0)
		return false;
	*gpa = c.gpa;
	return true;
}

bool arch_debug_hw_fits(const struct debug_hwbp *hw)
{
	struct dr_plan plan;

	/* DR7 travels in the VMCS only with the debug-controls entry and exit controls. */
	if (!(vmx_ctls.entry & ENTRY_LOAD_DEBUG_CTLS) || !(vmx_ctls.exit & EXIT_SAVE_DEBUG_CTLS))
		return false;
	return dr_plan(hw, DEBUG_HW_MAX, &plan) == 0;
}
