/* Unit tests for src/arch/x86/vmx/vmx_caps.c against synthetic capability MSRs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <arch/vmx_caps.h>

#define ECX_VMX BIT(5)

struct msr_val {
	u32 msr;
	u64 value;
};

/* A modern Intel CPU with EPT, VPID, unrestricted guest, TRUE_ MSRs (tigerlake-like). */
static const struct msr_val modern[] = {
	{ MSR_IA32_FEATURE_CONTROL, 0x5 },
	{ MSR_IA32_VMX_BASIC, BIT(55) | BIT(54) | (6ULL << 50) | (0x1000ULL << 32) | 0x4 },
	{ MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ULL },
	{ MSR_IA32_VMX_PROCBASED_CTLS, 0xfff9fffe0401e172ULL },
	{ MSR_IA32_VMX_EXIT_CTLS, 0x01ffffff00036dffULL },
	{ MSR_IA32_VMX_ENTRY_CTLS, 0x0003ffff000011ffULL },
	{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ULL },
	{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xfff9fffe04006172ULL },
	{ MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x01ffffff00036dfbULL },
	{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0003ffff000011fbULL },
	{ MSR_IA32_VMX_MISC, 0x00000000000401e5ULL },
	{ MSR_IA32_VMX_CR0_FIXED0, 0x80000021 },
	{ MSR_IA32_VMX_CR0_FIXED1, 0xffffffff },
	{ MSR_IA32_VMX_CR4_FIXED0, 0x2000 },
	{ MSR_IA32_VMX_CR4_FIXED1, 0x3767ff },
	{ MSR_IA32_VMX_PROCBASED_CTLS2, 0x00d7ffff00000000ULL },
	{ MSR_IA32_VMX_EPT_VPID_CAP, BIT(0) | BIT(6) | BIT(8) | BIT(14) | BIT(16) | BIT(17) | BIT(20) |
					     BIT(21) | BIT(25) | BIT(26) | BIT(32) | BIT(40) | BIT(41) |
					     BIT(42) | BIT(43) },
};

/* A core2-like CPU: no TRUE_ MSRs, no secondary controls, no MTF, no preemption timer. */
static const struct msr_val core2[] = {
	{ MSR_IA32_FEATURE_CONTROL, 0x5 },
	{ MSR_IA32_VMX_BASIC, (6ULL << 50) | (0x400ULL << 32) | 0xd },
	{ MSR_IA32_VMX_PINBASED_CTLS, 0x0000003f00000016ULL },
	{ MSR_IA32_VMX_PROCBASED_CTLS, 0x77fbfffe0401e172ULL },
	{ MSR_IA32_VMX_EXIT_CTLS, 0x0003ffff00036dffULL },
	{ MSR_IA32_VMX_ENTRY_CTLS, 0x00003fff000011ffULL },
	{ MSR_IA32_VMX_MISC, 0x403c0 },
	{ MSR_IA32_VMX_CR0_FIXED0, 0x80000021 },
	{ MSR_IA32_VMX_CR0_FIXED1, 0xffffffff },
	{ MSR_IA32_VMX_CR4_FIXED0, 0x2000 },
	{ MSR_IA32_VMX_CR4_FIXED1, 0x27ff },
};

/* Secondary controls present, but only "virtualize APIC accesses" and RDTSCP. */
static const struct msr_val no_ept[] = {
	{ MSR_IA32_FEATURE_CONTROL, 0x1 },
	{ MSR_IA32_VMX_BASIC, (0x1000ULL << 32) | 0x1 },
	{ MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ULL },
	{ MSR_IA32_VMX_PROCBASED_CTLS, 0xfff9fffe0401e172ULL },
	{ MSR_IA32_VMX_EXIT_CTLS, 0x01ffffff00036dffULL },
	{ MSR_IA32_VMX_ENTRY_CTLS, 0x0003ffff000011ffULL },
	{ MSR_IA32_VMX_MISC, 0 },
	{ MSR_IA32_VMX_CR0_FIXED0, 0x80000021 },
	{ MSR_IA32_VMX_CR0_FIXED1, 0xffffffff },
	{ MSR_IA32_VMX_CR4_FIXED0, 0x2000 },
	{ MSR_IA32_VMX_CR4_FIXED1, 0x27ff },
	{ MSR_IA32_VMX_PROCBASED_CTLS2, 0x0000000900000000ULL },
};

