/**
 * @file smp.c
 * @brief Starting application processors: INIT-SIPI-SIPI (SDM Vol. 3A §9.4.4).
 *
 * The AP wakes in real mode at GUEST_AP_TRAMPOLINE. The trampoline is the hypervisor's
 * own (src/arch/x86/boot/ap_trampoline.S, built into this library with
 * AP_TRAMPOLINE_ADDR = GUEST_AP_TRAMPOLINE): it climbs to 64-bit mode on the CR3, stack
 * and entry point left in its parameter block and calls ap_entry(cpu).
 */
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "smp.h"
#include "lapic.h"
#include "gdt.h"
#include "idt.h"
#include "page_alloc.h"
#include "console.h"

#define AP_STACK_PAGES 4

/* The GDT the trampoline switches with: null, 64-bit code 0x08, data 0x10, 32-bit code
 * 0x18 (the layout src/arch/x86/include/arch/boot.h names). */
const u64 boot_gdt[4] __attribute__((aligned(8))) = {
	0, 0x00af9a000000ffffULL, 0x00cf92000000ffffULL, 0x00cf9a000000ffffULL,
};

extern char ap_trampoline_start[], ap_trampoline_end[], ap_params[];

struct ap_params {
	u64 cr3, stack, cpu, entry;
};

static ap_main_fn ap_main;
static volatile u32 aps_online;

/* First C code of an AP: the BSP's descriptor tables, its own local APIC, then its work. */
static void ap_entry(u64 cpu)
{
	gdt_load();
	idt_load();
	lapic_enable();
	__atomic_add_fetch(&aps_online, 1, __ATOMIC_SEQ_CST);
	ap_main((u32)cpu);
	for (;;)
		__asm__ volatile("cli; hlt");
}

u32 smp_start_aps(u32 nvcpus, ap_main_fn fn)
{
	struct ap_params *params =
		(struct ap_params *)(GUEST_AP_TRAMPOLINE + (ap_params - ap_trampoline_start));

	ap_main = fn;
	memcpy((void *)GUEST_AP_TRAMPOLINE, ap_trampoline_start, ap_trampoline_end - ap_trampoline_start);
	for (u32 cpu = 1; cpu < nvcpus; cpu++) {
		u64 stack = 0;
		for (int i = 0; i < AP_STACK_PAGES; i++) /* lowest first: consecutive pages */
			stack = page_alloc();
		u32 before = aps_online;
		*params = (struct ap_params){ read_cr3(), stack + PAGE_SIZE, cpu, (u64)ap_entry };
		lapic_start_cpu(cpu, GUEST_AP_TRAMPOLINE >> 12);
		for (u64 spins = 0; aps_online == before && spins < 200000000ULL; spins++)
			cpu_relax();
		if (aps_online == before) {
			gprintf("smp: vCPU %u did not start\n", cpu);
			break;
		}
	}
	return aps_online + 1;
}
