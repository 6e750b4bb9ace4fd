/**
 * @file page_alloc.c
 * @brief The page allocator: a free list in front of a bump pointer.
 *
 * Fresh pages come from a "bump pointer" that only moves up. Freed pages go on a free
 * list, linked through their own first 8 bytes (a free page holds nothing else), and are
 * reused first. Nothing fancier is needed by a test guest.
 */
#include <hvlab/lib.h>
#include "page_alloc.h"

static u64 bump_next; /* next never-used page */
static u64 bump_end;  /* end of the managed range */
static u64 free_list; /* physical address of the first freed page, 0 if none */
static u64 free_count;

void page_alloc_init(u64 start, u64 end)
{
	bump_next = start;
	bump_end = end;
	free_list = 0;
	free_count = end > start ? (end - start) / PAGE_SIZE : 0;
}

u64 page_alloc(void)
{
	u64 pa;

	if (free_list) {
		pa = free_list;
		free_list = *(u64 *)pa; /* the next free page, stored in this one */
	} else if (bump_next + PAGE_SIZE <= bump_end) {
		pa = bump_next;
		bump_next += PAGE_SIZE;
	} else {
		return 0;
	}
	free_count--;
	memset((void *)pa, 0, PAGE_SIZE);
	return pa;
}

void page_free(u64 pa)
{
	*(u64 *)pa = free_list;
	free_list = pa;
	free_count++;
}

u64 page_alloc_free_count(void)
{
	return free_count;
}
