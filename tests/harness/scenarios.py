"""The integration tests: one row per test, run by `hvtest.py test` (and `bench`).

Each row boots build/iso/ISO.iso (made from images/scenarios/ISO.cfg) in Bochs and then
checks, in this order:
  * the run ended properly: the hypervisor printed `hvlab: exit status N` and Bochs
    powered off (no hang, no Bochs panic);
  * N is the expected status (`status`: a number, or NONZERO for "any failure status");
  * every regex in `expect` matches at least one console line (re.search);
  * no regex in `reject` matches any console line.

Fields:
  name     test name; also the run directory build/runs/NAME/ (console.log, bochs.log ...)
  iso      scenario (ISO) name
  model    Bochs CPU model (see PLATFORM.md for what each offers)
  cpus     number of emulated processors
  timeout  seconds of wall time before the run counts as hung (boot alone takes ~3 s with
           1 CPU and ~10 s with 2; Bochs speed varies 2x from run to run, so be generous)
  status   expected exit status: 0, another number, or NONZERO
  expect   regexes that must each match some console line
  reject   regexes that must not match any console line
  bench    a benchmark: run by `hvtest.py bench`, not by `hvtest.py test`; its console lines
           `bench KEY=VALUE` are collected
  megs     guest RAM in MiB
  debug    COM2 (gdbstub) and COM3 (monitor) as debugger ports, relayed by hvlink
           (debug_ports.py); the Machine then has gdb_port, monitor_port and
           wait_debug_ready()
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NONZERO = "nonzero"


@dataclass(frozen=True)
class Scenario:
    name: str
    iso: str
    model: str = "tigerlake"
    cpus: int = 1
    timeout: float = 120
    status: int | str = 0
    expect: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    bench: bool = False
    megs: int = 512
    debug: bool = False


# Lines that mean something went wrong in any scenario, whatever its expected status:
# a hypervisor panic or exception report, or a guest test that failed.
COMMON_REJECT: tuple[str, ...] = (
    r"hvlab: PANIC",
    r"\] FAIL - ",
    r"unexpected exception",
)

# What every guest that runs the `basic` program prints when all its checks pass.
BASIC_OK = r"\[{name}\] results: \d+ ok, 0 failed"

# Issue 4: the checks of the paging torture guest (images/guest/tests/paging_torture.c),
# in the order of its table. The run under EPT is the reference: every row that runs the
# guest (EPT; shadow paging asked for; shadow paging forced by a CPU without EPT) expects
# exactly these lines, so shadow paging must reproduce EPT line for line.
PAGING_TORTURE_TESTS: tuple[str, ...] = (
    "u/s: user page from ring 3",
    "u/s: supervisor page from ring 3 faults U=1 P=1",
    "u/s: supervisor PDE hides a user PTE",
    "r/w: supervisor write to read-only faults with CR0.WP=1",
    "r/w: supervisor write to read-only succeeds with CR0.WP=0",
    "r/w: user write to read-only faults with either CR0.WP",
    "r/w: read-only PDE protects a writable PTE",
    "nx: fetch from an executable page",
    "nx: fetch from an XD page faults I/D=1",
    "nx: XD in the PDE",
    "not present: PTE error codes and CR2",
    "not present: PDE",
    "rsvd: reserved bit in PTE and PDE faults RSVD=1",
    "a/d: read sets A, write sets D",
    "a/d: cleared flags set again after INVLPG",
    "a/d: A set on every level",
    "a/d: no D without a completed write",
    "tlb: INVLPG shows the new frame",
    "tlb: CR3 reload flushes",
    "tlb: global page, INVLPG and CR4.PGE",
    "cr3: 32 processes x 8 rounds",
    "cr3: inactive change and shared page tables",
    "large: 2 MiB page",
    "large: 1 GiB page",
    "pt: page table changed through an alias",
    "pt: page table that maps itself",
    "cow: fork-like copy on write",
)

# The checks of the supervisor-protection guest (images/guest/tests/paging_protect.c), in
# the order of its table: SMEP, SMAP with EFLAGS.AC, both with CR0.WP = 0, CR4.PGE, a page
# table mapped read-only. Tigerlake has SMEP and SMAP, so none is skipped. As for the
# torture guest, the EPT run is the reference shadow paging must match line for line.
PAGING_PROTECT_TESTS: tuple[str, ...] = (
    "smep: supervisor fetch from a user page faults I/D=1 P=1",
    "smep: without CR4.SMEP the same fetch runs",
    "smap: supervisor read and write of a user page fault P=1",
    "smap: EFLAGS.AC=1 (stac) allows them, clac forbids again",
    "smep/smap: user PTE under a supervisor PDE is a supervisor address",
    "smep/smap: user-mode accesses unaffected",
    "wp=0: supervisor write to a read-only user page faults under SMAP",
    "wp=0: after a write with AC=1, SMAP still guards the page",
    "wp=0: after a write to a user code page, SMEP still forbids fetching it",
    "pge: G ignored with CR4.PGE=0, clearing PGE flushes global pages",
    "pt: page table mapped read-only, written elsewhere",
)

# Issue 4: the checks of the 32-bit paging-modes kernel (images/guest/paging_modes), in
# order: paging off, 32-bit paging, PAE paging, off again. Shared by its EPT, shadow and
# no-EPT rows, as PAGING_TORTURE_TESTS is.
PAGING_MODES_CHECKS: tuple[str, ...] = (
    "off: entered in protected mode with paging off",
    "off: linear = physical, cr3 unused while cr0.pg = 0",
    "32-bit: cr0.pg on, 4 KiB pages translate",
    "32-bit: ps ignored while cr4.pse = 0",
    "32-bit: 4 MiB pages with cr4.pse, A and D in the pde",
    "32-bit: reserved bit 21 of a 4 MiB pde faults RSVD=1",
    "32-bit: not present: error codes and cr2, fetch I/D=0",
    "32-bit: supervisor write to read-only faults with cr0.wp=1",
    "32-bit: supervisor write to read-only succeeds with cr0.wp=0",
    "32-bit: u/s and r/w from ring 3",
    "32-bit: supervisor pde hides a user pte",
    "32-bit: read sets A, write sets D",
    "32-bit: invlpg shows the new frame",
    "32-bit: cr3 switches between two page directories",
    "pae: cr4.pae on, 4 KiB pages translate",
    "pae: pdptes loaded by mov to cr3 only",
    "pae: bit 63 reserved and fetch I/D=0 while efer.nxe = 0",
    "pae: xd page faults a fetch with I/D=1",
    "pae: xd in the pde",
    "pae: 2 MiB page, A and D in the pde",
    "pae: read sets A, write sets D",
    "pae: invlpg shows the new frame",
    "off again: cr0.pg cleared, linear = physical",
)


def ok_lines(partition: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The exact console lines of a guest whose checks `names` all pass (none skipped):
    `[PARTITION] ok - NAME` for each, then `[PARTITION] results: N ok, 0 failed`."""
    def literal(text: str) -> str:  # re.escape, but leaving blanks readable
        return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)

    prefix = literal(f"[{partition}] ")
    lines = [prefix + literal(f"ok - {name}") + "$" for name in names]
    lines.append(prefix + literal(f"results: {len(names)} ok, 0 failed") + "$")
    return tuple(lines)


