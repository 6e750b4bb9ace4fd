/**
 * @file gdt.c
 * @brief A flat 64-bit GDT and a TSS: the minimum a long-mode kernel needs.
 *
 * In 64-bit mode segmentation is almost gone (SDM Vol. 3A §3.2.4): base and limit are
 * ignored for CS/DS/ES/SS, and a code descriptor matters only for its L (64-bit) bit and
 * DPL. What still matters is the TSS (SDM Vol. 3A §8.7): it holds the stack pointers the
 * CPU switches to, among them the Interrupt Stack Table (IST) used by our #DF handler.
 *
 * Ring 3 (usermode.h) needs two more things: code and data descriptors with DPL 3, and
 * TSS.RSP0, the stack an interrupt or exception arriving in ring 3 switches to
 * (SDM Vol. 3A §7.14.4): the CPU never runs a ring-0 handler on a ring-3 stack.
 */
#include <hvlab/types.h>
#include <arch/cpu.h>
#include "gdt.h"

/* The 64-bit TSS (SDM Vol. 3A §8.7, Figure 8-11). Only RSP0 and the IST entries are used. */
struct __attribute__((packed)) tss64 {
	u32 reserved0;
	u64 rsp[3];     /* stacks for privilege changes to rings 0-2: rsp[0] for exceptions in ring 3 */
	u64 reserved1;
	u64 ist[7];     /* IST1..IST7: ist[0] is IST1 */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base; /* offset of the I/O permission bitmap: past the end = none */
};

/* Segment-descriptor bits (SDM Vol. 3A §3.4.5, Figure 3-8). */
#define DESC_TYPE_DATA_RW (0x2ULL << 40)
#define DESC_TYPE_CODE_RX (0xaULL << 40)
#define DESC_TYPE_TSS64 (0x9ULL << 40) /* available 64-bit TSS (§8.2.3) */
#define DESC_S BIT(44)                  /* code/data (not a system descriptor) */
#define DESC_DPL3 (3ULL << 45)          /* descriptor privilege level 3: usable in ring 3 */
#define DESC_P BIT(47)                  /* present */
#define DESC_L BIT(53)                  /* 64-bit code */
#define DESC_DB BIT(54)
#define DESC_G BIT(55)                  /* limit in 4 KiB units */
#define DESC_FLAT_LIMIT (0xffffULL | (0xfULL << 48))

static struct tss64 tss;
static u8 ist_critical_stack[4096] __attribute__((aligned(16)));
static u8 ring0_stack[8192] __attribute__((aligned(16))); /* TSS.RSP0: exceptions from ring 3 */

/* Seven 8-byte slots: null, code, data, the TSS, which takes two (16-byte descriptor),
 * then user data and user code. */
static u64 gdt[7] __attribute__((aligned(16)));

/* A 16-byte system descriptor for the TSS (SDM Vol. 3A §8.2.3, Figure 8-4). */
static void set_tss_descriptor(u64 *slot, u64 base, u32 limit)
{
	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | DESC_TYPE_TSS64 | DESC_P |
		  ((u64)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	slot[1] = base >> 32;
}

void gdt_init(void)
{
	/* 1. The descriptors. */
	gdt[0] = 0;
	gdt[GDT_SEL_CODE / 8] = DESC_TYPE_CODE_RX | DESC_S | DESC_P | DESC_L | DESC_G | DESC_FLAT_LIMIT;
	gdt[GDT_SEL_DATA / 8] = DESC_TYPE_DATA_RW | DESC_S | DESC_P | DESC_DB | DESC_G | DESC_FLAT_LIMIT;
	gdt[GDT_SEL_USER_DATA / 8] = gdt[GDT_SEL_DATA / 8] | DESC_DPL3;
	gdt[GDT_SEL_USER_CODE / 8] = gdt[GDT_SEL_CODE / 8] | DESC_DPL3;
	tss.ist[IST_CRITICAL - 1] = (u64)(ist_critical_stack + sizeof(ist_critical_stack));
	tss.rsp[0] = (u64)(ring0_stack + sizeof(ring0_stack));
	tss.iomap_base = sizeof(tss);
	set_tss_descriptor(&gdt[GDT_SEL_TSS / 8], (u64)&tss, sizeof(tss) - 1);
	gdt_load();
}

void gdt_load(void)
{
	/* 2. Load it. */
	struct dtr d = { .limit = sizeof(gdt) - 1, .base = (u64)gdt };
	lgdt(&d);

	/* 3. The segment registers keep their old descriptors cached until reloaded. Data
	 *    segments reload with MOV; CS cannot be MOVed into, so push the new CS and a
	 *    return address and do a far return (LRETQ pops both). */
	__asm__ volatile("movw %w0, %%ds\n\t"
			 "movw %w0, %%es\n\t"
			 "movw %w0, %%ss\n\t"
			 "movw %w0, %%fs\n\t"
			 "movw %w0, %%gs\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:"
			 : : "r"((u64)GDT_SEL_DATA), "i"(GDT_SEL_CODE) : "rax", "memory");

	/* 4. Load the task register: the CPU now finds the IST stacks through it. LTR marks
	 *    the descriptor busy and refuses a busy one (SDM Vol. 3A §8.2.2), so each
	 *    processor clears the bit first: all share one TSS, and with it the IST stack of
	 *    #DF/NMI/#MC (enough for a test library; two CPUs in #DF at once would collide). */
	gdt[GDT_SEL_TSS / 8] &= ~(1ULL << 41);
	__asm__ volatile("ltr %w0" : : "r"((u16)GDT_SEL_TSS));
}
