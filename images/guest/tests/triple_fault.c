/*
 * triple_fault.c — a guest that shuts its (virtual) CPU down.
 *
 * We load an IDT with limit 0, so no vector has a descriptor, and execute UD2:
 *   #UD (vector 6): its IDT entry lies beyond the limit, which is a #GP;
 *   #GP while delivering an exception: a double fault, #DF (SDM Vol. 3A §7.15, Table 7-5);
 *   #DF's entry is beyond the limit too: a fault while delivering #DF is a triple fault,
 *   and the CPU enters shutdown (§7.15, "Interrupt 8").
 * Under VMX a triple fault is a VM exit (exit reason 2, SDM Vol. 3C §27.2). The hypervisor
 * must report it and end this partition alone; the scenario's bystander keeps running.
 *
 * If execution continues after UD2, the exit status is 1.
 */
#include <hvlab/uart16550.h>
#include "guest.h"

int main(const struct hvlab_boot_info *bi)
{
	gputs("about to triple-fault");
	uart_flush(HVLAB_PORT_COM1); /* get the line out before the CPU stops */

	struct dtr empty_idt = { .limit = 0, .base = 0 };
	lidt(&empty_idt);
	__asm__ volatile("ud2");

	gputs("ERROR: still running after a triple fault");
	return 1;
}
