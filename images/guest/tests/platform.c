/*
 * platform.c — the virtual PC every partition gets, checked register by register from
 * inside: what a BIOS-less OS probes before it takes its first interrupt.
 *
 * ACPI tables (found the standard way, from the RSDP signature), the ACPI PM timer, the
 * 8254 PIT (counter 2 through port 0x61, latch and read-back commands), the 8259 pair
 * (initialization, mask, IRR/ISR through OCW3, poll and EOI), the IOAPIC's registers,
 * the MC146818 RTC and its CMOS memory, and PCI configuration space, none of which needs
 * an interrupt to be delivered (RFLAGS.IF stays clear). The last tests then let the PIT
 * and RTC interrupt the guest, through the IOAPIC and through the 8259.
 *
 * Expectations beyond the datasheets (what hvlab's platform promises) are marked
 * "EXPECTATION:".
 */
#include "guest.h"

#define SPIN_LIMIT 50000000ULL

/* ---- ACPI: RSDP → XSDT → MADT, FADT (ACPI 6.5 §5.2) --------------------------------- */

/* EXPECTATION: the RSDP is at the start of the 0xE0000-0xFFFFF area (guest_abi.h). */
#define ACPI_AREA_START 0xe0000ULL
#define ACPI_AREA_END 0x100000ULL
#define SDT_HEADER_LEN 36

static u32 rd32(u64 addr) { u32 v; memcpy(&v, (const void *)addr, 4); return v; }
static u16 rd16(u64 addr) { u16 v; memcpy(&v, (const void *)addr, 2); return v; }
static u64 rd64(u64 addr) { u64 v; memcpy(&v, (const void *)addr, 8); return v; }
static u8 rd8(u64 addr) { return *(const volatile u8 *)addr; }

static u8 sum_bytes(u64 addr, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum += rd8(addr + i);
	return sum;
}

/* Search the BIOS area on 16-byte boundaries, as an OS does (§5.2.5.1). */
static u64 find_rsdp(void)
{
	for (u64 a = ACPI_AREA_START; a < ACPI_AREA_END; a += 16)
		if (memcmp((const void *)a, "RSD PTR ", 8) == 0 && sum_bytes(a, 20) == 0)
			return a;
	return 0;
}

/* The table with @sig listed in the XSDT, or 0. */
static u64 find_table(const char *sig)
{
	u64 rsdp = find_rsdp();
	if (!rsdp)
		return 0;
	u64 xsdt = rd64(rsdp + 24);
	u32 n = (rd32(xsdt + 4) - SDT_HEADER_LEN) / 8;
	for (u32 i = 0; i < n; i++) {
		u64 t = rd64(xsdt + SDT_HEADER_LEN + 8 * i);
		if (memcmp((const void *)t, sig, 4) == 0)
			return t;
	}
	return 0;
}

static void test_acpi_rsdp(void)
{
	u64 rsdp = find_rsdp();

	if (!CHECK(rsdp, "no RSDP in 0xe0000-0xfffff"))
		return;
	CHECK_EQ(rsdp, ACPI_AREA_START);
	CHECK_EQ(rd8(rsdp + 15), 2);                    /* revision: ACPI 2.0+ */
	CHECK_EQ(rd32(rsdp + 20), 36);                  /* length */
	CHECK_EQ(sum_bytes(rsdp, 36), 0);               /* extended checksum */
	u64 rsdt = rd32(rsdp + 16), xsdt = rd64(rsdp + 24);
	CHECK(memcmp((const void *)rsdt, "RSDT", 4) == 0, "RSDT at 0x%lx", rsdt);
	CHECK(memcmp((const void *)xsdt, "XSDT", 4) == 0, "XSDT at 0x%lx", xsdt);
	CHECK_EQ(sum_bytes(rsdt, rd32(rsdt + 4)), 0);
	CHECK_EQ(sum_bytes(xsdt, rd32(xsdt + 4)), 0);
	/* The RSDT lists the same tables, 32-bit. */
	CHECK_EQ((rd32(rsdt + 4) - SDT_HEADER_LEN) / 4, (rd32(xsdt + 4) - SDT_HEADER_LEN) / 8);
	CHECK_EQ(rd32(rsdt + SDT_HEADER_LEN), rd64(xsdt + SDT_HEADER_LEN));
}

