/*
 * ept_violation.c — a guest that reads memory it was never given.
 *
 * The partition's RAM is guest-physical [0, mem_size); the only other guest-physical
 * addresses with something behind them are emulated devices (the test device). We map
 * guest-physical 0xC0000000 (3 GiB, far above our RAM, no device there) into our own
 * page tables and read it. Our page tables allow the access, so the CPU goes on to
 * translate the guest-physical address through the hypervisor's EPT, finds nothing, and
 * exits with an EPT violation (SDM Vol. 3C §29.3.3.2). The hypervisor must report it and
 * end this partition, and only this one: the scenario runs a bystander partition too.
 *
 * If the read returns a value instead, the hypervisor has let the guest reach memory
 * that is not its own: the test fails with exit status 1.
 */
#include "guest.h"

#define UNMAPPED_GPA 0xC0000000ULL

int main(const struct hvlab_boot_info *bi)
{
	gprintf("touching unmapped guest-physical 0x%llx (outside my %lu MiB)\n", UNMAPPED_GPA,
		bi->mem_size >> 20);

	/* Our page tables: virtual 0xC0000000 -> guest-physical 0xC0000000, uncached. */
	if (gpt_map(&kernel_as, UNMAPPED_GPA, UNMAPPED_GPA, PTE_W | PTE_UC) < 0) {
		gprintf("ERROR: could not map 0x%llx in my page tables\n", UNMAPPED_GPA);
		return 2;
	}

	/* A single plain MOV, so the hypervisor sees an ordinary 8-byte read. */
	u64 v = mmio_read64(UNMAPPED_GPA);

	gprintf("ERROR: read of unmapped memory returned 0x%lx\n", v);
	return 1;
}
