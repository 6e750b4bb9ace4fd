"""command_tests.py — the two commands a user types, checked as a user would see them.

Part of the test harness (tests/harness/hvtest.py runs these after the scenarios):
  * `make run` boots a scenario and streams its console, ending with the hypervisor's
    status as its own (issue 2: "make run ... works as the first command typed");
  * Ctrl-C during `hvtest.py run` (what `make run` runs) stops Bochs and exits 130,
    leaving no emulator behind (issue 2: "Ctrl-C ... must stop Bochs cleanly").
Standard library only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from machine import ROOT
from unit_tests import CaseResult

MAKE_RUN_TIMEOUT = 300.0
INTERRUPT_TIMEOUT = 120.0


def _tail(text: str, n: int = 12) -> list[str]:
    return text.splitlines()[-n:]


def test_make_run() -> CaseResult:
    """`make run SCENARIO=basic` streams the console and exits with the hypervisor's 0."""
    start = time.monotonic()
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)  # a fresh `make`, as a user types it
    env.pop("MAKELEVEL", None)
    try:
        p = subprocess.run(["make", "--no-print-directory", "run", "SCENARIO=basic", "CPUS=1",
                            "TIMEOUT=240"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=MAKE_RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return CaseResult("make_run", False, ["`make run` did not finish"])
    out = p.stdout + p.stderr
    missing = [line for line in ("[basic] results:", "hvlab: summary: basic=0", "hvlab: exit status 0")
               if line not in out]
    if p.returncode != 0 or missing:
        return CaseResult("make_run", False,
                          [f"exit status {p.returncode}, missing {missing}"] + _tail(out))
    return CaseResult("make_run", True, seconds=time.monotonic() - start)


def _bochs_running(run_name: str) -> bool:
    """Is a Bochs of run directory build/runs/RUN_NAME (or RUN_NAME-N) still alive?"""
    marker = f"/build/runs/{run_name}"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "bochs" in cmd and marker in cmd:
            return True
    return False


def test_run_interrupted() -> CaseResult:
    """SIGINT (Ctrl-C) while Bochs runs: the harness stops it and exits 130."""
    start = time.monotonic()
    harness = Path(__file__).with_name("hvtest.py")
    p = subprocess.Popen([sys.executable, str(harness), "run", "--scenario", "demo", "--cpus", "2",
                          "--timeout", "240"], cwd=ROOT, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    try:
        for line in p.stdout:  # wait until the hypervisor really runs
            seen.append(line.rstrip("\n"))
            if "VMX root" in line or time.monotonic() - start > INTERRUPT_TIMEOUT:
                break
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=60)
        seen += rest.splitlines()
    except subprocess.TimeoutExpired:
        p.kill()
        return CaseResult("run_interrupted", False, ["the harness did not stop after SIGINT"] + seen[-10:])
    time.sleep(1)
    left = _bochs_running("run-demo")
    if p.returncode != 130 or left:
        return CaseResult("run_interrupted", False,
                          [f"exit status {p.returncode} (want 130), Bochs still running: {left}"] + seen[-10:])
    return CaseResult("run_interrupted", True, seconds=time.monotonic() - start)


COMMAND_TESTS = {"make_run": test_make_run, "run_interrupted": test_run_interrupted}


def run_command_tests(only: str | None) -> list[CaseResult]:
    """Run the command tests whose name matches @only (all when None), reporting each."""
    results = []
    for name, test in COMMAND_TESTS.items():
        if only and not re.search(only, name):
            continue
        r = test()
        print(r.report(), flush=True)
        results.append(r)
    return results
