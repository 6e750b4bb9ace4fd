/**
 * @file debug_port.h
 * @brief The hypervisor's own serial ports for debuggers, and the services behind them.
 *
 * COM1 is the console (console.c). COM2 carries the gdbstub (GDB remote serial protocol)
 * and COM3 the monitor that hvmon talks to. Both are polled, never interrupt-driven:
 * CPU 0 calls debug_services_poll() from its scheduler loop at least every
 * DEBUG_POLL_US microseconds (sched.c shortens its slices and idle waits to keep that),
 * so a stub never needs an interrupt vector, and a machine with no debugger attached
 * pays one port read per poll.
 *
 * A service is a table entry (DEBUG_SERVICE): a name, its port, and a poll function
 * that reads whatever bytes arrived and answers. Later mechanisms add services the
 * same way.
 */
#ifndef HVLAB_DEBUG_PORT_H
#define HVLAB_DEBUG_PORT_H

#include <hvlab/types.h>

#define DEBUG_PORT_COM2 0x2f8 /**< gdbstub */
#define DEBUG_PORT_COM3 0x3e8 /**< monitor (hvmon) */
#define DEBUG_POLL_US 1000    /**< CPU 0 polls the services at least this often */

/** A host 16550 used for a debugger connection. */
struct debug_port {
	u16 base;     /**< I/O base (DEBUG_PORT_COM2...) */
	bool present; /**< the UART answered at init (scratch register test) */
};

/** Program @p base as 115200 8N1, FIFOs on, no interrupts. Returns 0, or -1 if no UART answers there. */
int debug_port_init(struct debug_port *dp, u16 base);

/** The next received byte, or -1 when none is waiting. Never blocks. */
int debug_port_getc(struct debug_port *dp);

/** Send @p len bytes, waiting for room in the transmitter (a few microseconds per byte). */
void debug_port_write(struct debug_port *dp, const void *buf, size_t len);

/** Transmit FIFO depth of a 16550 (PC16550D datasheet: 16-byte FIFOs in FIFO mode). */
#define DEBUG_PORT_FIFO 16

/**
 * Send as many of @p len bytes as the transmitter takes now, without waiting: up to
 * DEBUG_PORT_FIFO bytes when its FIFO is empty (LSR.THRE), none otherwise. Returns how
 * many were sent. For services that must not hold CPU 0 while a long reply leaves at
 * the line's speed (115200 baud: about 11 bytes per millisecond).
 */
size_t debug_port_write_nowait(struct debug_port *dp, const void *buf, size_t len);

/** One debugger service: polled on CPU 0. */
struct debug_service {
	const char *name;
	u16 port;                             /**< its serial port */
	struct debug_port *dp;                /**< its port's state */
	void (*init)(struct debug_port *dp);  /**< once, after the port answered */
	void (*poll)(struct debug_port *dp);  /**< read what arrived, act, answer; must not block */
};

/** Register a debugger service (a table entry, like EXIT_HANDLER). */
#define DEBUG_SERVICE(name_, port_, init_, poll_)                                              \
	static struct debug_port debug_port_##name_;                                           \
	static const struct debug_service debug_service_##name_                                \
		__attribute__((used, section(".table.debug_services"), aligned(8))) = {       \
			#name_, port_, &debug_port_##name_, init_, poll_                       \
		}

/** Bring up every registered service whose port answers (CPU 0, at boot); prints one line each. */
void debug_services_init(void);

/** Poll every service (CPU 0 only). Cheap when nothing arrived. */
void debug_services_poll(void);

/** True when at least one service is up, so CPU 0 must keep polling. */
bool debug_services_active(void);

#endif
