/**
 * @file idt.c
 * @brief The IDT, and trap_handler(): where every exception of the guest ends up.
 *
 * The order trap_handler() tries things in is described in idt.h.
 */
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "console.h"
#include "exit.h"
#include "gdt.h"
#include "idt.h"
#include "try.h"

/* A 64-bit interrupt-gate descriptor (SDM Vol. 3A §7.14.1, Figure 7-7). */
struct __attribute__((packed)) idt_gate {
	u16 offset_low;
	u16 selector;   /* code segment the handler runs in */
	u8 ist;         /* bits 2:0: IST slot (0 = stay on the current stack) */
	u8 type_attr;   /* P (bit 7), DPL (bits 6:5), type (bits 3:0) */
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
};

/* Present, DPL 0, type 0xE = 64-bit interrupt gate (clears RFLAGS.IF on entry). */
#define GATE_INTERRUPT 0x8e

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_fn handlers[32];
static irq_handler_fn irq_handlers[256];
static volatile u64 stray_interrupts;

/* How many exceptions are being handled right now: 1 in a normal handler, 2 if the
 * handler itself faulted; and the vector of the outer one. */
static int trap_depth;
static u64 outer_vector;

extern const u64 isr_stub_table[256]; /* isr.S */

static void set_gate(u8 vector, u64 handler, u8 ist)
{
	idt[vector] = (struct idt_gate){
		.offset_low = handler & 0xffff,
		.selector = GDT_SEL_CODE,
		.ist = ist,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_high = handler >> 32,
	};
}

void idt_init(void)
{
	for (int v = 0; v < 32; v++) {
		/* #DF, NMI and #MC switch to their own stack: they may come from a broken one. */
		u8 ist = (v == EXC_DF || v == EXC_NMI || v == EXC_MC) ? IST_CRITICAL : 0;
		set_gate(v, isr_stub_table[v], ist);
	}
	/* Vectors 32-255: interrupts, dispatched to irq_set_handler() handlers. */
	for (int v = 32; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);

	idt_load();
}

void idt_load(void)
{
	struct dtr d = { .limit = sizeof(idt) - 1, .base = (u64)idt };
	lidt(&d);
}

void irq_set_handler(u8 vector, irq_handler_fn fn)
{
	if (vector >= 32)
		irq_handlers[vector] = fn;
}

u64 irq_stray_count(void)
{
	return stray_interrupts;
}

void idt_set_handler(u8 vector, trap_handler_fn fn)
{
	if (vector < 32)
		handlers[vector] = fn;
}

/* The fatal report: everything a student needs to find the faulting instruction
 * (`objdump -d build/guests/NAME.elf` and look for the RIP). */
static void report(const char *what, const struct trap_frame *f, u64 cr2)
{
	gprintf("%s #%lu (%s) err=0x%lx rip=0x%lx cr2=0x%lx\n", what, f->vector,
		exception_name(f->vector), f->error_code, f->rip, cr2);
	gprintf("  rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	gprintf("  rsi=0x%lx rdi=0x%lx rbp=0x%lx rsp=0x%lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	gprintf("  rflags=0x%lx cs=0x%lx cr0=0x%lx cr3=0x%lx cr4=0x%lx\n", f->rflags, f->cs,
		read_cr0(), read_cr3(), read_cr4());
}

/* Called by isr_common (isr.S) with the saved frame, for every exception. */
void trap_handler(struct trap_frame *f)
{
	/* Interrupts (vectors 32-255) are not exceptions: run their handler and return. The
	 * handler signals EOI to the interrupt controller itself. */
	if (f->vector >= 32) {
		if (irq_handlers[f->vector])
			irq_handlers[f->vector](f->vector);
		else
			__atomic_add_fetch(&stray_interrupts, 1, __ATOMIC_SEQ_CST);
		return;
	}

	/* CR2 first: a fault while handling this one would overwrite it. */
	u64 cr2 = read_cr2();

	/* 1. An exception inside this handler: the handler has a bug or the machine is in
	 *    a bad state. Say so once and stop; if even that faults, stop without words. */
	trap_depth++;
	if (trap_depth > 2)
		guest_exit(GUEST_EXIT_NESTED_FAULT);
	if (trap_depth == 2) {
		gprintf("nested exception: the handler of #%lu (%s) faulted\n", outer_vector,
			exception_name(outer_vector));
		report("nested exception", f, cr2);
		guest_exit(GUEST_EXIT_NESTED_FAULT);
	}
	outer_vector = f->vector;

	/* 2. An installed handler that fixes the cause resumes the interrupted code. */
	trap_handler_fn fn = f->vector < 32 ? handlers[f->vector] : NULL;
	if (fn && fn(f)) {
		trap_depth--;
		return; /* isr_common restores the registers and does IRETQ */
	}

	/* 3. Inside guest_try(): that call returns the vector. */
	if (try_active()) {
		trap_depth--;
		try_recover(f, cr2);
	}

	/* 4. Nobody expected this. */
	report("unexpected exception", f, cr2);
	guest_exit(GUEST_EXIT_EXCEPTION(f->vector));
}