/* The fake rdmsr: looks the MSR up in the current table and logs it; an absent one fails
 * the test, as the real instruction would #GP. */
static const struct msr_val *cur_msrs;
static size_t cur_n;
static u32 reads[64];
static size_t nreads;

static u64 fake_rdmsr(u32 msr)
{
	assert_true(nreads < 64);
	reads[nreads++] = msr;
	for (size_t i = 0; i < cur_n; i++)
		if (cur_msrs[i].msr == msr)
			return cur_msrs[i].value;
	fail_msg("rdmsr 0x%x: this CPU has no such MSR (#GP)", msr);
	return 0;
}

#define USE_MSRS(t) (cur_msrs = (t), cur_n = ARRAY_SIZE(t), nreads = 0)

static bool was_read(u32 msr)
{
	for (size_t i = 0; i < nreads; i++)
		if (reads[i] == msr)
			return true;
	return false;
}

static void test_no_vmx_reads_no_msr(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(modern);
	vmx_caps_read(&caps, 0xffffffff & ~ECX_VMX, fake_rdmsr);
	assert_false(caps.vmx);
	assert_int_equal(nreads, 0);
	assert_false(caps.ept);
	assert_int_equal(caps.basic, 0);
}

static void test_modern_cpu_uses_true_msrs(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(modern);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_true(caps.vmx);
	assert_true(caps.true_ctls);
	assert_int_equal(caps.proc.allowed0, 0x04006172);
	assert_int_equal(caps.proc.allowed1, 0xfff9fffe);
	assert_int_equal(caps.exit.allowed0, 0x00036dfb);
	assert_int_equal(caps.entry.allowed0, 0x000011fb);
	assert_false(was_read(MSR_IA32_VMX_PINBASED_CTLS));
	assert_false(was_read(MSR_IA32_VMX_PROCBASED_CTLS));
	assert_false(was_read(MSR_IA32_VMX_EXIT_CTLS));
	assert_false(was_read(MSR_IA32_VMX_ENTRY_CTLS));
}

static void test_modern_cpu_basic_fields(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(modern);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_int_equal(caps.vmcs_revision, 4);
	assert_int_equal(caps.vmcs_size, 0x1000);
	assert_int_equal(caps.preemption_timer_shift, 5);
	assert_int_equal(caps.cr0_fixed0, 0x80000021);
	assert_int_equal(caps.cr4_fixed1, 0x3767ff);
	assert_false(caps.feature_locked_off);
}

static void test_modern_cpu_feature_flags(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(modern);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_int_equal(caps.proc2.allowed1, 0x00d7ffff);
	assert_int_not_equal(caps.ept_vpid_cap, 0);
	assert_true(caps.ept);
	assert_true(caps.vpid);
	assert_true(caps.unrestricted_guest);
	assert_true(caps.mtf);
	assert_true(caps.preemption_timer);
	assert_true(caps.ept_2m);
	assert_true(caps.ept_1g);
	assert_true(caps.ept_ad);
	assert_true(caps.ept_wb);
	assert_true(caps.ept_4level);
	assert_true(caps.invept);
	assert_true(caps.invept_single);
	assert_true(caps.invept_all);
}

static void test_ept_flags_follow_their_cap_bits(void **state)
{
	struct msr_val msrs[ARRAY_SIZE(modern)];
	struct vmx_caps caps;
	memcpy(msrs, modern, sizeof(msrs));
	msrs[ARRAY_SIZE(msrs) - 1].value = BIT(6) | BIT(14) | BIT(20) | BIT(26); /* no 2M/1G/AD/single */
	USE_MSRS(msrs);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_true(caps.ept_4level && caps.ept_wb && caps.invept && caps.invept_all);
	assert_false(caps.ept_2m || caps.ept_1g || caps.ept_ad || caps.invept_single);
}

