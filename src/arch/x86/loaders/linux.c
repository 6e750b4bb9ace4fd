/**
 * @file linux.c
 * @brief The Linux x86 boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst):
 * a bzImage entered at its 64-bit entry point with a struct boot_params ("zero page").
 *
 * A bzImage is a real-mode setup part of (setup_sects + 1) 512-byte sectors, whose
 * first sector holds the setup header at 0x1f1, followed by the protected-mode kernel.
 * The 64-bit boot protocol (boot.rst "64-bit Boot Protocol") skips the real-mode part:
 *  1. check the header: "HdrS" at 0x202, protocol 2.12 or later, xloadflags
 *     XLF_KERNEL_64 (the kernel has a 64-bit entry, at load address + 0x200);
 *  2. place the initrd at the top of RAM (below initrd_addr_max);
 *  3. copy the protected-mode kernel to pref_address, or, if it is relocatable, to the
 *     lowest address from 1 MiB aligned to kernel_alignment where init_size bytes fit;
 *  4. build boot_params: zeroed, the setup header copied from the image (0x1f1 to
 *     0x202 + the byte at 0x201), then the fields a boot loader fills: type_of_loader,
 *     loadflags, cmd_line_ptr, ramdisk_*, the e820 map, screen_info;
 *  5. page tables identity-mapping 4 GiB and a GDT with __BOOT_CS 0x10 / __BOOT_DS 0x18;
 *  6. enter in 64-bit mode, RSI = boot_params, interrupts off.
 */
#include <arch/loader.h>
#include <arch/boot.h>
#include <arch/regs.h>
#include "boot_layout.h"

/* Offsets in the image's first sector and in boot_params (the same for the setup
 * header, boot.rst "The real-mode kernel header"; the rest zero-page.rst). */
#define BP_ORIG_VIDEO_ISVGA 0x00f
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0   /* 128 entries of 20 bytes: addr u64, size u64, type u32 */
#define BP_SIZE 0x1000

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202       /* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_SIZE 0x264    /* the image must hold the header up to init_size */

#define LOADED_HIGH BIT(0)    /* loadflags: protected-mode code at 0x100000 or above */
#define CAN_USE_HEAP BIT(7)   /* loadflags: heap_end_ptr is valid */
#define XLF_KERNEL_64 BIT(0)  /* xloadflags: 64-bit entry at load address + 0x200 */
#define LOADER_UNDEFINED 0xff /* type_of_loader: a boot loader without an assigned id */

#define LINUX_ENTRY64_OFFSET 0x200

/* Little-endian fields of the image or of boot_params. */
static u8 rd8(const u8 *b, u32 off) { return b[off]; }
static u16 rd16(const u8 *b, u32 off) { return (u16)(b[off] | b[off + 1] << 8); }
static u32 rd32(const u8 *b, u32 off) { return rd16(b, off) | (u32)rd16(b, off + 2) << 16; }
static u64 rd64(const u8 *b, u32 off) { return rd32(b, off) | (u64)rd32(b, off + 4) << 32; }
static void wr16(u8 *b, u32 off, u16 v) { b[off] = (u8)v; b[off + 1] = (u8)(v >> 8); }
static void wr32(u8 *b, u32 off, u32 v) { wr16(b, off, (u16)v); wr16(b, off + 2, (u16)(v >> 16)); }
static void wr64(u8 *b, u32 off, u64 v) { wr32(b, off, (u32)v); wr32(b, off + 4, (u32)(v >> 32)); }

