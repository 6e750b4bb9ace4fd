/**
 * @file debug_port.c
 * @brief Debugger serial ports (COM2, COM3) and the table of services polled on CPU 0.
 *
 * Why polled: a debugger talks slowly (a packet every few milliseconds at best) and the
 * hypervisor must stay in control of every interrupt vector; a port read per poll is
 * all an idle connection costs. See debug_port.h.
 */
#include <hvlab/debug_port.h>
#include <hvlab/uart16550.h>
#include <hvlab/console.h>
#include <arch/cpu.h>

extern const struct debug_service __debug_services_start[], __debug_services_end[];

static bool any_active;

int debug_port_init(struct debug_port *dp, u16 base)
{
	dp->base = base;
	dp->present = false;
	/* A UART keeps what is written to its scratch register; an empty port reads 0xff. */
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return -1;
	outb(base + UART_SCR, 0xa5);
	if (inb(base + UART_SCR) != 0xa5)
		return -1;
	uart_init(base);
	/* Receive trigger level 14 bytes (FCR bits 7:6 = 11). Polled, the level only decides
	 * when LSR.DR shows data; but Bochs feeds its FIFO from the socket only while DR is
	 * clear, so at level 1 a packet would trickle in one byte per poll. */
	outb(base + UART_FCR, 0xc7);
	while (uart_getc_nonblock(base) >= 0) /* whatever arrived before we listened */
		;
	dp->present = true;
	return 0;
}

int debug_port_getc(struct debug_port *dp)
{
	return dp->present ? uart_getc_nonblock(dp->base) : -1;
}

void debug_port_write(struct debug_port *dp, const void *buf, size_t len)
{
	if (dp->present)
		uart_write(dp->base, buf, len);
}

size_t debug_port_write_nowait(struct debug_port *dp, const void *buf, size_t len)
{
	const u8 *b = buf;
	size_t n = 0;

	/* With FIFOs on, THRE means the whole transmit FIFO is empty. */
	if (!dp->present || !(inb(dp->base + UART_LSR) & UART_LSR_THRE))
		return 0;
	while (n < len && n < DEBUG_PORT_FIFO)
		outb(dp->base + UART_THR, b[n++]);
	return n;
}

void debug_services_init(void)
{
	for (const struct debug_service *s = __debug_services_start; s < __debug_services_end; s++) {
		if (debug_port_init(s->dp, s->port) < 0) {
			printk("hvlab: %s: no serial port at 0x%x, not started\n", s->name, s->port);
			continue;
		}
		if (s->init)
			s->init(s->dp);
		any_active = true;
		printk("hvlab: %s: listening on the serial port at 0x%x\n", s->name, s->port);
	}
}

void debug_services_poll(void)
{
	for (const struct debug_service *s = __debug_services_start; s < __debug_services_end; s++)
		if (s->dp->present)
			s->poll(s->dp);
}

bool debug_services_active(void)
{
	return any_active;
}
