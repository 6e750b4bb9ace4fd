"""machine.py — booting one scenario ISO in an emulator, bounded in time.

Part of the test harness (tests/harness/hvtest.py explains the whole flow): class
Machine runs Bochs (or QEMU) for one scenario, tails its COM1 console, reads the
hypervisor's `hvlab: exit status N` line, and always stops the emulator (SIGINT, then
SIGKILL); drive() runs several machines, a few at a time. With debug=True, Bochs' COM2
and COM3 are sockets relayed by hvlink (debug_ports.py), which it also always stops.
Standard library only.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import debug_ports

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
    link_error: str | None = None    # debug runs: hvlink failed, so Bochs could not start

    @property
    def console_log(self) -> Path:
        return self.run_dir / "console.log"

    def problem(self) -> str | None:
        """What went wrong with the run itself (not its expected output), or None."""
        if self.interrupted:
            return "interrupted"
        if self.link_error:
            return self.link_error
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
                 cpus: int = 1, megs: int = 512, timeout: float = 120, on_line=None,
                 debug: bool = False):
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
        # Debug ports (Bochs only): COM2 and COM3 relayed by hvlink; GDB and hvmon connect
        # to gdb_port and monitor_port (hvlink's, on 127.0.0.1), known once start() returns.
        self.debug = debug and emu == "bochs"
        self.gdb_port: int | None = None
        self.monitor_port: int | None = None
        self._bochs_ports: list[int] = []
        self._port_locks: list = []
        self._link: debug_ports.Link | None = None

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
        if self.debug:
            self._start_link()

    def _start_link(self):
        """Right after Bochs (which now waits in accept() on COM2): start hvlink, learn its
        ports, write build/runs/NAME/debug_ports. If hvlink cannot start, the run ends."""
        self._link = debug_ports.Link(self.run_dir, self._bochs_ports, preexec_fn=_child_setup)
        try:
            self._link.start()
        except debug_ports.LinkError as e:
            self.result.link_error = str(e)
            self._finish()
            raise UsageError(f"debug ports: {e}")
        self.gdb_port = self._link.listen_ports[self._bochs_ports[0]]
        self.monitor_port = self._link.listen_ports[self._bochs_ports[1]]
        debug_ports.write_ports_file(self.run_dir, self.gdb_port, self.monitor_port,
                                     self._bochs_ports, self.iso.stem)

    def wait_debug_ready(self, timeout: float) -> bool:
        """Wait (timeout seconds at most) until hvlink has connected both Bochs ports, so
        that Bochs runs and a client on gdb_port/monitor_port reaches the hypervisor.
        False if that did not happen in time (or this run has no debug ports)."""
        return self._link is not None and self._link.wait_ready(timeout)

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
        if self.debug:
            try:
                self._bochs_ports, self._port_locks = debug_ports.choose_bochs_ports(2)
            except debug_ports.LinkError as e:
                raise UsageError(f"debug ports: {e}")
            values["COM2"] = debug_ports.bochs_com_value(self._bochs_ports[0])
            values["COM3"] = debug_ports.bochs_com_value(self._bochs_ports[1])
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
        elif self._link and self._link.failure():
            self.result.link_error = self._link.failure()
            self._finish()                   # Bochs would wait for COM2 forever
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
        if self._link:
            self._link.stop()                # after Bochs: hvlink then ends by itself
        for lock in self._port_locks:
            lock.close()                     # Bochs' ports may go to another run now
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
