/*
 * basic.c — the smallest useful guest: does the partition look like guest_abi.h says?
 *
 * Checks that the hypervisor started us correctly (boot information: magic, RAM size,
 * name, vCPU numbers), that our RAM is really there up to its last byte, that the
 * library's own page tables are active, and that exceptions reach our handlers: a #UD
 * and page faults are caught and reported with the right vector, error code and CR2.
 *
 * It is also the "bystander" of the fault scenarios: when another partition crashes,
 * this one must still run to the end and exit with status 0.
 */
#include "guest.h"
#include <hvlab/resdb_view.h>

/* A virtual address outside RAM that nothing maps: 1 GiB. */
#define SCRATCH_VA 0x40000000ULL

static void test_boot_info(void)
{
	CHECK_EQ(boot_info->magic, HVLAB_BOOT_MAGIC);
	CHECK(boot_info->mem_size > 0, "no RAM");
	CHECK(boot_info->mem_size % PAGE_SIZE == 0, "RAM size 0x%lx not page-aligned",
	      boot_info->mem_size);
	CHECK(boot_info->name[0] != '\0', "empty partition name");
	CHECK(boot_info->nvcpus >= 1, "nvcpus = %u", boot_info->nvcpus);
	CHECK(boot_info->vcpu_id < boot_info->nvcpus, "vCPU %u of %u", boot_info->vcpu_id,
	      boot_info->nvcpus);
}

/* The library switched CR3 from the hypervisor's boot tables to its own. */
static void test_own_page_tables(void)
{
	CHECK(read_cr3() != HVLAB_BOOT_PML4, "CR3 is still the boot PML4 0x%llx", HVLAB_BOOT_PML4);
	CHECK_EQ(read_cr3() & PTE_ADDR_MASK, kernel_as.root);
	CHECK(read_cr0() & CR0_PG, "paging off?");
}

/* Write and read back the first and last 8 bytes of the last page of RAM. The page
 * allocator hands out pages from the bottom, so nothing of ours lives up there yet. */
static void test_ram_top(void)
{
	volatile u64 *last = (volatile u64 *)(boot_info->mem_size - 8);
	volatile u64 *page = (volatile u64 *)(boot_info->mem_size - PAGE_SIZE);

	*last = 0x0123456789abcdefULL;
	*page = ~0x0123456789abcdefULL;
	CHECK_EQ(*last, 0x0123456789abcdefULL);
	CHECK_EQ(*page, ~0x0123456789abcdefULL);
}

static void do_ud2(void *arg)
{
	__asm__ volatile("ud2");
}

static void do_divide_by_zero(void *arg)
{
	volatile u32 zero = 0;
	volatile u32 r = 100 / zero;
	(void)r;
}

static void do_read(void *addr)
{
	(void)*(volatile u64 *)addr;
}

static void do_write(void *addr)
{
	*(volatile u64 *)addr = 42;
}

static void do_nothing(void *arg)
{
}

/* An exception inside guest_try() comes back as its vector; no exception gives -1. */
static void test_try_ud(void)
{
	struct fault_info fi;

	CHECK_EQ(guest_try(do_nothing, NULL, &fi), -1);
	CHECK_EQ(guest_try(do_ud2, NULL, &fi), EXC_UD);
	CHECK_EQ(fi.vector, EXC_UD);
	CHECK_EQ(fi.error_code, 0);
	/* Vector 0 must not be confused with "no exception". */
	CHECK_EQ(guest_try(do_divide_by_zero, NULL, &fi), EXC_DE);
}

/* Reading address 0 faults: the library leaves page 0 unmapped. */
static void test_null_page_fault(void)
{
	struct fault_info fi;

	CHECK_EQ(guest_try(do_read, (void *)0, &fi), EXC_PF);
	CHECK_EQ(fi.cr2, 0);
	CHECK_EQ(fi.error_code & (PF_ERR_P | PF_ERR_W), 0); /* not present, a read */
}

