/**
 * @file page_alloc.h
 * @brief A 4 KiB page allocator over the guest RAM above the image.
 *
 * Guest RAM is guest-physical [0, mem_size) (boot info). Below 1 MiB the hypervisor
 * keeps its boot structures; from 1 MiB sits this image (text, data, .bss up to
 * __image_end, see guest.ld). Everything from __image_end to the top of RAM is free,
 * and this allocator hands it out one page at a time.
 *
 * Pages are addressed by their physical address; with the identity map that is also a
 * pointer the guest can use.
 */
#ifndef GUEST_PAGE_ALLOC_H
#define GUEST_PAGE_ALLOC_H

#include <hvlab/types.h>

/** Manage [@p start, @p end) (both page-aligned). */
void page_alloc_init(u64 start, u64 end);

/** A zeroed page, or 0 when none is left. */
u64 page_alloc(void);

/** Give back a page from page_alloc(). */
void page_free(u64 pa);

/** Pages still available. */
u64 page_alloc_free_count(void);

#endif
