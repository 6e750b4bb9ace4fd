/*
 * cpuid_io.c — round trips through the hypervisor's exit handlers, one kind per test.
 *
 * Under VMX, some guest instructions always cause a VM exit (CPUID, VMCALL, XSETBV,
 * INVD, the VMX instructions; SDM Vol. 3C §26.1.2) and others do when the hypervisor
 * asks for it (port I/O, MSR and control-register access, WBINVD; §26.1.3), and a touch
 * of an emulated device page causes an EPT violation. For each, the hypervisor must
 * give the guest exactly what real hardware (or the emulated device) would, and resume
 * it after the instruction. Each test below makes one kind of exit and checks the
 * answer the guest sees.
 *
 * Expectations beyond guest_abi.h are marked "EXPECTATION:".
 */
#include <hvlab/uart16550.h>
#include "guest.h"

#define COM1 HVLAB_PORT_COM1

/* CPUID.1:ECX feature bits (SDM Vol. 2A, CPUID, Table 3-10). */
#define CPUID_1_ECX_VMX BIT(5)
#define CPUID_1_ECX_XSAVE BIT(26)
#define CPUID_1_ECX_OSXSAVE BIT(27)
#define CPUID_1_ECX_HYPERVISOR BIT(31) /* reserved for hypervisors to say "I am here" */
#define CPUID_80000001_EDX_RDTSCP BIT(27)

/* An I/O port no device of the hypervisor answers (QEMU's fw_cfg, absent in hvlab). */
#define PORT_UNASSIGNED 0x510

/* An MSR index that no CPU implements. */
#define MSR_NONEXISTENT 0x12345

/* ---- CPUID --------------------------------------------------------------------------- */

static void test_cpuid_signature(void)
{
	struct cpuid_regs r = cpuid(HVLAB_CPUID_SIGNATURE, 0);
	char sig[13];

	memcpy(sig + 0, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = '\0';
	CHECK(memcmp(sig, "hvlabhvlabhv", 12) == 0, "signature \"%s\"", sig);
	CHECK(r.eax >= HVLAB_CPUID_INFO, "max leaf 0x%x", r.eax);
}

static void test_cpuid_info(void)
{
	struct cpuid_regs r = cpuid(HVLAB_CPUID_INFO, 0);

	CHECK_EQ(r.eax, HVLAB_ABI_VERSION);
	CHECK_EQ(r.ebx, boot_info->partition_id);
	CHECK_EQ(r.ecx, boot_info->vcpu_id);
}

/* Leaf 1: the hypervisor-present bit is set, and VMX is hidden (no nested VMX). */
static void test_cpuid_features(void)
{
	struct cpuid_regs r = cpuid(1, 0);

	CHECK(r.ecx & CPUID_1_ECX_HYPERVISOR, "ECX=0x%x: hypervisor bit 31 clear", r.ecx);
	CHECK(!(r.ecx & CPUID_1_ECX_VMX), "ECX=0x%x: VMX bit 5 set", r.ecx);
}

/* Leaf 0: the CPU vendor, passed through: twelve printable characters. */
static void test_cpuid_vendor(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13];

	memcpy(vendor + 0, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	for (int i = 0; i < 12; i++)
		CHECK(vendor[i] > ' ' && vendor[i] < 0x7f, "vendor byte %d is 0x%x", i,
		      (u8)vendor[i]);
	CHECK(r.eax >= 1, "max basic leaf %u", r.eax);
	gprintf("  # vendor \"%s\", max basic leaf 0x%x\n", vendor, r.eax);
}

/* ---- Port I/O ------------------------------------------------------------------------ */

/* The UART's scratch register keeps any byte written to it (PC16550D datasheet). */
static void test_io_uart_scratch(void)
{
	static const u8 values[] = { 0x00, 0xff, 0x55, 0xaa, 0x01, 0x80 };

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		outb(COM1 + UART_SCR, values[i]);
		CHECK_EQ(inb(COM1 + UART_SCR), values[i]);
	}
}

