/**
 * @file uart16550.h
 * @brief A polled driver for the 16550 UART (the PC's COM ports).
 *
 * Register layout: National Semiconductor PC16550D datasheet; I/O port base 0x3f8 for
 * COM1. Shared by the hypervisor (its console) and the guest library (the guest's
 * console, which the hypervisor emulates).
 */
#ifndef HVLAB_UART16550_H
#define HVLAB_UART16550_H

#include <hvlab/types.h>

/* Register offsets from the base port (with LCR.DLAB = 0 unless noted). */
#define UART_THR 0 /**< transmit holding register (write) */
#define UART_RBR 0 /**< receive buffer register (read) */
#define UART_DLL 0 /**< divisor latch low (DLAB = 1) */
#define UART_IER 1 /**< interrupt enable */
#define UART_DLM 1 /**< divisor latch high (DLAB = 1) */
#define UART_IIR 2 /**< interrupt identification (read) */
#define UART_FCR 2 /**< FIFO control (write) */
#define UART_LCR 3 /**< line control */
#define UART_MCR 4 /**< modem control */
#define UART_LSR 5 /**< line status */
#define UART_MSR 6 /**< modem status */
#define UART_SCR 7 /**< scratch register */

#define UART_LSR_DR BIT(0)   /**< data ready */
#define UART_LSR_THRE BIT(5) /**< transmit holding register empty */
#define UART_LSR_TEMT BIT(6) /**< transmitter empty: the last bit has left the wire */
#define UART_LCR_DLAB BIT(7)

/** Program 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on, interrupts off. */
void uart_init(u16 base);

/** Send one byte, waiting for room in the transmitter. */
void uart_putc(u16 base, char c);

/** Send @p n bytes with uart_putc(). */
void uart_write(u16 base, const char *s, size_t n);

/** Wait until every byte has left the transmitter (LSR.TEMT): needed before power-off. */
void uart_flush(u16 base);

/** Return the next received byte, or -1 when none is waiting. */
int uart_getc_nonblock(u16 base);

#endif
