/**
 * @file exceptions.c
 * @brief Names of the x86 exceptions (SDM Vol. 3A §7.3, Table 7-1), for reports by the
 * hypervisor and the guest library alike.
 */
#include <arch/trap.h>

static const char *const exception_names[32] = {
	[EXC_DE] = "#DE divide error",
	[EXC_DB] = "#DB debug",
	[EXC_NMI] = "NMI",
	[EXC_BP] = "#BP breakpoint",
	[EXC_OF] = "#OF overflow",
	[EXC_BR] = "#BR bound range",
	[EXC_UD] = "#UD invalid opcode",
	[EXC_NM] = "#NM device not available",
	[EXC_DF] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[EXC_TS] = "#TS invalid TSS",
	[EXC_NP] = "#NP segment not present",
	[EXC_SS] = "#SS stack fault",
	[EXC_GP] = "#GP general protection",
	[EXC_PF] = "#PF page fault",
	[EXC_MF] = "#MF x87 FPU error",
	[EXC_AC] = "#AC alignment check",
	[EXC_MC] = "#MC machine check",
	[EXC_XM] = "#XM SIMD FP error",
	[EXC_VE] = "#VE virtualization exception",
	[EXC_CP] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security",
};

const char *exception_name(u64 vector)
{
	if (vector >= 32)
		return "interrupt";
	return exception_names[vector] ? exception_names[vector] : "reserved";
}

bool exception_has_error_code(u64 vector)
{
	return vector == EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) || vector == EXC_AC ||
	       vector == EXC_CP || vector == 29 || vector == 30;
}