/* The emulated transmitter is never busy: THR empty and transmitter empty. */
static void test_io_uart_lsr(void)
{
	u8 lsr = inb(COM1 + UART_LSR);

	CHECK((lsr & (UART_LSR_THRE | UART_LSR_TEMT)) == (UART_LSR_THRE | UART_LSR_TEMT),
	      "LSR=0x%x", lsr);
}

/* EXPECTATION: a port no device claims reads as all ones, as on a real PC, where nobody
 * drives the data bus and it floats high. Writes there are ignored. */
static void test_io_unassigned(void)
{
	outb(PORT_UNASSIGNED, 0x12);
	CHECK_EQ(inb(PORT_UNASSIGNED), 0xff);
	CHECK_EQ(inw(PORT_UNASSIGNED), 0xffff);
	CHECK_EQ(inl(PORT_UNASSIGNED), 0xffffffff);
}

/* ---- MMIO: the test device ----------------------------------------------------------- */

#define TESTDEV(reg) (HVLAB_TESTDEV_BASE + (reg))

static void test_mmio_id(void)
{
	CHECK_EQ(mmio_read64(TESTDEV(HVLAB_TESTDEV_ID)), HVLAB_TESTDEV_MAGIC);
}

static void test_mmio_scratch(void)
{
	mmio_write32(TESTDEV(HVLAB_TESTDEV_SCRATCH), 0xcafef00d);
	CHECK_EQ(mmio_read32(TESTDEV(HVLAB_TESTDEV_SCRATCH)), 0xcafef00d);
	mmio_write64(TESTDEV(HVLAB_TESTDEV_SCRATCH), 0x0123456789abcdefULL);
	CHECK_EQ(mmio_read64(TESTDEV(HVLAB_TESTDEV_SCRATCH)), 0x0123456789abcdefULL);
	mmio_write64(TESTDEV(HVLAB_TESTDEV_SCRATCH), 0);
	CHECK_EQ(mmio_read64(TESTDEV(HVLAB_TESTDEV_SCRATCH)), 0);
}

/* COUNT counts accesses: three accesses between two reads make it grow by at least 3. */
static void test_mmio_count(void)
{
	u64 before = mmio_read64(TESTDEV(HVLAB_TESTDEV_COUNT));

	mmio_read64(TESTDEV(HVLAB_TESTDEV_ID));
	mmio_write32(TESTDEV(HVLAB_TESTDEV_SCRATCH), 1);
	mmio_read32(TESTDEV(HVLAB_TESTDEV_SCRATCH));
	u64 after = mmio_read64(TESTDEV(HVLAB_TESTDEV_COUNT));
	CHECK(after >= before + 3, "COUNT went from %lu to %lu", before, after);
}

/* ---- Hypercalls ---------------------------------------------------------------------- */

static void test_hypercall_version(void)
{
	CHECK_EQ(hypercall(HC_VERSION, 0, 0, 0), HVLAB_ABI_VERSION);
}

static void test_hypercall_partition_id(void)
{
	CHECK_EQ(hypercall(HC_PARTITION_ID, 0, 0, 0), boot_info->partition_id);
}

static void test_hypercall_nop(void)
{
	CHECK_EQ(hypercall(HC_NOP, 0, 0, 0), 0);
}

static void test_hypercall_unknown(void)
{
	CHECK_EQ(hypercall(0x7fff, 0, 0, 0), HC_ERR_NOSYS);
	CHECK_EQ(hypercall(~0ULL, 0, 0, 0), HC_ERR_NOSYS);
}

/* ---- VMX instructions: a guest without VMX gets #UD ----------------------------------
 * In VMX non-root operation each of these causes a VM exit; since CPUID tells this guest
 * there is no VMX (and CR4.VMXE is clear), the hypervisor must inject #UD, which is what
 * a CPU without VMX does. */

static u8 vmx_region[4096] __attribute__((aligned(4096)));

