/**
 * @file multiboot2.c
 * @brief The Multiboot2 loader (Multiboot2 Specification 2.0): booting a Multiboot2
 * *guest*, as GRUB boots hvlab itself (src/core/multiboot2.c reads what GRUB gives us;
 * this file writes the same kind of structure for a guest).
 *
 * Steps:
 *  1. find the header: magic 0xE85250D6, 64-bit aligned, in the first 32768 bytes, with
 *     magic + architecture + header_length + checksum = 0 (§3.1.1, §3.1.2);
 *  2. read its tags (§3.1.3-§3.1.9): the address tag and the entry address tag are
 *     honoured, an information request is checked against what we give, and a tag we
 *     cannot honour is refused unless its "optional" flag (bit 0) is set;
 *  3. load the image by the address tag, else by its ELF program headers (§3.1.5);
 *  4. the initrd becomes a module, page-aligned at the top of RAM;
 *  5. the boot information tags (§3.6) in the loader scratch area;
 *  6. the machine state of §3.3: EAX = 0x36d76289, EBX = the information, flat 32-bit
 *     segments, paging off, interrupts off.
 */
#include <arch/loader.h>
#include <arch/regs.h>
#include <hvlab/multiboot2.h>
#include "boot_layout.h"

#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_SEARCH_BYTES 32768
#define MB2_ARCH_I386 0 /* 32-bit protected mode (§3.1.2) */

/* Header tag types (§3.1.3-§3.1.9). */
#define MB2_HTAG_END 0
#define MB2_HTAG_INFO_REQUEST 1
#define MB2_HTAG_ADDRESS 2
#define MB2_HTAG_ENTRY 3
#define MB2_HTAG_CONSOLE 4
#define MB2_HTAG_MODULE_ALIGN 6
#define MB2_HTAG_RELOCATABLE 10
#define MB2_HTAG_OPTIONAL 1 /* flags bit 0: the boot loader may ignore this tag */

#define MB2_INFO_BYTES 2048 /* room for the information structure we write */

struct mb2_header {
	u32 magic, architecture, header_length, checksum;
};

struct mb2_htag {
	u16 type, flags;
	u32 size;
};

/** The address tag (§3.1.5): like Multiboot1's a.out-kludge fields. */
struct mb2_htag_address {
	struct mb2_htag tag;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr;
};

/** What the header tags asked for. */
struct mb2_request {
	const struct mb2_htag_address *address; /* NULL: load the ELF program headers */
	u64 entry;                              /* 0: the ELF entry point */
};

/* Step 1: the header and its file offset, or NULL. */
static const struct mb2_header *find_header(const void *image, u64 size, u64 *offset)
{
	u64 end = size < MB2_SEARCH_BYTES ? size : MB2_SEARCH_BYTES;

	for (u64 off = 0; off + sizeof(struct mb2_header) <= end; off += 8) {
		const struct mb2_header *h = (const void *)((const u8 *)image + off);
		if (h->magic == MB2_HEADER_MAGIC &&
		    (u32)(h->magic + h->architecture + h->header_length + h->checksum) == 0) {
			*offset = off;
			return h;
		}
	}
	return NULL;
}

static bool mb2_probe(const void *image, u64 size)
{
	u64 off;

	return find_header(image, size, &off) != NULL;
}

/* Is boot information tag @type one this loader writes (step 5)? */
static bool info_tag_given(u32 type)
{
	return type == MB2_TAG_END || type == MB2_TAG_CMDLINE || type == MB2_TAG_BOOTLOADER ||
	       type == MB2_TAG_MODULE || type == MB2_TAG_BASIC_MEMINFO || type == MB2_TAG_MMAP;
}

/* Step 2: walk the header tags of @h (at file offset @off). Returns 0 and fills @req, or
 * -1 with the reason. */
static int read_header_tags(const struct loader_input *in, const struct mb2_header *h, u64 off,
			    struct mb2_request *req, char *err, size_t errlen)
{
	const u8 *base = (const u8 *)in->image + off;

