/**
 * @file cpu_tables.c
 * @brief Each CPU's GDT, TSS and GS base (SDM Vol. 3A §3.4.5, §8.2.3, §8.7).
 *
 * In 64-bit mode segmentation is mostly off, but the CPU still needs a code and a data
 * descriptor, and a TSS for the interrupt stack table: #DF and NMI switch to a known-good
 * stack so a stack overflow is reported instead of silently resetting the machine.
 */
#include <arch/percpu.h>
#include <arch/cpu.h>
#include <arch/idt.h>
#include <hvlab/lib.h>

struct cpu cpus[MAX_CPUS];
u32 ncpus = 1;

/* A 16-byte system descriptor for the 64-bit TSS (SDM Vol. 3A §8.2.3, Figure 8-4). */
static void set_tss_descriptor(u64 *gdt, u64 base, u32 limit)
{
	gdt[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) /* present, type 9 */
		 | ((u64)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[1] = base >> 32;
}

void cpu_init_tables(struct cpu *c)
{
	c->self = c;
	c->gdt[0] = 0;
	c->gdt[GDT_CS64 / 8] = 0x00af9a000000ffffULL; /* 64-bit code, DPL 0 */
	c->gdt[GDT_DS / 8] = 0x00cf92000000ffffULL;   /* data, DPL 0 */
	c->gdt[GDT_CS32 / 8] = 0x00cf9a000000ffffULL; /* 32-bit code */
	memset(&c->tss, 0, sizeof(c->tss));
	c->tss.ist[IST_CRITICAL - 1] = (u64)(uintptr_t)(c->ist_stack + sizeof(c->ist_stack));
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */
	set_tss_descriptor(&c->gdt[GDT_TSS / 8], (u64)(uintptr_t)&c->tss, sizeof(c->tss) - 1);

	struct dtr gdtr = { sizeof(c->gdt) - 1, (u64)(uintptr_t)c->gdt };
	lgdt(&gdtr);
	/* Reload CS with a far return, then the data segments and the task register. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 "ltr %w2"
			 : : "i"(GDT_CS64), "r"(GDT_DS), "r"(GDT_TSS) : "rax", "memory");
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)c);
	idt_load();
}
