/**
 * @file guest_mem.c
 * @brief The hypervisor's view of guest memory.
 *
 * Two translations stack: guest-virtual → guest-physical through the guest's own page
 * tables (SDM Vol. 3A §5.5, 4-level paging), then guest-physical → host-physical through
 * the partition's EPT (SDM Vol. 3C §29.3). Every guest page-table read goes through EPT
 * too, so a guest cannot make the hypervisor read outside the partition.
 */
#include <arch/guest_mem.h>
#include <arch/vmcs.h>
#include <arch/cpu.h>
#include <arch/boot.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

#define PTE_ADDR_MASK 0x000ffffffffff000ULL

bool gpa_to_hpa(const struct partition *p, u64 gpa, u64 *hpa)
{
	struct ept_walk w;

	if (!ept_translate(&p->arch.ept, gpa, &w) || !(w.perms & EPT_R))
		return false;
	*hpa = w.hpa;
	return true;
}

static bool read_guest_u64(const struct partition *p, u64 gpa, u64 *value)
{
	u64 hpa;

	if (!gpa_to_hpa(p, gpa, &hpa))
		return false;
	*value = *(const u64 *)phys_to_virt(hpa);
	return true;
}

bool gva_to_gpa(struct vcpu *v, u64 gva, u64 *gpa)
{
	if (!(vmread(GUEST_CR0) & CR0_PG)) {
		*gpa = gva;
		return true;
	}
	if (!(vmread(GUEST_IA32_EFER) & EFER_LMA))
		return false; /* 32-bit paging modes: walked by the shadow MMU (issue 4) */

	/* 4-level walk: PML4, PDPT, PD, PT, 9 bits each from bit 39 down. */
	u64 table = vmread(GUEST_CR3) & PTE_ADDR_MASK;
	for (int level = 4; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		u64 entry;

		if (!read_guest_u64(v->part, table + ((gva >> shift) & 511) * 8, &entry))
			return false;
		if (!(entry & PTE_P))
			return false;
		if (level > 1 && (entry & PTE_PS) && level <= 3) { /* 1 GiB or 2 MiB page */
			u64 page_mask = (1ULL << shift) - 1;
			*gpa = (entry & PTE_ADDR_MASK & ~page_mask) | (gva & page_mask);
			return true;
		}
		table = entry & PTE_ADDR_MASK;
	}
	*gpa = table | (gva & 0xfff);
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
	return copy_phys(p, gpa, (void *)buf, len, true);
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
