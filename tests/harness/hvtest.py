#!/usr/bin/env python3
"""hvtest.py — boot hvlab in an emulator, and run its tests.

    hvtest.py run   --scenario NAME [--emu bochs|qemu] [--model M] [--cpus N] [--timeout S]
    hvtest.py test  [--unit BIN...] [--only REGEX]
    hvtest.py unit  BIN...
    hvtest.py bench [--only REGEX]

How one run works (class Machine):
  1. A fresh directory build/runs/NAME/ (NAME-2 ... if another harness holds NAME) gets a
     bochsrc made from images/bochs/bochsrc.in and a debugger command file with `c`
     (continue) and `quit`.
  2. Bochs starts in a session of its own (setsid: no controlling terminal, so the `term`
     display draws nothing, and a Ctrl-C at the terminal reaches only this harness), with
     SIGPIPE ignored (a COM port socket whose client left would otherwise kill it), stdin
     from /dev/null and its own output in bochs.out; its log is bochs.log.
  3. Bochs writes COM1 to build/runs/NAME/console.log; we tail that file and hand every
     complete line to a callback (`run` prints it; `test` keeps it for checking).
  4. The hypervisor ends every run by printing `hvlab: exit status N` and powering off:
     after status 0 it writes "D" to port 0x8900 (Bochs breaks into its debugger, which
     runs the `quit` from the command file: Bochs exits 0); otherwise it writes "Shutdown"
     (Bochs exits 1). N is the run's status. No such line means the hypervisor hung (the
     run hits its timeout) or crashed (e.g. a triple fault became a Bochs panic, exit 1).
     Bochs' exit code alone proves nothing: a SIGINT also ends it with 0.
  5. Whatever happens, Bochs is stopped at the end: SIGINT to its process group, then
     SIGKILL after a grace period (Bochs ignores SIGTERM). If this harness itself is
     killed, the kernel kills Bochs (PR_SET_PDEATHSIG).

`run --emu qemu` boots the ISO under QEMU/KVM instead (needs nested VT-x on the host; it
says in words what is missing). The console is QEMU's stdout (-serial stdio), written to
the same console.log.

`test` runs the host unit-test binaries (cmocka) and then every integration scenario in
tests/harness/scenarios.py, two at a time, and prints one line per test case, then as its
very last line `N passed, N failed`.

Exit status of `run`: the hypervisor's exit status N; 124 if the run timed out, 125 if it
ended with no exit line, 128 + signal number if interrupted (130 for Ctrl-C), 2 for bad
arguments or a missing setup. `test`, `unit`, `bench`: 0 if everything passed, 1 if not.

Standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------------------
# Paths and constants
# --------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
RUNS = BUILD / "runs"
ISO_DIR = BUILD / "iso"
BOCHSRC_TEMPLATE = ROOT / "images" / "bochs" / "bochsrc.in"
DEFAULT_TABLE = ROOT / "tests" / "harness" / "scenarios.py"
BENCH_RESULTS = BUILD / "bench" / "results.txt"

BOCHS = "bochs-bin"
QEMU = "qemu-system-x86_64"
BOCHS_ROMS = [Path("/usr/share/bochs/BIOS-bochs-latest"),
              Path("/usr/share/bochs/VGABIOS-lgpl-latest")]

# CPU models of Bochs 2.7 (`bochs-bin --help cpu`).
BOCHS_MODELS = """bx_generic pentium pentium_mmx amd_k6_2_chomper p2_klamath p3_katmai
    p4_willamette core_duo_t2400_yonah atom_n270 p4_prescott_celeron_336
    athlon64_clawhammer athlon64_venice turion64_tyler phenom_8650_toliman
    core2_penryn_t9600 corei5_lynnfield_750 corei5_arrandale_m520
    corei7_sandy_bridge_2600k zambezi trinity_apu ryzen corei7_ivy_bridge_3770k
    corei7_haswell_4770 broadwell_ult corei7_skylake_x corei3_cnl corei7_icelake_u
    tigerlake""".split()

EXIT_LINE = re.compile(r"hvlab: exit status (-?\d+)")
BENCH_LINE = re.compile(r"\bbench\s+([\w.:/-]+)=(\S+)")

POLL_SECONDS = 0.1          # how often a running machine is looked at
POWER_OFF_GRACE = 15.0      # after the exit line, how long the emulator may take to stop
KILL_GRACE = 5.0            # after SIGINT, how long before SIGKILL
UNIT_TIMEOUT = 300.0        # one unit-test binary
PARALLEL_RUNS = 2           # the machine has 2 cores; Bochs uses one each
TAIL_LINES = 15             # console lines shown with a failure

# Exit statuses of `run` when the hypervisor gave none (interrupted: 128 + signal).
EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_NO_STATUS = 125

PR_SET_PDEATHSIG = 1                        # prctl(2), from <linux/prctl.h>


class UsageError(Exception):
    """Bad arguments or a missing setup: reported in words, exit status 2."""


# --------------------------------------------------------------------------------------
# Signals: Ctrl-C (and SIGTERM/SIGHUP) set a flag that every wait loop checks, so that we
# always get to stop the emulators we started.
# --------------------------------------------------------------------------------------

_stop_signal: int | None = None


def _note_signal(signum, _frame):
    global _stop_signal
    _stop_signal = signum


def install_signal_handlers():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _note_signal)


def interrupted() -> bool:
    return _stop_signal is not None


def interrupt_status() -> int:
    """Exit status after a stop signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + (_stop_signal or signal.SIGINT)


