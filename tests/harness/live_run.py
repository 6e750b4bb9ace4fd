"""live_run.py — `make run` with debug ports, and `make gdb` attaching to it.

Part of the test harness. `hvtest.py run --debug` (what `make run` runs) boots the
machine with its debugger ports relayed by hvlink (debug_ports.py), prints where GDB and
hvmon connect, and then either streams the console as a plain run does, or, with
--monitor on a terminal, hands the terminal to hvmon (the monitor, with its console pane)
until hvmon quits — the console stream follows from there — or the run ends — hvmon is
closed and the last console lines are printed. Ctrl-C stops the run in both cases.

`hvtest.py gdb` (what `make gdb` runs) finds the newest live `make run` from its
build/runs/NAME/debug_ports and replaces itself with GDB attached to it.
Standard library only.
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import debug_ports
from machine import (Machine, POLL_SECONDS, PR_SET_PDEATHSIG, ROOT, UsageError, interrupted)

HVMON = ROOT / "build" / "hvmon"
GDB_SCRIPT = ROOT / "debugger" / "gdb" / "hvlab.gdb"
SCENARIOS = ROOT / "images" / "scenarios"
GUESTS = ROOT / "build" / "guests"
SCREEN_GRACE = 3.0      # seconds hvmon may take to restore the terminal after SIGTERM
TAIL_LINES = 15         # console lines printed when hvmon gives the terminal back


def say(text: str):
    """A line to the user, prefixed like the hypervisor's own (the user reads both)."""
    print(f"hvlab: {text}", flush=True)


def print_connect_lines(m: Machine):
    """Where GDB and hvmon connect: printed at the start, and again after hvmon quits."""
    say(f"gdb: target remote 127.0.0.1:{m.gdb_port} — or `make gdb`")
    say(f"monitor: build/hvmon --connect 127.0.0.1:{m.monitor_port}")


def screen_possible() -> bool:
    """hvmon's screen needs a terminal on both ends and a terminal type curses knows."""
    return (sys.stdin.isatty() and sys.stdout.isatty()
            and os.environ.get("TERM", "dumb") not in ("", "dumb"))


