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
"""

from __future__ import annotations

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


# Lines that mean something went wrong in any scenario, whatever its expected status.
# TODO-LEAD: set these to the hypervisor's real panic/exception-dump prefixes.
COMMON_REJECT: tuple[str, ...] = (
    r"hvlab: PANIC",          # TODO-LEAD: exact panic prefix
)

TABLE: list[Scenario] = [
    Scenario(
        name="boot_ept",
        iso="basic",
        expect=(
            r"hvlab: .*partition basic.*paging ept",   # TODO-LEAD: exact line(s)
        ),
        reject=COMMON_REJECT,
    ),
    Scenario(
        name="cpuid_io",
        iso="cpuid_io",
        expect=(
            r"TODO-LEAD: cpuid_io expected line",      # TODO-LEAD
        ),
        reject=COMMON_REJECT,
    ),
    Scenario(
        name="ept_violation",
        iso="ept_violation",
        status=NONZERO,
        expect=(
            r"TODO-LEAD: EPT violation report line",   # TODO-LEAD
        ),
    ),
    Scenario(
        name="triple_fault",
        iso="triple_fault",
        expect=(
            r"TODO-LEAD: triple fault report line",    # TODO-LEAD (and the status: 0 or NONZERO?)
        ),
    ),
    Scenario(
        name="no_vmx_ryzen",
        iso="basic",
        model="ryzen",
        status=NONZERO,
        expect=(
            r"VMX",                                    # TODO-LEAD: e.g. "this CPU has no VMX"
        ),
    ),
    Scenario(
        name="smp2",
        iso="basic",
        cpus=2,
        timeout=180,
        expect=(
            r"cpu0: VMX root",
            r"cpu1: VMX root",
        ),
        reject=COMMON_REJECT,
    ),
    Scenario(
        name="bench",
        iso="bench",
        bench=True,
        timeout=600,
        reject=COMMON_REJECT,
    ),
]
