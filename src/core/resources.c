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
#include <hvlab/spinlock.h>
#include <arch/partition_arch.h>
#include <arch/percpu.h>

struct resdb resdb;
static spinlock_t resdb_lock = SPINLOCK_INIT;
static u64 view_page[MAX_PARTITIONS]; /* host page of each partition's view, 0 = none */

void resources_lock(void)
{
	spin_lock(&resdb_lock);
}

void resources_unlock(void)
{
	spin_unlock(&resdb_lock);
}

void resources_refresh_view(struct partition *p)
{
	if (!view_page[p->id])
		return;
	resources_lock();
	resdb_view_fill(&resdb, p->id, phys_to_virt(view_page[p->id]));
	resources_unlock();
}

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
	/* COM1 is the hypervisor's console: no partition may have it for itself. */
	resdb_tx_begin(&resdb);
	resdb_tx_alloc(&resdb, resdb_ports(0x3f8, 8), RESDB_HV, RESDB_EXCLUSIVE);
	if (resdb_tx_commit(&resdb, err, sizeof(err)) < 0)
		panic("resources: %s\n", err);
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
	resources_lock();
	resdb_tx_begin(&resdb);
	if (p->identity)
		resdb_tx_alloc(&resdb, resdb_mem(p->low_hpa, IDENTITY_LOW_RAM), p->id, RESDB_EXCLUSIVE);
	else
		resdb_tx_alloc(&resdb, resdb_mem(p->mem_hpa, ALIGN_UP(p->mem_size, PAGE_SIZE)), p->id,
			       RESDB_EXCLUSIVE);
	int ok = resdb_tx_commit(&resdb, err, sizeof(err));
	resources_unlock();
	if (ok < 0) {
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

		view_page[p->id] = page;
		if (!page || resdb_view_fill(&resdb, p->id, phys_to_virt(page)) < 0 ||
		    arch_map_readonly(p, HVLAB_RESDB_VIEW_GPA, page) < 0) {
			printk("hvlab: partition %s: cannot map its resource view\n", p->name);
			return -1;
		}
	}
	return 0;
}
