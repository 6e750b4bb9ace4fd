/**
 * @file uart.c
 * @brief The guest's COM1: an emulated 16550 whose output appears on the hypervisor console.
 *
 * Output is gathered a line at a time and printed as "[NAME] line", so the consoles of
 * several partitions interleave by whole lines, and kept in a ring buffer per partition
 * (uart_console_history()) for the debugger. Transmission is instantaneous: LSR
 * always reports THRE and TEMT. The scratch register keeps what the guest writes, as on
 * real hardware (PC16550D datasheet §8.10), which makes it a cheap I/O round-trip probe.
 */
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <hvlab/uart16550.h>
#include <hvlab/guest_abi.h>

#define LINE_MAX 200
#define HISTORY_SIZE 4096 /* bytes of each partition's console the debugger can show */

struct guest_uart {
	spinlock_t lock;            /* vCPUs on several CPUs may print at once */
	u8 lcr, ier, mcr, scr, dll, dlm;
	char line[LINE_MAX];
	u32 len;
	char history[HISTORY_SIZE]; /* ring buffer of everything the guest printed */
	u64 written;                /* bytes ever written: the ring's head is written % size */
};

static struct guest_uart uarts[MAX_PARTITIONS];

static void remember(struct guest_uart *u, char c)
{
	u->history[u->written % HISTORY_SIZE] = c;
	u->written++;
}

size_t uart_console_history(const struct partition *p, char *buf, size_t len)
{
	const struct guest_uart *u = &uarts[p->id];
	u64 have = u->written < HISTORY_SIZE ? u->written : HISTORY_SIZE;
	u64 n = have < len ? have : len;

	/* The last n bytes, oldest first. */
	for (u64 i = 0; i < n; i++)
		buf[i] = u->history[(u->written - n + i) % HISTORY_SIZE];
	return (size_t)n;
}

static void flush_line(struct partition *p, struct guest_uart *u)
{
	printk("[%s] %.*s\n", p->name, (int)u->len, u->line);
	u->len = 0;
}

static void uart_output(struct partition *p, struct guest_uart *u, char c)
{
	remember(u, c);
	if (c == '\n') {
		flush_line(p, u);
	} else if (c != '\r') {
		if (u->len == LINE_MAX)
			flush_line(p, u); /* an overlong line is split, never dropped */
		u->line[u->len++] = c;
	}
}

static u32 uart_read_locked(struct guest_uart *u, u16 port)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (port - HVLAB_PORT_COM1) {
	case UART_RBR: return dlab ? u->dll : 0; /* nothing is ever received yet */
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR: return 0xc1;              /* FIFOs on, no interrupt pending */
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR: return 0xb0;              /* CTS, DSR, DCD */
	default: return u->scr;
	}
}

static u32 uart_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct guest_uart *u = state;

	spin_lock(&u->lock);
	u32 value = uart_read_locked(u, port);
	spin_unlock(&u->lock);
	return value;
}

static void uart_write_locked(struct vcpu *v, struct guest_uart *u, u16 port, u32 value)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (port - HVLAB_PORT_COM1) {
	case UART_THR:
		if (dlab)
			u->dll = value;
		else
			uart_output(v->part, u, (char)value);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			u->ier = value & 0x0f;
		break;
	case UART_LCR: u->lcr = value; break;
	case UART_MCR: u->mcr = value & 0x1f; break;
	case UART_SCR: u->scr = value; break;
	default: break; /* FCR, and writes to read-only registers */
	}
}

static void uart_write_reg(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct guest_uart *u = state;

	spin_lock(&u->lock);
	uart_write_locked(v, u, port, value);
	spin_unlock(&u->lock);
}

static const struct pio_ops uart_ops = { uart_read, uart_write_reg };

static int uart_attach(struct partition *p)
{
	struct guest_uart *u = &uarts[p->id];

	*u = (struct guest_uart){ .lcr = 0x03 };
	return pio_register(p, HVLAB_PORT_COM1, 8, &uart_ops, u, "uart 16550 (COM1)");
}
/* A last line without its newline is still the guest's output: print it. */
static void uart_ended(struct partition *p)
{
	struct guest_uart *u = &uarts[p->id];

	if (u->len)
		flush_line(p, u);
}

DEVICE_TYPE(uart_device) = { "uart", uart_attach, uart_ended };