static void do_vmxon(void *arg) { u64 pa = (u64)vmx_region; __asm__ volatile("vmxon %0" : : "m"(pa)); }
static void do_vmxoff(void *arg) { __asm__ volatile("vmxoff"); }
static void do_vmptrld(void *arg) { u64 pa = (u64)vmx_region; __asm__ volatile("vmptrld %0" : : "m"(pa)); }
static void do_vmptrst(void *arg) { u64 pa; __asm__ volatile("vmptrst %0" : "=m"(pa)); }
static void do_vmclear(void *arg) { u64 pa = (u64)vmx_region; __asm__ volatile("vmclear %0" : : "m"(pa)); }
static void do_vmlaunch(void *arg) { __asm__ volatile("vmlaunch"); }
static void do_vmresume(void *arg) { __asm__ volatile("vmresume"); }
static void do_vmread(void *arg) { u64 v; __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(0x4400ULL)); }
static void do_vmwrite(void *arg) { __asm__ volatile("vmwrite %0, %1" : : "r"(0ULL), "r"(0x681eULL)); }

static void do_invept(void *arg)
{
	struct { u64 eptp, zero; } desc = { 0, 0 };
	__asm__ volatile("invept %0, %1" : : "m"(desc), "r"(1ULL));
}

static void do_invvpid(void *arg)
{
	struct { u64 vpid, addr; } desc = { 1, 0 };
	__asm__ volatile("invvpid %0, %1" : : "m"(desc), "r"(1ULL));
}

static void test_vmx_instructions_ud(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} insns[] = {
		{ "vmxon", do_vmxon },       { "vmxoff", do_vmxoff },     { "vmptrld", do_vmptrld },
		{ "vmptrst", do_vmptrst },   { "vmclear", do_vmclear },   { "vmlaunch", do_vmlaunch },
		{ "vmresume", do_vmresume }, { "vmread", do_vmread },     { "vmwrite", do_vmwrite },
		{ "invept", do_invept },     { "invvpid", do_invvpid },
	};
	struct fault_info fi;

	for (size_t i = 0; i < ARRAY_SIZE(insns); i++) {
		int vec = guest_try(insns[i].fn, NULL, &fi);
		CHECK(vec == EXC_UD, "%s: %s", insns[i].name,
		      vec < 0 ? "no exception" : exception_name(vec));
	}
}

/* ---- MSRs ---------------------------------------------------------------------------- */

static void test_msr_efer(void)
{
	u64 efer = rdmsr(MSR_IA32_EFER);

	CHECK((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "EFER=0x%lx", efer);
	CHECK(efer & EFER_NXE, "EFER=0x%lx: NXE clear (guest_abi.h sets it)", efer);
}

/* IA32_KERNEL_GS_BASE is plain storage (SWAPGS swaps it with GS.base): what is written
 * must read back. It must hold a canonical address, or WRMSR raises #GP. */
static void test_msr_write_read(void)
{
	u64 old = rdmsr(MSR_IA32_KERNEL_GS_BASE);

	wrmsr(MSR_IA32_KERNEL_GS_BASE, 0xffff800012345000ULL);
	CHECK_EQ(rdmsr(MSR_IA32_KERNEL_GS_BASE), 0xffff800012345000ULL);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, old);
	CHECK_EQ(rdmsr(MSR_IA32_KERNEL_GS_BASE), old);

	if (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP) {
		wrmsr(MSR_IA32_TSC_AUX, 0x2a);
		CHECK_EQ(rdmsr(MSR_IA32_TSC_AUX), 0x2a);
	}
}

static void do_rdmsr_nonexistent(void *arg) { rdmsr(MSR_NONEXISTENT); }
static void do_wrmsr_nonexistent(void *arg) { wrmsr(MSR_NONEXISTENT, 0); }

/* RDMSR/WRMSR of an MSR the CPU does not have raise #GP(0) (SDM Vol. 2B, RDMSR). */
static void test_msr_nonexistent_gp(void)
{
	struct fault_info fi;

	CHECK_EQ(guest_try(do_rdmsr_nonexistent, NULL, &fi), EXC_GP);
	CHECK_EQ(fi.error_code, 0);
	CHECK_EQ(guest_try(do_wrmsr_nonexistent, NULL, &fi), EXC_GP);
	CHECK_EQ(fi.error_code, 0);
}

/* ---- Control registers --------------------------------------------------------------- */

