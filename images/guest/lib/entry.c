/**
 * @file entry.c
 * @brief guest_entry(): the start-up story of every test guest, one step per line.
 *
 * start.S has set up a stack and cleared .bss. The CPU is as the hypervisor left it
 * (guest_abi.h): 64-bit mode, the hypervisor's GDT and page tables, no IDT.
 */
#include "gdt.h"
#include "guest.h"

static struct hvlab_boot_info boot_info_copy;
const struct hvlab_boot_info *boot_info = &boot_info_copy;

void guest_entry(const struct hvlab_boot_info *bi)
{
	/* 1. The console first, so every later step can report a problem. */
	console_init();

	/* 2. Check and keep the boot information: paging needs the RAM size. */
	if (bi->magic != HVLAB_BOOT_MAGIC) {
		gprintf("guest: bad boot info at %p: magic 0x%lx, expected 0x%llx\n", bi,
			bi->magic, HVLAB_BOOT_MAGIC);
		guest_exit(GUEST_EXIT_BAD_BOOT_INFO);
	}
	boot_info_copy = *bi;
	boot_info_copy.name[sizeof(boot_info_copy.name) - 1] = '\0';
	boot_info_copy.cmdline[sizeof(boot_info_copy.cmdline) - 1] = '\0';

	/* 3. Our own GDT and TSS, then the IDT: from here on, exceptions are reported. */
	gdt_init();
	idt_init();

	/* 4. Our own page tables (4 KiB pages) instead of the hypervisor's boot map. */
	paging_init(boot_info->ram_base, boot_info->mem_size);

	/* 5. The test program; its result ends the partition. */
	guest_exit((u32)main(boot_info));
}
