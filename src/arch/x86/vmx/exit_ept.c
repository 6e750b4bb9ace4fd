/**
 * @file exit_ept.c
 * @brief EPT violations and misconfigurations (exit reasons 48 and 49).
 *
 * A guest-physical address outside the partition's EPT is either an emulated device
 * (MMIO: decode the instruction, call the device, step past it) or a guest touching
 * memory that is not its own: reported with the address, and that partition ends.
 * Shadow paging (exit_shadow.c) sends its own such accesses here too.
 * Exit qualification: SDM Vol. 3C §28.2.1, Table 28-7.
 */
#include <arch/vmexit.h>
#include <arch/vmcs.h>
#include <arch/insn_decode.h>
#include <arch/guest_mem.h>
#include <hvlab/partition.h>

#define EPTQ_READ BIT(0)
#define EPTQ_WRITE BIT(1)
#define EPTQ_FETCH BIT(2)

/* Store a value read from a device into the destination register, as MOV/MOVZX would. */
static void write_register(struct vcpu *v, const struct mmio_insn *insn, u64 value)
{
	u64 *reg = &v->arch.regs.gpr[insn->reg];

	if (insn->high_byte) {
		*reg = (*reg & ~0xff00ULL) | ((value & 0xff) << 8);
		return;
	}
	switch (insn->dest_size) {
	case 1: *reg = (*reg & ~0xffULL) | (value & 0xff); break;
	case 2: *reg = (*reg & ~0xffffULL) | (value & 0xffff); break;
	case 4: *reg = value & 0xffffffffULL; break; /* 32-bit destinations zero bits 63:32 */
	default: *reg = value; break;
	}
}

static u64 source_value(struct vcpu *v, const struct mmio_insn *insn)
{
	if (insn->reg < 0)
		return insn->imm;
	u64 value = v->arch.regs.gpr[insn->reg];
	return insn->high_byte ? value >> 8 : value;
}

static enum exit_action emulate_mmio(struct vcpu *v, struct vmexit *e, struct mmio_region *r, u64 gpa)
{
	u8 bytes[15];
	struct mmio_insn insn;

	u64 cs_ar = vmread(GUEST_CS_AR);
	bool long_code = cs_ar & BIT(13); /* CS.L; else CS.D says 32-bit code */
	if (!long_code && !(cs_ar & BIT(14))) {
		partition_fault(v->part, "MMIO access to %s at guest-physical 0x%lx from 16-bit code "
				"(RIP 0x%lx) is not emulated", r->name, gpa, e->rip);
		return EXIT_STOP;
	}
	u64 cs_base = long_code ? 0 : vmread(GUEST_CS_BASE);
	size_t got = guest_read_virt(v, cs_base + e->rip, bytes, sizeof(bytes));
	int err = insn_decode(bytes, got, long_code, &insn);

	if (err) {
		partition_fault(v->part, "cannot emulate the instruction at RIP 0x%lx accessing %s at "
				"guest-physical 0x%lx (decoder error %d)", e->rip, r->name, gpa, err);
		return EXIT_STOP;
	}
	u64 offset = gpa - r->base;
	u64 mask = insn.size == 8 ? ~0ULL : (1ULL << (insn.size * 8)) - 1;
	if (insn.write)
		r->ops->write(v, r->state, offset, insn.size, source_value(v, &insn) & mask);
	else
		write_register(v, &insn, r->ops->read(v, r->state, offset, insn.size) & mask);
	v->part->counters.mmio_emulated++;
	e->insn_len = insn.len; /* not provided by the CPU for EPT violations */
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}

enum exit_action guest_memory_violation(struct vcpu *v, struct vmexit *e, u64 gpa, bool write, bool fetch,
					const char *via)
{
	struct mmio_region *r = mmio_find(v->part, gpa);
	const char *kind = fetch ? "instruction fetch" : write ? "write" : "read";

	if (r && !fetch)
		return emulate_mmio(v, e, r, gpa);
	struct ept_walk w;
	if (ept_translate(&v->part->arch.ept, gpa, &w)) { /* mapped, but not for this access */
		partition_fault(v->part, "%s: %s of guest-physical 0x%lx at RIP 0x%lx: the page is %s%s%s only",
				via, kind, gpa, e->rip, w.perms & EPT_R ? "r" : "", w.perms & EPT_W ? "w" : "",
				w.perms & EPT_X ? "x" : "");
		return EXIT_STOP;
	}
	partition_fault(v->part, "%s: %s of guest-physical 0x%lx at RIP 0x%lx: not memory of this partition",
			via, kind, gpa, e->rip);
	return EXIT_STOP;
}

static enum exit_action handle_ept_violation(struct vcpu *v, struct vmexit *e)
{
	return guest_memory_violation(v, e, vmread(GUEST_PHYSICAL_ADDRESS), e->qualification & EPTQ_WRITE,
				      e->qualification & EPTQ_FETCH, "EPT violation");
}
EXIT_HANDLER(EXIT_REASON_EPT_VIOLATION, handle_ept_violation);

static enum exit_action handle_ept_misconfig(struct vcpu *v, struct vmexit *e)
{
	/* A malformed EPT entry is the hypervisor's bug, not the guest's: say so plainly. */
	partition_fault(v->part, "EPT misconfiguration at guest-physical 0x%lx (a hypervisor bug)",
			vmread(GUEST_PHYSICAL_ADDRESS));
	return EXIT_STOP;
}
EXIT_HANDLER(EXIT_REASON_EPT_MISCONFIG, handle_ept_misconfig);