def _hvmon_setup():
    """In hvmon, between fork and exec: SIGTERM if the harness dies, so that hvmon still
    restores the terminal (SIGKILL would leave it raw)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Screen:
    """hvmon in the foreground of this terminal (same process group, so Ctrl-C reaches it
    and us alike). The terminal's settings are saved before and put back after, whatever
    way hvmon ends."""

    def __init__(self, port: int):
        self.saved = termios.tcgetattr(sys.stdin.fileno())
        self.proc = subprocess.Popen([str(HVMON), "--connect", f"127.0.0.1:{port}"],
                                     preexec_fn=_hvmon_setup)

    def ended(self) -> int | None:
        """hvmon's exit status once it has quit, else None."""
        return self.proc.poll()

    def close(self) -> int:
        """End hvmon (SIGTERM; SIGKILL after SCREEN_GRACE), restore the terminal."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SCREEN_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self.saved)
        return self.proc.returncode


class LiveRun:
    """One run with debug ports. Pass on_line as the Machine's on_line: console lines are
    printed while no screen owns the terminal (they are always kept in m.result.lines)."""

    def __init__(self, monitor: bool):
        self.want_screen = monitor
        self.screen: Screen | None = None

    def on_line(self, line: str):
        if self.screen is None:
            print(line, flush=True)

    def run(self, m: Machine) -> bool:
        """Start m and watch it to its end. False if interrupted (m is stopped then)."""
        m.start()
        try:
            print_connect_lines(m)
            self._open_screen(m)
            while not m.poll():
                if interrupted():
                    return False
                if self.screen and self.screen.ended() is not None:
                    self._screen_quit(m)
                    if interrupted():
                        return False
                time.sleep(POLL_SECONDS)
            return True
        finally:
            m.stop()                          # no-op once the run is over
            if self.screen:
                self.screen.close()
                self.screen = None
                for line in m.result.lines[-TAIL_LINES:]:
                    print(line, flush=True)

    def _open_screen(self, m: Machine):
        if not self.want_screen:
            return
        if not screen_possible():
            return                            # not a terminal: the plain stream, silently
        if not HVMON.is_file():
            say(f"no {HVMON} (`make all` builds it); streaming the console instead")
            return
        self.screen = Screen(m.monitor_port)

    def _screen_quit(self, m: Machine):
        """hvmon quit by itself: say so, then stream the console from where it is."""
        status = self.screen.close()
        self.screen = None
        if interrupted():
            return
        say(f"hvmon ended (status {status}); the run goes on, its console follows "
            f"(Ctrl-C stops it)")
        print_connect_lines(m)
        for line in m.result.lines[-TAIL_LINES:]:
            print(line, flush=True)


# --------------------------------------------------------------------------------------
# make gdb
# --------------------------------------------------------------------------------------

def first_partition_image(scenario: str) -> tuple[str, str] | None:
    """(partition name, image) of the first partition of images/scenarios/SCENARIO.cfg:
    partition 0, the one the gdbstub shows until told otherwise."""
    try:
        text = (SCENARIOS / f"{scenario}.cfg").read_text()
    except OSError:
        return None
    partition = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        section = re.fullmatch(r"\[partition\s+([^\]\s]+)\s*\]", line)
        if section:
            if partition:
                return None                   # the first partition named no image
            partition = section.group(1)
        elif partition and re.match(r"image\s*=", line):
            return partition, line.split("=", 1)[1].strip().strip('"')
    return None


def guest_symbols(scenario: str) -> tuple[str, Path] | None:
    """(partition, build/guests/IMAGE.elf) when partition 0's image is a 64-bit ELF (GDB
    would refuse a 32-bit one against the x86-64 target); else None."""
    found = first_partition_image(scenario)
    if not found:
        return None
    elf = GUESTS / f"{found[1]}.elf"
    try:
        with open(elf, "rb") as f:
            head = f.read(5)
    except OSError:
        return None
    return (found[0], elf) if head == b"\x7fELF\x02" else None


def gdb_argv(ports: debug_ports.RunPorts, extra: list[str]) -> list[str]:
    """GDB attached to the run: remote timeout long enough for Bochs (a packet round trip
    takes ~45 ms, more while the machine boots), hvlab's helper commands, the guest's
    symbols when known. The register layout comes from the stub itself (qXfer:features)."""
    argv = ["gdb", "-q", "-ex", "set remotetimeout 60", "-x", str(GDB_SCRIPT)]
    symbols = guest_symbols(ports.scenario)
    if symbols:
        argv.append(str(symbols[1]))
    return argv + ["-ex", f"target remote {ports.gdb}"] + extra


def cmd_gdb(args) -> int:
    """Attach GDB to the newest live `make run` (or --run NAME); --print only shows the
    command."""
    runs = debug_ports.live_runs(args.run or "run-*")
    if not runs:
        which = f"run {args.run!r}" if args.run else "`make run`"
        raise UsageError(f"no {which} with debug ports is running (build/runs/*/"
                         f"{debug_ports.PORTS_FILE}); start `make run` in another "
                         "terminal, then `make gdb`")
    ports = runs[0]
    argv = gdb_argv(ports, args.gdb_args)
    symbols = guest_symbols(ports.scenario)
    say(f"gdb: attaching to {ports.run_dir.name} (scenario {ports.scenario}) at {ports.gdb}")
    if symbols:
        say(f"gdb: symbols of partition {symbols[0]}: {symbols[1].relative_to(ROOT)}")
    if args.print:
        print(shlex.join(argv), flush=True)
        return 0
    if shutil.which("gdb") is None:
        raise UsageError("gdb is not installed (Debian package gdb)")
    os.chdir(ROOT)
    os.execvp("gdb", argv)
