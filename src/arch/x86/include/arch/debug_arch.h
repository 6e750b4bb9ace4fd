/**
 * @file debug_arch.h
 * @brief What the debug core (src/debug/debug_core.c) and the gdbstub ask of the
 * architecture: registers in GDB's layout, program counters, translations, and whether
 * hardware breakpoint requests fit. x86/VMX implementation: src/arch/x86/vmx/debug_vmx.c.
 *
 * Every function taking a vCPU needs it parked (its partition stopped): its VMCS is then
 * loaded on the calling CPU for the moment (arch_vcpu_with_vmcs()).
 */
#ifndef ARCH_DEBUG_ARCH_H
#define ARCH_DEBUG_ARCH_H

#include <hvlab/types.h>
#include <hvlab/gdb_regs.h>
#include <hvlab/debug_bptable.h>

struct vcpu;

/** The registers GDB sees, in `g` order (target.xml is made from it). */
extern const struct gdb_target_desc arch_gdb_target;

/** True when @p v has run, so it has registers to show (a vCPU waiting for its first
 *  STARTUP IPI has none yet). */
bool arch_debug_vcpu_started(const struct vcpu *v);

/** Read every register of arch_gdb_target for @p v; @p have[i] false where there is no
 *  value. Returns 0, or -1 when @p v is not parked. */
int arch_debug_read_regs(struct vcpu *v, u64 *values, bool *have);

/** Write register @p regno of @p v. Returns 0, or -1 (read-only, a value the CPU would
 *  refuse at VM entry, or @p v not parked). */
int arch_debug_write_reg(struct vcpu *v, u32 regno, u64 value);

/** @p v's program counter as a linear address, and the guest-physical address behind it
 *  (false when unmapped, or @p v not parked). */
bool arch_debug_pc(struct vcpu *v, u64 *linear, u64 *gpa);

/** Translate guest-virtual @p gva through @p v's paging; false when unmapped or @p v is
 *  not parked. */
bool arch_debug_translate(struct vcpu *v, u64 gva, u64 *gpa);

/** True when the hardware requests in @p hw (DEBUG_HW_MAX entries) fit the debug registers. */
bool arch_debug_hw_fits(const struct debug_hwbp *hw);

#endif
