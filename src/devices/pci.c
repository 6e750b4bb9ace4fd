/**
 * @file pci.c
 * @brief PCI configuration mechanism #1 (ports 0xCF8/0xCFC) and each partition's bus.
 *
 * PCI Local Bus Specification 3.0 §3.2.2.3.2: software writes a 32-bit CONFIG_ADDRESS
 * to port 0xCF8 (bit 31 enable, bits 23:16 bus, 15:11 device, 10:8 function, 7:2
 * register), then reads or writes 1, 2 or 4 bytes of CONFIG_DATA at ports 0xCFC-0xCFF;
 * the low two bits of the port pick the byte within the addressed dword. Only a 32-bit
 * access to 0xCF8 is CONFIG_ADDRESS: smaller ones go elsewhere on a PC (0xCF9 is the
 * reset control register), and here read all ones.
 *
 * The bus of a partition is a short list of functions (pci.h). It comes to life the
 * first time anyone touches it, from this file's attach() or a device's
 * pci_register_function(), so device models may attach in any order.
 */
#include <hvlab/pci.h>
#include <hvlab/partition.h>
#include <hvlab/spinlock.h>
#include <hvlab/lib.h>

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define CONFIG_ADDR_ENABLE BIT(31)
#define CONFIG_ADDR_MASK 0x80fffffcu /* the bits of CONFIG_ADDRESS that exist */

struct pci_function {
	u16 bdf;
	const struct pci_function_ops *ops;
	void *state;
};

struct pci_bus {
	spinlock_t lock;
	u32 config_address;                  /**< last value written to 0xCF8 */
	struct pci_function fn[PCI_MAX_FUNCTIONS];
	u32 nfn;
	struct pci_config_space host_bridge; /**< 00:00.0 */
};

static struct pci_bus buses[MAX_PARTITIONS];

/* ---- plain configuration space ------------------------------------------------------- */

