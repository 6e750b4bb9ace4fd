/**
 * @file usermode.c
 * @brief Entering ring 3 and coming back (see usermode.h; the doors are in usermode.S).
 */
#include <hvlab/lib.h>
#include <arch/cpu.h>
#include "gdt.h"
#include "paging.h"
#include "try.h"
#include "usermode.h"

extern const char user_page_start[], user_page_end[]; /* usermode.S: the ring-3 code page */
u64 user_enter(const char *fn, u64 a0, u64 a1, u64 user_rsp);
void user_syscall_entry(void);

/* RFLAGS bits SYSCALL clears on the way in (IA32_FMASK): TF, IF, DF, AC. */
#define SYSCALL_RFLAGS_MASK (RFLAGS_TF | RFLAGS_IF | BIT(10) | BIT(18))

static u8 user_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

void usermode_init(void)
{
	/* 1. SYSCALL: enabled, landing in ring 0 (CS 0x08, SS 0x10) at user_syscall_entry
	 *    with interrupts, single-stepping and alignment checks off. SYSRET's field
	 *    (0x20: CS 0x30, SS 0x28) is filled for completeness; we go back with IRETQ.
	 *    IA32_STAR bits 47:32 give SYSCALL's CS (SS is CS + 8), bits 63:48 SYSRET's. */
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SCE); /* without SCE, SYSCALL is #UD */
	wrmsr(MSR_IA32_STAR, ((u64)(GDT_SEL_USER_DATA - 8) << 48) | ((u64)GDT_SEL_CODE << 32));
	wrmsr(MSR_IA32_LSTAR, (u64)user_syscall_entry);
	wrmsr(MSR_IA32_FMASK, SYSCALL_RFLAGS_MASK);

	/* 2. The ring-3 code page: user, read-only, executable. The user stack: user, writable.
	 *    (The tables above the leaf already allow user access: paging.c, TABLE_FLAGS.) */
	for (u64 va = (u64)user_page_start; va < (u64)user_page_end; va += PAGE_SIZE)
		gpt_protect(&kernel_as, va, PTE_U);
	gpt_protect(&kernel_as, (u64)user_stack, PTE_U | PTE_W);
}

/* The reload of the data segment registers after ring 3: IRETQ to ring 3 nulls those
 * whose DPL is below 3 (SDM Vol. 3A §7.14.3), an exception from ring 3 loads SS with a
 * null selector. Harmless in 64-bit mode, but the rest of the guest expects its own. */
static void load_kernel_segments(void)
{
	__asm__ volatile("movw %w0, %%ds\n\t"
			 "movw %w0, %%es\n\t"
			 "movw %w0, %%ss\n\t"
			 "movw %w0, %%fs\n\t"
			 "movw %w0, %%gs"
			 : : "r"((u64)GDT_SEL_DATA) : "memory");
}

struct user_call_args {
	const char *fn;
	u64 a0, a1, result;
};

static void enter_ring3(void *arg)
{
	struct user_call_args *c = arg;

	c->result = user_enter(c->fn, c->a0, c->a1, (u64)(user_stack + sizeof(user_stack)));
}

int user_call(const char *fn, u64 a0, u64 a1, u64 *result, struct fault_info *fi)
{
	struct user_call_args c = { .fn = fn, .a0 = a0, .a1 = a1 };
	int vector = guest_try(enter_ring3, &c, fi);

	load_kernel_segments();
	if (vector < 0 && result)
		*result = c.result;
	return vector;
}
