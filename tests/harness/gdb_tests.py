"""gdb_tests.py — real GDB against the hypervisor's gdbstub, in Bochs (issue 5, item 1).

Part of the test harness: `hvtest.py test` runs run_gdb_tests() after the command tests,
`hvtest.py bench` runs run_gdb_bench(). One run:
  1. Bochs boots build/iso/gdb.iso (images/scenarios/gdb.cfg: the 2-vCPU partition "gdb"
     running images/guest/tests/gdb_target.c, and a bystander) with its debugger ports
     (Machine(debug=True): COM2 relayed by hvlink, so GDB can come and go);
  2. once the console says the gdbstub listens, GDB starts in batch mode and runs
     gdb_session.py inside itself: connect, `info registers`, break on gdb_target_hit,
     continue, `stepi`, read and write guest memory, a watchpoint, `monitor info vmcs`,
     thread switch, detach; each step is one test line here (gdb_NAME);
  3. after the detach the guest must run to its end: exit status 0, and its last line
     shows the value GDB wrote into gdb_poke (gdb_guest_end).
Everything is bounded in time; GDB and Bochs are always stopped. The benchmark does the
same with timed `stepi`s and a 64 KiB read instead, printing `bench KEY=VALUE` lines.
Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from machine import BUILD, ISO_DIR, Machine, UsageError, interrupted
from unit_tests import CaseResult

ISO = ISO_DIR / "gdb.iso"
ELF = BUILD / "guests" / "gdb_target.elf"
SESSION = Path(__file__).with_name("gdb_session.py")
GDB = "gdb"
MACHINE_TIMEOUT = 420.0   # the whole Bochs run
BOOT_WAIT = 180.0         # until the console says the gdbstub listens
GDB_TIMEOUT = 300.0       # the whole GDB session
END_WAIT = 120.0          # after GDB detached, until the guest's exit line
LISTENING = re.compile(r"hvlab: gdb: listening")
POKE = re.compile(r"\[gdb\] gdb_target: \d+ rounds, counter = \d+, gdb_poke = 0x1234abcd")

# What `monitor info vmcs 0.0` must answer: the monitor (src/debug/monitor*.c) decoding
# the VMCS of the stopped vCPU, its controls named in words.
MONITOR_EXPECT = r"VMCS of vCPU 0\.0 \(gdb\)[\s\S]*pin-based controls"

STEPS = ("connect", "info_registers", "break_continue", "stepi", "read_memory", "watchpoint",
         "hw_breakpoint", "write_memory", "monitor", "threads", "detach")
# The same on a CPU without EPT or MTF (shadow paging, TF steps), one vCPU: no thread switch.
PENRYN_STEPS = ("connect", "info_registers", "break_continue", "stepi", "read_memory",
                "watchpoint", "hw_breakpoint", "write_memory", "detach")


class Failure(Exception):
    pass


# ---- Hostile input, before GDB comes: each gets the protocol's answer (issue 5, item 2) ----

def _frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


# (what is sent, the answer expected as a regex over the bytes that come back)
HOSTILE = (
    (b"$qSupported#00", rb"^-$"),                           # bad checksum: resend, please
    (b"$" + b"A" * 5000 + b"#00", rb"^-$"),                 # longer than PacketSize
    (_frame(b"qSupported"), rb"^\+\$PacketSize=1000;.*#[0-9a-f]{2}$"),
    (_frame(b"vFrobnicate"), rb"^\+\$#00$"),               # unknown: the empty reply
    (_frame(b"mzz,4"), rb"^\+\$E0[0-9a-f]#[0-9a-f]{2}$"),   # bad hex
    (_frame(b"m7fff00000000,10"), rb"^\+\$E[0-9a-f]{2}#"),  # outside the partition
    (_frame(b"Mfffffffffff0000,2:zz"), rb"^\+\$E[0-9a-f]{2}#"),
    (_frame(b"g"), rb"^\+\$E16#"),                          # running: no registers
    (_frame(b"Z0,100080"), rb"^\+\$E0[0-9a-f]#"),           # missing kind
    (_frame(b"Hg99"), rb"^\+\$E02#"),                       # no such thread
    (_frame(b"qRcmd,7a7"), rb"^\+\$E02#"),                  # odd hex
)


def _hostile(port: int) -> CaseResult:
    """Send malformed packets over a raw connection; every one gets its answer, nothing
    hangs, and the stub still works after (GDB connects next)."""
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            for sent, want in HOSTILE:
                c.sendall(sent)
                got = b""
                deadline = time.monotonic() + 30
                while not re.search(want, got, re.S) and time.monotonic() < deadline:
                    c.settimeout(max(0.1, deadline - time.monotonic()))
                    try:
                        chunk = c.recv(4096)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    got += chunk
                    if got.startswith(b"+$") and re.search(rb"#[0-9a-f]{2}$", got):
                        break
                    if got == b"-":
                        break
                if not re.search(want, got, re.S):
                    return CaseResult("gdb_hostile_input", False,
                                      [f"sent {sent[:40]!r}: got {got[:80]!r}, expected /{want.decode()}/"])
    except OSError as e:
        return CaseResult("gdb_hostile_input", False, [f"connection to the gdbstub: {e}"])
    return CaseResult("gdb_hostile_input", True, seconds=time.monotonic() - start)


def _poll_until(m: Machine, what, timeout: float, check) -> bool:
    """Poll the machine (reads its console) until check() is true; False on timeout/end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not interrupted():
        if check():
            return True
        if m.poll():
            return check()
        time.sleep(0.1)
    return False


