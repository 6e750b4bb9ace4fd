/**
 * @file acpi.c
 * @brief From the RSDP to the list of CPUs and I/O APICs (ACPI 6.5 §5.2).
 *
 * The firmware leaves a chain of tables: the RSDP (§5.2.5) points to the RSDT (§5.2.7,
 * 32-bit entries) and, from ACPI 2.0 on, the XSDT (§5.2.8, 64-bit entries); these list
 * every other table by address. The MADT (signature "APIC", §5.2.12) lists the
 * processors' local APICs and the I/O APICs.
 *
 * Every table starts with the 36-byte header of §5.2.6 and its bytes sum to 0 mod 256.
 * Tables are read at physical == virtual addresses, through memcpy so that unaligned
 * fields (common in ACPI) are fine.
 */
#include <arch/acpi.h>
#include <hvlab/lib.h>
#include <hvlab/errors.h>

/* RSDP layout (ACPI 6.5 §5.2.5.3, Table 5.3). */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_CHECKSUM_LEN_V1 20 /* "checksum of the fields defined in ACPI 1.0" */
#define RSDP_CHECKSUM_LEN_V2 36 /* extended checksum: the whole ACPI 2.0 structure */
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_XSDT 24

/* System description table header (ACPI 6.5 §5.2.6, Table 5.4). */
#define SDT_HEADER_LEN 36
#define SDT_OFF_LENGTH 4

/* MADT (ACPI 6.5 §5.2.12, Table 5.19): header, local APIC address, flags, entries. */
#define MADT_OFF_LAPIC 36
#define MADT_OFF_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT BIT(0)

/* MADT entry types and their minimum lengths (§5.2.12.2 .. §5.2.12.12). */
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_LOCAL_X2APIC 9
#define LAPIC_ENABLED BIT(0)
#define LAPIC_ONLINE_CAPABLE BIT(1)

static u32 rd32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static u64 rd64(const u8 *p)
{
	u64 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Physical == virtual: a table address is a pointer. */
static const u8 *phys(u64 pa)
{
	return (const u8 *)(uintptr_t)pa;
}

u8 acpi_checksum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u64 i = 0; i < len; i++)
		sum += b[i];
	return sum;
}

/* §5.2.5.3: signature, the ACPI 1.0 checksum, and for revision 2+ the extended one. */
static bool rsdp_valid(const u8 *rsdp)
{
	if (memcmp(rsdp, RSDP_SIGNATURE, 8) != 0 || acpi_checksum(rsdp, RSDP_CHECKSUM_LEN_V1) != 0)
		return false;
	return rsdp[RSDP_OFF_REVISION] < 2 || acpi_checksum(rsdp, RSDP_CHECKSUM_LEN_V2) == 0;
}

/* A table header with the expected signature, a sane length and a zero checksum. */
static bool sdt_valid(const u8 *sdt, const char *signature)
{
	if (!sdt || memcmp(sdt, signature, 4) != 0)
		return false;
	u32 len = rd32(sdt + SDT_OFF_LENGTH);
	return len >= SDT_HEADER_LEN && acpi_checksum(sdt, len) == 0;
}

/*
 * Walk the XSDT (64-bit entries, §5.2.8) when the RSDP is revision 2+ and names one, else
 * the RSDT (32-bit entries, §5.2.7), and return the first table with @p signature.
 */
const void *acpi_find_table(const void *rsdp, const char *signature)
{
	const u8 *r = rsdp;

	if (!r || !signature || !rsdp_valid(r))
		return NULL;

	u64 xsdt = r[RSDP_OFF_REVISION] >= 2 ? rd64(r + RSDP_OFF_XSDT) : 0;
	const u8 *sdt = xsdt ? phys(xsdt) : phys(rd32(r + RSDP_OFF_RSDT));
	u32 entry_size = xsdt ? 8 : 4;
	if (!sdt_valid(sdt, xsdt ? "XSDT" : "RSDT"))
		return NULL;

	u32 len = rd32(sdt + SDT_OFF_LENGTH);
	for (u32 off = SDT_HEADER_LEN; entry_size <= len - off; off += entry_size) {
		u64 pa = entry_size == 8 ? rd64(sdt + off) : rd32(sdt + off);
		if (pa != 0 && memcmp(phys(pa), signature, 4) == 0)
			return phys(pa);
	}
	return NULL;
}

