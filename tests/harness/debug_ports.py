"""debug_ports.py — the debugger ports of a Bochs run: COM2 (gdbstub) and COM3 (monitor).

Part of the test harness (machine.py uses it when a Machine has debug=True). A COM port in
Bochs' mode=socket-server stops the whole machine until a client connects (PLATFORM.md), so
the harness never lets Bochs wait for a debugger: right after Bochs it starts hvlink
(debugger/hvlink/hvlink.c), which connects to both ports at once and relays them to two
ports of its own, where GDB and hvmon come and go as they like.

  * choose_bochs_ports(): two ports for Bochs to listen on, picked so that no other run
    or program has them (see there);
  * class Link: the hvlink process of one run: started, watched, always stopped;
  * write_ports_file() / live_runs(): build/runs/NAME/debug_ports, which `make gdb`
    reads to find the running `make run`.
Standard library only.
"""

from __future__ import annotations

import fcntl
import random
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "build" / "runs"
HVLINK = ROOT / "build" / "hvlink"
PORT_LOCKS = RUNS / "ports"

HOST = "127.0.0.1"
LISTEN_WAIT = 5.0       # seconds for hvlink to open its own ports
BOCHS_WAIT = 30.0       # hvlink's --timeout: Bochs opens its ports within a second or two
STOP_GRACE = 2.0        # after SIGTERM, before SIGKILL
# Where Bochs' ports are taken from: below Linux's ephemeral range (32768-60999, where
# outgoing connections get their local ports, so none lands on ours by chance), and
# small, so build/runs/ports/ never holds more than a thousand lock files.
BOCHS_PORTS = range(20000, 21000)

PORTS_FILE = "debug_ports"
LISTENING = re.compile(r"Bochs port (\d+)\): listening on \S+:(\d+)")


class LinkError(Exception):
    """hvlink could not start, or gave up; the message says why, in hvlink's words."""


# --------------------------------------------------------------------------------------
# Choosing Bochs' ports
# --------------------------------------------------------------------------------------

