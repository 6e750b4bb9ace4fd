/**
 * @file cpu_wait.c
 * @brief Waking another CPU, and waiting on this one.
 *
 * A kick is a fixed IPI (HOST_VECTOR_KICK). A CPU running a guest takes it as a VM exit
 * (external-interrupt exiting, SDM Vol. 3C §26.2) and looks at its vCPU again; an idle
 * CPU takes it as an interrupt that ends its HLT.
 */
#include <arch/partition_arch.h>
#include <arch/percpu.h>
#include <arch/lapic.h>
#include <arch/cpu.h>

void arch_kick_cpu(u32 cpu)
{
	if (cpu >= ncpus || cpu == this_cpu()->index)
		return;
	if (cpus[cpu].kick_with_nmi) /* external interrupts would go to its guest */
		lapic_send_nmi(cpus[cpu].apic_id);
	else
		lapic_send_ipi(cpus[cpu].apic_id, HOST_VECTOR_KICK);
}

void arch_idle_until(u64 deadline)
{
	if (deadline && deadline <= rdtsc())
		return;
	if (!lapic_timer_deadline(deadline) && deadline) {
		/* No TSC-deadline timer: poll briefly instead of sleeping past the deadline. */
		for (int i = 0; i < 1000 && rdtsc() < deadline; i++)
			cpu_relax();
		return;
	}
	/* STI's one-instruction shadow makes "sti; hlt" atomic: an interrupt that arrives
	 * between the two still ends the HLT (SDM Vol. 2B, STI). */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_timer_deadline(0);
}
