/**
 * @file acpi_tables.c
 * @brief The ACPI tables of each partition's virtual PC, written into its RAM at
 * 0xE0000 when it is created, so an unmodified guest finds its CPUs, interrupt
 * controllers and PM timer the standard way.
 *
 * ACPI Specification 6.5, chapter 5.2:
 *   RSDP (§5.2.5.3, revision 2: both checksums) at 0xE0000, in the BIOS read-only area
 *   the OS searches (§5.2.5.1) → RSDT (§5.2.7) and XSDT (§5.2.8) → the MADT (§5.2.12)
 *   and FADT (§5.2.9, revision 3: the ACPI 2.0 layout, 244 bytes) → DSDT (§5.2.11.1,
 *   a header and no AML) and FACS (§5.2.10, required since the machine is not
 *   hardware-reduced).
 * Every table starts with the common header (§5.2.6) and its bytes sum to zero.
 *
 * It is a "device" only in that it runs when a partition is created: its attach() writes
 * the tables (after the image loaders, which never write 0xE0000-0xFFFFF) and claims no
 * ports. What the tables describe lives in ioapic.c, pmtimer.c, rtc.c and the virtual
 * local APIC; the numbers below must agree with them.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>
#include <arch/percpu.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <arch/guest_mem.h>

#define LAPIC_BASE 0xfee00000u  /* the virtual local APIC's xAPIC page */
#define SCI_IRQ 9

#define OEM_ID "HVLAB "
#define OEM_TABLE_ID "HVLABPC "
#define CREATOR_ID "HVLB"

struct __attribute__((packed)) rsdp {
	char signature[8];
	u8 checksum;          /* of the first 20 bytes (the ACPI 1.0 structure) */
	char oem_id[6];
	u8 revision;          /* 2: ACPI 2.0 and later, XSDT present */
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 extended_checksum; /* of all 36 bytes */
	u8 reserved[3];
};

struct __attribute__((packed)) sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
};

/* FADT revision 3 (Table 5.9), up to X_GPE1_BLK. The X_ blocks stay zero: the 32-bit
 * fields say everything (an OS uses them when the X_ address is 0). */
struct __attribute__((packed)) fadt {
	struct sdt_header h;
	u32 firmware_ctrl, dsdt;
	u8 reserved0, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	u32 gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	u8 gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	u8 reset_reg[12];
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl, x_dsdt;
	u8 x_blocks[8][12]; /* X_PM1a_EVT_BLK ... X_GPE1_BLK (generic address structures) */
};

struct __attribute__((packed)) facs {
	char signature[4];
	u32 length;
	u32 hardware_signature, firmware_waking_vector, global_lock, flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved2[24];
};

struct __attribute__((packed)) madt {
	struct sdt_header h;
	u32 lapic_address;
	u32 flags;
};

/* MADT interrupt controller structures (§5.2.12.2, .3, .5, .7). */
struct __attribute__((packed)) madt_lapic { u8 type, length, processor_uid, apic_id; u32 flags; };
struct __attribute__((packed)) madt_ioapic { u8 type, length, id, reserved; u32 address, gsi_base; };
struct __attribute__((packed)) madt_override { u8 type, length, bus, source; u32 gsi; u16 flags; };
struct __attribute__((packed)) madt_lapic_nmi { u8 type, length, processor_uid; u16 flags; u8 lint; };

#define MADT_PCAT_COMPAT 1   /* an 8259 pair is present too */
#define MADT_LAPIC_ENABLED 1
#define MPS_ACTIVE_HIGH 0x1  /* MPS INTI flags (Table 5.27): polarity bits 1:0 */
#define MPS_EDGE 0x4         /* trigger mode bits 3:2 */
#define MPS_LEVEL 0xc

#define FADT_WBINVD BIT(0)
#define FADT_PROC_C1 BIT(2)
#define FADT_PWR_BUTTON BIT(4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON BIT(5)
#define BOOT_ARCH_LEGACY_DEVICES BIT(0) /* ISA devices (RTC, PIT, PIC) are there */
#define BOOT_ARCH_VGA_NOT_PRESENT BIT(2)

/* The tables are assembled here, then copied into guest RAM at HVLAB_ACPI_AREA. */
static u8 area[8192] __attribute__((aligned(64)));
static u32 used;

/* Reserve @size bytes of @area at @align; returns its offset. */
static u32 take(u32 size, u32 align)
{
	u32 off = (u32)ALIGN_UP(used, align);

	used = off + size;
	return off;
}

static u32 gpa_of(u32 off)
{
	return (u32)HVLAB_ACPI_AREA + off;
}

static u8 checksum(const void *p, u32 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u32 i = 0; i < len; i++)
		sum += b[i];
	return (u8)-sum;
}

/* Fill the common header of the table at @off, whose length is @len, and its checksum
 * (computed last, over the finished table: call this after the body is written). */