/* MADT (§5.2.12): one enabled local APIC per vCPU with APIC ID = vCPU number, the IOAPIC
 * at 0xFEC00000 from GSI 0, and ISA IRQ 0 overridden to GSI 2. */
static void test_acpi_madt(void)
{
	u64 madt = find_table("APIC");
	u32 cpus = 0, ioapics = 0;
	bool irq0_to_gsi2 = false;

	if (!CHECK(madt, "no MADT in the XSDT"))
		return;
	u32 len = rd32(madt + 4);
	CHECK_EQ(sum_bytes(madt, len), 0);
	CHECK_EQ(rd32(madt + 36), 0xfee00000);          /* local APIC address */
	CHECK(rd32(madt + 40) & 1, "PCAT_COMPAT clear"); /* 8259s present */
	for (u64 e = madt + 44; e + 2 <= madt + len && rd8(e + 1) >= 2; e += rd8(e + 1)) {
		switch (rd8(e)) {
		case 0: /* processor local APIC */
			CHECK(rd32(e + 4) & 1, "CPU %u not enabled", rd8(e + 3));
			CHECK_EQ(rd8(e + 3), cpus);
			cpus++;
			break;
		case 1: /* IOAPIC */
			CHECK_EQ(rd32(e + 4), 0xfec00000);
			CHECK_EQ(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2: /* interrupt source override */
			if (rd8(e + 3) == 0 && rd32(e + 4) == 2)
				irq0_to_gsi2 = true;
			break;
		}
	}
	CHECK_EQ(cpus, boot_info->nvcpus);
	CHECK_EQ(ioapics, 1);
	CHECK(irq0_to_gsi2, "no override of IRQ 0 to GSI 2");
}

/* FADT (§5.2.9): the PM timer block, 4 bytes, at an I/O port; DSDT and FACS present. */
static u16 fadt_pm_timer_port(void)
{
	u64 fadt = find_table("FACP");
	return fadt ? (u16)rd32(fadt + 76) : 0;
}

static void test_acpi_fadt(void)
{
	u64 fadt = find_table("FACP");

	if (!CHECK(fadt, "no FADT in the XSDT"))
		return;
	CHECK_EQ(sum_bytes(fadt, rd32(fadt + 4)), 0);
	CHECK_EQ(rd32(fadt + 76), 0x608);               /* EXPECTATION: PM_TMR_BLK as QEMU's */
	CHECK_EQ(rd8(fadt + 91), 4);                    /* PM_TMR_LEN */
	CHECK_EQ(rd16(fadt + 46), 9);                   /* SCI_INT */
	u64 dsdt = rd32(fadt + 40), facs = rd32(fadt + 36);
	CHECK(memcmp((const void *)dsdt, "DSDT", 4) == 0, "DSDT at 0x%lx", dsdt);
	CHECK_EQ(sum_bytes(dsdt, rd32(dsdt + 4)), 0);
	CHECK(memcmp((const void *)facs, "FACS", 4) == 0, "FACS at 0x%lx", facs);
	CHECK_EQ(facs & 63, 0);                         /* 64-byte aligned */
}

/* ---- ACPI PM timer (§4.8.3.3): 3.579545 MHz, 24 bits --------------------------------- */

static u32 pm_timer(void)
{
	return inl(fadt_pm_timer_port() ? fadt_pm_timer_port() : 0x608);
}

/* Spin until the PM timer has advanced by @ticks (wrapping at 24 bits). */
static void pm_delay(u32 ticks)
{
	u32 start = pm_timer();
	for (u64 i = 0; i < SPIN_LIMIT && ((pm_timer() - start) & 0xffffff) < ticks; i++)
		;
}

static void test_pm_timer(void)
{
	u32 a = pm_timer();
	u64 spins = 0;
	u32 b;

	while ((b = pm_timer()) == a && ++spins < SPIN_LIMIT)
		;
	CHECK(b != a, "PM timer stuck at 0x%x", a);
	CHECK(a <= 0xffffff && b <= 0xffffff, "not 24 bits: 0x%x 0x%x", a, b);
	CHECK(inw(0x604) & 1, "PM1a_CNT.SCI_EN clear"); /* always in ACPI mode */
}

/* ---- 8254 PIT: counter 2 through port 0x61 ------------------------------------------- */

#define PIT_CH2 0x42
#define PIT_CONTROL 0x43
#define PORT_B 0x61

/* Counter 2 in @mode, LSB then MSB, count @count, gate on, speaker off. */
static void pit2_start(u8 mode, u16 count)
{
	outb(PORT_B, (inb(PORT_B) & ~0x03) | 0x01);
	outb(PIT_CONTROL, 0xb0 | mode << 1);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
}

/* Counter latch command for counter 2, then its count, LSB first. */
static u16 pit2_latched(void)
{
	outb(PIT_CONTROL, 0x80);
	u8 lo = inb(PIT_CH2);
	return lo | inb(PIT_CH2) << 8;
}

/* Mode 0, as Linux's and hvlab's own TSC calibration use it: OUT (port 0x61 bit 5) low
 * while counting, high at terminal count. */
static void test_pit_countdown(void)
{
	pit2_start(0, 2000);
	CHECK(!(inb(PORT_B) & 0x20), "OUT2 high right after loading");
	u16 first = pit2_latched();
	u64 spins = 0;
	while (!(inb(PORT_B) & 0x20) && ++spins < SPIN_LIMIT)
		;
	CHECK(inb(PORT_B) & 0x20, "OUT2 never rose (terminal count)");
	CHECK(first <= 2000 && first > 0, "count 0x%x after loading 2000", first);
	/* Gate low stops mode 0 counting (datasheet: gate low disables counting). */
	pit2_start(0, 60000);
	outb(PORT_B, inb(PORT_B) & ~0x01);
	u16 held = pit2_latched();
	pm_delay(3000);
	CHECK_EQ(pit2_latched(), held);
	outb(PORT_B, inb(PORT_B) | 0x01);
	pm_delay(3000);
	CHECK(pit2_latched() < held, "count did not resume with the gate");
}

/* A latch holds the count until read; a second latch before that is ignored. The
 * read-back command latches the status byte (mode, access, OUT). */
static void test_pit_latch(void)
{
	pit2_start(0, 0xffff);
	outb(PIT_CONTROL, 0x80);         /* latch A */
	pm_delay(3000);                  /* ~1 ms: ~1000 PIT clocks */
	outb(PIT_CONTROL, 0x80);         /* latch B: ignored, A is still unread */
	u8 lo = inb(PIT_CH2);
	u16 a = lo | inb(PIT_CH2) << 8;
	u16 c = pit2_latched();
	CHECK(a > c + 500, "latched 0x%x, then 0x%x: the first latch was not held", a, c);

	/* Read-back (SC = 11): bit 5 set = no count, bit 4 clear = status, bit 3 = counter 2. */
	outb(PIT_CONTROL, 0xe8);
	u8 status = inb(PIT_CH2);
	CHECK_EQ(status & 0x3f, 0x30); /* LSB then MSB, mode 0, binary */
	CHECK(!(status & 0x80), "status 0x%x: OUT high while counting", status);

	/* Mode 2 (rate generator) reloads: the count stays in 1..N. */
	pit2_start(2, 500);
	for (int i = 0; i < 20; i++) {
		u16 v = pit2_latched();
		CHECK(v >= 1 && v <= 500, "mode 2 count %u outside 1..500", v);
	}
	outb(PORT_B, inb(PORT_B) & ~0x03); /* gate off */
}

/* The two timers run off the same clock: the PM timer advances 3x as fast as the PIT
 * (3.579545 / 1.193182 MHz). Each end of the interval reads both counters back to back,
 * so the comparison holds even when this vCPU shares its CPU and loses it in between
 * (as long as the 16-bit PIT count does not wrap: 30 ms of 55). */
static void test_pit_pm_agree(void)
{
	pit2_start(0, 0xffff);
	u32 pm0 = pm_timer();
	u16 pit0 = pit2_latched();
	pm_delay(107000); /* ~30 ms */
	u32 pm1 = pm_timer();
	u16 pit1 = pit2_latched();
	u32 pm = (pm1 - pm0) & 0xffffff;
	u32 pit = (u16)(pit0 - pit1);
	CHECK(pit > 0 && pm * 100 / pit >= 285 && pm * 100 / pit <= 315,
	      "PM timer advanced %u while the PIT counted %u", pm, pit);
	outb(PORT_B, inb(PORT_B) & ~0x03);
}

/* ---- 8259 PIC pair -------------------------------------------------------------------- */

/* The standard PC initialization: vectors 0x20/0x28, slave on IR2, 8086 mode. */
static void pic_init(void)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
}

