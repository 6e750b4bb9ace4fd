/**
 * @file uart16550.c
 * @brief Polled 16550 UART driver (PC16550D datasheet, registers in uart16550.h).
 */
#include <hvlab/uart16550.h>
#include <arch/cpu.h>

/* Bound every wait: a missing or wedged UART must not hang the caller forever. */
#define UART_SPIN_LIMIT 1000000

void uart_init(u16 base)
{
	outb(base + UART_IER, 0);             /* no interrupts: we poll */
	outb(base + UART_LCR, UART_LCR_DLAB); /* expose the divisor latch */
	outb(base + UART_DLL, 1);             /* 115200 / 1 = 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, 0x03);          /* 8N1, DLAB off */
	outb(base + UART_FCR, 0x07);          /* enable and clear both FIFOs */
	outb(base + UART_MCR, 0x03);          /* DTR and RTS */
}

void uart_putc(u16 base, char c)
{
	for (int i = 0; i < UART_SPIN_LIMIT && !(inb(base + UART_LSR) & UART_LSR_THRE); i++)
		cpu_relax();
	outb(base + UART_THR, (u8)c);
}

void uart_write(u16 base, const char *s, size_t n)
{
	while (n--)
		uart_putc(base, *s++);
}

void uart_flush(u16 base)
{
	for (int i = 0; i < UART_SPIN_LIMIT && !(inb(base + UART_LSR) & UART_LSR_TEMT); i++)
		cpu_relax();
}

int uart_getc_nonblock(u16 base)
{
	if (!(inb(base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(base + UART_RBR);
}
