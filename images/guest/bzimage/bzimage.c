/*
 * bzimage.c — is a Linux-boot-protocol kernel entered as boot.rst's "64-bit Boot
 * Protocol" says, with a correct struct boot_params ("zero page", zero-page.rst)?
 *
 * Checked against what images/scenarios/linux_boot.cfg configures: 32 MiB of RAM, the
 * command line below and images/guest/bzimage/initrd.txt as the initrd. Prints one line
 * per check and "results: N ok, M failed"; the failure count is the exit status.
 */
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "../bootcheck/check.h"

/* What the scenario gives this partition (keep in step with linux_boot.cfg). */
#define EXPECTED_RAM MiB(32)
#define EXPECTED_CMDLINE "console=ttyS0 root=/dev/ram0 hvlab.test=linux_boot"
#define LOAD_ADDRESS 0x1000000ULL /* pref_address in header.S */

/* boot_params offsets (zero-page.rst; the setup header part as in boot.rst). */
#define BP_ORIG_VIDEO_ISVGA 0x00f
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_XLOADFLAGS 0x236
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0

#define MSR_EFER_LMA BIT(10)

/* Set by head.S. */
extern u64 entry_rflags, entry_rsi, entry_rip;
extern u16 entry_cs;
extern const char expected_initrd[], expected_initrd_end[];

static const u8 *bp; /* boot_params */

static u8 bp8(u32 off) { return bp[off]; }
static u16 bp16(u32 off) { return *(const u16 *)(bp + off); }
static u32 bp32(u32 off) { return *(const u32 *)(bp + off); }
static u64 bp64(u32 off) { return *(const u64 *)(bp + off); }

static const char *check_long_mode(void)
{
	u64 efer = rdmsr(MSR_IA32_EFER);

	if (!(efer & MSR_EFER_LMA) || !(read_cr0() & CR0_PG) || !(read_cr4() & CR4_PAE))
		return why("EFER 0x%lx CR0 0x%lx CR4 0x%lx", efer, read_cr0(), read_cr4());
	return NULL;
}

static const char *check_interrupts_off(void)
{
	if (entry_rflags & BIT(9))
		return why("RFLAGS 0x%lx at entry", entry_rflags);
	return NULL;
}

/* head.S only gets here when it runs where it was linked: at pref_address + 0x200. */
static const char *check_entry_address(void)
{
	if (entry_rip != LOAD_ADDRESS + 0x200)
		return why("entered at 0x%lx", entry_rip);
	return NULL;
}

/* boot.rst: a GDT with __BOOT_CS (0x10, flat 64-bit code) and __BOOT_DS (0x18, flat
 * data); CS = __BOOT_CS. Access byte bits 40-47, L bit 53, limit and G (bit 55). */
static const char *check_gdt(void)
{
	struct dtr gdtr;

	sgdt(&gdtr);
	if (gdtr.limit < 0x1f)
		return why("GDT limit 0x%x: no entry 0x18", gdtr.limit);
	const u64 *gdt = (const u64 *)gdtr.base;
	if ((gdt[2] & 0x00affe000000ffffULL) != 0x00af9a000000ffffULL)
		return why("0x10 is 0x%016lx, not flat 64-bit code", gdt[2]);
	if ((gdt[3] & 0x00cffe000000ffffULL) != 0x00cf92000000ffffULL)
		return why("0x18 is 0x%016lx, not flat data", gdt[3]);
	if (entry_cs != 0x10)
		return why("CS 0x%x, the protocol says __BOOT_CS 0x10", entry_cs);
	return NULL;
}

static const char *check_zero_page(void)
{
	if (entry_rsi == 0 || entry_rsi + 4096 > 0xa0000 || (entry_rsi & 0xfff))
		return why("RSI 0x%lx: expected a page below 640 KiB", entry_rsi);
	return NULL;
}

/* The loader copies the setup header from the image: the values header.S wrote. */
static const char *check_setup_header(void)
{
	if (memcmp(bp + BP_HEADER, "HdrS", 4) != 0 || bp16(BP_BOOT_FLAG) != 0xaa55)
		return why("no HdrS / 0xAA55");
	if (bp16(BP_VERSION) != 0x020f || bp8(BP_SETUP_SECTS) != 1 || !(bp16(BP_XLOADFLAGS) & 1))
		return why("version 0x%x setup_sects %u xloadflags 0x%x", bp16(BP_VERSION),
			   bp8(BP_SETUP_SECTS), bp16(BP_XLOADFLAGS));
	if (bp64(BP_PREF_ADDRESS) != LOAD_ADDRESS || bp32(BP_INIT_SIZE) == 0)
		return why("pref_address 0x%lx init_size 0x%x", bp64(BP_PREF_ADDRESS), bp32(BP_INIT_SIZE));
	return NULL;
}