static void test_pic_registers(void)
{
	pic_init();
	/* OCW1: the mask reads back; ICW1 cleared it. */
	CHECK_EQ(inb(0x21), 0x00);
	outb(0x21, 0xfb);
	outb(0xa1, 0xff);
	CHECK_EQ(inb(0x21), 0xfb);
	CHECK_EQ(inb(0xa1), 0xff);
	/* OCW3: ISR, then IRR; nothing is in service. */
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0x00);
	outb(0xa0, 0x0b);
	CHECK_EQ(inb(0xa0), 0x00);
	outb(0x20, 0x0a);
	/* ELCR: IRQ 0-2 are always edge; the rest follow what is written. */
	outb(0x4d0, 0xff);
	CHECK_EQ(inb(0x4d0), 0xf8);
	outb(0x4d0, 0x00);
	CHECK_EQ(inb(0x4d0), 0x00);
}

/* PIT counter 0 reaching terminal count raises IRQ 0: it shows in the master's IRR
 * while masked; unmasked, a poll command acknowledges it (ISR), a specific EOI ends it.
 * RFLAGS.IF stays clear, so the CPU itself never takes it. */
static void test_pic_irr_isr(void)
{
	pic_init();
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x43, 0x30);                /* counter 0, LSB then MSB, mode 0 */
	outb(0x40, 100);
	outb(0x40, 0);
	pm_delay(1000);                  /* ~280 us > 100 PIT clocks (84 us) */
	u64 spins = 0;
	outb(0x20, 0x0a);                /* read IRR */
	while (!(inb(0x20) & 1) && ++spins < SPIN_LIMIT)
		;
	CHECK(inb(0x20) & 1, "IRQ 0 never requested (IRR 0x%x)", inb(0x20));
	outb(0x21, 0xfe);                /* unmask IRQ 0 only */
	outb(0x20, 0x0c);                /* OCW3 poll */
	CHECK_EQ(inb(0x20), 0x80);       /* request on IR0, now acknowledged */
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0x01);       /* ISR: IR0 in service */
	outb(0x20, 0x60);                /* OCW2 specific EOI, IR0 */
	CHECK_EQ(inb(0x20), 0x00);
	outb(0x20, 0x0a);
	CHECK_EQ(inb(0x20) & 1, 0);      /* an edge request is consumed by the acknowledge */
	outb(0x21, 0xff);
}

