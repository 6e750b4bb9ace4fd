/**
 * @file boot.h
 * @brief Constants shared by the assembly boot path and C code.
 */
#ifndef ARCH_BOOT_H
#define ARCH_BOOT_H

/* Selectors of the boot GDT (src/arch/x86/boot/entry.S). */
#define BOOT_CS64 0x08
#define BOOT_DS 0x10
#define BOOT_CS32 0x18

/* Page-table entry bits (SDM Vol. 3A §5.5, Table 5-15..5-20). */
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_U 0x4
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_A 0x20
#define PTE_D 0x40
#define PTE_PS 0x80
#define PTE_G 0x100

#define BOOT_STACK_SIZE 16384
#define CPU_STACK_SIZE 16384

/* Where the AP start-up code is copied: below 1 MiB, page aligned (SIPI vector = addr >> 12).
 * The guest library builds the same trampoline for its own APs at another address. */
#ifndef AP_TRAMPOLINE_ADDR
#define AP_TRAMPOLINE_ADDR 0x8000
#endif

#endif