def _child_setup():
    """Runs in the emulator's process between fork and exec.

    SIGPIPE ignored: a COM port in socket mode whose client went away must not kill
    Bochs. And the kernel sends the emulator SIGKILL if this harness dies without
    cleaning up (say, killed with SIGKILL by a CI timeout), so none is left running.
    """
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass                                 # not Linux: the harness still cleans up


# --------------------------------------------------------------------------------------
# One emulator run
# --------------------------------------------------------------------------------------

@dataclass
class RunResult:
    """How one emulator run ended."""
    name: str
    run_dir: Path
    status: int | None = None        # N from `hvlab: exit status N`, None if never printed
    emulator_rc: int | None = None   # the emulator's own exit code (None: we killed it)
    timed_out: bool = False
    interrupted: bool = False
    powered_off: bool = False        # the emulator stopped by itself after the exit line
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    emu: str = "bochs"

    @property
    def console_log(self) -> Path:
        return self.run_dir / "console.log"

    def problem(self) -> str | None:
        """What went wrong with the run itself (not its expected output), or None."""
        if self.interrupted:
            return "interrupted"
        if self.status is None:
            if self.timed_out:
                what = f"timed out after {self.seconds:.0f} s with no exit line"
            else:
                what = f"no exit line; the emulator exited with code {self.emulator_rc}"
            return what
        if self.emu == "bochs":
            if not self.powered_off:
                return (f"printed exit status {self.status} but Bochs did not power off "
                        f"within {POWER_OFF_GRACE:.0f} s")
            expected_rc = 0 if self.status == 0 else 1
            if self.emulator_rc != expected_rc:
                return (f"printed exit status {self.status} but Bochs exited with code "
                        f"{self.emulator_rc} (expected {expected_rc})")
        return None

    def tail(self, n: int = TAIL_LINES) -> list[str]:
        return self.lines[-n:]

    def emulator_log_tail(self, n: int = 6) -> list[str]:
        """The emulator's own complaints: Bochs panics and errors, or QEMU's stderr."""
        if self.emu == "qemu":
            return _last_lines(self.run_dir / "qemu.log", n)
        log = _last_lines(self.run_dir / "bochs.log", 100_000)
        # Log lines look like "00246043595p[UNMAP ] >>PANIC<< ...": keep panics and
        # errors, but not EPT-violation exits, which Bochs logs at error level.
        bad = [l for l in log if re.match(r"^\d+[pe]\[", l) and "EPT violation" not in l]
        return bad[-n:] or _last_lines(self.run_dir / "bochs.out", n)