/* Toggle CR4.PGE (global pages) off and on: the guest sees what it wrote. */
static void test_cr4_pge(void)
{
	u64 cr4 = read_cr4();

	write_cr4(cr4 ^ CR4_PGE);
	CHECK_EQ(read_cr4(), cr4 ^ CR4_PGE);
	write_cr4(cr4);
	CHECK_EQ(read_cr4(), cr4);
	CHECK(!(cr4 & CR4_VMXE), "guest sees CR4.VMXE set: CR4=0x%lx", cr4);
}

/* ---- XSETBV -------------------------------------------------------------------------- */

static void do_xgetbv(void *arg) { xgetbv(0); }
static void do_xsetbv_zero(void *arg) { xsetbv(0, 0); }

/* XCR0 enables state components for XSAVE (SDM Vol. 1 §13.3). Bit 0 (x87) must always
 * be set, so XCR0 = 0 is refused with #GP. XGETBV/XSETBV need CR4.OSXSAVE, or #UD. */
static void test_xsetbv(void)
{
	struct fault_info fi;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)) {
		test_skip("no XSAVE on this CPU");
		return;
	}
	u64 cr4 = read_cr4();

	/* 1. With CR4.OSXSAVE clear, XGETBV is #UD. */
	write_cr4(cr4 & ~CR4_OSXSAVE);
	CHECK_EQ(guest_try(do_xgetbv, NULL, &fi), EXC_UD);

	/* 2. Set CR4.OSXSAVE; CPUID.1:ECX.OSXSAVE now reports it (EXPECTATION: the
	 *    hypervisor mirrors the guest's CR4.OSXSAVE there, as the CPU does natively). */
	write_cr4(cr4 | CR4_OSXSAVE);
	CHECK(read_cr4() & CR4_OSXSAVE, "CR4.OSXSAVE did not stick");
	CHECK(cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE, "CPUID.1:ECX.OSXSAVE clear");

	/* 3. x87 + SSE state, read back; then an invalid value, which must change nothing. */
	u64 xcr0 = xgetbv(0);
	xsetbv(0, 3);
	CHECK_EQ(xgetbv(0), 3);
	CHECK_EQ(guest_try(do_xsetbv_zero, NULL, &fi), EXC_GP);
	CHECK_EQ(xgetbv(0), 3);

	/* 4. Put everything back. */
	xsetbv(0, xcr0);
	write_cr4(cr4);
}

/* ---- Cache control ------------------------------------------------------------------- */

/* WBINVD exits when "WBINVD exiting" is set; either way it must simply complete:
 * reaching the end of this function is the test. */
static void test_wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

static const struct guest_test tests[] = {
	{ "cpuid 0x40000000 signature", test_cpuid_signature },
	{ "cpuid 0x40000001 info", test_cpuid_info },
	{ "cpuid 1 hypervisor bit, no VMX", test_cpuid_features },
	{ "cpuid 0 vendor", test_cpuid_vendor },
	{ "io uart scratch register", test_io_uart_scratch },
	{ "io uart LSR idle", test_io_uart_lsr },
	{ "io unassigned port reads ones", test_io_unassigned },
	{ "mmio testdev id", test_mmio_id },
	{ "mmio testdev scratch 32/64", test_mmio_scratch },
	{ "mmio testdev count", test_mmio_count },
	{ "hypercall version", test_hypercall_version },
	{ "hypercall partition id", test_hypercall_partition_id },
	{ "hypercall nop", test_hypercall_nop },
	{ "hypercall unknown is NOSYS", test_hypercall_unknown },
	{ "vmx instructions raise #UD", test_vmx_instructions_ud },
	{ "msr efer", test_msr_efer },
	{ "msr write/read back", test_msr_write_read },
	{ "msr nonexistent is #GP", test_msr_nonexistent_gp },
	{ "cr4 toggle PGE", test_cr4_pge },
	{ "xsetbv/xgetbv", test_xsetbv },
	{ "wbinvd returns", test_wbinvd },
};

int main(const struct hvlab_boot_info *bi)
{
	gprintf("cpuid_io on %s: partition %u, vCPU %u\n", bi->name, bi->partition_id,
		bi->vcpu_id);
	return run_tests(tests, ARRAY_SIZE(tests));
}
