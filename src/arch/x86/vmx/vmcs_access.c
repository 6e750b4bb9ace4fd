/**
 * @file vmcs_access.c
 * @brief VMREAD and VMWRITE with failure checks (SDM Vol. 3C §31.2 "conventions":
 * CF=1 VMfailInvalid — no current VMCS; ZF=1 VMfailValid — error number in the
 * VM-instruction error field, SDM Vol. 3C §31.4).
 */
#include <arch/vmcs.h>
#include <hvlab/console.h>

u64 vmread(enum vmcs_field field)
{
	u64 value;

	if (!vmread_safe(field, &value))
		panic("vmread of field 0x%x failed\n", field);
	return value;
}

void vmwrite(enum vmcs_field field, u64 value)
{
	u8 ok;

	__asm__ volatile("vmwrite %2, %1; seta %0" : "=qm"(ok) : "r"((u64)field), "rm"(value) : "cc");
	if (!ok) {
		u64 err = 0;
		vmread_safe(VM_INSTRUCTION_ERROR, &err);
		panic("vmwrite of 0x%lx to field 0x%x failed (VM-instruction error %lu)\n", value, field, err);
	}
}
