/**
 * @file guest.h
 * @brief Everything a test program includes: the guest library in one header.
 *
 * A test program is an ordinary C file with
 *
 *	int main(const struct hvlab_boot_info *bi)
 *
 * The library's start-up code (start.S, entry.c) prepares the machine first: a stack,
 * the console, a GDT, an IDT and the guest's own page tables. Whatever main() returns
 * becomes the partition's exit status (exit.h lists the values the library itself uses).
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <hvlab/guest_abi.h>
#include <hvlab/lib.h>
#include <arch/cpu.h>

#include "cmdline.h"
#include "console.h"
#include "exit.h"
#include "hypercall.h"
#include "idt.h"
#include "lapic.h"
#include "mmio.h"
#include "page_alloc.h"
#include "paging.h"
#include "smp.h"
#include "test.h"
#include "try.h"
#include "usermode.h"

/** The boot information, copied into the image's own memory at start-up (so it stays
 *  readable whatever a test does to the low pages). */
extern const struct hvlab_boot_info *boot_info;

/** The test program. Its return value is the exit status. */
int main(const struct hvlab_boot_info *bi);

/** The library's entry, called from start.S. Never returns. */
void guest_entry(const struct hvlab_boot_info *bi) __attribute__((noreturn));

#endif
