"""hvmon_live_tests.py — hvmon against the REAL hypervisor in Bochs, driven in tmux.

Part of the test harness (tests/harness/hvtest.py runs it after the hvmon tests against
the stand-in, hvmon_tests.py, whose tmux helpers it reuses). Issue 5, "Done when": make
test drives hvmon inside tmux through listing partitions, pausing and resuming one,
showing its VMCS, live exit counters, walking an address and an unknown command, and
checks the screen text.

  hvmon_live   images/scenarios/monitor.cfg (partition 0 "ticker" on EPT, partition 1
               "shadowed" on shadow paging, both printing ticks for minutes) boots with
               its debugger ports (Machine(debug=True): COM3 relayed by hvlink); hvmon
               connects to it and the screen must show, in order:
                 - both partitions running, with their paging, and a live exit rate;
                 - `pause 1`: partition 1 paused (partitions pane), its registers and
                   VMCS in the panes after `select 1`, `info vmcs 1.0` in the output;
                 - `info ept 1 ADDR` of the ticker's counter (the address it printed):
                   the guest's 4-level walk, then the shadow tables the CPU walks;
                 - `x/8 1 ADDR`: the counter's bytes;
                 - `resume 1`: running again, and its console ticking on;
                 - `pause 0`, `info ept 0 ADDR` through guest paging and EPT, `resume 0`;
                 - refusals in words: an unknown command (hvmon's own check), `pause 7`
                   and `info vmcs 0.0` of a running partition (the hypervisor's);
               then `quit` exits 0 with the terminal restored. The machine is stopped
               after that; its console must show no hypervisor panic and ticks of both
               partitions after they were resumed.

Skipped, with a SKIP line, when tmux is not installed. Every wait is bounded; the
machine has a timeout of its own and is always stopped. Standard library only.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from hvmon_tests import Failure, Tmux, check_restored, has_title, pane_script, run_tmux_cases
from machine import ISO_DIR, Machine, UsageError
from unit_tests import CaseResult

ISO = ISO_DIR / "monitor.iso"
BOOT_WAIT = 90.0        # Bochs (2 CPUs) to the hypervisor's monitor answering
STEP_WAIT = 30.0        # any one expected screen once it runs (panes refresh every 1-2 s)
MACHINE_TIMEOUT = 420   # the whole run, as a last resort
COUNTER = re.compile(r"\[ticker\] ticker: counter at (0x[0-9a-f]+)")


class Live:
    """The machine and the tmux session of one live case, waited on together: every wait
    also tails the machine's console, and fails at once if the machine has ended."""

    def __init__(self, t: Tmux, m: Machine):
        self.t, self.m = t, m

    def console(self) -> list[str]:
        return self.m.result.lines

    def _machine_alive(self, what: str):
        if self.m.poll():
            tail = "\n".join(self.m.result.tail())
            raise Failure(f"{what}: the machine stopped ({self.m.result.problem() or 'ended'})",
                          "console:\n" + tail)

    def wait_for(self, what: str, check, timeout: float = STEP_WAIT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            self._machine_alive(what)
            screen = self.t.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise Failure(f"{what}: not on the screen after {timeout:.0f} s", screen)
            time.sleep(0.3)

    def wait_text(self, *texts: str, timeout: float = STEP_WAIT) -> str:
        return self.wait_for(" and ".join(repr(t) for t in texts),
                             lambda s: all(t in s for t in texts), timeout)

    def wait_regex(self, *regexes: str, timeout: float = STEP_WAIT) -> str:
        return self.wait_for(" and ".join(f"/{r}/" for r in regexes),
                             lambda s: all(re.search(r, s, re.M) for r in regexes), timeout)

    def wait_console(self, regex: str, timeout: float = STEP_WAIT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            self._machine_alive(f"console /{regex}/")
            for line in self.console():
                found = re.search(regex, line)
                if found:
                    return found
            if time.monotonic() > deadline:
                raise Failure(f"no console line matches /{regex}/ after {timeout:.0f} s",
                              "console:\n" + "\n".join(self.m.result.tail()))
            time.sleep(0.3)

    def command(self, line: str):
        """Type a command once the previous one's answer is in (hvmon queues them anyway)."""
        self.t.type(line)


def ticks_after(lines: list[str], name: str, start: int) -> int:
    """How many "[name] tick N" lines come after console line index @start."""
    return sum(1 for l in lines[start:] if re.match(r"\[%s\] tick \d+$" % re.escape(name), l))


def case_live(t: Tmux, work: Path):
    if not ISO.is_file():
        raise Failure(f"{ISO} is missing (make all builds it)")
    m = Machine("hvmon_live", ISO, cpus=2, timeout=MACHINE_TIMEOUT, debug=True)
    try:
        m.start()
    except UsageError as e:
        raise Failure(f"could not start the machine: {e}")
    try:
        if not m.wait_debug_ready(30):
            raise Failure("the machine's debugger ports were not ready within 30 s")
        live = Live(t, m)
        run_session(live, m.monitor_port)
    finally:
        m.stop()
    lines = m.result.lines
    bad = [l for l in lines if re.search(r"hvlab: PANIC|\] FAIL - |unexpected exception", l)]
    if bad:
        raise Failure(f"the console shows a failure: {bad[0]!r}")


def run_session(live: Live, port: int):
    t = live.t
    t.start(pane_script(port), 160, 48)

    # 1. Both partitions, listed with their paging, and exits counted live.
    live.wait_regex(r"^ *0 +ticker +running +ept +vCPU 0 ", r"^ *1 +shadowed +running +shadow +vCPU 0 ",
                    timeout=BOOT_WAIT)
    addr = live.wait_console(COUNTER.pattern).group(1)
    for title in ("partitions", "registers 0.0", "console 0", "VMCS 0.0", "exits 0, live", "output"):
        live.wait_for(f"the title {title!r}", lambda s, title=title: has_title(s, title))
    live.wait_regex(r"^.*I/O instruction +\d+ +[1-9]\d* *(│|$)")     # a rate per second > 0
    # A running partition's VMCS lives inside its CPU: the pane says so.
    live.wait_text("partition 0 (ticker) is running: pause it first")

    # 2. Pause partition 1; its registers and VMCS in the panes and the output.
    live.command("pause 1")
    live.wait_regex(r"partition 1 \(shadowed\) paus(ed|ing)")
    live.wait_regex(r"^ *1 +shadowed +paused +shadow +vCPU 0 \w+ \(parked\) on cpu0")
    live.command("select 1")
    live.wait_text("vCPU 1.0 of shadowed", "VMCS of vCPU 1.0 (shadowed), shadow paging")
    live.wait_regex(r"rip [0-9a-f]{16}  rflags [0-9a-f]+", r"pin-based controls: external-interrupt exiting")
    live.command("info vmcs 1.0")
    live.wait_regex(r"last exit: \d+ [\w -]+, qualification 0x[0-9a-f]+",
                    r"activity \w+, interrupts")

    # 3. Walk the counter's address: guest paging, then the shadow tables; then its bytes.
    live.command(f"info ept 1 {addr}")
    live.wait_regex(r"PT +\[ *\d+\] at hpa 0x[0-9a-f]+: [0-9a-f]{16} P",
                    r"-> host-physical 0x[0-9a-f]+ \(4 KiB page")
    live.command(f"x/8 1 {addr}")
    live.wait_regex(r"^.*%s: [0-9a-f]{2}( [0-9a-f]{2}){7} *(│|$)" % re.escape(addr))

    # 4. Resume it: running again, its console goes on.
    resumed_at = len(live.console())
    live.command("resume 1")
    live.wait_text("partition 1 (shadowed) resumed")
    live.wait_regex(r"^ *1 +shadowed +running +shadow")

    # 5. The EPT partition: pause, walk through guest paging and EPT, resume.
    live.command("pause 0")
    live.wait_regex(r"^ *0 +ticker +paused +ept")
    live.command(f"info ept 0 {addr}")
    live.wait_regex(r"EPT \(SDM Vol\. 3C §29\.3\.2\), root 0x[0-9a-f]+:",
                    r"-> host-physical 0x[0-9a-f]+ \(\d (KiB|MiB|GiB) page, R W X\)")
    live.command("resume 0")
    live.wait_text("partition 0 (ticker) resumed")

    # 6. Mistakes, each answered in words.
    live.command("frobnicate")
    live.wait_text("unknown command 'frobnicate'; type help")
    live.command("pause 7")
    live.wait_text("no partition '7'; there are 0 (ticker), 1 (shadowed)")
    live.command("info vmcs 0.0")
    live.wait_regex(r"hvmon> info vmcs 0\.0 *\n[^\n]*partition 0 \(ticker\) is running: pause it first")

    # 7. The partitions run on after all that.
    deadline = time.monotonic() + STEP_WAIT
    while ticks_after(live.console(), "shadowed", resumed_at) < 2 or \
            ticks_after(live.console(), "ticker", resumed_at) < 2:
        live._machine_alive("ticks after resume")
        if time.monotonic() > deadline:
            raise Failure("the partitions did not tick on after being resumed",
                          "console:\n" + "\n".join(live.console()[-15:]))
        time.sleep(0.3)

    t.type("quit")
    check_restored(t, 0)


CASES = {"hvmon_live": case_live}


def run_hvmon_live_tests(only: str | None) -> list[CaseResult]:
    """The hvmon cases against the real hypervisor in Bochs."""
    return run_tmux_cases(CASES, only, prefix="hvmon-live-")


if __name__ == "__main__":
    sys.exit(0 if all(r.passed for r in run_hvmon_live_tests(sys.argv[1] if len(sys.argv) > 1 else None))
             else 1)
