/**
 * @file main.c
 * @brief The boot story of the hypervisor, one step per line.
 *
 * GRUB → entry.S (64-bit mode) → hv_main() on the bootstrap processor:
 * console, CPU tables, boot information, memory, firmware tables, VMX checks,
 * configuration, the other CPUs, VMX root everywhere, partitions, run.
 */
#include <hvlab/console.h>
#include <hvlab/debug_port.h>
#include <hvlab/multiboot2.h>
#include <hvlab/memory.h>
#include <hvlab/config.h>
#include <hvlab/partition.h>
#include <hvlab/sched.h>
#include <hvlab/lib.h>
#include <hvlab/selftest.h>
#include <hvlab/vtimer.h>
#include <arch/acpi.h>
#include <arch/cpu.h>
#include <arch/idt.h>
#include <arch/lapic.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/vmx.h>
#include <arch/direct_irq.h>

/* Exit statuses of a run that never reached the guests (docs/running.md). */
#define STATUS_NO_VMX 2
#define STATUS_BAD_CONFIG 3
#define STATUS_BAD_BOOT 4

struct mb2_info boot_info;
static struct hv_config config;
static struct madt_info madt;
static volatile u32 cpus_in_vmx_root;
static volatile bool partitions_ready;

/* Find the CPUs in the ACPI MADT; without one, run on the bootstrap processor alone. */
static void discover_cpus(void)
{
	const void *table = boot_info.rsdp ? acpi_find_table(boot_info.rsdp, "APIC") : NULL;
	int err = table ? madt_parse(table, &madt) : ACPI_ERR_NO_MADT;

	if (err) {
		printk("hvlab: acpi: %s; using the bootstrap processor only\n", acpi_strerror(err));
		madt.ncpus = 0;
	} else {
		printk("hvlab: acpi: MADT lists %u CPU%s, %u IOAPIC%s\n", madt.ncpus,
		       madt.ncpus == 1 ? "" : "s", madt.nioapics, madt.nioapics == 1 ? "" : "s");
	}
}

/* XSETBV in VMX root needs CR4.OSXSAVE; guests load their own XCR0 through it. */
static void enable_xsave(void)
{
	if (cpuid(1, 0).ecx & BIT(26))
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

/* Read and check the scenario configuration (boot module "config [FILENAME]"). */
static int load_config(void)
{
	const struct mb2_module *m = mb2_find_module(&boot_info, "config");
	char err[160], filename[64] = "config";

	if (!m) {
		printk("hvlab: config: no boot module named 'config'; nothing to run\n");
		return -1;
	}
	const char *space = strchr(m->cmdline, ' ');
	if (space && space[1])
		snprintf(filename, sizeof(filename), "%s", space + 1);
	if (config_parse(phys_to_virt(m->start), m->end - m->start, filename, &config, err, sizeof(err)) < 0) {
		printk("hvlab: config: %s\n", err);
		return -1;
	}
	return 0;
}

/* Every CPU, bootstrap or not: VMX root, report, wait for the partitions, run them. */
static void __attribute__((noreturn)) cpu_main(struct cpu *c)
{
	enable_xsave();
	if (vmx_cpu_enable(c) < 0)
		hv_poweroff(STATUS_NO_VMX);
	printk("hvlab: cpu%u: VMX root (APIC ID %u)\n", c->index, c->apic_id);
	__atomic_add_fetch(&cpus_in_vmx_root, 1, __ATOMIC_ACQ_REL);
	while (!partitions_ready)
		cpu_relax();
	sched_run(c);
}

static void ap_main(struct cpu *c)
{
	cpu_main(c);
}

void hv_main(u32 magic, u64 mbi);
void hv_main(u32 magic, u64 mbi)
{
	console_init();
	printk("hvlab: hypervisor starting\n");
	idt_init();
	cpu_init_tables(&cpus[0]);

	if (magic != MB2_BOOTLOADER_MAGIC) {
		printk("hvlab: not started by a Multiboot2 boot loader (EAX = 0x%x)\n", magic);
		hv_poweroff(STATUS_BAD_BOOT);
	}
	int err = mb2_parse(phys_to_virt(mbi), MiB(1), &boot_info);
	if (err) {
		printk("hvlab: boot information unreadable: %s\n", mb2_strerror(err));
		hv_poweroff(STATUS_BAD_BOOT);
	}
	if (boot_info.cmdline[0])
		printk("hvlab: command line: %s\n", boot_info.cmdline);

	memory_init(&boot_info, mbi, boot_info.mbi_size);
	discover_cpus();
	lapic_init();
	ioapic_phys_init(&madt);
	vtime_set_tsc_hz(tsc_calibrate());
	printk("hvlab: TSC runs at %lu kHz\n", vtime_tsc_hz() / 1000);
	if (vmx_global_init() < 0)
		hv_poweroff(STATUS_NO_VMX);
	if (load_config() < 0)
		hv_poweroff(STATUS_BAD_CONFIG);

	smp_start_aps(&madt, ap_main);
	enable_xsave();
	if (vmx_cpu_enable(&cpus[0]) < 0)
		hv_poweroff(STATUS_NO_VMX);
	printk("hvlab: cpu0: VMX root (APIC ID %u)\n", cpus[0].apic_id);
	__atomic_add_fetch(&cpus_in_vmx_root, 1, __ATOMIC_ACQ_REL);
	while (cpus_in_vmx_root < ncpus)
		cpu_relax();
	printk("hvlab: all %u CPU%s in VMX root operation\n", ncpus, ncpus == 1 ? "" : "s");
	selftest_run(boot_info.cmdline);

	if (partitions_create(&config) < 0)
		hv_poweroff(STATUS_BAD_CONFIG);
	debug_services_init(); /* COM2 gdbstub, COM3 monitor: polled by CPU 0's scheduler */
	__atomic_store_n(&partitions_ready, true, __ATOMIC_RELEASE);
	sched_run(&cpus[0]);
}
