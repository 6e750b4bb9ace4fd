/**
 * @file percpu.h
 * @brief Per-CPU state: one struct cpu per physical CPU, reached through GS.
 *
 * Each CPU's GS base points at its own struct cpu, whose first field points at itself,
 * so this_cpu() is one instruction on any CPU (the Linux/jailhouse idiom).
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#include <hvlab/types.h>
#include <arch/boot.h>

#define MAX_CPUS 16

/** The 64-bit task-state segment (SDM Vol. 3A §8.7, Figure 8-11). */
struct __attribute__((packed)) tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];   /**< interrupt stack table: ist[0] is IST1 */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
};

/* GDT layout of every CPU (same selectors as the boot GDT, plus the TSS). */
#define GDT_CS64 0x08
#define GDT_DS 0x10
#define GDT_CS32 0x18
#define GDT_TSS 0x20
#define GDT_ENTRIES 6

struct vcpu;

/** Everything one physical CPU owns. */
struct cpu {
	struct cpu *self;        /**< gs:0 — must stay first */
	u32 index;               /**< 0 = bootstrap processor, then APs in MADT order */
	u32 apic_id;
	volatile bool online;    /**< set by the CPU itself once it runs C code */
	bool vmx_on;             /**< in VMX root operation */
	u64 vmxon_pa;            /**< its VMXON region (SDM Vol. 3C §25.11.5) */
	struct vcpu *current;    /**< vCPU whose VMCS is current on this CPU, or NULL */
	volatile bool kick_with_nmi; /**< its guest runs with interception off: kick by NMI */
	u64 stack_top;
	u64 gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
	u8 ist_stack[4096] __attribute__((aligned(16))); /**< for #DF and NMI: a known-good stack */
};

extern struct cpu cpus[MAX_CPUS];
extern u32 ncpus;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/** Load this CPU's GDT, TSS and GS base, and the shared IDT. */
void cpu_init_tables(struct cpu *c);

#endif
