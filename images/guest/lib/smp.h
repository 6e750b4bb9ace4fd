/**
 * @file smp.h
 * @brief Starting the guest's other vCPUs, as an OS starts its application processors.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <hvlab/types.h>

#define GUEST_AP_TRAMPOLINE 0x10000 /* real-mode start-up code; SIPI vector 0x10 */

/** Code an AP runs once it is in 64-bit mode on our page tables; @p cpu is its number. */
typedef void (*ap_main_fn)(u32 cpu);

/**
 * Start vCPUs 1 .. nvcpus-1 (APIC IDs equal vCPU numbers, as the hypervisor's MADT
 * says) one after another, each running @p fn on its own stack with the GDT and IDT of
 * the bootstrap processor. Waits for each to report in. Returns how many started.
 */
u32 smp_start_aps(u32 nvcpus, ap_main_fn fn);

#endif
