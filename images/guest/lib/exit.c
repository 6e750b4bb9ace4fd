/**
 * @file exit.c
 * @brief guest_exit(): how a test guest ends (the status values are listed in exit.h).
 */
#include <hvlab/guest_abi.h>
#include <hvlab/uart16550.h>
#include <arch/cpu.h>
#include "exit.h"

/* Let the console drain, write the status to the exit port, and stop for good. */
void guest_exit(u32 status)
{
	uart_flush(HVLAB_PORT_COM1);
	outl(HVLAB_PORT_EXIT, status);

	/* The hypervisor does not return from that OUT. If we are running somewhere without
	 * an exit port, stop here: CLI + HLT with interrupts off is the end of the CPU. */
	for (;;) {
		irq_disable();
		halt();
	}
}