/* ---- IOAPIC (82093AA §3.2) ------------------------------------------------------------ */

#define IOAPIC 0xfec00000ULL

static u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC, reg);
	return mmio_read32(IOAPIC + 0x10);
}

static void ioapic_write(u32 reg, u32 value)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, value);
}

static void test_ioapic_registers(void)
{
	u32 ver = ioapic_read(1);

	CHECK_EQ(ver & 0xff, 0x11);              /* version */
	CHECK_EQ((ver >> 16) & 0xff, 23);        /* maximum redirection entry: 24 pins */
	CHECK_EQ(ioapic_read(0x10) & (1u << 16), 1u << 16); /* entries start masked */
	/* Pin 5: masked, level, active low, logical, vector 0x35, destination 1. */
	ioapic_write(0x10 + 2 * 5, 0x0001a835);
	ioapic_write(0x11 + 2 * 5, 0x01000000);
	CHECK_EQ(ioapic_read(0x10 + 2 * 5), 0x0001a835);
	CHECK_EQ(ioapic_read(0x11 + 2 * 5), 0x01000000);
	/* Remote IRR and delivery status are read-only. */
	ioapic_write(0x10 + 2 * 5, 0x00015035);
	CHECK_EQ(ioapic_read(0x10 + 2 * 5), 0x00010035);
	ioapic_write(0x10 + 2 * 5, 0x00010000);
	ioapic_write(0x11 + 2 * 5, 0);
	/* IOREGSEL reads back; the ID is bits 27:24. */
	mmio_write32(IOAPIC, 0x23);
	CHECK_EQ(mmio_read32(IOAPIC) & 0xff, 0x23);
	u32 id = ioapic_read(0);
	ioapic_write(0, 0x0a000000);
	CHECK_EQ(ioapic_read(0), 0x0a000000);
	ioapic_write(0, id);
}