/* Step 1: why @image is not a bzImage with a 64-bit entry, or NULL if it is. */
static const char *header_problem(const u8 *image, u64 size)
{
	if (size < HDR_MIN_SIZE || memcmp(image + HDR_MAGIC, "HdrS", 4) != 0)
		return "not a Linux bzImage: no \"HdrS\" setup header at offset 0x202";
	if (rd16(image, HDR_VERSION) < 0x020c)
		return "Linux boot protocol older than 2.12 has no 64-bit entry point";
	if (!(rd16(image, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return "kernel has no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)";
	return NULL;
}

static bool linux_probe(const void *image, u64 size)
{
	return header_problem(image, size) == NULL;
}

/* Step 3: where the kernel goes. Returns 0 and sets @addr, or -1 with the reason. */
static int choose_load_address(const u8 *image, u64 kernel_size, u64 limit, u64 *addr,
			       char *err, size_t errlen)
{
	u64 need = rd32(image, HDR_INIT_SIZE) > kernel_size ? rd32(image, HDR_INIT_SIZE) : kernel_size;
	u64 pref = rd64(image, HDR_PREF_ADDRESS);
	u64 align = rd32(image, HDR_KERNEL_ALIGNMENT);

	/* The linked address first: nothing to relocate. */
	if (pref >= HVLAB_GUEST_LOAD_MIN && pref <= limit && need <= limit - pref) {
		*addr = pref;
		return 0;
	}
	if (!rd8(image, HDR_RELOCATABLE)) {
		snprintf(err, errlen, "kernel needs 0x%lx-0x%lx, which is not free RAM, and is not "
			 "relocatable", pref, pref + need);
		return -1;
	}
	if (align == 0 || (align & (align - 1))) {
		snprintf(err, errlen, "kernel_alignment 0x%lx is not a power of two", align);
		return -1;
	}
	u64 base = rd32(image, HDR_CODE32_START) > HVLAB_GUEST_LOAD_MIN ?
		   rd32(image, HDR_CODE32_START) : HVLAB_GUEST_LOAD_MIN;
	base = ALIGN_UP(base, align);
	if (base > limit || need > limit - base) {
		snprintf(err, errlen, "kernel needs %lu KiB at 0x%lx, but RAM ends at 0x%lx",
			 need >> 10, base, limit);
		return -1;
	}
	*addr = base;
	return 0;
}

/* Step 4: boot_params at @bp (zeroed), for a kernel whose setup header is in @image. */
static int fill_boot_params(struct partition *p, struct scratch *s, const struct loader_input *in,
			    u8 *bp, u64 initrd_gpa, char *err, size_t errlen)
{
	const u8 *image = in->image;
	u64 hdr_end = HDR_MAGIC + (u64)rd8(image, HDR_JUMP + 1); /* boot.rst "64-bit Boot Protocol" */
	struct pc_region map[PC_MAP_MAX];
	int n = pc_memory_map(p->mem_size, map);

	/* The setup header as the kernel wrote it; then the fields that are ours to write. */
	if (hdr_end > in->size || hdr_end > BP_E820_TABLE) {
		snprintf(err, errlen, "setup header end 0x%lx is past the image or boot_params", hdr_end);
		return -1;
	}
	memcpy(bp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	wr16(bp, HDR_HEAP_END_PTR, 0xfe00); /* unused by the 64-bit entry, but valid */

	/* The command line: at most cmdline_size bytes without its NUL (protocol 2.06+). */
	u64 cmdline_len = strlen(in->cmdline);
	if (cmdline_len > rd32(image, HDR_CMDLINE_SIZE)) {
		snprintf(err, errlen, "command line of %lu bytes is longer than the kernel's "
			 "cmdline_size %u", cmdline_len, rd32(image, HDR_CMDLINE_SIZE));
		return -1;
	}
	u64 cmdline = scratch_string(s, in->cmdline);
	if (!cmdline) {
		snprintf(err, errlen, "the command line does not fit in the loader scratch area");
		return -1;
	}
	wr32(bp, HDR_CMD_LINE_PTR, (u32)cmdline);
	wr32(bp, BP_EXT_CMD_LINE_PTR, (u32)(cmdline >> 32));

	/* The initrd, if any, split into low and high 32 bits. */
	if (in->initrd) {
		wr32(bp, HDR_RAMDISK_IMAGE, (u32)initrd_gpa);
		wr32(bp, BP_EXT_RAMDISK_IMAGE, (u32)(initrd_gpa >> 32));
		wr32(bp, HDR_RAMDISK_SIZE, (u32)in->initrd_size);
		wr32(bp, BP_EXT_RAMDISK_SIZE, (u32)(in->initrd_size >> 32));
	}

	/* The memory map, as the BIOS E820 call would report it. */
	for (int i = 0; i < n; i++) {
		wr64(bp, BP_E820_TABLE + 20 * i, map[i].base);
		wr64(bp, BP_E820_TABLE + 20 * i + 8, map[i].len);
		wr32(bp, BP_E820_TABLE + 20 * i + 16, map[i].type);
	}
	bp[BP_E820_ENTRIES] = (u8)n;

	/* screen_info: no VGA text console (orig_video_isVGA 0); the console is ttyS0. */
	bp[BP_ORIG_VIDEO_ISVGA] = 0;
	return 0;
}

/* Step 5: a 4 GiB identity map with 2 MiB pages (SDM Vol. 3A §4.5): one PML4 entry, a
 * PDPT with four entries, four page directories. Returns the PML4 address or 0. */
static u64 identity_map_4g(struct scratch *s)
{
	u64 pml4_gpa = 0, pdpt_gpa = 0, pd_gpa = 0;
	u64 *pml4 = scratch_alloc(s, PAGE_SIZE, PAGE_SIZE, &pml4_gpa);
	u64 *pdpt = scratch_alloc(s, PAGE_SIZE, PAGE_SIZE, &pdpt_gpa);
	u64 *pd = scratch_alloc(s, 4 * PAGE_SIZE, PAGE_SIZE, &pd_gpa);

	if (!pml4 || !pdpt || !pd)
		return 0;
	pml4[0] = pdpt_gpa | PTE_P | PTE_W;
	for (u64 i = 0; i < 4; i++)
		pdpt[i] = (pd_gpa + i * PAGE_SIZE) | PTE_P | PTE_W;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
	return pml4_gpa;
}

static int linux_load(struct partition *p, const struct loader_input *in, struct boot_state *bs,
		      char *err, size_t errlen)
{
	/* __BOOT_CS (0x10) and __BOOT_DS (0x18) as the protocol asks, entered with exactly
	 * those selectors (bs->cs, bs->ds below); 0x08 is 64-bit code as well, harmlessly. */
	static const u64 gdt[] = { 0, GDT_CODE64, GDT_CODE64, GDT_DATA };
	const u8 *image = in->image;
	struct scratch s = scratch_begin(p);
	u64 initrd_gpa, load_addr, bp_gpa;

	/* 1. The header. */
	const char *why = header_problem(image, in->size);
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	u64 setup_sects = rd8(image, HDR_SETUP_SECTS) ? rd8(image, HDR_SETUP_SECTS) : 4;
	u64 kernel_off = (setup_sects + 1) * 512;
	if (kernel_off >= in->size) {
		snprintf(err, errlen, "setup_sects %lu puts the kernel past the end of the %lu-byte image",
			 setup_sects, in->size);
		return -1;
	}
	u64 kernel_size = in->size - kernel_off;
	if (kernel_size <= LINUX_ENTRY64_OFFSET) {
		snprintf(err, errlen, "protected-mode kernel of %lu bytes ends before its 64-bit "
			 "entry at offset 0x200", kernel_size);
		return -1;
	}

	/* 2. The initrd at the top of RAM, its last byte at or below initrd_addr_max. */
	u64 top = (u64)rd32(image, HDR_INITRD_ADDR_MAX) + 1;
	if (initrd_place(in, top < p->mem_size ? top : p->mem_size, &initrd_gpa, err, errlen) < 0)
		return -1;

	/* 3. The protected-mode kernel, with init_size bytes of room from its start. */
	if (choose_load_address(image, kernel_size, in->initrd ? initrd_gpa : p->mem_size,
				&load_addr, err, errlen) < 0)
		return -1;
	memcpy(guest_ram(p, load_addr, kernel_size), image + kernel_off, kernel_size);
	initrd_copy(p, in, initrd_gpa);

	/* 4 and 5. boot_params, page tables and GDT in the scratch area. */
	u8 *bp = scratch_alloc(&s, BP_SIZE, PAGE_SIZE, &bp_gpa);
	u64 pml4 = identity_map_4g(&s);
	if (!bp || !pml4 || scratch_gdt(&s, gdt, ARRAY_SIZE(gdt), bs) < 0) {
		snprintf(err, errlen, "boot_params and page tables do not fit in the loader scratch area");
		return -1;
	}
	if (fill_boot_params(p, &s, in, bp, initrd_gpa, err, errlen) < 0)
		return -1;
	wr32(bp, HDR_CODE32_START, (u32)load_addr); /* where the kernel really is */

	/* 6. 64-bit mode, paging on, RSI = boot_params, RFLAGS.IF = 0 (load_guest_image()
	 *    set RFLAGS to 0x2); RBP, RDI and RBX stay 0. */
	bs->mode = BOOT_LONG64;
	bs->rip = load_addr + LINUX_ENTRY64_OFFSET;
	bs->cr3 = pml4;
	bs->cs = 0x10; /* __BOOT_CS and __BOOT_DS of the boot protocol */
	bs->ds = 0x18;
	bs->gpr[GPR_RSI] = bp_gpa;
	return 0;
}

IMAGE_LOADER(linux_loader) = { "linux", 40, linux_probe, linux_load };
