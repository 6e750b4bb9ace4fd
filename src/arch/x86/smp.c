/**
 * @file smp.c
 * @brief Starting every CPU the MADT lists (SDM Vol. 3A §9.4, multiple-processor start-up).
 *
 * The bootstrap processor copies the real-mode trampoline below 1 MiB, then wakes each
 * application processor in turn with INIT-SIPI-SIPI and waits for it to report online.
 */
#include <arch/smp.h>
#include <arch/percpu.h>
#include <arch/lapic.h>
#include <arch/cpu.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <hvlab/memory.h>

extern char ap_trampoline_start[], ap_trampoline_end[], ap_params[];

/** The parameter block at the end of the trampoline (ap_trampoline.S). */
struct ap_params {
	u64 cr3, stack, cpu, entry;
};

static void (*ap_entry_fn)(struct cpu *);

/* First C code of an AP, on its own stack. */
static void ap_start(struct cpu *c)
{
	cpu_init_tables(c);
	lapic_init();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	ap_entry_fn(c);
	for (;;)
		halt();
}

u32 smp_start_aps(const struct madt_info *madt, void (*entry)(struct cpu *))
{
	u64 size = ap_trampoline_end - ap_trampoline_start;
	struct ap_params *params = phys_to_virt(AP_TRAMPOLINE_ADDR + (ap_params - ap_trampoline_start));
	u32 bsp_id = lapic_id();

	ap_entry_fn = entry;
	pfn_db_set_range(&pfn_db, AP_TRAMPOLINE_ADDR >> PAGE_SHIFT, 1, PFN_HYPERVISOR, 0);
	memcpy(phys_to_virt(AP_TRAMPOLINE_ADDR), ap_trampoline_start, size);

	cpus[0].apic_id = bsp_id;
	for (u32 i = 0; i < madt->ncpus && ncpus < MAX_CPUS; i++) {
		if (madt->apic_id[i] == bsp_id)
			continue;
		struct cpu *c = &cpus[ncpus];
		u64 stack = frames_alloc(CPU_STACK_SIZE / PAGE_SIZE, PAGE_SIZE, PFN_HYPERVISOR, 0);
		if (!stack)
			panic("smp: no memory for a CPU stack\n");
		c->index = ncpus;
		c->apic_id = madt->apic_id[i];
		c->stack_top = stack + CPU_STACK_SIZE;
		*params = (struct ap_params){ read_cr3(), c->stack_top, (u64)(uintptr_t)c,
					      (u64)(uintptr_t)ap_start };

		lapic_start_ap(c->apic_id, AP_TRAMPOLINE_ADDR >> 12);
		for (int ms = 0; ms < 1000 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); ms++)
			udelay(1000);
		if (!c->online) {
			printk("hvlab: cpu with APIC ID %u did not start; going on without it\n", c->apic_id);
			continue;
		}
		ncpus++;
	}
	return ncpus;
}