static void test_core2_uses_plain_msrs_and_has_no_secondary(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(core2);
	vmx_caps_read(&caps, ECX_VMX | BIT(0), fake_rdmsr);
	assert_true(caps.vmx);
	assert_false(caps.true_ctls);
	assert_int_equal(caps.proc.allowed0, 0x0401e172);
	assert_false(was_read(MSR_IA32_VMX_TRUE_PROCBASED_CTLS));
	assert_false(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
	assert_false(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	assert_int_equal(caps.proc2.allowed1, 0);
	assert_int_equal(caps.vmcs_size, 0x400);
	assert_int_equal(caps.vmcs_revision, 0xd);
}

static void test_core2_feature_flags_are_off(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(core2);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_false(caps.ept || caps.vpid || caps.unrestricted_guest);
	assert_false(caps.mtf);
	assert_false(caps.preemption_timer);
	assert_false(caps.ept_2m || caps.ept_1g || caps.ept_ad || caps.invept);
	assert_int_equal(caps.ept_vpid_cap, 0);
}

static void test_secondary_without_ept_or_vpid_skips_ept_cap(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(no_ept);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_true(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
	assert_false(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	assert_int_equal(caps.proc2.allowed1, 0x9);
	assert_false(caps.ept);
	assert_int_equal(caps.ept_vpid_cap, 0);
}

static void test_feature_control_locked_without_vmxon_is_locked_off(void **state)
{
	struct vmx_caps caps;
	USE_MSRS(no_ept); /* IA32_FEATURE_CONTROL = 0x1 */
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_true(caps.feature_locked_off);
}

static void test_feature_control_unlocked_is_not_locked_off(void **state)
{
	struct msr_val msrs[ARRAY_SIZE(core2)];
	struct vmx_caps caps;
	memcpy(msrs, core2, sizeof(msrs));
	msrs[0].value = 0; /* unlocked: the hypervisor may still enable VMXON itself */
	USE_MSRS(msrs);
	vmx_caps_read(&caps, ECX_VMX, fake_rdmsr);
	assert_false(caps.feature_locked_off);
}

static void test_ctl_cap_from_msr_splits_halves(void **state)
{
	struct vmx_ctl_cap c = vmx_ctl_cap_from_msr(0x123456789abcdef0ULL);
	assert_int_equal(c.allowed0, 0x9abcdef0);
	assert_int_equal(c.allowed1, 0x12345678);
}

static void test_adjust_ctl_adds_forced_bits_and_allowed_requests(void **state)
{
	struct vmx_ctl_cap cap = { .allowed0 = 0x16, .allowed1 = 0x3f };
	u32 missing = 123;
	u32 v = vmx_adjust_ctl(cap, PIN_EXTINT_EXITING | PIN_NMI_EXITING, PIN_PREEMPTION_TIMER, &missing);
	assert_int_equal(v, 0x16 | 0x1 | 0x8);
	assert_int_equal(missing, 0);
}

static void test_adjust_ctl_reports_missing_required_bits(void **state)
{
	struct vmx_ctl_cap cap = { .allowed0 = 0x0, .allowed1 = 0x7ffffffe };
	u32 missing = 0;
	u32 v = vmx_adjust_ctl(cap, CPU_HLT_EXITING | CPU_SECONDARY_CONTROLS, 0, &missing);
	assert_int_equal(missing, CPU_SECONDARY_CONTROLS);
	assert_int_equal(v, CPU_HLT_EXITING);
	/* NULL for missing is allowed. */
	assert_int_equal(vmx_adjust_ctl(cap, CPU_SECONDARY_CONTROLS, 0, NULL), 0);
}

static void test_fix_cr_applies_fixed_bits(void **state)
{
	assert_int_equal(vmx_fix_cr(0x0, 0x80000021, 0xffffffff), 0x80000021);
	assert_int_equal(vmx_fix_cr(0x40000000 | BIT(35), 0x21, 0xffffffff), 0x40000021);
	assert_int_equal(vmx_fix_cr(BIT(13) | BIT(20), 0x2000, 0x27ff), 0x2000);
}

static void test_bit_names_of_known_controls(void **state)
{
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 1), "enable EPT");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 7), "unrestricted guest");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PIN, 6), "activate VMX-preemption timer");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC, 31), "activate secondary controls");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_EXIT, 9), "host address-space size");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_ENTRY, 9), "IA-32e mode guest");
}

