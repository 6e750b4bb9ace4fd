/**
 * @file loader.h
 * @brief Guest image loaders: one table entry per boot protocol.
 *
 * A loader recognises its format (probe), copies the image into partition RAM, writes
 * the boot structures its protocol promises (Multiboot information, Linux boot_params,
 * hvlab boot info...) and fills the struct boot_state vCPU 0 starts from. Loaders
 * register with IMAGE_LOADER(); load_guest_image() picks one by name or, for "auto", the
 * highest-priority loader whose probe accepts the image.
 */
#ifndef ARCH_LOADER_H
#define ARCH_LOADER_H

#include <hvlab/types.h>
#include <hvlab/boot_state.h>

struct partition;

/** What a loader is given. */
struct loader_input {
	const void *image;      /**< the boot module holding the image */
	u64 size;
	const char *cmdline;    /**< the partition's command line ("" if none) */
	const void *initrd;     /**< optional second module (NULL if none) */
	u64 initrd_size;
};

/** One boot protocol. */
struct image_loader {
	const char *name;       /**< as written in the configuration: format = NAME */
	int priority;           /**< for format = auto: higher is tried first */
	/** Does the image look like this format? Must not read past @p size. */
	bool (*probe)(const void *image, u64 size);
	/** Load into @p p and fill @p bs; on failure write why into @p err and return -1. */
	int (*load)(struct partition *p, const struct loader_input *in, struct boot_state *bs,
		    char *err, size_t errlen);
};

#define IMAGE_LOADER(ident) \
	static const struct image_loader ident __attribute__((used, section(".table.loaders"), aligned(8)))

/**
 * Load @p in into @p p with the loader named @p format ("auto" probes). Returns 0 and
 * fills @p bs, or -1 with the reason in @p err (unknown format, no loader recognises
 * the image, or the loader's own error).
 */
int load_guest_image(struct partition *p, const char *format, const struct loader_input *in,
		     struct boot_state *bs, char *err, size_t errlen);

/** The loader named @p name, or NULL (the configuration check uses it). */
const struct image_loader *find_image_loader(const char *name);

/* Helpers for loaders (src/arch/x86/loaders/elf.c). */

/**
 * Copy the PT_LOAD segments of ELF32 or ELF64 executable @p image to their physical
 * addresses in @p p (each must lie in [@p min_addr, RAM size)), zero the bss parts, and
 * store the entry point. Returns 0, or -1 with the reason in @p err.
 */
int elf_load_segments(struct partition *p, const void *image, u64 size, u64 min_addr, u64 *entry,
		      char *err, size_t errlen);

/** Is @p image an ELF executable of class @p elf_class (1 = 32-bit, 2 = 64-bit) for x86? */
bool elf_probe(const void *image, u64 size, int elf_class);

/**
 * A guest-physical range of @p p as a host pointer, or NULL when [@p gpa, @p gpa + @p len)
 * is not entirely guest RAM.
 */
void *guest_ram(struct partition *p, u64 gpa, u64 len);

#endif