static void finish_table(u32 off, const char *signature, u32 len, u8 revision)
{
	struct sdt_header *h = (struct sdt_header *)&area[off];

	memcpy(h->signature, signature, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = checksum(h, len);
}

/* MADT: the local APIC page, one enabled local APIC per vCPU (APIC ID = vCPU number),
 * the IOAPIC with GSIs 0-23, and the overrides every PC has (the PIT on pin 2, the SCI
 * level-triggered active-high), and LINT1 of every CPU as NMI. */
static u32 build_madt(struct partition *p)
{
	u32 off = take(sizeof(struct madt), 8);
	struct madt *m = (struct madt *)&area[off];

	m->lapic_address = LAPIC_BASE;
	m->flags = MADT_PCAT_COMPAT;
	for (u32 i = 0; i < p->nvcpus; i++) {
		struct madt_lapic *l = (void *)&area[take(sizeof(*l), 1)];
		/* A partition with interception off uses its CPUs' real local APICs. */
		u8 apic_id = p->direct_irqs ? (u8)cpus[p->vcpu[i].cpu].apic_id : (u8)i;
		*l = (struct madt_lapic){ 0, sizeof(*l), (u8)i, apic_id, MADT_LAPIC_ENABLED };
	}
	struct madt_ioapic *io = (void *)&area[take(sizeof(*io), 1)];
	*io = (struct madt_ioapic){ 1, sizeof(*io), (u8)(p->nvcpus & 0xf), 0, (u32)HVLAB_IOAPIC_BASE, 0 };
	struct madt_override *pit = (void *)&area[take(sizeof(*pit), 1)];
	*pit = (struct madt_override){ 2, sizeof(*pit), 0, 0, 2, MPS_ACTIVE_HIGH | MPS_EDGE };
	struct madt_override *sci = (void *)&area[take(sizeof(*sci), 1)];
	*sci = (struct madt_override){ 2, sizeof(*sci), 0, SCI_IRQ, SCI_IRQ, MPS_ACTIVE_HIGH | MPS_LEVEL };
	struct madt_lapic_nmi *nmi = (void *)&area[take(sizeof(*nmi), 1)];
	*nmi = (struct madt_lapic_nmi){ 4, sizeof(*nmi), 0xff, 0, 1 }; /* 0xff: all processors */
	finish_table(off, "APIC", used - off, 3);
	return off;
}

static u32 build_fadt(u32 dsdt, u32 facs)
{
	u32 off = take(sizeof(struct fadt), 8);
	struct fadt *f = (struct fadt *)&area[off];

	f->firmware_ctrl = gpa_of(facs);
	f->dsdt = gpa_of(dsdt);
	f->sci_int = SCI_IRQ;
	f->smi_cmd = 0;           /* no SMM: the machine is always in ACPI mode */
	f->pm1a_evt_blk = HVLAB_PM1A_EVT_BLK;
	f->pm1a_cnt_blk = HVLAB_PM1A_CNT_BLK;
	f->pm_tmr_blk = HVLAB_PM_TMR_BLK;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101;      /* > 100: C2 not supported */
	f->p_lvl3_lat = 1001;     /* > 1000: C3 not supported */
	f->century = HVLAB_RTC_CENTURY;
	f->iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_VGA_NOT_PRESENT; /* no 8042 */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON; /* 24-bit timer */
	finish_table(off, "FACP", sizeof(*f), 3);
	return off;
}

/* A root table listing @n tables by address, 4 bytes each (RSDT) or 8 (XSDT). */
static u32 build_root(const char *signature, const u32 *tables, u32 n, u32 entry_size)
{
	u32 off = take(sizeof(struct sdt_header) + n * entry_size, 8);

	for (u32 i = 0; i < n; i++) {
		u64 addr = gpa_of(tables[i]);
		memcpy(&area[off + sizeof(struct sdt_header) + i * entry_size], &addr, entry_size);
	}
	finish_table(off, signature, sizeof(struct sdt_header) + n * entry_size, 1);
	return off;
}

static int acpi_attach(struct partition *p)
{
	memset(area, 0, sizeof(area));
	used = 0;

	/* 1. The RSDP first, at 0xE0000 (filled in at the end). */
	u32 rsdp_off = take(sizeof(struct rsdp), 16);

	/* 2. FACS (64-byte aligned), DSDT (no AML), FADT, MADT. */
	u32 facs_off = take(sizeof(struct facs), 64);
	struct facs *facs = (struct facs *)&area[facs_off];
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 1;
	u32 dsdt_off = take(sizeof(struct sdt_header), 8);
	finish_table(dsdt_off, "DSDT", sizeof(struct sdt_header), 2);
	u32 tables[2];
	tables[0] = build_fadt(dsdt_off, facs_off);
	tables[1] = build_madt(p);

	/* 3. RSDT and XSDT list them; the RSDP points at both. */
	u32 rsdt_off = build_root("RSDT", tables, ARRAY_SIZE(tables), 4);
	u32 xsdt_off = build_root("XSDT", tables, ARRAY_SIZE(tables), 8);
	struct rsdp *r = (struct rsdp *)&area[rsdp_off];
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, OEM_ID, 6);
	r->revision = 2;
	r->rsdt = gpa_of(rsdt_off);
	r->length = sizeof(*r);
	r->xsdt = gpa_of(xsdt_off);
	r->checksum = checksum(r, 20);
	r->extended_checksum = checksum(r, sizeof(*r));

	if (used > sizeof(area) || HVLAB_ACPI_AREA + used > HVLAB_ACPI_AREA_END)
		return -1;
	if (guest_write_phys(p, HVLAB_ACPI_AREA, area, used) != used) {
		printk("hvlab: partition %s: no guest RAM at 0x%llx for the ACPI tables\n", p->name,
		       HVLAB_ACPI_AREA);
		return -1;
	}
	return 0;
}
DEVICE_TYPE(acpi_tables_device) = { "acpi tables", acpi_attach };