void pci_config_write_raw(struct pci_config_space *cs, u16 offset, u8 size, u32 value)
{
	for (u8 i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
		cs->data[offset + i] = (u8)(value >> (8 * i));
}

static u32 plain_read(void *state, u16 offset, u8 size)
{
	struct pci_config_space *cs = state;
	u32 value = 0;

	for (u8 i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
		value |= (u32)cs->data[offset + i] << (8 * i);
	return value;
}

/* Each byte keeps its read-only bits and takes the writable ones from @value. */
static void plain_write(void *state, u16 offset, u8 size, u32 value)
{
	struct pci_config_space *cs = state;

	for (u8 i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++) {
		u8 m = cs->wmask[offset + i], b = (u8)(value >> (8 * i));
		cs->data[offset + i] = (cs->data[offset + i] & ~m) | (b & m);
	}
}

const struct pci_function_ops pci_config_space_ops = { plain_read, plain_write };

void pci_config_init(struct pci_config_space *cs, u16 vendor, u16 device, u8 class_code,
		     u8 subclass, u8 prog_if)
{
	memset(cs, 0, sizeof(*cs));
	pci_config_write_raw(cs, PCI_VENDOR_ID, 2, vendor);
	pci_config_write_raw(cs, PCI_DEVICE_ID, 2, device);
	cs->data[PCI_PROG_IF] = prog_if;
	cs->data[PCI_SUBCLASS] = subclass;
	cs->data[PCI_CLASS] = class_code;
	cs->wmask[PCI_COMMAND] = 0x07;        /* I/O space, memory space, bus master (§6.2.2) */
	cs->wmask[PCI_INTERRUPT_LINE] = 0xff; /* scratch for the OS (§6.2.4) */
}

void pci_config_set_bar(struct pci_config_space *cs, unsigned int index, u32 size, u32 flags)
{
	if (index > 5 || size < 16 || (size & (size - 1)))
		return;
	u16 off = PCI_BAR0 + 4 * index;
	pci_config_write_raw(cs, off, 4, flags & 0xf);
	for (int i = 0; i < 4; i++)
		cs->wmask[off + i] = (u8)(~(size - 1) >> (8 * i)); /* address bits above the size */
}

/* ---- the bus ------------------------------------------------------------------------- */

static const struct pio_ops config_ops;

/* The bus of @p, set up the first time it is needed after the partition was created
 * (partition creation clears its port list, so "port 0xCF8 is ours" says it is set up). */
static struct pci_bus *bus_of(struct partition *p)
{
	struct pci_bus *b = &buses[p->id];
	struct pio_region *r = pio_find(p, CONFIG_ADDRESS);

	if (r && r->state == b)
		return b;
	if (r) /* someone else owns 0xCF8 */
		return NULL;
	memset(b, 0, sizeof(*b));
	if (pio_register(p, CONFIG_ADDRESS, 8, &config_ops, b, "pci config (0xcf8/0xcfc)") < 0)
		return NULL;
	/* The host bridge, as the i440FX's 82441FX (PMC) presents itself: class 06/00. */
	pci_config_init(&b->host_bridge, 0x8086, 0x1237, 0x06, 0x00, 0x00);
	b->host_bridge.data[PCI_REVISION] = 0x02;
	pci_config_write_raw(&b->host_bridge, PCI_COMMAND, 2, 0x0006);
	pci_config_write_raw(&b->host_bridge, PCI_STATUS, 2, 0x0280); /* fast back-to-back, DEVSEL medium */
	b->fn[0] = (struct pci_function){ PCI_BDF(0, 0, 0), &pci_config_space_ops, &b->host_bridge };
	b->nfn = 1;
	return b;
}

int pci_register_function(struct partition *p, u8 bus, u8 dev, u8 fn,
			  const struct pci_function_ops *ops, void *state)
{
	struct pci_bus *b = bus_of(p);
	u16 bdf = PCI_BDF(bus, dev, fn);
	int ret = -1;

	if (!b || dev > 31 || fn > 7 || !ops)
		return -1;
	spin_lock(&b->lock);
	for (u32 i = 0; i < b->nfn; i++) {
		if (b->fn[i].bdf == bdf) {
			b->fn[i] = (struct pci_function){ bdf, ops, state };
			ret = 0;
			break;
		}
	}
	if (ret < 0 && b->nfn < PCI_MAX_FUNCTIONS) {
		b->fn[b->nfn++] = (struct pci_function){ bdf, ops, state };
		ret = 0;
	}
	spin_unlock(&b->lock);
	return ret;
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, or nothing there). */
static struct pci_function *selected(struct pci_bus *b)
{
	if (!(b->config_address & CONFIG_ADDR_ENABLE))
		return NULL;
	u16 bdf = (u16)(b->config_address >> 8);
	for (u32 i = 0; i < b->nfn; i++)
		if (b->fn[i].bdf == bdf)
			return &b->fn[i];
	return NULL;
}

/* Where in the function's space a CONFIG_DATA access at @port lands, and how many of
 * its bytes stay inside the dword (an access may not spill into the next register). */
static u16 data_offset(struct pci_bus *b, u16 port, u8 *size)
{
	u16 byte = port - CONFIG_DATA;

	if (*size > 4 - byte)
		*size = 4 - byte;
	return (b->config_address & 0xfc) + byte;
}

static u32 config_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	struct pci_bus *b = state;
	u32 value = 0xffffffffu;

	spin_lock(&b->lock);
	if (port == CONFIG_ADDRESS && size == 4) {
		value = b->config_address;
	} else if (port >= CONFIG_DATA) {
		struct pci_function *f = selected(b);
		u8 n = size;
		u16 off = data_offset(b, port, &n);
		if (f)
			value = f->ops->config_read(f->state, off, n) | (n < 4 ? ~0u << (8 * n) : 0);
	}
	spin_unlock(&b->lock);
	return value;
}

static void config_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	struct pci_bus *b = state;

	spin_lock(&b->lock);
	if (port == CONFIG_ADDRESS && size == 4) {
		b->config_address = value & CONFIG_ADDR_MASK;
	} else if (port >= CONFIG_DATA) {
		struct pci_function *f = selected(b);
		u8 n = size;
		u16 off = data_offset(b, port, &n);
		if (f)
			f->ops->config_write(f->state, off, n, n < 4 ? value & ((1u << (8 * n)) - 1) : value);
	}
	spin_unlock(&b->lock);
}

static const struct pio_ops config_ops = { config_read, config_write };

bool pci_function_header(const struct partition *p, u32 index, u16 *bdf, u8 hdr[16])
{
	struct pci_bus *b = &buses[p->id];
	bool found = false;

	spin_lock(&b->lock);
	if (index < b->nfn) {
		struct pci_function *f = &b->fn[index];
		*bdf = f->bdf;
		for (u16 off = 0; off < 16; off += 4) {
			u32 v = f->ops->config_read(f->state, off, 4);
			memcpy(hdr + off, &v, 4);
		}
		found = true;
	}
	spin_unlock(&b->lock);
	return found;
}

static int pci_attach(struct partition *p)
{
	return bus_of(p) ? 0 : -1;
}
DEVICE_TYPE(pci_device) = { "pci", pci_attach };
