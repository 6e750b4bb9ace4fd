/**
 * @file multiboot1.c
 * @brief The Multiboot loader (Multiboot Specification 0.6.96): an OS image with a
 * Multiboot header, entered in 32-bit protected mode with the Multiboot information.
 *
 * Steps, each citing the specification:
 *  1. find the header: magic 0x1BADB002, 32-bit aligned, in the first 8192 bytes, with
 *     magic + flags + checksum = 0 (§3.1.1, §3.1.2);
 *  2. refuse what the header requires and hvlab cannot give (flags bits 0-15, §3.1.2);
 *  3. load the image: the a.out-kludge address fields when flags bit 16 is set (§3.1.3),
 *     else the ELF program headers;
 *  4. the initrd becomes module 0, page-aligned at the top of RAM (§3.3 "mods");
 *  5. the Multiboot information in the loader scratch area (§3.3);
 *  6. the machine state of §3.2: EAX = 0x2BADB002, EBX = the information, flat 32-bit
 *     segments, paging off, interrupts off.
 */
#include <arch/loader.h>
#include <hvlab/multiboot1.h>
#include <arch/regs.h>
#include "boot_layout.h"


/* Header flags (§3.1.2). Bits 0-15 are requirements: an unknown one means "refuse". */
#define MB1_PAGE_ALIGN BIT(0)   /* modules page-aligned: always so here */
#define MB1_MEMORY_INFO BIT(1)  /* mem_* and mmap_*: always given here */
#define MB1_VIDEO_MODE BIT(2)   /* a graphics mode: hvlab has no framebuffer */
#define MB1_AOUT_KLUDGE BIT(16) /* the address fields below are valid */


/** The OS image header (§3.1.1); the graphics fields that follow are not used. */
struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr; /* flag bit 16 */
};


/* Step 1: the header and its file offset, or NULL. Only magic, flags and checksum (12
 * bytes) need be in the file here; the address fields are checked when used. */
static const struct mb1_header *find_header(const void *image, u64 size, u64 *offset)
{
	u64 end = size < MB1_SEARCH_BYTES ? size : MB1_SEARCH_BYTES;

	for (u64 off = 0; off + 12 <= end; off += 4) {
		const struct mb1_header *h = (const void *)((const u8 *)image + off);
		if (h->magic == MB1_HEADER_MAGIC && (u32)(h->magic + h->flags + h->checksum) == 0) {
			*offset = off;
			return h;
		}
	}
	return NULL;
}

static bool mb1_probe(const void *image, u64 size)
{
	u64 off;

	return find_header(image, size, &off) != NULL;
}

/* Step 3 with flags bit 16: the a.out kludge (§3.1.3). The file is loaded from the
 * offset at which the header sits, minus (header_addr - load_addr). */
static int load_aout_kludge(struct partition *p, const struct loader_input *in,
			    const struct mb1_header *h, u64 hdr_off, u64 limit, u64 *entry,
			    char *err, size_t errlen)
{
	u64 load_end, bss_end;

	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > hdr_off) {
		snprintf(err, errlen, "Multiboot load_addr 0x%x and header_addr 0x%x put the image "
			 "start before the file", h->load_addr, h->header_addr);
		return -1;
	}
	u64 file_off = hdr_off - (h->header_addr - h->load_addr);
	/* load_end_addr 0: the whole rest of the file; bss_end_addr 0: no bss. */
	load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (in->size - file_off);
	bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (load_flat_image(p, in->image, in->size, file_off, h->load_addr, load_end, bss_end,
			    limit, err, errlen) < 0)
		return -1;
	if (h->entry_addr < h->load_addr || h->entry_addr >= bss_end) {
		snprintf(err, errlen, "Multiboot entry_addr 0x%x is outside the image 0x%x-0x%lx",
			 h->entry_addr, h->load_addr, bss_end);
		return -1;
	}
	*entry = h->entry_addr;
	return 0;
}

/* Step 5: the Multiboot information and what it points to, in the scratch area.
 * Returns its address, or 0 when the scratch area is full. */