/* §5.2.12.2 Processor Local APIC: uid u8, APIC ID u8, flags u32. */
static void add_cpu(struct madt_info *out, u32 apic_id, u32 flags)
{
	if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
		return; /* neither running nor able to be started: not ours to use */
	if (out->ncpus < ACPI_MAX_CPUS)
		out->apic_id[out->ncpus++] = apic_id; /* more CPUs than we support are ignored */
}

static int madt_local_apic(const u8 *e, u8 len, struct madt_info *out)
{
	if (len < 8)
		return ACPI_ERR_MALFORMED;
	add_cpu(out, e[3], rd32(e + 4));
	return ACPI_OK;
}

/* §5.2.12.3 I/O APIC: id u8, reserved u8, address u32, GSI base u32. */
static int madt_io_apic(const u8 *e, u8 len, struct madt_info *out)
{
	if (len < 12)
		return ACPI_ERR_MALFORMED;
	if (out->nioapics < ACPI_MAX_IOAPICS) {
		out->ioapic[out->nioapics].id = e[2];
		out->ioapic[out->nioapics].base = rd32(e + 4);
		out->ioapic[out->nioapics].gsi_base = rd32(e + 8);
		out->nioapics++;
	}
	return ACPI_OK;
}

/* §5.2.12.8 Local APIC Address Override: reserved u16, 64-bit address. */
static int madt_lapic_override(const u8 *e, u8 len, struct madt_info *out)
{
	if (len < 12)
		return ACPI_ERR_MALFORMED;
	out->lapic_base = rd64(e + 4);
	return ACPI_OK;
}

/* §5.2.12.12 Processor Local x2APIC: reserved u16, x2APIC ID u32, flags u32, uid u32. */
static int madt_local_x2apic(const u8 *e, u8 len, struct madt_info *out)
{
	if (len < 16)
		return ACPI_ERR_MALFORMED;
	add_cpu(out, rd32(e + 4), rd32(e + 8));
	return ACPI_OK;
}

/* The entry types we use; others are skipped by their length. */
static const struct {
	u8 type;
	int (*parse)(const u8 *entry, u8 len, struct madt_info *out);
} madt_parsers[] = {
	{ MADT_LOCAL_APIC, madt_local_apic },
	{ MADT_IO_APIC, madt_io_apic },
	{ MADT_LAPIC_OVERRIDE, madt_lapic_override },
	{ MADT_LOCAL_X2APIC, madt_local_x2apic },
};

int madt_parse(const void *madt, struct madt_info *out)
{
	const u8 *m = madt;

	memset(out, 0, sizeof(*out));
	if (!m || memcmp(m, "APIC", 4) != 0)
		return ACPI_ERR_NO_MADT;
	u32 len = rd32(m + SDT_OFF_LENGTH);
	if (len < MADT_ENTRIES)
		return ACPI_ERR_MALFORMED;
	if (acpi_checksum(m, len) != 0)
		return ACPI_ERR_CHECKSUM;

	out->lapic_base = rd32(m + MADT_OFF_LAPIC);
	out->pic_present = (rd32(m + MADT_OFF_FLAGS) & MADT_PCAT_COMPAT) != 0;

	/* §5.2.12: entries are {u8 type, u8 length, ...} back to back up to the table length. */
	u32 off = MADT_ENTRIES;
	while (off < len) {
		if (len - off < 2)
			return ACPI_ERR_MALFORMED;
		u8 type = m[off], elen = m[off + 1];
		if (elen < 2 || elen > len - off)
			return ACPI_ERR_MALFORMED; /* a zero length would loop forever */
		for (size_t i = 0; i < ARRAY_SIZE(madt_parsers); i++) {
			if (madt_parsers[i].type == type) {
				int err = madt_parsers[i].parse(m + off, elen, out);
				if (err != ACPI_OK)
					return err;
			}
		}
		off += elen;
	}
	return ACPI_OK;
}

const char *acpi_strerror(int err)
{
	static const char *const msgs[] = {
		[-ACPI_OK] = "ok",
		[-ACPI_ERR_NO_RSDP] = "no valid RSDP",
		[-ACPI_ERR_NO_MADT] = "no MADT",
		[-ACPI_ERR_CHECKSUM] = "bad table checksum",
		[-ACPI_ERR_MALFORMED] = "a length field runs past its table",
	};

	return error_message(err, msgs, ARRAY_SIZE(msgs));
}
