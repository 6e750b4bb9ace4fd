/**
 * @file smp.h
 * @brief Bringing up the application processors.
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include <arch/acpi.h>
#include <arch/percpu.h>

/**
 * Start every processor @p madt lists other than the caller (the BSP, cpus[0]); each runs
 * @p entry(its struct cpu) once its tables and local APIC are set up. Returns the number of
 * CPUs online, the BSP included. A CPU that does not answer within 1 s is reported and skipped.
 */
u32 smp_start_aps(const struct madt_info *madt, void (*entry)(struct cpu *));

#endif
