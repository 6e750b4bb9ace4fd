/*
 * mb1.c — does a Multiboot1 loader hand over what the specification promises?
 *
 * Checked from inside, against Multiboot 0.6.96 §3.2 (machine state) and §3.3 (boot
 * information), and against what images/scenarios/multiboot1.cfg configures (mb1.h).
 * Entered by a Multiboot2 loader instead, it runs the checks of mb2.c. Prints one line
 * per check and "results: N ok, M failed"; the failure count is the exit status.
 */
#include <hvlab/lib.h>
#include <hvlab/multiboot1.h>
#include "../bootcheck/check.h"

#include "mb1.h"



static const struct mb1_info *mbi;

static const char *check_magic(void)
{
	if (entry_eax != MB1_BOOTLOADER_MAGIC)
		return why("EAX = 0x%x, expected 0x%x", entry_eax, MB1_BOOTLOADER_MAGIC);
	return NULL;
}

/* §3.2: CR0.PE set, CR0.PG clear, EFLAGS.IF clear (VM clear goes without saying: we run
 * 32-bit code), CS a flat 32-bit code segment — hvlab's is selector 0x08. */
const char *check_machine_state(void)
{
	if (!(entry_cr0 & 1) || (entry_cr0 & BIT(31)))
		return why("CR0 = 0x%x: want PE set, PG clear", entry_cr0);
	if (entry_eflags & BIT(9))
		return why("EFLAGS = 0x%x: interrupts enabled", entry_eflags);
	if (entry_cs != 0x08)
		return why("CS = 0x%x, expected 0x08", entry_cs);
	return NULL;
}

static const char *check_flags(void)
{
	u32 want = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;

	if ((mbi->flags & want) != want)
		return why("flags 0x%x lack 0x%x", mbi->flags, want & ~mbi->flags);
	return NULL;
}

/* mem_lower: KiB from 0 (at most 640); mem_upper: KiB from 1 MiB to the first hole. */
static const char *check_memory(void)
{
	u32 upper = (u32)((EXPECTED_RAM - MiB(1)) >> 10);

	if (mbi->mem_lower < 512 || mbi->mem_lower > 640)
		return why("mem_lower %u KiB", mbi->mem_lower);
	if (mbi->mem_upper != upper)
		return why("mem_upper %u KiB, expected %u (RAM - 1 MiB)", mbi->mem_upper, upper);
	return NULL;
}

static const char *check_cmdline(void)
{
	const char *s = phys(mbi->cmdline);

	if (!mbi->cmdline || strcmp(s, EXPECTED_CMDLINE) != 0)
		return why("\"%s\", expected \"%s\"", mbi->cmdline ? s : "(none)", EXPECTED_CMDLINE);
	return NULL;
}

static const char *check_loader_name(void)
{
	const char *s = phys(mbi->boot_loader_name);

	if (!mbi->boot_loader_name || strcmp(s, "hvlab") != 0)
		return why("\"%s\"", mbi->boot_loader_name ? s : "(none)");
	return NULL;
}

/* The map hvlab reports (guest_abi.h): low RAM, EBDA, BIOS/ACPI area, RAM from 1 MiB. */
static const char *check_mmap(void)
{
	const __typeof__(expected_memory_map[0]) *want = expected_memory_map;
	u32 n = 0;

	for (u32 off = 0; off < mbi->mmap_length; n++) {
		const struct mb1_mmap_entry *e = phys(mbi->mmap_addr + off);
		boot_printf("  # mmap 0x%08llx-0x%08llx type %u\n", e->base_addr,
			    e->base_addr + e->length, e->type);
		if (n < ARRAY_SIZE(expected_memory_map) && (e->base_addr != want[n].base ||
					     e->length != want[n].len || e->type != want[n].type))
			return why("entry %u is 0x%llx+0x%llx type %u, expected 0x%llx+0x%llx type %u",
				   n, e->base_addr, e->length, e->type, want[n].base, want[n].len,
				   want[n].type);
		if (e->size < 20)
			return why("entry %u has size %u", n, e->size);
		off += e->size + 4;
	}
	if (n != ARRAY_SIZE(expected_memory_map))
		return why("%u entries, expected %u", n, (u32)ARRAY_SIZE(expected_memory_map));
	return NULL;
}

/* One module, page-aligned (we asked with header flag 0), above this kernel, inside RAM. */
static const char *check_module_place(void)
{
	const struct mb1_module *m = phys(mbi->mods_addr);

	if (mbi->mods_count != 1)
		return why("mods_count %u, expected 1", mbi->mods_count);
	if (m->mod_start & 0xfff)
		return why("module at 0x%x is not page-aligned", m->mod_start);
	if (m->mod_start < (uintptr_t)__image_end || m->mod_end > EXPECTED_RAM ||
	    m->mod_end < m->mod_start)
		return why("module 0x%x-0x%x overlaps the kernel (to 0x%x) or leaves RAM",
			   m->mod_start, m->mod_end, (u32)(uintptr_t)__image_end);
	if (!m->string || strcmp(phys(m->string), EXPECTED_MODULE) != 0)
		return why("module string \"%s\", expected \"%s\"",
			   m->string ? (const char *)phys(m->string) : "(none)", EXPECTED_MODULE);
	return NULL;
}

static const char *check_module_bytes(void)
{
	const struct mb1_module *m = phys(mbi->mods_addr);
	u32 len = (u32)(expected_initrd_end - expected_initrd);

	if (mbi->mods_count < 1)
		return why("no module");
	if (m->mod_end - m->mod_start != len)
		return why("module is %u bytes, expected %u", m->mod_end - m->mod_start, len);
	if (memcmp(phys(m->mod_start), expected_initrd, len) != 0)
		return why("module bytes differ from initrd.txt");
	return NULL;
}

/* The information itself should be in low memory, clear of this kernel. */
static const char *check_mbi_place(void)
{
	if (entry_ebx == 0 || entry_ebx + sizeof(*mbi) > 0xa0000)
		return why("MBI at 0x%x, expected below 640 KiB", entry_ebx);
	return NULL;
}

static const struct boot_check checks[] = {
	{ "eax holds the Multiboot magic 0x2BADB002", check_magic },
	{ "protected mode, paging and interrupts off, cs 0x08", check_machine_state },
	{ "mbi in low memory", check_mbi_place },
	{ "mbi flags: memory, cmdline, mods, mmap, loader name", check_flags },
	{ "mem_lower and mem_upper (RAM - 1 MiB)", check_memory },
	{ "cmdline is the configured one", check_cmdline },
	{ "boot loader name", check_loader_name },
	{ "memory map", check_mmap },
	{ "initrd module: one, page-aligned, above the kernel, named", check_module_place },
	{ "initrd module contents", check_module_bytes },
};

void mb1_main(void);

/** Called by start.S: run the table of the protocol we were booted by, and exit. */
void mb1_main(void)
{
	boot_console_init();
	boot_printf("mb1: Multiboot test kernel at 0x%x, EAX 0x%x, EBX 0x%x\n",
		    (u32)(uintptr_t)__image_start, entry_eax, entry_ebx);
	mbi = phys(entry_ebx);
	if (entry_eax == MB2_BOOTLOADER_MAGIC)
		boot_exit((u32)run_mb2_checks());
	if (entry_eax != MB1_BOOTLOADER_MAGIC) /* EBX means nothing: report the magic only */
		boot_exit((u32)run_checks(checks, 1));
	boot_exit((u32)run_checks(checks, ARRAY_SIZE(checks)));
}