	if (h->architecture != MB2_ARCH_I386) {
		snprintf(err, errlen, "Multiboot2 header is for architecture %u, not i386 (0)",
			 h->architecture);
		return -1;
	}
	if (h->header_length < sizeof(*h) || h->header_length > in->size - off) {
		snprintf(err, errlen, "Multiboot2 header_length %u runs past the file", h->header_length);
		return -1;
	}
	for (u32 at = sizeof(*h); ; ) {
		if (at > h->header_length - sizeof(struct mb2_htag)) {
			snprintf(err, errlen, "Multiboot2 header has no end tag");
			return -1;
		}
		const struct mb2_htag *t = (const void *)(base + at);
		if (t->size < sizeof(*t) || t->size > h->header_length - at) {
			snprintf(err, errlen, "Multiboot2 header tag %u has a bad size %u", t->type, t->size);
			return -1;
		}
		bool required = !(t->flags & MB2_HTAG_OPTIONAL);
		switch (t->type) {
		case MB2_HTAG_END:
			return 0;
		case MB2_HTAG_INFO_REQUEST: { /* §3.1.4: a list of boot information tag types */
			const u32 *types = (const u32 *)(t + 1);
			for (u32 i = 0; required && i < (t->size - sizeof(*t)) / 4; i++)
				if (!info_tag_given(types[i])) {
					snprintf(err, errlen, "Multiboot2 header requires boot information "
						 "tag %u, which hvlab does not give", types[i]);
					return -1;
				}
			break;
		}
		case MB2_HTAG_ADDRESS:
			if (t->size < sizeof(struct mb2_htag_address)) {
				snprintf(err, errlen, "Multiboot2 address tag is too short (%u bytes)", t->size);
				return -1;
			}
			req->address = (const void *)t;
			break;
		case MB2_HTAG_ENTRY: /* §3.1.6: entry_addr, a u32 after the tag header */
			if (t->size < sizeof(*t) + 4) {
				snprintf(err, errlen, "Multiboot2 entry address tag is too short (%u bytes)",
					 t->size);
				return -1;
			}
			req->entry = *(const u32 *)(t + 1);
			break;
		case MB2_HTAG_CONSOLE:      /* our console is the serial port, always present */
		case MB2_HTAG_MODULE_ALIGN: /* modules are always page-aligned */
		case MB2_HTAG_RELOCATABLE:  /* we load at the linked address, which it allows */
			break;
		default:
			if (required) {
				snprintf(err, errlen, "Multiboot2 header tag %u (%s) is required but "
					 "hvlab does not support it", t->type,
					 t->type == 5 ? "framebuffer" : t->type >= 7 && t->type <= 9 ?
					 "EFI" : "unknown");
				return -1;
			}
		}
		at += (u32)ALIGN_UP(t->size, 8);
	}
}

/* Step 3 with the address tag (§3.1.5). load_addr -1 means "from the file's start". */
static int load_by_address_tag(struct partition *p, const struct loader_input *in, u64 hdr_off,
			       const struct mb2_htag_address *a, u64 limit, char *err, size_t errlen)
{
	u64 load_addr, file_off, load_end, bss_end;

	if (a->load_addr == 0xffffffffu) {
		file_off = 0;
		load_addr = a->header_addr - hdr_off;
	} else if (a->load_addr <= a->header_addr && a->header_addr - a->load_addr <= hdr_off) {
		file_off = hdr_off - (a->header_addr - a->load_addr);
		load_addr = a->load_addr;
	} else {
		snprintf(err, errlen, "Multiboot2 load_addr 0x%x and header_addr 0x%x put the image "
			 "start before the file", a->load_addr, a->header_addr);
		return -1;
	}
	load_end = a->load_end_addr ? a->load_end_addr : load_addr + (in->size - file_off);
	bss_end = a->bss_end_addr ? a->bss_end_addr : load_end;
	return load_flat_image(p, in->image, in->size, file_off, load_addr, load_end, bss_end,
			       limit, err, errlen);
}

/** A boot information structure being written: tags appended at len (§3.6.1). */
struct mbi_writer {
	u8 *buf;
	u32 len;
	bool full;
};

/* Append a tag of @type and @size bytes (header included, zeroed, padded to 8). */
static void *add_tag(struct mbi_writer *w, u32 type, u32 size)
{
	if (w->full || ALIGN_UP(size, 8) > MB2_INFO_BYTES - w->len) {
		w->full = true;
		return NULL;
	}
	struct mb2_htag *t = (void *)(w->buf + w->len);
	t->type = (u16)type;
	t->flags = 0;
	t->size = size;
	w->len += (u32)ALIGN_UP(size, 8);
	return t;
}

/* Append a tag holding @prefix_len bytes of fields and then the string @str. Returns a
 * pointer to the fields. */
static void *add_string_tag(struct mbi_writer *w, u32 type, u32 prefix_len, const char *str)
{
	u32 len = (u32)strlen(str) + 1;
	u8 *t = add_tag(w, type, 8 + prefix_len + len);

	if (!t)
		return NULL;
	memcpy(t + 8 + prefix_len, str, len);
	return t + 8;
}

