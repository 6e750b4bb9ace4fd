/**
 * @file idt.c
 * @brief The IDT (SDM Vol. 3A §7.10, §7.14.1) and the report of an unexpected exception.
 *
 * An exception inside the hypervisor is a bug: the report names the exception, shows
 * every register, resolves RIP and the return addresses on the stack to function names
 * (src/core/symbols.c), and stops the machine with status 98.
 */
#include <arch/idt.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <hvlab/console.h>
#include <hvlab/symbols.h>
#include <hvlab/lib.h>
#include <arch/lapic.h>

/* One 16-byte interrupt gate (SDM Vol. 3A §7.14.1, Figure 7-7). */
struct __attribute__((packed)) idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr; /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
};

extern char isr_stubs[]; /* isr.S: 256 stubs, 16 bytes apart */
#define ISR_STUB_SIZE 16

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_fn handlers[256];

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		u64 addr = (u64)(uintptr_t)(isr_stubs + v * ISR_STUB_SIZE);
		bool critical = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */

		idt[v] = (struct idt_gate){
			.offset_low = addr & 0xffff,
			.selector = GDT_CS64,
			.ist = critical ? IST_CRITICAL : 0,
			.type_attr = 0x8e,
			.offset_mid = (addr >> 16) & 0xffff,
			.offset_high = addr >> 32,
		};
	}
}

void idt_load(void)
{
	struct dtr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	lidt(&idtr);
}

void idt_set_handler(u8 vector, trap_handler_fn fn)
{
	handlers[vector] = fn;
}

static void print_location(const char *what, u64 addr)
{
	u64 off;
	const char *name = symbol_lookup(addr, &off);

	if (name)
		printk("  %s %016lx <%s+0x%lx>\n", what, addr, name, off);
	else
		printk("  %s %016lx\n", what, addr);
}

/* The fatal report: what happened, where, every register, and who called whom. */
static void __attribute__((noreturn)) report_exception(struct trap_frame *f)
{
	struct cpu *c = this_cpu();

	printk("hvlab: PANIC: exception %s (vector %lu) in the hypervisor on cpu%u, error code 0x%lx\n",
	       exception_name(f->vector), f->vector, c ? c->index : 0, f->error_code);
	print_location("rip", f->rip);
	printk("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printk("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	printk("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
	printk("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
	printk("  cs %04lx ss %04lx rflags %08lx cr0 %08lx cr2 %016lx cr3 %016lx cr4 %08lx\n",
	       f->cs, f->ss, f->rflags, read_cr0(), read_cr2(), read_cr3(), read_cr4());
	print_backtrace(f->rbp);
	hv_poweroff(98);
}

/** Called by isr_common with the saved frame. */
void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	if (f->vector == EXC_NMI || f->vector >= 32) {
		/* An NMI kick that arrived outside a guest, or a device interrupt a guest left
		 * routed to this CPU: nothing to do here but acknowledge it. */
		if (f->vector >= 32)
			host_irq_handle((u8)f->vector);
		return;
	}
	report_exception(f);
}
