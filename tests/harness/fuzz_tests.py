"""fuzz_tests.py — running the libFuzzer targets (tests/fuzz/) for a bounded time.

Part of the test harness: hvtest.py runs these after the unit tests (`make test`, a short
run) and alone (`make fuzz`, a long one). Target build/fuzz/NAME runs for SECONDS with
  build/fuzz/corpus/NAME/   the working corpus: inputs that found new code, kept between
                            runs (libFuzzer adds only to the first directory it is given)
  tests/fuzz/corpus/NAME/   the seeds and regression inputs, all replayed first
and writes an input that crashed it to build/fuzz/crashes/NAME/, its output to
build/fuzz/NAME.log. All targets run at once: each is one process that stops on time.
One result per target: PASS with the number of inputs tried, or FAIL naming the
reproducer and showing the report. Standard library only.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from machine import BUILD, ROOT, TAIL_LINES, interrupted
from unit_tests import CaseResult

FUZZ_DIR = BUILD / "fuzz"
SEEDS = ROOT / "tests" / "fuzz" / "corpus"
INPUT_TIMEOUT = 10      # seconds one input may take before libFuzzer calls it a hang
MAX_LEN = 8192          # longest input: beyond RSP_PACKET_SIZE, to reach the overflow path
STOP_GRACE = 60.0       # beyond its time, how long a target may take to stop
POLL_SECONDS = 0.2

REPRODUCER = re.compile(r"Test unit written to (\S+)")
RUNS = re.compile(r"stat::number_of_executed_units: (\d+)")
REPORT_START = re.compile(r"Assertion .* failed|==\d+== ?ERROR|runtime error:|ALARM:")
NOISE = re.compile(r" in (fuzzer::|__libc_start|_start |main )")   # libFuzzer's own frames


def command(binary: Path, seconds: int) -> list[str]:
    """The libFuzzer command line for one target (making the directories it writes)."""
    name = binary.name
    work, crashes = FUZZ_DIR / "corpus" / name, FUZZ_DIR / "crashes" / name
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [str(binary.resolve()), f"-max_total_time={seconds}", f"-timeout={INPUT_TIMEOUT}",
           f"-max_len={MAX_LEN}", "-print_final_stats=1", f"-artifact_prefix={crashes}/",
           str(work)]
    if (SEEDS / name).is_dir():
        cmd.append(str(SEEDS / name))
    return cmd


def judge(binary: Path, rc: int | None, log: Path, seconds: float) -> CaseResult:
    """PASS if libFuzzer stopped on time with status 0; else say what it found."""
    name = binary.name
    lines = log.read_text(errors="replace").splitlines()
    if rc == 0:
        runs = RUNS.findall("\n".join(lines))
        note = f"{int(runs[-1]):,} inputs" if runs else ""
        return CaseResult(name, True, seconds=seconds, note=note)
    if rc is None:
        return CaseResult(name, False, [f"did not stop {STOP_GRACE:.0f} s after its time; "
                                        f"log: {rel(log)}"] + lines[-TAIL_LINES:])
    found = REPRODUCER.findall("\n".join(lines))
    if not found:
        return CaseResult(name, False, [f"exit status {rc}, no reproducer written; "
                                        f"log: {rel(log)}"] + lines[-TAIL_LINES:])
    repro = rel(Path(found[-1]))
    start = next((i for i, l in enumerate(lines) if REPORT_START.search(l)), 0)
    report = [l for l in lines[start:] if not NOISE.search(l)]
    return CaseResult(name, False, [
        f"crashed on {repro}",
        f"reproduce: {rel(binary)} {repro}   (log: {rel(log)})",
        f"once fixed, keep it as a regression: cp {repro} tests/fuzz/corpus/{name}/",
    ] + report[:TAIL_LINES], seconds=seconds)


def rel(path: Path) -> str:
    """@p path relative to the repository when it is inside it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_fuzzers(binaries: list[str], seconds: int) -> list[CaseResult]:
    """Run every target at once for @p seconds; one result each, printed as it ends."""
    results, running = [], {}
    FUZZ_DIR.mkdir(parents=True, exist_ok=True)
    for path in binaries:
        binary = Path(path)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            results.append(CaseResult(binary.name, False, [f"{path}: no such executable"]))
            print(results[-1].report(), flush=True)
            continue
        log = FUZZ_DIR / f"{binary.name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(command(binary, seconds), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                    env=dict(os.environ, UBSAN_OPTIONS="print_stacktrace=1"),
                                    start_new_session=True)
        running[binary] = (proc, log, time.monotonic())
    deadline = time.monotonic() + seconds + STOP_GRACE
    while running:
        for binary, (proc, log, started) in list(running.items()):
            late = interrupted() or time.monotonic() > deadline
            if proc.poll() is None and not late:
                continue
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                rc = None
            else:
                rc = proc.returncode
            del running[binary]
            if interrupted():
                continue
            results.append(judge(binary, rc, log, time.monotonic() - started))
            print(results[-1].report(), flush=True)
        time.sleep(POLL_SECONDS if running else 0)
    return results
