/**
 * @file exit_io.c
 * @brief IN and OUT: port I/O forwarded to the partition's emulated devices (exit reason 30).
 *
 * The I/O bitmaps make every port exit (vmcs_setup.c). The exit qualification names the
 * port, size and direction (SDM Vol. 3C §28.2.1, Table 28-5). A port no device claims
 * behaves as on a PC with nothing there: reads return all ones, writes vanish.
 */
#include <arch/vmexit.h>
#include <arch/insn_decode.h>
#include <hvlab/partition.h>

#define IOQ_SIZE(q) (((q) & 7) + 1)
#define IOQ_IN(q) (((q) >> 3) & 1)
#define IOQ_STRING(q) (((q) >> 4) & 1)
#define IOQ_PORT(q) ((u16)((q) >> 16))

static enum exit_action handle_io(struct vcpu *v, struct vmexit *e)
{
	u64 q = e->qualification;
	u8 size = IOQ_SIZE(q);
	u16 port = IOQ_PORT(q);
	u64 *rax = &v->arch.regs.gpr[GPR_RAX];
	u32 mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	if (IOQ_STRING(q)) {
		partition_fault(v->part, "string I/O (INS/OUTS) on port 0x%x at RIP 0x%lx is not emulated",
				port, e->rip);
		return EXIT_STOP;
	}
	struct pio_region *r = pio_find(v->part, port);
	v->part->counters.pio_emulated++;
	if (IOQ_IN(q)) {
		u32 value = r ? r->ops->read(v, r->state, port, size) : 0xffffffffu;
		/* IN to AL/AX leaves the rest of RAX alone; IN to EAX clears bits 63:32. */
		if (size == 4)
			*rax = value;
		else
			*rax = (*rax & ~(u64)mask) | (value & mask);
	} else if (r) {
		r->ops->write(v, r->state, port, size, (u32)*rax & mask);
	}
	if (partition_ended(v->part)) /* e.g. the exit port */
		return EXIT_STOP;
	vcpu_skip_instruction(v, e);
	return EXIT_RESUME;
}
EXIT_HANDLER(EXIT_REASON_IO, handle_io);