/* ---- MC146818 RTC and CMOS ------------------------------------------------------------ */

static u8 cmos_read(u8 index) { outb(0x70, index); return inb(0x71); }
static void cmos_write(u8 index, u8 value) { outb(0x70, index); outb(0x71, value); }
static u8 bcd(u8 v) { return (v >> 4) * 10 + (v & 0xf); }

/* Wait until no update is in progress, so the time registers are consistent (register A
 * UIP, datasheet "Update cycle"). */
static void rtc_wait_uip(void)
{
	for (u64 i = 0; i < SPIN_LIMIT && (cmos_read(0x0a) & 0x80); i++)
		;
}

/* EXPECTATION: the clock starts at 2020-01-01 00:00:00 (a Wednesday) with the partition,
 * and this test runs well within its first day. */
static void test_rtc_date(void)
{
	u8 b = cmos_read(0x0b);

	CHECK_EQ(b & 0x06, 0x02);        /* BCD, 24-hour */
	CHECK_EQ(cmos_read(0x0d), 0x80); /* valid RAM and time */
	rtc_wait_uip();
	CHECK_EQ(cmos_read(0x09), 0x20); /* year, BCD */
	CHECK_EQ(cmos_read(0x32), 0x20); /* century */
	CHECK_EQ(cmos_read(0x08), 0x01);
	CHECK_EQ(cmos_read(0x07), 0x01);
	CHECK_EQ(cmos_read(0x06), 4);    /* weekday, Sunday = 1 */
	CHECK(bcd(cmos_read(0x04)) < 24 && bcd(cmos_read(0x00)) < 60, "bad BCD time");

	cmos_write(0x0b, b | 0x04);      /* binary */
	rtc_wait_uip();
	CHECK_EQ(cmos_read(0x09), 20);
	CHECK_EQ(cmos_read(0x08), 1);
	CHECK(cmos_read(0x00) < 60, "seconds %u", cmos_read(0x00));
	cmos_write(0x0b, (b | 0x04) & ~0x02); /* binary, 12-hour: hour 1-12, bit 7 = PM */
	u8 h = cmos_read(0x04);
	CHECK((h & 0x7f) >= 1 && (h & 0x7f) <= 12, "12-hour hour 0x%x", h);
	cmos_write(0x0b, b);
}

/* Register C's flags are set whether or not their interrupt is enabled, and reading C
 * clears them: PF at the rate of register A. */
static void test_rtc_register_c(void)
{
	u8 a = cmos_read(0x0a);

	cmos_write(0x0a, 0x23);          /* 8192 Hz periodic rate */
	cmos_read(0x0c);
	pm_delay(2000);                  /* ~560 us: several periods */
	u8 c1 = cmos_read(0x0c);
	cmos_write(0x0a, 0x20);          /* rate 0: periodic off */
	cmos_read(0x0c);
	u8 c2 = cmos_read(0x0c);
	CHECK(c1 & 0x40, "PF clear after 4 periods: C=0x%x", c1);
	CHECK(!(c1 & 0x80), "IRQF set with PIE off: C=0x%x", c1);
	CHECK_EQ(c2 & 0xc0, 0);
	cmos_write(0x0a, a);
}