/* Step 5: the boot information (§3.6). Returns its address, or 0 if it does not fit. */
static u64 write_info(struct partition *p, struct scratch *s, const struct loader_input *in,
		      u64 initrd_gpa)
{
	struct pc_region map[PC_MAP_MAX];
	int n = pc_memory_map(p->mem_size, map);
	u64 gpa;
	struct mbi_writer w = { scratch_alloc(s, MB2_INFO_BYTES, 8, &gpa), 8, false };

	if (!w.buf)
		return 0;
	add_string_tag(&w, MB2_TAG_CMDLINE, 0, in->cmdline);          /* §3.6.3 */
	add_string_tag(&w, MB2_TAG_BOOTLOADER, 0, "hvlab");           /* §3.6.4 */
	if (in->initrd) {                                             /* §3.6.6 */
		u32 *mod = add_string_tag(&w, MB2_TAG_MODULE, 8, p->cfg->initrd);
		if (mod) {
			mod[0] = (u32)initrd_gpa;
			mod[1] = (u32)(initrd_gpa + in->initrd_size);
		}
	}
	u32 *mem = add_tag(&w, MB2_TAG_BASIC_MEMINFO, 16);            /* §3.6.2 */
	if (mem) {
		mem[2] = (u32)(HVLAB_LOADER_SCRATCH_END >> 10);  /* mem_lower, KiB */
		mem[3] = p->mem_size > MiB(1) ? (u32)((p->mem_size - MiB(1)) >> 10) : 0;
	}
	u32 *mmap = add_tag(&w, MB2_TAG_MMAP, 16 + 24 * n);           /* §3.6.8 */
	if (mmap) {
		mmap[2] = 24; /* entry_size */
		mmap[3] = 0;  /* entry_version */
		for (int i = 0; i < n; i++) {
			u32 *e = mmap + 4 + 6 * i; /* base_addr (u64), length (u64), type, reserved */
			e[0] = (u32)map[i].base;
			e[1] = (u32)(map[i].base >> 32);
			e[2] = (u32)map[i].len;
			e[3] = (u32)(map[i].len >> 32);
			e[4] = map[i].type;
		}
	}
	add_tag(&w, MB2_TAG_END, 8);
	if (w.full)
		return 0;
	((u32 *)w.buf)[0] = w.len; /* total_size; reserved stays 0 (§3.6.1) */
	return gpa;
}

static int mb2_load(struct partition *p, const struct loader_input *in, struct boot_state *bs,
		    char *err, size_t errlen)
{
	static const u64 gdt[] = { 0, GDT_CODE32, GDT_DATA }; /* 0x08 code, 0x10 data */
	struct scratch s = scratch_begin(p);
	struct mb2_request req = { NULL, 0 };
	u64 hdr_off, initrd_gpa, entry = 0, mbi;

	/* 1 and 2. The header and its tags. */
	const struct mb2_header *h = find_header(in->image, in->size, &hdr_off);
	if (!h) {
		snprintf(err, errlen, "no Multiboot2 header (magic 0x%x with checksum, 8-byte aligned) "
			 "in the first %u bytes", MB2_HEADER_MAGIC, MB2_SEARCH_BYTES);
		return -1;
	}
	if (read_header_tags(in, h, hdr_off, &req, err, errlen) < 0)
		return -1;

	/* 3 and 4. The initrd's place first, so the kernel is checked to end below it. */
	if (initrd_place(in, p->mem_size, &initrd_gpa, err, errlen) < 0)
		return -1;
	if (req.address) {
		if (!req.entry) {
			snprintf(err, errlen, "Multiboot2 header has an address tag but no entry address tag");
			return -1;
		}
		if (load_by_address_tag(p, in, hdr_off, req.address, initrd_gpa, err, errlen) < 0)
			return -1;
	} else if (elf_load_below(p, in->image, in->size, initrd_gpa, &entry, err, errlen) < 0) {
		return -1;
	}
	if (req.entry)
		entry = req.entry;
	if (!guest_ram(p, entry, 1) || entry < HVLAB_GUEST_LOAD_MIN) {
		snprintf(err, errlen, "entry point 0x%lx is not in the loaded image", entry);
		return -1;
	}
	initrd_copy(p, in, initrd_gpa);

	/* 5. The boot information, and a GDT for when the kernel reloads a segment. */
	mbi = write_info(p, &s, in, initrd_gpa);
	if (!mbi || scratch_gdt(&s, gdt, ARRAY_SIZE(gdt), bs) < 0) {
		snprintf(err, errlen, "the Multiboot2 information does not fit in the loader scratch area");
		return -1;
	}

	/* 6. The machine state of §3.3 (vmcs_setup.c gives the flat segments, CR0.PE only). */
	bs->mode = BOOT_PROTECTED32;
	bs->rip = entry;
	bs->gpr[GPR_RAX] = MB2_BOOTLOADER_MAGIC;
	bs->gpr[GPR_RBX] = mbi;
	return 0;
}

IMAGE_LOADER(multiboot2_loader) = { "multiboot2", 20, mb2_probe, mb2_load };
