/**
 * @file boot_layout.h
 * @brief What the Multiboot1, Multiboot2 and Linux loaders share: the PC memory map they
 * all report, a bump allocator for the loader scratch area, where the initrd goes, and
 * loading an ELF kernel below it.
 *
 * The layout is the one src/include/hvlab/guest_abi.h draws: boot structures in the
 * scratch area 0x9000-0x9efff, images from 1 MiB up, the initrd page-aligned at the top
 * of RAM. Private to src/arch/x86/loaders/.
 */
#ifndef LOADERS_BOOT_LAYOUT_H
#define LOADERS_BOOT_LAYOUT_H

#include <arch/loader.h>
#include <hvlab/guest_abi.h>
#include <hvlab/partition.h>
#include <hvlab/lib.h>

/* Memory types of the BIOS E820 call, which Multiboot (§3.3 "mmap") and Linux
 * (boot_params.e820_table) both reuse: 1 = usable RAM, 2 = reserved. */
#define PC_MEM_RAM 1
#define PC_MEM_RESERVED 2
#define PC_MAP_MAX 4

/** One range of the guest-physical memory map. */
struct pc_region {
	u64 base, len;
	u32 type;
};

/**
 * Fill @p out (PC_MAP_MAX entries) with the memory map of a partition of @p mem_size
 * bytes and return the number of entries: conventional RAM below the EBDA, the EBDA and
 * the ACPI/BIOS area reserved, then RAM from 1 MiB to the end. The VGA/option-ROM hole
 * 0xa0000-0xdffff is left out, as PC firmware does: what a map omits is not RAM.
 */
static inline int pc_memory_map(u64 mem_size, struct pc_region *out)
{
	int n = 0;

	out[n++] = (struct pc_region){ 0, HVLAB_LOADER_SCRATCH_END, PC_MEM_RAM };
	out[n++] = (struct pc_region){ HVLAB_LOADER_SCRATCH_END,
				       HVLAB_LOW_RAM_END - HVLAB_LOADER_SCRATCH_END, PC_MEM_RESERVED };
	out[n++] = (struct pc_region){ HVLAB_ACPI_AREA, HVLAB_ACPI_AREA_END - HVLAB_ACPI_AREA,
				       PC_MEM_RESERVED };
	if (mem_size > HVLAB_ACPI_AREA_END)
		out[n++] = (struct pc_region){ HVLAB_ACPI_AREA_END, mem_size - HVLAB_ACPI_AREA_END,
					       PC_MEM_RAM };
	return n;
}

/** A cursor in the loader scratch area (guest_abi.h: 0x9000-0x9efff). */
struct scratch {
	struct partition *p;
	u64 next; /**< guest-physical address of the next free byte */
};

/** Start handing out the scratch area of @p p. */
static inline struct scratch scratch_begin(struct partition *p)
{
	return (struct scratch){ p, HVLAB_LOADER_SCRATCH };
}

/**
 * @p size zeroed bytes of the scratch area aligned to @p align (a power of two): returns
 * the host pointer and stores the guest-physical address in @p gpa; NULL when the area
 * (or the partition's RAM) is full.
 */
static inline void *scratch_alloc(struct scratch *s, u64 size, u64 align, u64 *gpa)
{
	u64 at = ALIGN_UP(s->next, align);
	void *host;

	if (at > HVLAB_LOADER_SCRATCH_END || size > HVLAB_LOADER_SCRATCH_END - at)
		return NULL;
	host = guest_ram(s->p, at, size);
	if (!host)
		return NULL;
	memset(host, 0, size);
	s->next = at + size;
	*gpa = at;
	return host;
}

/** Copy the NUL-terminated @p str into the scratch area; returns its address or 0. */
static inline u64 scratch_string(struct scratch *s, const char *str)
{
	u64 gpa, len = strlen(str) + 1;
	char *dst = scratch_alloc(s, len, 1, &gpa);

	if (!dst)
		return 0;
	memcpy(dst, str, len);
	return gpa;
}

/* Flat GDT descriptors (SDM Vol. 3A §3.4.5): base 0, limit 4 GiB, present, ring 0. */
#define GDT_CODE32 0x00cf9a000000ffffULL /* execute/read, D = 1 (32-bit) */
#define GDT_CODE64 0x00af9a000000ffffULL /* execute/read, L = 1 (64-bit) */
#define GDT_DATA 0x00cf92000000ffffULL   /* read/write */