/* The PC/AT memory-size bytes describe the partition's RAM. */
static void test_cmos_memory(void)
{
	u64 mem = boot_info->mem_size;
	u64 ext = (mem - 0x100000) >> 10;
	u64 above16 = mem > 0x1000000 ? (mem - 0x1000000) >> 16 : 0;

	ext = ext > 0xfc00 ? 0xfc00 : ext;
	CHECK_EQ(cmos_read(0x15) | cmos_read(0x16) << 8, 640);
	CHECK_EQ(cmos_read(0x17) | cmos_read(0x18) << 8, ext);
	CHECK_EQ(cmos_read(0x30) | cmos_read(0x31) << 8, ext);
	CHECK_EQ(cmos_read(0x34) | cmos_read(0x35) << 8, above16 > 0xffff ? 0xffff : above16);
	/* The rest of CMOS is RAM. */
	cmos_write(0x50, 0xa5);
	CHECK_EQ(cmos_read(0x50), 0xa5);
}

/* ---- PCI configuration mechanism #1 (PCI 3.0 §3.2.2.3.2) ------------------------------ */

static u32 pci_read(u8 bus, u8 dev, u8 fn, u8 reg)
{
	outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
	return inl(0xcfc);
}

static void test_pci(void)
{
	u32 present = 0;

	CHECK_EQ(pci_read(0, 0, 0, 0x00), 0x12378086);          /* host bridge IDs */
	CHECK_EQ(pci_read(0, 0, 0, 0x08) >> 8, 0x060000);       /* class: host bridge */
	CHECK_EQ(inl(0xcf8), 0x80000008);                       /* CONFIG_ADDRESS reads back */
	outl(0xcf8, 0x80000000);
	CHECK_EQ(inw(0xcfe), 0x1237);                           /* word access at offset 2 */
	CHECK_EQ(inb(0xcfd), 0x80);
	for (u8 dev = 0; dev < 32; dev++)
		if ((pci_read(0, dev, 0, 0) & 0xffff) != 0xffff)
			present++;
	CHECK_EQ(present, 1);
	CHECK_EQ(pci_read(0, 31, 0, 0), 0xffffffff);            /* absent function */
	CHECK_EQ(pci_read(1, 0, 0, 0), 0xffffffff);             /* absent bus */
	CHECK_EQ(pci_read(0, 0, 1, 0), 0xffffffff);
	/* Read-only IDs stay; the command register's enables are writable. */
	outl(0xcf8, 0x80000000);
	outl(0xcfc, 0);
	CHECK_EQ(inl(0xcfc), 0x12378086);
	outl(0xcf8, 0x80000000 | 0x3c);
	outb(0xcfc, 0x0b);                                      /* Interrupt Line */
	CHECK_EQ(inb(0xcfc), 0x0b);
}

/* ---- Interrupts actually delivered ----------------------------------------------------
 * The device models raise their lines; the IOAPIC or the 8259 pair turns them into
 * vectors the (virtual) local APIC delivers. Each test enables interrupts only for a
 * bounded PM-timer interval, then masks everything again. */

#define VEC_IOAPIC_PIT 0x50
#define VEC_IOAPIC_RTC 0x51
#define VEC_PIC_BASE 0x20
#define PM_10MS 35795

static volatile u32 ticks;

static void on_ioapic_pit(u64 vector) { ticks++; lapic_eoi(); }
static void on_pic_irq0(u64 vector) { ticks++; outb(0x20, 0x20); } /* non-specific EOI */
static void on_rtc(u64 vector)
{
	if (cmos_read(0x0c) & 0x40) /* reading C acknowledges the RTC */
		ticks++;
	lapic_eoi();
}

/* Interrupts on for @pm PM-timer ticks; returns how many arrived. */
static u32 count_interrupts(u32 pm)
{
	ticks = 0;
	irq_enable();
	pm_delay(pm);
	irq_disable();
	return ticks;
}

/* PIT counter 0, mode 2 at 1 kHz, reaches IOAPIC pin 2 (the MADT's IRQ 0 override). */
static void test_irq_ioapic_pit(void)
{
	irq_set_handler(VEC_IOAPIC_PIT, on_ioapic_pit);
	lapic_enable();
	ioapic_write(0x10 + 2 * 2, VEC_IOAPIC_PIT);     /* edge, active high, fixed, unmasked */
	ioapic_write(0x11 + 2 * 2, 0);                  /* to APIC ID 0 */
	outb(0x43, 0x34);                               /* counter 0, LSB then MSB, mode 2 */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	u32 n = count_interrupts(2 * PM_10MS);          /* 20 ms: ~20 ticks */
	ioapic_write(0x10 + 2 * 2, 1u << 16);
	outb(0x43, 0x30);                               /* mode 0, no count: counter 0 stops */
	gprintf("  # %u PIT interrupts through the IOAPIC in 20 ms\n", n);
	CHECK(n >= 10 && n <= 25, "%u PIT interrupts in 20 ms at 1 kHz", n);
}