static const char *check_loader_fields(void)
{
	if (bp8(BP_TYPE_OF_LOADER) != 0xff)
		return why("type_of_loader 0x%x, expected 0xff (undefined)", bp8(BP_TYPE_OF_LOADER));
	if ((bp8(BP_LOADFLAGS) & 0x81) != 0x81)
		return why("loadflags 0x%x lack LOADED_HIGH|CAN_USE_HEAP", bp8(BP_LOADFLAGS));
	return NULL;
}

static const char *check_cmdline(void)
{
	u64 addr = bp32(BP_CMD_LINE_PTR) | (u64)bp32(BP_EXT_CMD_LINE_PTR) << 32;
	const char *s = (const char *)addr;

	if (!addr || addr >= EXPECTED_RAM)
		return why("cmd_line_ptr 0x%lx", addr);
	if (strcmp(s, EXPECTED_CMDLINE) != 0)
		return why("\"%s\", expected \"%s\"", s, EXPECTED_CMDLINE);
	return NULL;
}

/* The map hvlab reports (guest_abi.h): low RAM, EBDA, BIOS/ACPI area, RAM from 1 MiB. */
static const char *check_e820(void)
{
	static const struct { u64 addr, size; u32 type; } want[] = {
		{ 0, 0x9f000, 1 },
		{ 0x9f000, 0x1000, 2 },
		{ 0xe0000, 0x20000, 2 },
		{ 0x100000, EXPECTED_RAM - 0x100000, 1 },
	};
	u8 n = bp8(BP_E820_ENTRIES);

	for (u32 i = 0; i < n && i < 128; i++) {
		const u8 *e = bp + BP_E820_TABLE + 20 * i;
		u64 addr = *(const u64 *)e, size = *(const u64 *)(e + 8);
		u32 type = *(const u32 *)(e + 16);
		boot_printf("  # e820 0x%08lx-0x%08lx type %u\n", addr, addr + size, type);
		if (i < ARRAY_SIZE(want) && (addr != want[i].addr || size != want[i].size ||
					     type != want[i].type))
			return why("entry %u is 0x%lx+0x%lx type %u", i, addr, size, type);
	}
	if (n != ARRAY_SIZE(want))
		return why("e820_entries %u, expected %u", n, (u32)ARRAY_SIZE(want));
	return NULL;
}

/* The initrd: page-aligned, above the kernel's init_size, inside RAM, our bytes. */
static const char *check_ramdisk(void)
{
	u64 image = bp32(BP_RAMDISK_IMAGE) | (u64)bp32(BP_EXT_RAMDISK_IMAGE) << 32;
	u64 size = bp32(BP_RAMDISK_SIZE) | (u64)bp32(BP_EXT_RAMDISK_SIZE) << 32;
	u64 len = (u64)(expected_initrd_end - expected_initrd);

	if (!image || (image & 0xfff) || image < LOAD_ADDRESS + bp32(BP_INIT_SIZE) ||
	    image + size > EXPECTED_RAM)
		return why("ramdisk at 0x%lx+0x%lx", image, size);
	if (size != len)
		return why("ramdisk_size %lu, expected %lu", size, len);
	if (memcmp((const void *)image, expected_initrd, len) != 0)
		return why("ramdisk bytes differ from initrd.txt");
	return NULL;
}

static const char *check_screen_info(void)
{
	if (bp8(BP_ORIG_VIDEO_ISVGA) != 0)
		return why("orig_video_isVGA %u", bp8(BP_ORIG_VIDEO_ISVGA));
	return NULL;
}

static const struct boot_check checks[] = {
	{ "entered in 64-bit mode with paging", check_long_mode },
	{ "interrupts off at entry", check_interrupts_off },
	{ "entered at pref_address + 0x200", check_entry_address },
	{ "gdt has __BOOT_CS 0x10 and __BOOT_DS 0x18", check_gdt },
	{ "rsi points at boot_params", check_zero_page },
	{ "setup header copied into boot_params", check_setup_header },
	{ "type_of_loader and loadflags", check_loader_fields },
	{ "cmd_line_ptr is the configured command line", check_cmdline },
	{ "e820 map", check_e820 },
	{ "ramdisk_image and ramdisk_size", check_ramdisk },
	{ "screen_info: no VGA", check_screen_info },
};

void bz_main(const void *boot_params);

/** Called by head.S with RSI as it was at entry: run the checks and exit. */
void bz_main(const void *boot_params)
{
	boot_console_init();
	boot_printf("bzimage: Linux boot protocol test kernel, boot_params at %p\n", boot_params);
	bp = boot_params;
	if (!bp) /* nothing to read: report the entry state only */
		boot_exit((u32)run_checks(checks, 5));
	boot_exit((u32)run_checks(checks, ARRAY_SIZE(checks)));
}