def _session(name: str, mode: str, iso: Path = ISO, model: str = "tigerlake",
             cpus: int = 2) -> tuple[Machine, list[dict], str, list[CaseResult]]:
    """Boot @iso, run one GDB session in @mode ("test", "penryn", "bench"; first the
    hostile-input case in "test" mode); the machine ends after it."""
    for missing in (p for p in (iso, ELF, SESSION) if not p.is_file()):
        raise Failure(f"{missing} is missing (make all builds it)")
    if shutil.which(GDB) is None:
        raise Failure("gdb is not installed (Debian package gdb)")
    m = Machine(name, iso, model=model, cpus=cpus, timeout=MACHINE_TIMEOUT, debug=True)
    try:
        m.start()
    except UsageError as e:
        raise Failure(f"could not start the machine: {e}")
    out = m.run_dir / "gdb_results.json"
    log = m.run_dir / "gdb.log"
    try:
        if not m.wait_debug_ready(30):
            raise Failure("the machine's debugger ports were not ready within 30 s")
        if not _poll_until(m, "gdbstub", BOOT_WAIT,
                           lambda: any(LISTENING.search(l) for l in m.result.lines)):
            raise Failure("the console never said `hvlab: gdb: listening`",
                          "\n".join(m.result.tail()))
        early = [_hostile(m.gdb_port)] if mode == "test" else []
        env = dict(os.environ, HVLAB_GDB_PORT=str(m.gdb_port), HVLAB_GDB_ELF=str(ELF),
                   HVLAB_GDB_OUT=str(out), HVLAB_GDB_MODE=mode, HVLAB_GDB_MONITOR=MONITOR_EXPECT)
        with open(log, "w") as logf:
            g = subprocess.Popen([GDB, "-nx", "-batch", "-x", str(SESSION)], env=env,
                                 stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            try:
                _poll_until(m, "gdb", GDB_TIMEOUT, lambda: g.poll() is not None)
            finally:
                if g.poll() is None:
                    g.kill()
                g.wait()
        results = json.loads(out.read_text()) if out.is_file() else []
        _poll_until(m, "end", END_WAIT, lambda: m.result.status is not None)
        _poll_until(m, "power-off", 20, lambda: m.done)
    finally:
        m.stop()
    return m, results, log.read_text(errors="replace") if log.is_file() else "", early


def _cases(m: Machine, results: list[dict], log: str, names, prefix="gdb") -> list[CaseResult]:
    """One test line per GDB step (a step GDB never reached fails), plus the guest's end."""
    by_name = {r["name"]: r for r in results}
    cases = []
    for name in names:
        r = by_name.get(name)
        if r is None:
            cases.append(CaseResult(f"{prefix}_{name}", False, ["GDB never got to this step; its log:"]
                                    + ["| " + l for l in log.splitlines()[-12:]]))
        elif not r["ok"]:
            cases.append(CaseResult(f"{prefix}_{name}", False, r["detail"].splitlines()[:15]))
        else:
            cases.append(CaseResult(f"{prefix}_{name}", True, seconds=r["ms"] / 1000))
    return cases


def _guest_end(m: Machine, name: str = "gdb_guest_end") -> CaseResult:
    r = m.result
    problems = []
    if r.status != 0:
        problems.append(f"exit status {r.status}, expected 0")
    if not any(POKE.search(l) for l in r.lines):
        problems.append("the guest did not print the gdb_poke value GDB wrote")
    bad = [l for l in r.lines if re.search(r"hvlab: PANIC|\] FAIL - |unexpected exception", l)]
    if bad:
        problems.append(f"console shows a failure: {bad[0]!r}")
    if problems:
        return CaseResult(name, False, ["; ".join(problems)] + ["| " + l for l in r.tail()])
    return CaseResult(name, True, seconds=r.seconds)


def _wanted(only: str | None, prefix: str, names) -> bool:
    return not only or any(re.search(only, f"{prefix}_{n}") for n in names)


def run_gdb_tests(only: str | None) -> list[CaseResult]:
    """The GDB walkthrough as test lines gdb_* (tigerlake: EPT, MTF, 2 vCPUs) and
    gdb_penryn_* (core2_penryn: shadow paging, TF steps); each run only if @only matches
    one of its lines."""
    cases = []
    if _wanted(only, "gdb", STEPS + ("guest_end", "session", "hostile_input")):
        try:
            m, results, log, early = _session("gdb", "test")
            run = early + _cases(m, results, log, STEPS) + [_guest_end(m)]
        except Failure as e:
            run = [CaseResult("gdb_session", False, [str(x) for x in e.args])]
        for c in run:
            print(c.report(), flush=True)
        cases += run
    if not interrupted() and _wanted(only, "gdb_penryn", PENRYN_STEPS + ("guest_end", "session")):
        try:
            m, results, log, _ = _session("gdb_penryn", "penryn", ISO_DIR / "gdb_penryn.iso",
                                          "core2_penryn_t9600", 2)
            run = _cases(m, results, log, PENRYN_STEPS, "gdb_penryn") + [_guest_end(m, "gdb_penryn_guest_end")]
        except Failure as e:
            run = [CaseResult("gdb_penryn_session", False, [str(x) for x in e.args])]
        for c in run:
            print(c.report(), flush=True)
        cases += run
    return cases


def run_gdb_bench() -> tuple[list[CaseResult], list[tuple[str, str]]]:
    """The GDB benchmark: (test lines, [(key, value)]) from its `bench K=V` words."""
    try:
        m, results, log, _ = _session("gdb_bench", "bench")
        cases = _cases(m, results, log, ("connect", "bench_stepi", "bench_read64k", "detach"))
    except Failure as e:
        return [CaseResult("gdb_bench", False, [str(x) for x in e.args])], []
    pairs = [(k, v) for r in results for k, v in re.findall(r"bench\s+([\w.]+)=(\S+)", r["detail"])]
    for c in cases:
        print(c.report(), flush=True)
    return cases, pairs