/* Map a page, use it, make it read-only, unmap it: each step must show in the faults.
 * This also checks that the library invalidates the TLB (INVLPG) after each change. */
static void test_page_faults(void)
{
	struct fault_info fi;
	u64 frame = page_alloc();

	if (!CHECK(frame != 0, "out of pages"))
		return;

	/* Not mapped yet: a read faults, CR2 = the address, error code P=0 W=0. */
	CHECK_EQ(guest_try(do_read, (void *)SCRATCH_VA, &fi), EXC_PF);
	CHECK_EQ(fi.cr2, SCRATCH_VA);
	CHECK_EQ(fi.error_code & (PF_ERR_P | PF_ERR_W), 0);

	/* Mapped writable: both work, and the data lands in the frame. */
	CHECK_EQ(gpt_map(&kernel_as, SCRATCH_VA, frame, PTE_W), 0);
	CHECK_EQ(guest_try(do_write, (void *)SCRATCH_VA, &fi), -1);
	CHECK_EQ(*(volatile u64 *)frame, 42);

	/* Read-only: a write faults with P=1 W=1, a read still works. */
	CHECK_EQ(gpt_protect(&kernel_as, SCRATCH_VA, 0), 0);
	CHECK_EQ(guest_try(do_write, (void *)SCRATCH_VA, &fi), EXC_PF);
	CHECK_EQ(fi.cr2, SCRATCH_VA);
	CHECK_EQ(fi.error_code & (PF_ERR_P | PF_ERR_W), PF_ERR_P | PF_ERR_W);
	CHECK_EQ(guest_try(do_read, (void *)SCRATCH_VA, &fi), -1);

	/* Unmapped again: a read faults once more. */
	CHECK_EQ(gpt_unmap(&kernel_as, SCRATCH_VA), 0);
	CHECK_EQ(guest_try(do_read, (void *)(SCRATCH_VA + 8), &fi), EXC_PF);
	CHECK_EQ(fi.cr2, SCRATCH_VA + 8);
	page_free(frame);
}

/* guest_try() inside guest_try(): the innermost one catches. */
static void nested_inner(void *arg)
{
	struct fault_info fi;

	*(int *)arg = guest_try(do_ud2, NULL, &fi);
}

static void test_try_nested(void)
{
	struct fault_info fi;
	int inner = -2;

	CHECK_EQ(guest_try(nested_inner, &inner, &fi), -1);
	CHECK_EQ(inner, EXC_UD);
}

/* The hypervisor's read-only view of what this partition owns (MECHANISMS.md §2). */
static void test_resource_view(void)
{
	const struct resdb_view *view = (const struct resdb_view *)HVLAB_RESDB_VIEW_GPA;

	CHECK_EQ(view->magic, RESDB_VIEW_MAGIC);
	CHECK_EQ(view->version, RESDB_VIEW_VERSION);
	CHECK_EQ(view->partition, boot_info->partition_id);
	CHECK(strcmp(view->name, boot_info->name) == 0, "view names '%s'", view->name);
	CHECK(view->ncpus >= 1, "no CPU in the view");
	CHECK(view->nmem >= 1 && view->mem[0].size >= boot_info->mem_size,
	      "view memory: %u ranges, first 0x%lx bytes", view->nmem, view->mem[0].size);
}

static const struct guest_test tests[] = {
	{ "boot info", test_boot_info },
	{ "own page tables active", test_own_page_tables },
	{ "top of RAM", test_ram_top },
	{ "try: #UD and #DE caught", test_try_ud },
	{ "try: NULL read is #PF", test_null_page_fault },
	{ "try: map/protect/unmap page faults", test_page_faults },
	{ "try: nested", test_try_nested },
	{ "resource view", test_resource_view },
};

int main(const struct hvlab_boot_info *bi)
{
	gprintf("hello from %s: %lu MiB, vCPU %u\n", bi->name, bi->mem_size >> 20, bi->vcpu_id);
	return run_tests(tests, ARRAY_SIZE(tests));
}