def _bindable(port: int) -> bool:
    """Could Bochs bind HOST:port now? Probed as Bochs binds: without SO_REUSEADDR, so a
    port still in TIME_WAIT from an earlier run counts as taken, as it would for Bochs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def choose_bochs_ports(count: int) -> tuple[list[int], list]:
    """count free ports for Bochs, and the open lock files that reserve them.

    Safe against the other harnesses (make test runs two machines at a time, a user may
    run `make run` meanwhile): each port is reserved by an flock on
    build/runs/ports/PORT.lock, held until the run ends (close the files to release). And
    against everything else: a port is taken only if a bind to it succeeds right now.
    Bochs binds it a fraction of a second later; a stranger taking it in between makes
    Bochs stop with `bind() or listen() failed`, reported by the run."""
    PORT_LOCKS.mkdir(parents=True, exist_ok=True)
    candidates = list(BOCHS_PORTS)
    random.shuffle(candidates)
    ports, locks = [], []
    for port in candidates:
        lock = open(PORT_LOCKS / f"{port}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        if not _bindable(port):
            lock.close()
            continue
        ports.append(port)
        locks.append(lock)
        if len(ports) == count:
            return ports, locks
    for lock in locks:
        lock.close()
    raise LinkError(f"no {count} free ports in {BOCHS_PORTS.start}-{BOCHS_PORTS.stop - 1} "
                    "for Bochs' debug ports")


def bochs_com_value(port: int) -> str:
    """The value of a `comN:` line of bochsrc for a socket-server port (Bochs 2.7 syntax,
    man bochsrc: "In server mode it opens socket ... and waits until a client application
    connects to it before starting simulation")."""
    return f"enabled=1, mode=socket-server, dev=localhost:{port}"


# --------------------------------------------------------------------------------------
# The hvlink process of one run
# --------------------------------------------------------------------------------------

class Link:
    """hvlink relaying Bochs' ports (COM2, COM3) of one run; its messages go to
    RUN_DIR/hvlink.log. start() once Bochs is started; stop() always, at the end."""

    def __init__(self, run_dir: Path, bochs_ports: list[int], preexec_fn=None):
        self.run_dir = run_dir
        self.bochs_ports = bochs_ports
        self.listen_ports: dict[int, int] = {}     # Bochs port -> hvlink's listen port
        self.log = run_dir / "hvlink.log"
        self._preexec_fn = preexec_fn
        self._proc: subprocess.Popen | None = None

    def start(self):
        """Start hvlink and wait (LISTEN_WAIT at most) until it listens on its own ports,
        which the kernel chooses (port 0), so they are free by construction."""
        if not HVLINK.is_file():
            raise LinkError(f"{HVLINK} not found (`make all` builds it)")
        argv = [str(HVLINK), "--host", HOST, "--timeout", str(BOCHS_WAIT)]
        for port in self.bochs_ports:
            argv += ["--link", f"{port}:0"]
        with open(self.log, "wb") as out:
            # A session of its own: Ctrl-C at the terminal reaches the harness, which
            # stops hvlink after Bochs; never the other way round.
            self._proc = subprocess.Popen(argv, cwd=self.run_dir, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True, preexec_fn=self._preexec_fn)
        deadline = time.monotonic() + LISTEN_WAIT
        while len(self.listen_ports) < len(self.bochs_ports):
            self.listen_ports = {int(b): int(l) for b, l in LISTENING.findall(self._text())}
            if self.exited() or time.monotonic() > deadline:
                raise LinkError(self.failure() or "hvlink did not open its ports within "
                                f"{LISTEN_WAIT:.0f} s (see {self.log})")
            time.sleep(0.02)

    def _text(self) -> str:
        """hvlink.log so far: hvlink's messages are its only way to tell us anything."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def ready(self) -> bool:
        """Has hvlink connected every Bochs port (so Bochs runs)?"""
        return "hvlink: ready" in self._text()

    def exited(self) -> bool:
        """Has hvlink ended (whatever the reason)? Reaps it if so."""
        return self._proc is not None and self._proc.poll() is not None

    def failure(self) -> str | None:
        """If hvlink ended before it was ready: its last words; otherwise None."""
        if not self.exited() or self.ready():
            return None
        lines = self._text().strip().splitlines()
        return (f"hvlink exited with status {self._proc.returncode}: "
                + (lines[-1] if lines else "(no message)"))

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to timeout seconds for ready(); False if it did not come (or hvlink
        ended before)."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.exited() or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self):
        """End hvlink: it exits by itself once Bochs has gone; otherwise SIGTERM, then
        SIGKILL after STOP_GRACE. Always reaped."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                self._proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()


# --------------------------------------------------------------------------------------
# build/runs/NAME/debug_ports: where `make gdb` finds a live run
# --------------------------------------------------------------------------------------

@dataclass
class RunPorts:
    """What build/runs/NAME/debug_ports says."""
    run_dir: Path
    gdb: str              # HOST:PORT for GDB's `target remote`
    monitor: str          # HOST:PORT for hvmon --connect
    scenario: str


def write_ports_file(run_dir: Path, gdb_port: int, monitor_port: int, bochs_ports: list[int],
                     scenario: str):
    """Record where this run's debuggers connect, for `make gdb` (and a curious user)."""
    lines = ["# Debugger ports of this run (tests/harness/debug_ports.py); `make gdb` reads it.",
             f"gdb={HOST}:{gdb_port}", f"monitor={HOST}:{monitor_port}",
             f"bochs_com2={bochs_ports[0]}", f"bochs_com3={bochs_ports[1]}",
             f"scenario={scenario}"]
    (run_dir / PORTS_FILE).write_text("\n".join(lines) + "\n")


def read_ports_file(run_dir: Path) -> RunPorts | None:
    """The ports a run recorded, or None if it recorded none (not a debug run)."""
    try:
        text = (run_dir / PORTS_FILE).read_text()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in text.splitlines()
                  if "=" in line and not line.startswith("#"))
    if "gdb" not in values or "monitor" not in values:
        return None
    return RunPorts(run_dir, values["gdb"], values["monitor"], values.get("scenario", ""))


def _is_live(run_dir: Path) -> bool:
    """A run is live while its harness holds build/runs/NAME.lock (machine.py takes it for
    the whole run; the kernel drops it when the harness dies, however it dies)."""
    try:
        with open(run_dir.parent / f"{run_dir.name}.lock", "r") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def live_runs(pattern: str = "run-*") -> list[RunPorts]:
    """The live runs with debug ports whose directory matches pattern, newest first
    (`make run` runs are run-SCENARIO, or run-SCENARIO-2 ... when several run at once)."""
    found = []
    for ports_file in RUNS.glob(f"{pattern}/{PORTS_FILE}"):
        ports = read_ports_file(ports_file.parent)
        if ports and _is_live(ports_file.parent):
            found.append((ports_file.stat().st_mtime, ports))
    return [ports for _, ports in sorted(found, key=lambda f: f[0], reverse=True)]