static u64 write_info(struct partition *p, struct scratch *s, const struct loader_input *in,
		      u64 initrd_gpa)
{
	struct pc_region map[PC_MAP_MAX];
	int n = pc_memory_map(p->mem_size, map);
	u64 info_gpa = 0, mods_gpa = 0, mmap_gpa = 0;
	struct mb1_info *mbi = scratch_alloc(s, sizeof(*mbi), 8, &info_gpa);
	struct mb1_module *mod = scratch_alloc(s, sizeof(*mod), 8, &mods_gpa);
	struct mb1_mmap_entry *mmap = scratch_alloc(s, n * sizeof(*mmap), 8, &mmap_gpa);

	if (!mbi || !mod || !mmap)
		return 0;

	/* mem_lower: KiB of RAM from 0 (at most 640); mem_upper: KiB of RAM from 1 MiB to the
	 * first hole, here the end of RAM. */
	mbi->flags = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;
	mbi->mem_lower = (u32)(HVLAB_LOADER_SCRATCH_END >> 10);
	mbi->mem_upper = p->mem_size > MiB(1) ? (u32)((p->mem_size - MiB(1)) >> 10) : 0;
	mbi->cmdline = (u32)scratch_string(s, in->cmdline);
	mbi->boot_loader_name = (u32)scratch_string(s, "hvlab");

	/* The initrd is module 0; its string is the name of its boot module. */
	if (in->initrd) {
		mod->mod_start = (u32)initrd_gpa;
		mod->mod_end = (u32)(initrd_gpa + in->initrd_size);
		mod->string = (u32)scratch_string(s, p->cfg->initrd);
		mbi->mods_count = 1;
		if (!mod->string)
			return 0;
	}
	mbi->mods_addr = (u32)mods_gpa;

	for (int i = 0; i < n; i++)
		mmap[i] = (struct mb1_mmap_entry){ sizeof(mmap[i]) - 4, map[i].base, map[i].len,
						   map[i].type };
	mbi->mmap_addr = (u32)mmap_gpa;
	mbi->mmap_length = (u32)(n * sizeof(*mmap));
	return mbi->cmdline && mbi->boot_loader_name ? info_gpa : 0;
}

static int mb1_load(struct partition *p, const struct loader_input *in, struct boot_state *bs,
		    char *err, size_t errlen)
{
	static const u64 gdt[] = { 0, GDT_CODE32, GDT_DATA }; /* 0x08 code, 0x10 data */
	struct scratch s = scratch_begin(p);
	u64 hdr_off, initrd_gpa, entry, mbi;

	/* 1. The header. */
	const struct mb1_header *h = find_header(in->image, in->size, &hdr_off);
	if (!h) {
		snprintf(err, errlen, "no Multiboot header (magic 0x%x with checksum, 4-byte aligned) "
			 "in the first %u bytes", MB1_HEADER_MAGIC, MB1_SEARCH_BYTES);
		return -1;
	}

	/* 2. Requirements: bits 0 and 1 are always met; any other of bits 0-15 is refused. */
	u32 unmet = h->flags & 0xffff & ~(u32)(MB1_PAGE_ALIGN | MB1_MEMORY_INFO);
	if (unmet & MB1_VIDEO_MODE) {
		snprintf(err, errlen, "Multiboot header requires a video mode (flags bit 2); "
			 "partitions have no framebuffer");
		return -1;
	}
	if (unmet) {
		snprintf(err, errlen, "Multiboot header requires features hvlab does not know "
			 "(flags 0x%x)", unmet);
		return -1;
	}

	/* 3 and 4. The initrd's place first, so the kernel is checked to end below it. */
	if (initrd_place(in, p->mem_size, &initrd_gpa, err, errlen) < 0)
		return -1;
	if (h->flags & MB1_AOUT_KLUDGE) {
		if (hdr_off + sizeof(*h) > in->size) {
			snprintf(err, errlen, "Multiboot header address fields run past the file");
			return -1;
		}
		if (load_aout_kludge(p, in, h, hdr_off, initrd_gpa, &entry, err, errlen) < 0)
			return -1;
	} else if (elf_load_below(p, in->image, in->size, initrd_gpa, &entry, err, errlen) < 0) {
		return -1;
	}
	if (entry >= GiB(4)) {
		snprintf(err, errlen, "entry point 0x%lx is not reachable in 32-bit mode", entry);
		return -1;
	}
	initrd_copy(p, in, initrd_gpa);

	/* 5. The information structure, and a GDT for when the kernel reloads a segment. */
	mbi = write_info(p, &s, in, initrd_gpa);
	if (!mbi || scratch_gdt(&s, gdt, ARRAY_SIZE(gdt), bs) < 0) {
		snprintf(err, errlen, "the Multiboot information does not fit in the loader scratch area");
		return -1;
	}

	/* 6. The machine state of §3.2 (vmcs_setup.c gives the flat segments, CR0.PE only). */
	bs->mode = BOOT_PROTECTED32;
	bs->rip = entry;
	bs->gpr[GPR_RAX] = MB1_BOOTLOADER_MAGIC;
	bs->gpr[GPR_RBX] = mbi;
	return 0;
}

IMAGE_LOADER(multiboot1_loader) = { "multiboot", 30, mb1_probe, mb1_load };
