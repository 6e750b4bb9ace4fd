/**
 * @file hypercall.h
 * @brief Calling the hypervisor: the VMCALL instruction.
 *
 * In VMX non-root operation VMCALL always causes a VM exit (SDM Vol. 3C §26.1.2); the
 * hypervisor reads the call number and arguments from the guest's registers, does the
 * work, writes the result into the guest's RAX and resumes the guest after the VMCALL.
 * Register convention (guest_abi.h, docs/hypercalls.md): RAX = number, RDI, RSI, RDX =
 * arguments; RAX = result, negative for an error (HC_ERR_*).
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <hvlab/guest_abi.h>

static inline long hypercall(u64 nr, u64 a0, u64 a1, u64 a2)
{
	long ret;

	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "memory");
	return ret;
}

#endif