static void test_bit_names_unknown_or_out_of_range_are_null(void **state)
{
	assert_null(vmx_ctl_bit_name(VMX_CTL_PROC, 1)); /* reserved, default 1 */
	assert_null(vmx_ctl_bit_name(VMX_CTL_PIN, 32));
	assert_null(vmx_ctl_bit_name(VMX_CTL_PIN, -1));
	assert_null(vmx_ctl_bit_name((enum vmx_ctl_field)17, 0));
}

/* Every control the header defines must have a name, for "missing control" messages. */
static void test_every_header_control_has_a_name(void **state)
{
	static const struct {
		enum vmx_ctl_field field;
		u64 bits;
	} defined[] = {
		{ VMX_CTL_PIN, PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER },
		{ VMX_CTL_PROC, CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_HLT_EXITING |
				CPU_INVLPG_EXITING | CPU_MWAIT_EXITING | CPU_RDPMC_EXITING |
				CPU_RDTSC_EXITING | CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING |
				CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING | CPU_USE_TPR_SHADOW |
				CPU_NMI_WINDOW_EXITING | CPU_MOV_DR_EXITING | CPU_UNCOND_IO_EXITING |
				CPU_USE_IO_BITMAPS | CPU_MONITOR_TRAP_FLAG | CPU_USE_MSR_BITMAPS |
				CPU_MONITOR_EXITING | CPU_PAUSE_EXITING | CPU_SECONDARY_CONTROLS },
		{ VMX_CTL_PROC2, CPU2_VIRT_APIC_ACCESSES | CPU2_ENABLE_EPT | CPU2_DESC_TABLE_EXITING |
				 CPU2_ENABLE_RDTSCP | CPU2_VIRT_X2APIC | CPU2_ENABLE_VPID |
				 CPU2_WBINVD_EXITING | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_INVPCID |
				 CPU2_ENABLE_XSAVES },
		{ VMX_CTL_EXIT, EXIT_SAVE_DEBUG_CTLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |
				EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
				EXIT_SAVE_PREEMPT_TIMER },
		{ VMX_CTL_ENTRY, ENTRY_LOAD_DEBUG_CTLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT |
				 ENTRY_LOAD_EFER },
	};
	for (size_t i = 0; i < ARRAY_SIZE(defined); i++)
		for (int bit = 0; bit < 32; bit++)
			if (defined[i].bits & BIT(bit))
				assert_non_null(vmx_ctl_bit_name(defined[i].field, bit));
}

static void test_field_names(void **state)
{
	assert_string_equal(vmx_ctl_field_name(VMX_CTL_PIN), "pin-based");
	assert_string_equal(vmx_ctl_field_name(VMX_CTL_PROC), "primary processor-based");
	assert_string_equal(vmx_ctl_field_name(VMX_CTL_PROC2), "secondary processor-based");
	assert_string_equal(vmx_ctl_field_name(VMX_CTL_EXIT), "VM-exit");
	assert_string_equal(vmx_ctl_field_name(VMX_CTL_ENTRY), "VM-entry");
	assert_string_equal(vmx_ctl_field_name((enum vmx_ctl_field)9), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_vmx_reads_no_msr),
		cmocka_unit_test(test_modern_cpu_uses_true_msrs),
		cmocka_unit_test(test_modern_cpu_basic_fields),
		cmocka_unit_test(test_modern_cpu_feature_flags),
		cmocka_unit_test(test_ept_flags_follow_their_cap_bits),
		cmocka_unit_test(test_core2_uses_plain_msrs_and_has_no_secondary),
		cmocka_unit_test(test_core2_feature_flags_are_off),
		cmocka_unit_test(test_secondary_without_ept_or_vpid_skips_ept_cap),
		cmocka_unit_test(test_feature_control_locked_without_vmxon_is_locked_off),
		cmocka_unit_test(test_feature_control_unlocked_is_not_locked_off),
		cmocka_unit_test(test_ctl_cap_from_msr_splits_halves),
		cmocka_unit_test(test_adjust_ctl_adds_forced_bits_and_allowed_requests),
		cmocka_unit_test(test_adjust_ctl_reports_missing_required_bits),
		cmocka_unit_test(test_fix_cr_applies_fixed_bits),
		cmocka_unit_test(test_bit_names_of_known_controls),
		cmocka_unit_test(test_bit_names_unknown_or_out_of_range_are_null),
		cmocka_unit_test(test_every_header_control_has_a_name),
		cmocka_unit_test(test_field_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
