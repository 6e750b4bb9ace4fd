/**
 * @file pci.h
 * @brief The partition's PCI bus: configuration space through ports 0xCF8/0xCFC, and the
 * list of functions on it.
 *
 * A guest finds PCI devices by reading configuration space (PCI Local Bus Specification
 * 3.0 §3.2.2.3.2, "configuration mechanism #1", implemented in src/devices/pci.c). Each
 * partition has its own bus with a host bridge at 00:00.0; a device model puts a
 * function on it with pci_register_function() from its attach() (the order of attach()
 * calls does not matter). Addresses with no function read all ones, as on real hardware,
 * which is how a guest sees that a slot is empty.
 *
 * A function either answers configuration cycles itself (struct pci_function_ops) or
 * uses struct pci_config_space: 256 bytes of plain storage with a write mask per byte,
 * enough for most devices, and the one place BAR sizing works (a BAR's low bits are
 * read-only, so writing all ones reads back ~(size - 1)).
 */
#ifndef HVLAB_PCI_H
#define HVLAB_PCI_H

#include <hvlab/types.h>

struct partition;

#define PCI_MAX_FUNCTIONS 32 /**< functions per partition bus (host bridge included) */
#define PCI_CONFIG_SIZE 256  /**< conventional configuration space */

/* Type 0 configuration header offsets (PCI 3.0 §6.1, Figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0a
#define PCI_CLASS 0x0b
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

/** Bus/device/function packed as in CONFIG_ADDRESS bits 23:8. */
#define PCI_BDF(bus, dev, fn) ((u16)(((bus) << 8) | ((dev) << 3) | (fn)))

/**
 * How a function answers configuration cycles. @p offset is 0-255, @p size 1, 2 or 4,
 * and offset + size never crosses a 4-byte boundary. Called with the bus lock held:
 * keep them short, and do not touch the PCI bus from inside.
 */
struct pci_function_ops {
	u32 (*config_read)(void *state, u16 offset, u8 size);
	void (*config_write)(void *state, u16 offset, u8 size, u32 value);
};

/**
 * Put a function at @p bus:@p dev.@p fn of @p p's bus (dev 0-31, fn 0-7), answered by
 * @p ops with @p state. A function already there is replaced. Returns 0, or -1 when
 * the address is invalid or the bus is full.
 */
int pci_register_function(struct partition *p, u8 bus, u8 dev, u8 fn,
			  const struct pci_function_ops *ops, void *state);

/**
 * For the monitor (`info pci`): function @p index (0, 1, ... in the order they were put
 * on the bus) of @p p's bus: its address in @p bdf and the first 16 bytes of its
 * configuration space (IDs, command, status, class, header type) in @p hdr. False past
 * the last function.
 */
bool pci_function_header(const struct partition *p, u32 index, u16 *bdf, u8 hdr[16]);

/** A configuration space backed by memory: what the guest may change is in wmask. */
struct pci_config_space {
	u8 data[PCI_CONFIG_SIZE];
	u8 wmask[PCI_CONFIG_SIZE]; /**< 1 bits are guest-writable; the rest are read-only */
};

/** The ops for a struct pci_config_space (pass the space as the state). */
extern const struct pci_function_ops pci_config_space_ops;

/**
 * Start a type 0 header: IDs and class code, everything else zero and read-only except
 * the Command register's I/O, memory and bus-master enables and Interrupt Line.
 */
void pci_config_init(struct pci_config_space *cs, u16 vendor, u16 device, u8 class_code,
		     u8 subclass, u8 prog_if);

/**
 * Make BAR @p index (0-5) a 32-bit BAR of @p size bytes (a power of two, at least 16)
 * whose low read-only bits are @p flags (bit 0: I/O space; bit 3: prefetchable).
 */
void pci_config_set_bar(struct pci_config_space *cs, unsigned int index, u32 size, u32 flags);

/** Little-endian field access for device models filling a struct pci_config_space. */
void pci_config_write_raw(struct pci_config_space *cs, u16 offset, u8 size, u32 value);

#endif