/**
 * Write a GDT of @p n descriptors (entry 0 must be the null descriptor) into the scratch
 * area and point @p bs at it. Returns 0, or -1 when the scratch area is full.
 */
static inline int scratch_gdt(struct scratch *s, const u64 *desc, int n, struct boot_state *bs)
{
	u64 gpa;
	u64 *gdt = scratch_alloc(s, (u64)n * 8, 8, &gpa);

	if (!gdt)
		return -1;
	memcpy(gdt, desc, (size_t)n * 8);
	bs->gdt_base = gpa;
	bs->gdt_limit = (u16)(n * 8 - 1);
	return 0;
}

/**
 * Where the initrd of @p in goes: the highest page-aligned address at which it ends at or
 * below @p top (the end of RAM, or lower if the protocol says so). Without an initrd
 * @p gpa is @p top, so either way the kernel must end at or below *@p gpa.
 * Returns 0, or -1 with the reason when it does not fit above 1 MiB.
 */
static inline int initrd_place(const struct loader_input *in, u64 top, u64 *gpa, char *err,
			       size_t errlen)
{
	*gpa = top;
	if (!in->initrd)
		return 0;
	if (in->initrd_size > top || top - in->initrd_size < HVLAB_GUEST_LOAD_MIN) {
		snprintf(err, errlen, "initrd of %lu KiB does not fit in RAM above 1 MiB",
			 in->initrd_size >> 10);
		return -1;
	}
	*gpa = ALIGN_DOWN(top - in->initrd_size, PAGE_SIZE);
	return 0;
}

/** Copy the initrd of @p in to @p gpa (from initrd_place()) in @p p. */
static inline void initrd_copy(struct partition *p, const struct loader_input *in, u64 gpa)
{
	if (in->initrd)
		memcpy(guest_ram(p, gpa, in->initrd_size), in->initrd, in->initrd_size);
}

/**
 * elf_load_segments() for a kernel that must end at or below @p limit (where the initrd
 * starts). elf_load_segments() checks every segment against p->mem_size, so lowering that
 * for the duration of the call turns "overlaps the initrd" into "does not fit".
 */
static inline int elf_load_below(struct partition *p, const void *image, u64 size, u64 limit,
				 u64 *entry, char *err, size_t errlen)
{
	u64 mem_size = p->mem_size;
	int r;

	p->mem_size = limit < mem_size ? limit : mem_size;
	r = elf_load_segments(p, image, size, HVLAB_GUEST_LOAD_MIN, entry, err, errlen);
	p->mem_size = mem_size;
	if (r < 0 && limit < mem_size)
		snprintf(err + strlen(err), errlen - strlen(err), " below the initrd");
	return r;
}

/**
 * The a.out-kludge load of Multiboot1 (§3.1.3) and Multiboot2's address tag (§3.1.5):
 * the file from @p file_off up to [@p load_addr, @p load_end) of memory, then zeroes up
 * to @p bss_end, all inside [1 MiB, @p limit). Returns 0, or -1 with the reason.
 */
static inline int load_flat_image(struct partition *p, const void *image, u64 size, u64 file_off,
				  u64 load_addr, u64 load_end, u64 bss_end, u64 limit, char *err,
				  size_t errlen)
{
	u8 *dst;

	if (load_end < load_addr || bss_end < load_end || file_off > size ||
	    load_end - load_addr > size - file_off) {
		snprintf(err, errlen, "address fields 0x%lx-0x%lx (bss to 0x%lx) do not match the "
			 "%lu-byte file", load_addr, load_end, bss_end, size);
		return -1;
	}
	dst = load_addr >= HVLAB_GUEST_LOAD_MIN && bss_end <= limit ?
	      guest_ram(p, load_addr, bss_end - load_addr) : NULL;
	if (!dst) {
		snprintf(err, errlen, "image at 0x%lx-0x%lx does not fit in RAM [1 MiB, 0x%lx)",
			 load_addr, bss_end, limit);
		return -1;
	}
	memcpy(dst, (const u8 *)image + file_off, load_end - load_addr);
	memset(dst + (load_end - load_addr), 0, bss_end - load_end);
	return 0;
}

#endif