/* The RTC's periodic interrupt (register A rate 6, 1024 Hz) on IOAPIC pin 8. */
static void test_irq_ioapic_rtc(void)
{
	u8 a = cmos_read(0x0a), b = cmos_read(0x0b);

	irq_set_handler(VEC_IOAPIC_RTC, on_rtc);
	lapic_enable();
	ioapic_write(0x10 + 2 * 8, VEC_IOAPIC_RTC);
	ioapic_write(0x11 + 2 * 8, 0);
	cmos_write(0x0a, 0x26);
	cmos_read(0x0c);
	cmos_write(0x0b, b | 0x40);                     /* PIE */
	u32 n = count_interrupts(2 * PM_10MS);          /* 20 ms: ~20 periods */
	cmos_write(0x0b, b);
	ioapic_write(0x10 + 2 * 8, 1u << 16);
	cmos_write(0x0a, a);
	cmos_read(0x0c);
	gprintf("  # %u RTC interrupts through the IOAPIC in 20 ms\n", n);
	CHECK(n >= 10 && n <= 25, "%u RTC interrupts in 20 ms at 1024 Hz", n);
}

/* The 8259 path: IRQ 0 through the master, the local APIC's LINT0 in ExtINT mode, the
 * vector from ICW2 (0x20). */
static void test_irq_pic_pit(void)
{
	irq_set_handler(VEC_PIC_BASE, on_pic_irq0);
	lapic_enable();
	lapic_write(LAPIC_REG_LVT_LINT0, 7u << 8);      /* ExtINT, unmasked */
	pic_init();
	outb(0x21, 0xfe);                               /* only IRQ 0 */
	outb(0xa1, 0xff);
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	u32 n = count_interrupts(2 * PM_10MS);
	outb(0x21, 0xff);
	outb(0x43, 0x30);
	lapic_write(LAPIC_REG_LVT_LINT0, LAPIC_LVT_MASKED);
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0);                         /* every one was EOIed */
	gprintf("  # %u PIT interrupts through the 8259 in 20 ms\n", n);
	CHECK(n >= 10 && n <= 25, "%u PIC interrupts in 20 ms at 1 kHz", n);
}

static const struct guest_test tests[] = {
	{ "acpi rsdp at 0xe0000, checksums", test_acpi_rsdp },
	{ "acpi madt cpus and ioapic", test_acpi_madt },
	{ "acpi fadt pm timer, dsdt, facs", test_acpi_fadt },
	{ "acpi pm timer advances", test_pm_timer },
	{ "pit counter 2 countdown via port 0x61", test_pit_countdown },
	{ "pit latch and read-back", test_pit_latch },
	{ "pit and pm timer agree", test_pit_pm_agree },
	{ "pic init, mask, ocw3, elcr", test_pic_registers },
	{ "pic irr, poll, isr, eoi", test_pic_irr_isr },
	{ "ioapic version and redirection entry", test_ioapic_registers },
	{ "rtc date in bcd and binary", test_rtc_date },
	{ "rtc register c read-clears", test_rtc_register_c },
	{ "cmos memory size", test_cmos_memory },
	{ "pci host bridge and absent devices", test_pci },
	{ "irq pit through ioapic pin 2", test_irq_ioapic_pit },
	{ "irq rtc periodic through ioapic pin 8", test_irq_ioapic_rtc },
	{ "irq pit through the 8259 and lint0", test_irq_pic_pit },
};

int main(const struct hvlab_boot_info *bi)
{
	gprintf("platform on %s: %lu MiB, %u vCPU%s\n", bi->name, bi->mem_size >> 20, bi->nvcpus,
		bi->nvcpus == 1 ? "" : "s");
	return run_tests(tests, ARRAY_SIZE(tests));
}
