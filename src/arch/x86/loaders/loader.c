/**
 * @file loader.c
 * @brief Choosing a loader from the table, and what loaders share.
 */
#include <arch/loader.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

extern const struct image_loader __loaders_start[], __loaders_end[];

const struct image_loader *find_image_loader(const char *name)
{
	for (const struct image_loader *l = __loaders_start; l < __loaders_end; l++)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

int load_guest_image(struct partition *p, const char *format, const struct loader_input *in,
		     struct boot_state *bs, char *err, size_t errlen)
{
	const struct image_loader *chosen = NULL;

	if (strcmp(format, "auto") != 0) {
		chosen = find_image_loader(format);
		if (!chosen) {
			snprintf(err, errlen, "unknown image format '%s'", format);
			return -1;
		}
	} else {
		for (const struct image_loader *l = __loaders_start; l < __loaders_end; l++)
			if ((!chosen || l->priority > chosen->priority) && l->probe(in->image, in->size))
				chosen = l;
		if (!chosen) {
			snprintf(err, errlen, "not a format any loader knows (ELF64, Multiboot, Linux bzImage)");
			return -1;
		}
	}
	memset(bs, 0, sizeof(*bs));
	bs->rflags = 0x2;
	return chosen->load(p, in, bs, err, errlen);
}

void *guest_ram(struct partition *p, u64 gpa, u64 len)
{
	u64 hpa = partition_ram_hpa(p, gpa, len);

	return hpa ? phys_to_virt(hpa) : NULL;
}
