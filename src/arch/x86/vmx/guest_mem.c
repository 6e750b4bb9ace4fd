/**
 * @file guest_mem.c
 * @brief The hypervisor's view of guest memory.
 *
 * Two translations stack: guest-virtual → guest-physical through the guest's own page
 * tables (guest_walk(), any paging mode, SDM Vol. 3A Chapter 5), then guest-physical →
 * host-physical through the partition's EPT hierarchy (SDM Vol. 3C §29.3), which every
 * partition has, even one on shadow paging, as its physical map. Every guest page-table
 * read goes through it too, so a guest cannot make the hypervisor read outside the
 * partition.
 */
#include <arch/guest_mem.h>
#include <arch/vmcs.h>
#include <arch/cpu.h>
#include <arch/boot.h>
#include <arch/vmexit.h>
#include <arch/shadow_mmu.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

bool gpa_to_hpa(const struct partition *p, u64 gpa, u64 *hpa)
{
	struct ept_walk w;

	if (!ept_translate(&p->arch.ept, gpa, &w) || !(w.perms & EPT_R))
		return false;
	*hpa = w.hpa;
	return true;
}

static bool read_guest(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	u64 hpa;

	if (!gpa_to_hpa(ctx, gpa, &hpa) || (gpa & 0xfff) + size > PAGE_SIZE)
		return false;
	*value = size == 4 ? *(const u32 *)phys_to_virt(hpa) : *(const u64 *)phys_to_virt(hpa);
	return true;
}

static bool no_write(void *ctx, u64 gpa, unsigned size, u64 value)
{
	return false; /* never called: this walk does not set A/D flags */
}

bool gva_to_gpa(struct vcpu *v, u64 gva, u64 *gpa)
{
	struct shadow_guest_state gs;
	struct guest_walk_cpu cpu;
	struct guest_walk_result w;
	struct guest_walk_ops ops = { read_guest, no_write, v->part };

	/* The same architectural walk the shadow MMU uses, in the guest's own paging mode, as
	 * a supervisor read: the hypervisor looks, the guest's A/D flags stay as they are. */
	vcpu_paging_state(v, &gs);
	shadow_walk_cpu(&gs, &cpu);
	if (guest_walk(&cpu, &ops, gva, 0, 0, &w) != GW_OK)
		return false;
	*gpa = w.gpa;
	return true;
}

/* Copy between host and guest-physical memory page by page; stop where RAM ends. */
static size_t copy_phys(const struct partition *p, u64 gpa, void *buf, size_t len, bool to_guest)
{
	size_t done = 0;

	while (done < len) {
		u64 hpa;
		size_t chunk = PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1));

		if (chunk > len - done)
			chunk = len - done;
		if (!gpa_to_hpa(p, gpa + done, &hpa))
			break;
		if (to_guest)
			memcpy(phys_to_virt(hpa), (u8 *)buf + done, chunk);
		else
			memcpy((u8 *)buf + done, phys_to_virt(hpa), chunk);
		done += chunk;
	}
	return done;
}

size_t guest_read_phys(const struct partition *p, u64 gpa, void *buf, size_t len)
{
	return copy_phys(p, gpa, buf, len, false);
}

size_t guest_write_phys(const struct partition *p, u64 gpa, const void *buf, size_t len)
{
	size_t done = copy_phys(p, gpa, (void *)buf, len, true);

	/* A write the guest did not make (a debugger's poke or breakpoint) may land in one
	 * of its page tables: shadows derived from it must go as for a guest store. */
	shadow_mmu_host_wrote(p, gpa, done);
	return done;
}

size_t guest_read_virt(struct vcpu *v, u64 gva, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		u64 gpa;
		size_t chunk = PAGE_SIZE - ((gva + done) & (PAGE_SIZE - 1));

		if (chunk > len - done)
			chunk = len - done;
		if (!gva_to_gpa(v, gva + done, &gpa))
			break;
		size_t got = guest_read_phys(v->part, gpa, (u8 *)buf + done, chunk);
		done += got;
		if (got < chunk)
			break;
	}
	return done;
}
