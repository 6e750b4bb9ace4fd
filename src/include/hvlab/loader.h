/**
 * @file loader.h
 * @brief Loading guest images into partition memory.
 */
#ifndef HVLAB_LOADER_H
#define HVLAB_LOADER_H

#include <hvlab/types.h>

struct partition;

/**
 * Load the ELF64 executable at [@p image, @p image + @p size) into @p p's RAM: each
 * PT_LOAD segment copied to its physical address (which must lie in [1 MiB, RAM size)),
 * the rest zero. On success store the entry point in *@p entry and return 0; otherwise
 * write a message naming the problem into @p err and return -1.
 */
int load_elf64(struct partition *p, const void *image, u64 size, u64 *entry, char *err, size_t errlen);

#endif