def _last_lines(path: Path, n: int) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-n:]


class Machine:
    """One emulator process booting one ISO; its COM1 output is tailed from a file.

    Use: m = Machine(...); m.start(); then call m.poll() until it returns True (or call
    m.stop()); m.result says how it went. poll() never blocks for long, so several
    machines can be driven from one loop.
    """

    def __init__(self, name: str, iso: Path, *, emu: str = "bochs", model: str = "tigerlake",
                 cpus: int = 1, megs: int = 512, timeout: float = 120, on_line=None):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise UsageError(f"run name {name!r}: use letters, digits, '_', '-', '.'")
        self.name = name
        self.iso = iso.resolve()
        self.emu = emu
        self.model = model
        self.cpus = cpus
        self.megs = megs
        self.timeout = timeout          # seconds; 0 = no limit
        self.on_line = on_line or (lambda line: None)
        self.run_dir = RUNS / name           # may become RUNS/NAME-2 ... (see _claim_run_dir)
        self._lock = None
        self.result = RunResult(name=name, run_dir=self.run_dir, emu=emu)
        self._proc: subprocess.Popen | None = None
        self._console = None            # open file object of console.log, once it exists
        self._partial = b""             # bytes after the last newline seen
        self._started = 0.0
        self._exit_seen_at: float | None = None
        self.start_error: str | None = None  # why start() failed, when driven by drive()
        self.done = False

    # ---- starting ----------------------------------------------------------------

    def start(self):
        """Prepare build/runs/NAME/ and start the emulator."""
        if not self.iso.is_file():
            raise UsageError(f"ISO not found: {self.iso} (build it with `make all`)")
        self._claim_run_dir()
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True)
        console = self.run_dir / "console.log"
        if self.emu == "bochs":
            argv, stdout_name = self._bochs_argv(console), "bochs.out"
            stdout = open(self.run_dir / stdout_name, "wb")
            stderr = subprocess.STDOUT
        else:
            argv = self._qemu_argv()
            stdout = open(console, "wb")     # -serial stdio: COM1 goes to stdout
            stderr = open(self.run_dir / "qemu.log", "wb")
        (self.run_dir / "command").write_text(" ".join(argv) + "\n")
        self._started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                argv, cwd=self.run_dir, stdin=subprocess.DEVNULL, stdout=stdout,
                stderr=stderr,
                start_new_session=True,      # setsid(): own session and process group
                preexec_fn=_child_setup)
        finally:
            stdout.close()
            if stderr is not subprocess.STDOUT:
                stderr.close()

    def _claim_run_dir(self):
        """Lock build/runs/NAME.lock so that two harnesses running at once (say, two
        `make run`) never share a directory; if NAME is taken, use NAME-2, NAME-3 ..."""
        RUNS.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10):
            name = self.name if n == 1 else f"{self.name}-{n}"
            lock = open(RUNS / f"{name}.lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            self._lock = lock                # held until _finish()
            self.run_dir = RUNS / name
            self.result.run_dir = self.run_dir
            return
        raise UsageError(f"{RUNS}/{self.name}*: all in use by other runs")

    def _bochs_argv(self, console: Path) -> list[str]:
        values = {
            "MODEL": self.model,
            "CPUS": str(self.cpus),
            "MEGS": str(self.megs),
            "ISO": str(self.iso),
            "COM1": str(console),
            "COM2": "enabled=0",
            "COM3": "enabled=0",
            "LOG": str(self.run_dir / "bochs.log"),
        }
        rc = self.run_dir / "bochsrc"
        rc.write_text(fill_template(BOCHSRC_TEMPLATE.read_text(), values))
        cmds = self.run_dir / "bochs.cmds"
        cmds.write_text("c\nquit\n")
        return [BOCHS, "-q", "-f", str(rc), "-rc", str(cmds)]

    def _qemu_argv(self) -> list[str]:
        return [QEMU, "-enable-kvm", "-cpu", "host", "-smp", str(self.cpus),
                "-m", str(self.megs), "-cdrom", str(self.iso), "-serial", "stdio",
                "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-no-reboot"]

    # ---- watching ----------------------------------------------------------------

    def poll(self) -> bool:
        """Read new console output and check for the end. True once the run is over."""
        if self.done:
            return True
        self._read_console()
        now = time.monotonic()
        # QEMU keeps running after the exit line unless the hypervisor also wrote to its
        # isa-debug-exit port (0xf4), so do not wait long for it.
        grace = POWER_OFF_GRACE if self.emu == "bochs" else 2.0
        if _exited_unreaped(self._proc.pid, 0):
            self._finish()                   # the emulator ended by itself
        elif self._exit_seen_at is not None:
            if now - self._exit_seen_at > grace:
                self._finish()               # printed its status but never powered off
        elif self.timeout and now - self._started > self.timeout:
            self.result.timed_out = True
            self._finish()
        return self.done

    def stop(self):
        """End the run now (e.g. on Ctrl-C)."""
        if not self.done:
            self.result.interrupted = True
            self._finish()

    def _read_console(self):
        """Hand every new complete console line to on_line; notice the exit line."""
        if self._console is None:
            try:
                self._console = open(self.run_dir / "console.log", "rb")
            except FileNotFoundError:
                return                       # the emulator has not created it yet
        data = self._console.read()
        if not data:
            return
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete:
            self._take_line(raw.decode("utf-8", errors="replace").rstrip("\r"))

    def _take_line(self, line: str):
        self.result.lines.append(line)
        self.on_line(line)
        m = EXIT_LINE.search(line)
        if m and self._exit_seen_at is None:
            self.result.status = int(m.group(1))
            self._exit_seen_at = time.monotonic()

    def _finish(self):
        """Stop the emulator if it still runs, read the last output, close files."""
        if _exited_unreaped(self._proc.pid, 0):
            self._cleanup_group()
            rc = self.result.emulator_rc = self._proc.returncode
        else:
            rc = None
            self._kill()
        self._read_console()
        if self._partial:                    # a last line without a newline
            self._take_line(self._partial.decode("utf-8", errors="replace").rstrip("\r"))
            self._partial = b""
        if self._console:
            self._console.close()
        if self._lock:
            self._lock.close()               # releases the run directory
        self.result.seconds = time.monotonic() - self._started
        # Powered off = it printed its status and the emulator then ended by itself.
        self.result.powered_off = rc is not None and self.result.status is not None
        self.done = True

    def _kill(self):
        """SIGINT to the emulator's process group, SIGKILL after KILL_GRACE; reap."""
        pid = self._proc.pid
        _signal_group(pid, signal.SIGINT)
        if not _exited_unreaped(pid, KILL_GRACE):
            _signal_group(pid, signal.SIGKILL)
        self._cleanup_group()

    def _cleanup_group(self):
        """SIGKILL whatever is left in the process group, then reap the emulator.

        Bochs starts no helper processes, but be sure. The emulator is reaped only
        after this: while it is an unreaped zombie its pid (= the group id) cannot be
        handed to an unrelated process, so killpg() cannot hit a stranger.
        """
        _signal_group(self._proc.pid, signal.SIGKILL)
        self._proc.wait()


def _exited_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to timeout seconds for process pid to exit, without reaping it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True                      # already reaped
        if info is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _signal_group(pgid: int, sig: int):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass                                 # the group is already gone


def fill_template(text: str, values: dict[str, str]) -> str:
    """Replace every @NAME@ in text; complain about unknown or unfilled names."""
    def repl(m):
        key = m.group(1)
        if key not in values:
            raise UsageError(f"{BOCHSRC_TEMPLATE}: unknown placeholder @{key}@")
        return values[key]
    return re.sub(r"@([A-Z0-9_]+)@", repl, text)


def drive(machines: list[Machine], parallel: int, on_done=None) -> bool:
    """Run machines, at most `parallel` at a time, calling on_done(machine) as each
    ends. Returns False if interrupted by a signal (the running ones are stopped)."""
    waiting = list(machines)
    running: list[Machine] = []
    try:
        while waiting or running:
            if interrupted():
                return False
            while waiting and len(running) < parallel:
                m = waiting.pop(0)
                try:
                    m.start()
                except UsageError as e:          # e.g. a missing ISO: that test fails
                    m.start_error = str(e)
                    m.done = True
                    if on_done:
                        on_done(m)
                    continue
                running.append(m)
            for m in list(running):
                if m.poll():
                    running.remove(m)
                    if on_done:
                        on_done(m)
            time.sleep(POLL_SECONDS)
        return True
    finally:
        for m in running:
            m.stop()


# --------------------------------------------------------------------------------------
# Checking the host's setup
# --------------------------------------------------------------------------------------

def check_bochs_setup():
    problems = []
    if shutil.which(BOCHS) is None:
        problems.append(f"{BOCHS} is not installed (Debian packages: bochs bochs-term)")
    for rom in BOCHS_ROMS:
        if not rom.is_file():
            problems.append(f"{rom} is missing (Debian packages: bochsbios vgabios)")
    if not BOCHSRC_TEMPLATE.is_file():
        problems.append(f"{BOCHSRC_TEMPLATE} is missing")
    if problems:
        raise UsageError("cannot run Bochs:\n  " + "\n  ".join(problems))


def qemu_problems() -> list[str]:
    """What this host lacks for running hvlab under QEMU/KVM with nested VT-x, in words."""
    problems = []
    if shutil.which(QEMU) is None:
        problems.append(f"{QEMU} is not installed (Debian package qemu-system-x86)")
    kvm = Path("/dev/kvm")
    if not kvm.exists():
        problems.append("/dev/kvm does not exist: KVM is not available here (the kvm_intel "
                        "module is not loaded, or VT-x is off in the firmware)")
    elif not os.access(kvm, os.R_OK | os.W_OK):
        problems.append("/dev/kvm is not readable and writable by you: add yourself to "
                        "the group that owns it (usually `kvm`) and log in again")
    flags = _cpu_flags()
    if "vmx" not in flags:
        if "svm" in flags:
            problems.append("this is an AMD CPU (SVM): hvlab needs Intel VT-x (VMX)")
        else:
            problems.append("the CPU shows no `vmx` flag: VT-x is missing, disabled in the "
                            "firmware, or not passed through by an outer hypervisor")
    if "vmx" in flags:
        nested = Path("/sys/module/kvm_intel/parameters/nested")
        if not Path("/sys/module/kvm_intel").exists():
            problems.append("the kvm_intel module is not loaded (sudo modprobe kvm_intel "
                            "nested=1)")
        elif not nested.exists() or nested.read_text().strip() not in ("Y", "1"):
            problems.append("nested virtualization is off in kvm_intel; turn it on with: "
                            "sudo modprobe -r kvm_intel && sudo modprobe kvm_intel nested=1")
    return problems


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# --------------------------------------------------------------------------------------
# Unit tests (cmocka binaries)
# --------------------------------------------------------------------------------------

@dataclass
class CaseResult:
    """One test case: a cmocka case, or an integration scenario."""
    name: str
    passed: bool
    detail: list[str] = field(default_factory=list)   # why it failed, and context
    seconds: float | None = None

    def report(self) -> str:
        if self.passed:
            took = f" ({self.seconds:.1f} s)" if self.seconds is not None else ""
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
# Integration scenarios
# --------------------------------------------------------------------------------------

def load_table(path: Path):
    """Import the scenario table module (tests/harness/scenarios.py by default)."""
    if not path.is_file():
        raise UsageError(f"scenario table not found: {path}")
    # The table's own directory and ours go on the import path, so that a table file
    # elsewhere can say `from scenarios import Scenario, NONZERO`.
    for directory in (DEFAULT_TABLE.parent, path.parent):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module          # dataclasses look their module up here
    spec.loader.exec_module(module)
    for name in ("TABLE", "NONZERO"):
        if not hasattr(module, name):
            raise UsageError(f"{path} defines no {name}")
    return module


def select(table, only: str | None, bench: bool):
    rows = [s for s in table.TABLE if bool(s.bench) == bench]
    if only:
        try:
            pattern = re.compile(only)
        except re.error as e:
            raise UsageError(f"--only {only!r}: not a valid regex ({e})")
        rows = [s for s in rows if pattern.search(s.name)]
    names = [s.name for s in rows]
    if len(set(names)) != len(names):
        raise UsageError("two scenarios in the table share a name: " + ", ".join(names))
    return rows


def machine_for(scenario, iso_dir: Path) -> Machine:
    if scenario.model not in BOCHS_MODELS:
        raise UsageError(f"scenario {scenario.name}: unknown Bochs model {scenario.model!r}")
    return Machine(scenario.name, iso_dir / f"{scenario.iso}.iso", model=scenario.model,
                   cpus=scenario.cpus, megs=scenario.megs, timeout=scenario.timeout)


def judge(scenario, nonzero, m: Machine) -> CaseResult:
    """Compare one finished run with what its table row expects."""
    r = m.result
    if m.start_error:
        return CaseResult(scenario.name, False, [m.start_error])
    reasons = []
    problem = r.problem()
    if problem:
        reasons.append(problem)
    else:
        want = scenario.status
        if want == nonzero and r.status == 0:
            reasons.append("exit status 0, expected a failure status")
        elif want != nonzero and r.status != want:
            reasons.append(f"exit status {r.status}, expected {want}")
    for regex in scenario.expect:
        if not any(re.search(regex, line) for line in r.lines):
            reasons.append(f"no console line matches /{regex}/")
    for regex in scenario.reject:
        hits = [line for line in r.lines if re.search(regex, line)]
        if hits:
            reasons.append(f"console line matches forbidden /{regex}/: {hits[0]!r}")
    if not reasons:
        return CaseResult(scenario.name, True, seconds=r.seconds)
    detail = ["; ".join(reasons)]
    detail.append(f"console ({r.console_log}), last lines:")
    detail += ["| " + l for l in r.tail()] or ["| (no console output)"]
    if problem:
        log = r.emulator_log_tail()
        if log:
            detail.append(f"emulator log ({r.run_dir}):")
            detail += ["| " + l for l in log]
    return CaseResult(scenario.name, False, detail, seconds=r.seconds)


def run_scenarios(rows, nonzero, iso_dir: Path, parallel: int) -> list[CaseResult]:
    results: list[CaseResult] = []
    machines = {}
    for s in rows:
        machines[s.name] = (s, machine_for(s, iso_dir))

    def done(m: Machine):
        scenario, _ = machines[m.name]
        case = judge(scenario, nonzero, m)
        print(case.report(), flush=True)
        results.append(case)

    drive([m for _, m in machines.values()], parallel, on_done=done)
    return results


# --------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------

def summary(results: list[CaseResult]) -> int:
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    if interrupted():
        print("interrupted", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    if interrupted():
        return interrupt_status()
    return 1 if failed else 0


def cmd_run(args) -> int:
    """Boot one scenario and stream its console to the terminal."""
    if args.timeout < 0:
        raise UsageError("--timeout must be 0 (no limit) or more")
    iso = Path(args.iso) if args.iso else ISO_DIR / f"{args.scenario}.iso"
    if not iso.is_file():
        known = sorted(p.stem for p in ISO_DIR.glob("*.iso"))
        raise UsageError(f"no ISO {iso}; built scenarios: {', '.join(known) or 'none'} "
                         f"(build with `make all`)")
    if args.emu == "qemu":
        problems = qemu_problems()
        if problems:
            raise UsageError("cannot run hvlab under QEMU/KVM here:\n  " + "\n  ".join(problems))
    else:
        check_bochs_setup()
        if args.model not in BOCHS_MODELS:
            raise UsageError(f"unknown Bochs CPU model {args.model!r}; known: "
                             + " ".join(BOCHS_MODELS))

    def show(line):
        print(line, flush=True)

    m = Machine(f"run-{args.scenario}", iso, emu=args.emu, model=args.model,
                cpus=args.cpus, megs=args.megs, timeout=args.timeout, on_line=show)
    if not drive([m], 1):
        print(f"hvtest: interrupted; stopped {args.emu}", file=sys.stderr)
        return interrupt_status()
    r = m.result
    problem = r.problem()
    if problem:
        print(f"hvtest: {problem} (console: {r.console_log})", file=sys.stderr)
        for line in r.emulator_log_tail():
            print(f"hvtest:   {line}", file=sys.stderr)
    if r.status is None:
        return EXIT_TIMEOUT if r.timed_out else EXIT_NO_STATUS
    return r.status if 0 <= r.status <= 255 else 1


def cmd_unit(args) -> int:
    return summary(run_units(args.binaries))


def cmd_test(args) -> int:
    table = load_table(Path(args.table))
    rows = select(table, args.only, bench=False)
    check_bochs_setup()
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    results = run_units(args.unit)
    if not interrupted():
        results += run_scenarios(rows, table.NONZERO, Path(args.iso_dir), args.jobs)
    return summary(results)


def cmd_bench(args) -> int:
    table = load_table(Path(args.table))
    rows = select(table, args.only, bench=True)
    check_bochs_setup()
    machines = [machine_for(s, Path(args.iso_dir)) for s in rows]
    # One at a time: wall-clock numbers would suffer from a neighbour (tick counts not).
    results = []
    for s, m in zip(rows, machines):
        drive([m], 1)
        if interrupted():
            break
        case = judge(s, table.NONZERO, m)
        print(case.report(), flush=True)
        results.append((s, m, case))

    rows_out = [(s.name, key, value)
                for s, m, _ in results
                for line in m.result.lines
                for key, value in BENCH_LINE.findall(line)]
    table_text = format_table(("scenario", "key", "value"), rows_out)
    print(table_text)
    BENCH_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    BENCH_RESULTS.write_text(table_text + "\n")
    print(f"written to {BENCH_RESULTS}")
    return summary([case for _, _, case in results])


def format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines = [line.rstrip() for line in lines + [fmt.format(*row) for row in rows]]
    if not rows:
        lines.append("(no `bench KEY=VALUE` lines)")
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="hvtest.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def scenarios_options(sp):
        sp.add_argument("--only", metavar="REGEX", help="only scenarios whose name matches")
        sp.add_argument("--table", default=str(DEFAULT_TABLE), help="scenario table (python)")
        sp.add_argument("--iso-dir", default=str(ISO_DIR), help="where SCENARIO.iso files are")

    r = sub.add_parser("run", help="boot one scenario and stream its console")
    r.add_argument("--scenario", default="demo", help="build/iso/SCENARIO.iso (default demo)")
    r.add_argument("--iso", help="boot this ISO instead of build/iso/SCENARIO.iso")
    r.add_argument("--emu", choices=("bochs", "qemu"), default="bochs")
    r.add_argument("--model", default="tigerlake", help="Bochs CPU model")
    r.add_argument("--cpus", type=cpu_count, default=1)
    r.add_argument("--megs", type=int, default=512, help="guest RAM in MiB")
    r.add_argument("--timeout", type=float, default=0, help="seconds; 0 = no limit")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("test", help="unit tests, then every integration scenario")
    t.add_argument("--unit", nargs="*", default=[], metavar="BIN", help="cmocka binaries")
    t.add_argument("--jobs", type=int, default=PARALLEL_RUNS, help="scenarios at a time")
    scenarios_options(t)
    t.set_defaults(func=cmd_test)

    u = sub.add_parser("unit", help="run cmocka unit-test binaries")
    u.add_argument("binaries", nargs="*", metavar="BIN")
    u.set_defaults(func=cmd_unit)

    b = sub.add_parser("bench", help="run the benchmark scenarios, collect `bench K=V`")
    scenarios_options(b)
    b.set_defaults(func=cmd_bench)
    return p.parse_args(argv)


def cpu_count(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 8:
        raise argparse.ArgumentTypeError("must be 1 to 8")
    return n


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    install_signal_handlers()
    try:
        return args.func(args)
    except UsageError as e:
        print(f"hvtest: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
