"""unit_tests.py — running the host unit-test binaries (cmocka) and reading their results.

Part of the test harness (tests/harness/hvtest.py). Standard library only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from machine import TAIL_LINES, UNIT_TIMEOUT, interrupted

# Unit tests (cmocka binaries)
# --------------------------------------------------------------------------------------

@dataclass
class CaseResult:
    """One test case: a cmocka case, or an integration scenario."""
    name: str
    passed: bool
    detail: list[str] = field(default_factory=list)   # why it failed, and context
    seconds: float | None = None
    note: str = ""                                    # more about a pass, e.g. a count

    def report(self) -> str:
        if self.passed:
            about = ([f"{self.seconds:.1f} s"] if self.seconds is not None else []) \
                + ([self.note] if self.note else [])
            took = f" ({', '.join(about)})" if about else ""
            return f"PASS {self.name}{took}"
        reason, *context = self.detail or ["failed"]
        return "\n".join([f"FAIL {self.name}: {reason}"] + ["    " + c for c in context])


CMOCKA_RUN = re.compile(r"^\[ RUN      \] (.+)$")
CMOCKA_OK = re.compile(r"^\[       OK \] (.+)$")
CMOCKA_FAILED = re.compile(r"^\[  (?:FAILED|ERROR )  \] (.+)$")
CMOCKA_SKIPPED = re.compile(r"^\[  SKIPPED \] (.+)$")
CMOCKA_PASSED_SUMMARY = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.")
CMOCKA_FAILED_SUMMARY = re.compile(r"^\[  FAILED  \] (\d+) test\(s\), listed below:")
CRASHED = "crashed (the binary stopped during this case)"


def run_unit_binary(path: str) -> list[CaseResult]:
    """Run one cmocka binary; one CaseResult per test case it ran."""
    prefix = Path(path).name
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return [CaseResult(prefix, False, [f"{path}: no such executable"])]
    try:
        proc = subprocess.run([os.path.abspath(path)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=UNIT_TIMEOUT)
        output, rc = proc.stdout.decode("utf-8", errors="replace"), proc.returncode
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("utf-8", errors="replace")
        rc = None
    lines = output.splitlines()
    cases = parse_cmocka(prefix, lines)
    # Cross-check with cmocka's summary lines (incomplete if the binary crashed).
    counted = (sum(c.passed for c in cases), sum(not c.passed for c in cases))
    summarized = cmocka_totals(lines)
    crashed = any(c.detail[:1] == [CRASHED] for c in cases)
    if rc is not None and not crashed and summarized != counted:
        cases.append(CaseResult(prefix, False, [
            f"cmocka's summary says {summarized[0]} passed, {summarized[1]} failed, but "
            f"the per-case lines say {counted[0]} passed, {counted[1]} failed"]))
    if rc is None:
        cases.append(CaseResult(prefix, False, [f"timed out after {UNIT_TIMEOUT:.0f} s"]
                                + output.splitlines()[-TAIL_LINES:]))
    elif rc != 0 and all(c.passed for c in cases):
        # Crashed outside any case, or a sanitizer complained at exit (e.g. a leak).
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        cases.append(CaseResult(prefix, False, [f"{how} with no failed case reported"]
                                + crash_report(lines)))
    elif not cases:
        cases.append(CaseResult(prefix, False, ["ran no cmocka test cases"]
                                + output.splitlines()[-TAIL_LINES:]))
    return cases


def parse_cmocka(prefix: str, lines: list[str]) -> list[CaseResult]:
    """Turn cmocka's output into one result per case.

    Per case cmocka prints `[ RUN      ] name`, its messages, then `[       OK ] name` or
    `[  FAILED  ] name`. A case that started but never finished crashed the binary.
    At the end of each group come `[  PASSED  ] N test(s).` and, if any failed,
    `[  FAILED  ] N test(s), listed below:` followed by the names again (skipped here).
    """
    cases: list[CaseResult] = []
    current: str | None = None
    messages: list[str] = []
    in_failed_list = False
    for line in lines:
        if CMOCKA_FAILED_SUMMARY.match(line) or CMOCKA_PASSED_SUMMARY.match(line):
            in_failed_list = bool(CMOCKA_FAILED_SUMMARY.match(line))
            continue
        if m := CMOCKA_RUN.match(line):
            in_failed_list = False
            current, messages = m.group(1), []
        elif (m := CMOCKA_OK.match(line)) and current is not None:
            cases.append(CaseResult(f"{prefix}.{m.group(1)}", True))
            current = None
        elif (m := CMOCKA_SKIPPED.match(line)) and current is not None:
            current = None                    # skipped: neither passed nor failed
        elif (m := CMOCKA_FAILED.match(line)) and current is not None and not in_failed_list:
            if m.group(1) == current:
                reason = " ".join(messages[:1]) or "failed"
                cases.append(CaseResult(f"{prefix}.{current}", False,
                                        [reason] + messages[1:TAIL_LINES]))
                current = None
            else:
                messages.append(line)         # an [  ERROR   ] message inside the case
        elif current is not None:
            messages.append(line)
    if current is not None:
        cases.append(CaseResult(f"{prefix}.{current}", False,
                                [CRASHED]
                                + crash_report(messages)))
    return cases


def crash_report(lines: list[str]) -> list[str]:
    """The useful part of a crash's output: from a sanitizer's first report line on."""
    for i, line in enumerate(lines):
        if re.search(r"==\d+==ERROR|runtime error:|Sanitizer", line):
            return lines[i:i + TAIL_LINES]
    return lines[-TAIL_LINES:]


def cmocka_totals(lines: list[str]) -> tuple[int, int]:
    """(passed, failed) as cmocka's own summary lines count them, over all groups."""
    passed = failed = 0
    for line in lines:
        if m := CMOCKA_PASSED_SUMMARY.match(line):
            passed += int(m.group(1))
        elif m := CMOCKA_FAILED_SUMMARY.match(line):
            failed += int(m.group(1))
    return passed, failed


def run_units(binaries: list[str]) -> list[CaseResult]:
    results = []
    for path in binaries:
        if interrupted():
            break
        for case in run_unit_binary(path):
            print(case.report(), flush=True)
            results.append(case)
    return results


# --------------------------------------------------------------------------------------
