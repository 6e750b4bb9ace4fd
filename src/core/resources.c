/**
 * @file resources.c
 * @brief Connecting partitions to the resource database (MECHANISMS.md §2).
 */
#include <hvlab/resources.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/console.h>
#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>
#include <arch/partition_arch.h>
#include <arch/percpu.h>

struct resdb resdb;

extern char _hv_start[], _hv_end[];

int resources_claim_config(const struct hv_config *cfg)
{
	/* What identity-mapped partitions may never take: BIOS memory and the hypervisor. */
	const struct resdb_range reserved[] = {
		{ 0, MiB(1) },
		{ virt_to_phys(_hv_start), (u64)(_hv_end - _hv_start) },
	};
	char err[200];

	resdb_init(&resdb, ncpus);
	if (resdb_claim_config(&resdb, cfg, ncpus, memory_free(), reserved, ARRAY_SIZE(reserved), err,
			       sizeof(err)) < 0) {
		printk("hvlab: config: %s\n", err);
		return -1;
	}
	return 0;
}

int resources_record_memory(struct partition *p)
{
	char err[160];

	/* Identity-mapped RAM was recorded with the configuration; its low memory was not. */
	resdb_tx_begin(&resdb);
	if (p->identity)
		resdb_tx_alloc(&resdb, resdb_mem(p->low_hpa, IDENTITY_LOW_RAM), p->id, RESDB_EXCLUSIVE);
	else
		resdb_tx_alloc(&resdb, resdb_mem(p->mem_hpa, ALIGN_UP(p->mem_size, PAGE_SIZE)), p->id,
			       RESDB_EXCLUSIVE);
	if (resdb_tx_commit(&resdb, err, sizeof(err)) < 0) {
		printk("hvlab: partition %s: %s\n", p->name, err);
		return -1;
	}
	return 0;
}

int resources_publish_views(void)
{
	for (u32 i = 0; i < npartitions; i++) {
		struct partition *p = &partitions[i];
		u64 page = frames_alloc(1, PAGE_SIZE, PFN_HYPERVISOR, 0);

		if (!page || resdb_view_fill(&resdb, p->id, phys_to_virt(page)) < 0 ||
		    arch_map_readonly(p, HVLAB_RESDB_VIEW_GPA, page) < 0) {
			printk("hvlab: partition %s: cannot map its resource view\n", p->name);
			return -1;
		}
	}
	return 0;
}