TABLE: list[Scenario] = [
    # Issue 2: a guest boots under EPT and its checks pass.
    Scenario(
        name="boot_ept",
        iso="basic",
        expect=(
            r"hvlab: vmx: VMCS revision 0x[0-9a-f]+, EPT",
            r"hvlab: partition basic: 16 MiB at host 0x[0-9a-f]+, image basic, vCPU 0 on cpu0, paging ept",
            r"\[basic\] hello from basic: 16 MiB, vCPU 0",
            r"\[basic\] ok - own page tables active",
            r"\[basic\] ok - resource view$",
            BASIC_OK.format(name="basic"),
            r"hvlab: partition basic: \d+ VM exits",
            r"hvlab: summary: basic=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 2: CPUID, I/O, MMIO, MSR, CR, XSETBV, VMX-instruction and hypercall exits,
    # each round trip checked from inside the guest.
    Scenario(
        name="cpuid_io",
        iso="cpuid_io",
        expect=(
            r"\[cpuid_io\] ok - cpuid 0x40000000 signature$",
            r"\[cpuid_io\] ok - cpuid 0x40000001 info$",
            r"\[cpuid_io\] ok - cpuid 1 hypervisor bit, no VMX$",
            r"\[cpuid_io\] ok - io uart scratch register$",
            r"\[cpuid_io\] ok - io unassigned port reads ones$",
            r"\[cpuid_io\] ok - mmio testdev scratch 32/64$",
            r"\[cpuid_io\] ok - hypercall version$",
            r"\[cpuid_io\] ok - vmx instructions raise #UD$",
            r"\[cpuid_io\] ok - msr nonexistent is #GP$",
            r"\[cpuid_io\] ok - cr4 toggle PGE$",
            r"\[cpuid_io\] ok - xsetbv/xgetbv",
            r"\[cpuid_io\] results: \d+ ok, 0 failed",
            r"hvlab: partition cpuid_io: \d+ VM exits: .*CPUID \d+.*I/O instruction \d+",
            r"hvlab: summary: cpuid_io=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 2: a guest reading guest-physical memory outside its partition is stopped by an
    # EPT violation naming the address; the hypervisor and the next partition go on.
    Scenario(
        name="ept_violation",
        iso="ept_violation",
        status=1,
        expect=(
            r"\[victim\] touching unmapped guest-physical 0xc0000000",
            r"hvlab: partition victim stopped: EPT violation: read of guest-physical 0xc0000000 at RIP 0x[0-9a-f]+: not memory of this partition",
            BASIC_OK.format(name="bystander"),
            r"hvlab: summary: victim=fault bystander=0$",
        ),
        reject=COMMON_REJECT + (r"ERROR: read of unmapped memory returned",),
    ),
    # Issue 2: a triple-faulting guest is contained (on bare metal the machine would reset).
    Scenario(
        name="triple_fault",
        iso="triple_fault",
        status=1,
        expect=(
            r"\[victim\] about to triple-fault",
            r"hvlab: partition victim stopped: triple fault on vCPU 0 at RIP 0x[0-9a-f]+",
            r'hvlab: partition victim: its last console line was "about to triple-fault"',
            BASIC_OK.format(name="bystander"),
            r"hvlab: summary: victim=fault bystander=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 2: a CPU without VMX is refused in words, with a failure status.
    Scenario(
        name="no_vmx_ryzen",
        iso="basic",
        model="ryzen",
        status=2,
        expect=(
            r"hvlab: cannot start: this CPU has no VMX \(CPUID\.1:ECX\.VMX\[bit 5\] = 0\); it is an AMD CPU",
        ),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    # Issue 4: a CPU without EPT runs every partition on shadow page tables, and says so.
    Scenario(
        name="no_ept_shadow_automatic",
        iso="basic",
        model="core2_penryn_t9600",
        expect=(
            r"hvlab: vmx: no EPT: every partition runs on shadow page tables",
            r"hvlab: partition basic: 16 MiB at host 0x[0-9a-f]+, image basic, vCPU 0 on cpu0, "
            r"paging shadow \(no EPT on this CPU\), cache on",
            BASIC_OK.format(name="basic"),
            r"hvlab: partition basic: shadow paging: \d+ page faults",
            r"hvlab: summary: basic=0",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: asking for EPT where there is none is refused in words, before anything starts.
    Scenario(
        name="no_ept_paging_ept_refused",
        iso="paging_ept_required",
        model="core2_penryn_t9600",
        status=3,
        expect=(
            r"hvlab: config: paging_ept_required\.cfg:8: partition 'basic': paging = ept, but this "
            r"CPU's VMX has no usable EPT \(use paging = shadow or auto\)",
        ),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    # Issue 2: every CPU of a 2-CPU machine enters VMX root and says so.
    Scenario(
        name="smp2",
        iso="basic",
        cpus=2,
        timeout=180,
        expect=(
            r"hvlab: acpi: MADT lists 2 CPUs",
            r"hvlab: cpu0: VMX root \(APIC ID 0\)",
            r"hvlab: cpu1: VMX root \(APIC ID 1\)",
            r"hvlab: all 2 CPUs in VMX root operation",
            BASIC_OK.format(name="basic"),
            r"hvlab: summary: basic=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # An exception inside the hypervisor is reported with registers and function names.
    Scenario(
        name="hypervisor_exception_report",
        iso="selftest_exception",
        status=98,
        expect=(
            r"hvlab: PANIC: exception #UD invalid opcode \(vector 6\) in the hypervisor on cpu0",
            r"^  rip [0-9a-f]{16} <selftest_invalid_opcode\+0x[0-9a-f]+>",
            r"^  rax [0-9a-f]{16} rbx",
            r"^  called from [0-9a-f]{16} <hv_main\+0x[0-9a-f]+>",
        ),
    ),
    # Issue 2: an exit reason with no handler is reported with its number, name,
    # qualification and guest RIP, and ends that guest only (CPUID's handler is left out
    # of the table on purpose by selftest=unhandled-cpuid).
    Scenario(
        name="unhandled_exit_reported",
        iso="selftest_unhandled_exit",
        status=1,
        expect=(
            r"hvlab: partition victim stopped: unhandled VM exit 10 \(CPUID\), qualification 0x0, guest RIP 0x[0-9a-f]+$",
            BASIC_OK.format(name="bystander"),
            r"hvlab: summary: victim=fault bystander=0$",
        ),
        reject=(r"hvlab: PANIC",),
    ),
    # A bad configuration is refused before any partition starts, naming file, line, problem.
    Scenario(
        name="bad_config_refused",
        iso="bad_config",
        status=3,
        expect=(r"hvlab: config: bad_config\.cfg:5: unknown key 'memroy' in \[partition broken\]",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    # Issue 3: a Multiboot1 test kernel built as external x86 suites build theirs (32-bit
    # ELF at 4 MiB, 16550 at 0x3f8, status through port 0xf4), recognised by format = auto,
    # checks its boot information from inside.
    Scenario(
        name="multiboot1_kernel",
        iso="multiboot1",
        expect=(
            r"\[mb1\] mb1: Multiboot test kernel at 0x400000, EAX 0x2badb002",
            r"\[mb1\] ok - eax holds the Multiboot magic 0x2BADB002$",
            r"\[mb1\] ok - protected mode, paging and interrupts off, cs 0x08$",
            r"\[mb1\] ok - mbi in low memory$",
            r"\[mb1\] ok - mbi flags: memory, cmdline, mods, mmap, loader name$",
            r"\[mb1\] ok - mem_lower and mem_upper \(RAM - 1 MiB\)$",
            r"\[mb1\] ok - cmdline is the configured one$",
            r"\[mb1\] ok - boot loader name$",
            r"\[mb1\] ok - memory map$",
            r"\[mb1\] ok - initrd module: one, page-aligned, above the kernel, named$",
            r"\[mb1\] ok - initrd module contents$",
            r"\[mb1\] results: 10 ok, 0 failed",
            r"hvlab: summary: mb1=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 3: the same kernel (it carries a Multiboot2 header too) through the Multiboot2
    # loader, checking its boot information tags.
    Scenario(
        name="multiboot2_kernel",
        iso="multiboot2",
        expect=(
            r"\[mb2\] mb1: Multiboot test kernel at 0x400000, EAX 0x36d76289",
            r"\[mb2\] ok - eax holds the Multiboot2 magic 0x36d76289$",
            r"\[mb2\] ok - protected mode, paging and interrupts off, cs 0x08$",
            r"\[mb2\] ok - mbi layout: aligned, total_size, end tag$",
            r"\[mb2\] ok - cmdline tag$",
            r"\[mb2\] ok - boot loader name tag$",
            r"\[mb2\] ok - basic meminfo tag$",
            r"\[mb2\] ok - mmap tag$",
            r"\[mb2\] ok - module tag: the initrd$",
            r"\[mb2\] results: 8 ok, 0 failed",
            r"hvlab: summary: mb2=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 3: a minimal bzImage the tests build is entered through the Linux boot
    # protocol's 64-bit entry with a correct boot_params.
    Scenario(
        name="linux_boot_protocol",
        iso="linux_boot",
        expect=(
            r"\[linux\] bzimage: Linux boot protocol test kernel, boot_params at 0x[0-9a-f]+",
            r"\[linux\] ok - entered in 64-bit mode with paging$",
            r"\[linux\] ok - interrupts off at entry$",
            r"\[linux\] ok - entered at pref_address \+ 0x200$",
            r"\[linux\] ok - gdt has __BOOT_CS 0x10 and __BOOT_DS 0x18",
            r"\[linux\] ok - rsi points at boot_params$",
            r"\[linux\] ok - setup header copied into boot_params$",
            r"\[linux\] ok - type_of_loader and loadflags$",
            r"\[linux\] ok - cmd_line_ptr is the configured command line$",
            r"\[linux\] ok - e820 map$",
            r"\[linux\] ok - ramdisk_image and ramdisk_size$",
            r"\[linux\] ok - screen_info: no VGA$",
            r"\[linux\] results: 11 ok, 0 failed",
            r"hvlab: summary: linux=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 3: an image that is not what its configured format says is refused before any
    # partition starts, with the reason.
    Scenario(
        name="linux_format_refused",
        iso="linux_refused",
        status=3,
        expect=(
            r"hvlab: config: partition 'notlinux': image 'basic': not a Linux bzImage: "
            r"no \"HdrS\" setup header at offset 0x202",
        ),
        reject=COMMON_REJECT + (r"hvlab: partition notlinux",),
    ),
    # Issue 3: the virtual PC platform, register by register from inside the guest: ACPI
    # tables, PM timer, PIT, PIC, IOAPIC, RTC/CMOS, PCI configuration space; then PIT and
    # RTC interrupts delivered through the IOAPIC and through the 8259 (ExtINT on LINT0).
    Scenario(
        name="platform_devices",
        iso="platform",
        expect=(
            r"\[platform\] ok - acpi rsdp at 0xe0000, checksums$",
            r"\[platform\] ok - acpi madt cpus and ioapic$",
            r"\[platform\] ok - acpi fadt pm timer, dsdt, facs$",
            r"\[platform\] ok - acpi pm timer advances$",
            r"\[platform\] ok - pit counter 2 countdown via port 0x61$",
            r"\[platform\] ok - pit latch and read-back$",
            r"\[platform\] ok - pit and pm timer agree$",
            r"\[platform\] ok - pic init, mask, ocw3, elcr$",
            r"\[platform\] ok - pic irr, poll, isr, eoi$",
            r"\[platform\] ok - ioapic version and redirection entry$",
            r"\[platform\] ok - rtc date in bcd and binary$",
            r"\[platform\] ok - rtc register c read-clears$",
            r"\[platform\] ok - cmos memory size$",
            r"\[platform\] ok - pci host bridge and absent devices$",
            r"\[platform\] ok - irq pit through ioapic pin 2$",
            r"\[platform\] ok - irq rtc periodic through ioapic pin 8$",
            r"\[platform\] ok - irq pit through the 8259 and lint0$",
            r"\[platform\] results: 17 ok, 0 failed",
            r"hvlab: summary: platform=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 3: two SMP partitions, 2 vCPUs each, on a 4-CPU machine: each guest starts
    # its own AP through its local APIC and checks IPIs and APIC timers.
    Scenario(
        name="smp_two_partitions",
        iso="smp4",
        cpus=4,
        timeout=300,
        expect=(
            r"hvlab: all 4 CPUs in VMX root operation",
            r"\[alpha\] ok - smp: application processors start$",
            r"\[beta\] ok - smp: application processors start$",
            r"\[alpha\] ok - smp: IPIs from the BSP to each AP$",
            r"\[beta\] ok - smp: IPIs from each AP to the BSP$",
            r"\[alpha\] ok - lapic timer: periodic$",
            r"\[beta\] ok - lapic timer: TSC deadline$",
            r"\[alpha\] ok - hlt: woken by the timer$",
            r"\[beta\] ok - x2apic: ID, self IPI and ICR through MSRs$",
            r"\[alpha\] results: \d+ ok, 0 failed",
            r"\[beta\] results: \d+ ok, 0 failed",
            r"hvlab: summary: alpha=0 beta=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 3: bad configurations are refused before any partition starts, each with a
    # message naming the file, the line and the problem.
    Scenario(
        name="bad_config_overlapping_memory",
        iso="bad_overlap",
        status=3,
        expect=(r"hvlab: config: bad_overlap\.cfg:15: partition 'second': memory 0x12000000-0x15ffffff overlaps memory 0x10000000-0x13ffffff of partition 'first'",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    Scenario(
        name="bad_config_cpu_twice",
        iso="bad_cpu_twice",
        status=3,
        expect=(r"hvlab: config: bad_cpu_twice\.cfg:11: partition 'second': CPU 0 is already dedicated to partition 'first'",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    Scenario(
        name="bad_config_missing_image",
        iso="bad_missing_image",
        status=3,
        expect=(r"hvlab: config: bad_missing_image\.cfg:3: partition 'lonely': no boot module named 'no_such_guest'",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    Scenario(
        name="bad_config_dedicated_console",
        iso="bad_dedicated_console",
        status=3,
        expect=(r"hvlab: config: bad_dedicated_console\.cfg:5: partition 'thief': I/O ports 0x3f8-0x3ff overlap ports 0x3f8-0x3ff of the hypervisor",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    Scenario(
        name="bad_config_too_much_memory",
        iso="bad_too_much_memory",
        status=3,
        expect=(r"hvlab: config: bad_too_much_memory\.cfg: the partitions need 2048 MiB of memory, but only \d+ MiB is free",),
        reject=COMMON_REJECT + (r"hvlab: partition",),
    ),
    # Issue 3: interrupt routing (MECHANISMS.md §4). An identity-mapped partition on a
    # dedicated CPU with interception off takes its RTC and APIC-timer interrupts with zero
    # VM exits (its own HC_COUNTERS before and after); the same guest on a shared CPU gets
    # them injected.
    Scenario(
        name="interrupt_routing_direct_vs_injected",
        iso="direct_irq",
        cpus=2,
        timeout=240,
        expect=(
            r"hvlab: partition direct: 32 MiB at host 0x10000000 \(identity-mapped\), image direct_irq_identity, vCPU 0 on cpu1, paging ept, interception off",
            r"hvlab: partition direct: IOAPIC pin 8 -> vector 0x51 on cpu1, delivered directly",
            r"\[direct\]   # direct: timer \d+, rtc \d+ interrupts; meanwhile 0 VM exits, 0 injections",
            r"\[injected\]   # injected: timer \d+, rtc \d+ interrupts; meanwhile [1-9]\d* VM exits, [1-9]\d* injections",
            r"\[direct\] results: 2 ok, 0 failed",
            r"\[injected\] results: 2 ok, 0 failed",
            r"hvlab: summary: direct=0 injected=0$",
        ),
        reject=COMMON_REJECT + (r"hvlab: partition direct: \d+ VM exits: .*external interrupt",),
    ),
    # Issue 3, partition lifecycle: on_fault = reset restarts a crashed partition (RAM
    # zeroed, image loaded again), at most 3 times; a partition that always crashes is then
    # ended like any failed one.
    Scenario(
        name="reset_on_fault",
        iso="reset_on_fault",
        status=1,
        expect=(
            r"\[phoenix\] first boot: marking the top of RAM, then triple-faulting$",
            r"hvlab: partition phoenix stopped: triple fault on vCPU 0 at RIP 0x[0-9a-f]+$",
            r"hvlab: partition phoenix reset \(1\)$",
            r"\[phoenix\] ok - second boot after a reset$",
            r"\[phoenix\] ok - guest RAM zeroed by the reset$",
            r"\[phoenix\] results: 2 ok, 0 failed",
            r"\[doomed\] boot 4: triple-faulting$",
            r"hvlab: partition doomed reset \(3\)$",
            r"hvlab: partition doomed stopped: triple fault on vCPU 0 at RIP 0x[0-9a-f]+ "
            r"\(not reset again after 3 automatic resets\)$",
            r"hvlab: summary: phoenix=0 doomed=fault$",
        ),
        reject=COMMON_REJECT + (r"hvlab: partition phoenix reset \(2\)", r"hvlab: partition doomed reset \(4\)",
                                r"\[doomed\] boot 5"),
    ),
    # Partition lifecycle: one partition pauses another on another CPU (allowed by its
    # `controls` key) and resumes it; the paused one sees its clock jump by the pause, and
    # both finish.
    Scenario(
        name="pause_resume",
        iso="pause_resume",
        cpus=2,
        timeout=180,
        expect=(
            r"\[b\] count 0$",
            r"hvlab: partition b paused$",
            r"hvlab: partition b resumed$",
            r"\[a\] ok - pause another partition$",
            r"\[a\] ok - resume it$",
            r"\[a\] ok - control refused outside the controls list$",
            r"\[a\] results: 3 ok, 0 failed",
            r"\[b\] ok - stood still while paused$",
            r"\[b\] results: 1 ok, 0 failed",
            r"hvlab: summary: a=0 b=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Partition lifecycle: a requested soft reset (the partition boots a second time), then
    # destroy: its 16 MiB come back, and "destroyed" is not a failure in the summary.
    Scenario(
        name="destroy",
        iso="destroy",
        expect=(
            r"\[b\] waiting to be destroyed \(boot 1\)$",
            r"hvlab: partition b reset \(1\)$",
            r"\[b\] waiting to be destroyed \(boot 2\)$",
            r"hvlab: partition b destroyed, 16 MiB freed$",
            r"\[a\] ok - reset another partition$",
            r"\[a\] ok - destroy it$",
            r"\[a\] results: 2 ok, 0 failed",
            r"hvlab: summary: a=0 b=destroyed$",
        ),
        reject=COMMON_REJECT + (r"\[b\] ERROR", r"\[b\] waiting to be destroyed \(boot 3\)"),
    ),
    # Issue 4: the paging torture guest under EPT: access rights (U/S from ring 3, R/W with
    # CR0.WP, NX), page-fault error codes and CR2, reserved bits, A/D flags, INVLPG and
    # CR3/CR4.PGE flushes, 32 address spaces, 2 MiB and 1 GiB pages, page tables changed
    # through aliases of themselves, copy-on-write. Its output is the reference shadow
    # paging must reproduce line for line.
    Scenario(
        name="paging_torture_ept",
        iso="paging_torture",
        megs=128,
        timeout=200,
        expect=(
            r"hvlab: partition torture: 64 MiB at host 0x[0-9a-f]+, image paging_torture, vCPU 0 on cpu0, paging ept",
            *ok_lines("torture", PAGING_TORTURE_TESTS),
            r"hvlab: summary: torture=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: the same torture guest under shadow paging, asked for on a CPU that has
    # EPT (paging = shadow): the same lines as under EPT, line for line.
    Scenario(
        name="paging_torture_shadow",
        iso="paging_torture_shadow",
        megs=128,
        timeout=500,
        expect=(
            r"hvlab: partition torture: 64 MiB at host 0x[0-9a-f]+, image paging_torture, vCPU 0 on cpu0, paging shadow",
            *ok_lines("torture", PAGING_TORTURE_TESTS),
            r"hvlab: summary: torture=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: the torture guest's EPT scenario on a CPU without EPT (nor unrestricted
    # guest): shadow paging is chosen automatically; the same lines. (This CPU has no
    # 1 GiB pages, but a shadow-paged guest does: the shadow MMU offers them in CPUID.)
    Scenario(
        name="paging_torture_penryn",
        iso="paging_torture",
        model="core2_penryn_t9600",
        megs=128,
        timeout=500,
        expect=(
            r"hvlab: partition torture: 64 MiB at host 0x[0-9a-f]+, image paging_torture, vCPU 0 on cpu0, paging shadow",
            *ok_lines("torture", PAGING_TORTURE_TESTS),
            r"hvlab: summary: torture=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: the supervisor-mode protections (SMEP, SMAP with STAC/CLAC, both with
    # CR0.WP = 0), clearing CR4.PGE and a read-only mapped page table, under EPT: the
    # reference for the shadow row below.
    Scenario(
        name="paging_protect_ept",
        iso="paging_protect",
        megs=128,
        timeout=200,
        expect=(
            r"hvlab: partition protect: 32 MiB at host 0x[0-9a-f]+, image paging_protect, vCPU 0 on cpu0, paging ept",
            *ok_lines("protect", PAGING_PROTECT_TESTS),
            r"hvlab: summary: protect=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # The same guest under shadow paging (paging = shadow): the same lines as under EPT.
    Scenario(
        name="paging_protect_shadow",
        iso="paging_protect_shadow",
        megs=128,
        timeout=300,
        expect=(
            r"hvlab: partition protect: 32 MiB at host 0x[0-9a-f]+, image paging_protect, vCPU 0 on cpu0, paging shadow",
            *ok_lines("protect", PAGING_PROTECT_TESTS),
            r"hvlab: summary: protect=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: guests aim their own page tables beyond their RAM (leaf PTE, page-table
    # pointer, CR3, large page, highest address), at read-only and MMIO pages; each is
    # stopped by an EPT violation in its own partition. Guest-physical 0x200000 (the
    # hypervisor's host address) is only the guest's own RAM. The torture guest runs
    # alongside and passes.
    Scenario(
        name="paging_isolation_ept",
        iso="paging_isolation",
        status=1,
        megs=256,
        timeout=300,
        expect=(
            r"hvlab: partition beyond_ram stopped: EPT violation: read of guest-physical 0x1000000 at RIP 0x[0-9a-f]+: not memory of this partition",
            r"hvlab: partition high_address stopped: EPT violation: read of guest-physical 0x[0-9a-f]+ at RIP 0x[0-9a-f]+: not memory of this partition",
            r"hvlab: partition table_beyond_ram stopped: EPT violation: read of guest-physical 0x1000000 at RIP 0x[0-9a-f]+: not memory of this partition",
            r"hvlab: partition cr3_beyond_ram stopped: EPT violation: read of guest-physical 0x1000000 at RIP 0x[0-9a-f]+: not memory of this partition",
            r"hvlab: partition large_page stopped: EPT violation: read of guest-physical 0x[0-9a-f]+ at RIP 0x[0-9a-f]+: not memory of this partition",
            r"hvlab: partition resdb_write stopped: EPT violation: write of guest-physical 0xfeb10000 at RIP 0x[0-9a-f]+: the page is r only",
            r"hvlab: partition mmio_fetch stopped: EPT violation: instruction fetch of guest-physical 0xfeb00000 at RIP 0x200000000000: not memory of this partition",
            r"\[own_ram\] guest-physical 0x200000 is my own RAM, not the hypervisor's",
            r"\[cr3_hidden\] cr3: 17 values read back exactly as loaded$",
            r"\[bystander\] results: \d+ ok, 0 failed",
            r"hvlab: summary: beyond_ram=fault high_address=fault table_beyond_ram=fault "
            r"cr3_beyond_ram=fault large_page=fault resdb_write=fault mmio_fetch=fault own_ram=0 "
            r"cr3_hidden=0 bystander=0$",
        ),
        reject=COMMON_REJECT + (r"ERROR",),
    ),
    # Issue 4: the same attacks with every partition under shadow paging: the hypervisor
    # now reads the guest page tables itself and must refuse the same addresses, with its
    # own wording (hence the loose match); CR3 still reads back as the guest loaded it.
    Scenario(
        name="paging_isolation_shadow",
        iso="paging_isolation_shadow",
        status=1,
        megs=256,
        timeout=900,
        expect=(
            *(rf"hvlab: partition {name} stopped: .*guest-physical 0x"
              for name in ("beyond_ram", "high_address", "table_beyond_ram", "cr3_beyond_ram",
                           "large_page", "resdb_write", "mmio_fetch")),
            r"\[own_ram\] guest-physical 0x200000 is my own RAM, not the hypervisor's",
            r"\[cr3_hidden\] cr3: 17 values read back exactly as loaded$",
            *ok_lines("bystander", PAGING_TORTURE_TESTS),
            r"hvlab: summary: beyond_ram=fault high_address=fault table_beyond_ram=fault "
            r"cr3_beyond_ram=fault large_page=fault resdb_write=fault mmio_fetch=fault own_ram=0 "
            r"cr3_hidden=0 bystander=0$",
        ),
        reject=COMMON_REJECT + (r"ERROR",),
    ),
    # Issue 4: a 32-bit Multiboot kernel walks the paging modes of a booting guest (off,
    # 32-bit with 4 MiB pages, PAE with XD, off again) and checks each from inside. Under
    # EPT here; the two rows after it expect the same lines under shadow paging.
    Scenario(
        name="paging_modes_ept",
        iso="paging_modes",
        timeout=120,
        expect=(
            r"hvlab: partition modes: 32 MiB at host 0x[0-9a-f]+, image paging_modes, vCPU 0 on cpu0, paging ept",
            r"\[modes\] paging_modes: 32-bit kernel at 0x400000, off -> 32-bit -> PAE -> off$",
            *ok_lines("modes", PAGING_MODES_CHECKS),
            r"hvlab: summary: modes=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # The same kernel under shadow paging asked for (paging = shadow), on a CPU with EPT.
    Scenario(
        name="paging_modes_shadow",
        iso="paging_modes_shadow",
        timeout=300,
        expect=(
            r"hvlab: partition modes: 32 MiB at host 0x[0-9a-f]+, image paging_modes, vCPU 0 on cpu0, paging shadow",
            r"\[modes\] paging_modes: 32-bit kernel at 0x400000, off -> 32-bit -> PAE -> off$",
            *ok_lines("modes", PAGING_MODES_CHECKS),
            r"hvlab: summary: modes=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # The same kernel and scenario on a CPU without EPT or unrestricted guest: shadow
    # paging is chosen automatically, and paging off must be emulated.
    Scenario(
        name="paging_modes_penryn",
        iso="paging_modes",
        model="core2_penryn_t9600",
        timeout=300,
        expect=(
            r"hvlab: partition modes: 32 MiB at host 0x[0-9a-f]+, image paging_modes, vCPU 0 on cpu0, paging shadow",
            r"\[modes\] paging_modes: 32-bit kernel at 0x400000, off -> 32-bit -> PAE -> off$",
            *ok_lines("modes", PAGING_MODES_CHECKS),
            r"hvlab: summary: modes=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # Issue 4: the paging benchmark guest in a small run, as a correctness test: demand
    # faults, CR3 switches and copy-on-write, each process checking it sees its own
    # values. Under EPT for now.
    Scenario(
        name="paging_bench_smoke",
        iso="paging_bench_smoke",
        timeout=120,
        expect=(
            r"\[smoke\] 4 processes x 8 pages, 2 rounds$",
            r"\[smoke\] ok - bench: demand faults map each process its own pages$",
            r"\[smoke\] ok - bench: cr3 switches, each process sees its own values$",
            r"\[smoke\] ok - bench: copy on write, parent and child values differ$",
            r"\[smoke\] results: 3 ok, 0 failed$",
            r"\[smoke\] bench smoke\.switch_ticks=[1-9]\d*$",
            r"hvlab: summary: smoke=0$",
        ),
        reject=COMMON_REJECT,
    ),
    # `make bench`: exit costs in guest TSC ticks (deterministic under Bochs sync=none).
    Scenario(
        name="bench",
        iso="bench",
        bench=True,
        timeout=600,
        reject=COMMON_REJECT,
    ),
    # `make bench`, issue 4: process switches, demand faults and copy-on-write under EPT,
    # shadow paging, and shadow paging without its cache; one partition each, on
    # dedicated CPUs 0, 1 and 2, at the same time.
    Scenario(
        name="paging_bench",
        iso="paging_bench",
        bench=True,
        cpus=3,
        timeout=900,
        expect=tuple(
            rf"\[{label}\] bench {label}\.{key}_ticks=[1-9]\d*$"
            for label in ("ept", "shadow", "nocache")
            for key in ("total", "fault", "switch", "cow")
        ) + (r"hvlab: summary: ept=0 shadow=0 nocache=0$",),
        reject=COMMON_REJECT,
    ),
]
