"""command_tests.py — the commands a user types, checked as a user would see them.

Part of the test harness (tests/harness/hvtest.py runs these after the scenarios):
  * make_run: `make run` boots a scenario and streams its console, ending with the
    hypervisor's status as its own (issue 2: "make run ... works as the first command
    typed"). Its debug ports are on and no debugger ever connects: the run must not
    stall (issue 5: "a connection that is never made must not stall the machine");
  * run_interrupted: Ctrl-C during `hvtest.py run --debug` (what `make run` runs) stops
    Bochs and hvlink and exits 130, leaving nothing behind (issue 2: "Ctrl-C ... must
    stop Bochs cleanly");
  * run_debug_timeout: a run with debug ports that hits its --timeout exits 124, with
    nothing left behind either;
  * run_debug_client_leaves: while a run goes on, `make gdb` finds it; clients connect to
    the gdb and monitor ports, send a request and leave before the answer (the case that
    kills a bare Bochs with SIGPIPE), twice; the run still ends with status 0;
  * make_run_monitor: `make run` in a terminal (tmux) opens hvmon; `quit` gives the
    console stream back and the run ends normally; a run that ends under hvmon closes it
    and restores the terminal; MONITOR=0 streams the console.
Standard library only.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hvmon_tests import Failure as ScreenFailure, Tmux
from machine import ROOT
from unit_tests import CaseResult

MAKE_RUN_TIMEOUT = 300.0
INTERRUPT_TIMEOUT = 120.0
HARNESS = Path(__file__).with_name("hvtest.py")
MAKE_IN_TERMINAL = (f"cd {shlex.quote(str(ROOT))} && "
                    "make --no-print-directory run CPUS=2 TIMEOUT=240")
CONNECT_LINES = (r"hvlab: gdb: target remote 127\.0\.0\.1:(\d+) — or `make gdb`",
                 r"hvlab: monitor: build/hvmon --connect 127\.0\.0\.1:(\d+)")


class Failure(Exception):
    pass


def _tail(text: str, n: int = 12) -> list[str]:
    return text.splitlines()[-n:]


def _fresh_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)  # a fresh `make`, as a user types it
    env.pop("MAKELEVEL", None)
    return env


def _left_running(run_name: str) -> list[str]:
    """Bochs or hvlink processes of run directory build/runs/RUN_NAME (or RUN_NAME-N)
    still alive: Bochs names the directory on its command line, hvlink runs in it."""
    marker = str(ROOT / "build" / "runs" / run_name)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if ("bochs" in cmd and marker in cmd) or ("hvlink" in cmd and cwd.startswith(marker)):
            left.append(f"{pid} {cmd.strip()}")
    return left


def test_make_run() -> CaseResult:
    """`make run SCENARIO=basic` streams the console and exits with the hypervisor's 0;
    its debug ports are printed and never used."""
    start = time.monotonic()
    try:
        p = subprocess.run(["make", "--no-print-directory", "run", "SCENARIO=basic", "CPUS=1",
                            "TIMEOUT=240"], cwd=ROOT, env=_fresh_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=MAKE_RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return CaseResult("make_run", False, ["`make run` did not finish"])
    out = p.stdout + p.stderr
    missing = [line for line in ("[basic] results:", "hvlab: summary: basic=0", "hvlab: exit status 0")
               if line not in out]
    missing += [regex for regex in CONNECT_LINES if not re.search(regex, out)]
    if p.returncode != 0 or missing:
        return CaseResult("make_run", False,
                          [f"exit status {p.returncode}, missing {missing}"] + _tail(out))
    time.sleep(0.5)
    left = _left_running("run-basic")
    if left:
        return CaseResult("make_run", False, ["left running after the run:"] + left)
    return CaseResult("make_run", True, seconds=time.monotonic() - start)


def _start_run(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HARNESS), "run", "--debug", *args], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _stop(p: subprocess.Popen):
    """Stop a harness we started, as Ctrl-C would (SIGKILL if it does not listen)."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _read_until(p: subprocess.Popen, pattern: str, seen: list[str], timeout: float) -> re.Match:
    """The harness's lines (kept in seen) until one matches pattern; Failure if none does
    within timeout or the output ends."""
    deadline = time.monotonic() + timeout
    for line in p.stdout:
        seen.append(line.rstrip("\n"))
        m = re.search(pattern, line)
        if m:
            return m
        if time.monotonic() > deadline:
            break
    raise Failure(f"no line matching /{pattern}/")


def test_run_interrupted() -> CaseResult:
    """SIGINT (Ctrl-C) while Bochs runs: the harness stops Bochs and hvlink, exits 130."""
    start = time.monotonic()
    p = _start_run("--scenario", "demo", "--cpus", "2", "--timeout", "240")
    seen: list[str] = []
    try:
        try:
            _read_until(p, "VMX root", seen, INTERRUPT_TIMEOUT)  # the hypervisor really runs
        except Failure:
            pass                                                # interrupt it anyway
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=60)
        seen += rest.splitlines()
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return CaseResult("run_interrupted", False,
                          ["the harness did not stop after SIGINT"] + seen[-10:])
    time.sleep(1)
    left = _left_running("run-demo")
    if p.returncode != 130 or left:
        return CaseResult("run_interrupted", False,
                          [f"exit status {p.returncode} (want 130), left running: {left}"]
                          + seen[-10:])
    return CaseResult("run_interrupted", True, seconds=time.monotonic() - start)


def test_run_debug_timeout() -> CaseResult:
    """--timeout passes first: exit status 124, Bochs and hvlink stopped."""
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, str(HARNESS), "run", "--debug", "--scenario", "demo",
                            "--cpus", "2", "--timeout", "5"], cwd=ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return CaseResult("run_debug_timeout", False, ["the harness did not stop at its timeout"])
    time.sleep(0.5)
    left = _left_running("run-demo")
    if p.returncode != 124 or left:
        return CaseResult("run_debug_timeout", False,
                          [f"exit status {p.returncode} (want 124), left running: {left}"]
                          + _tail(p.stdout + p.stderr))
    return CaseResult("run_debug_timeout", True, seconds=time.monotonic() - start)


def _packet(payload: str) -> bytes:
    """A GDB remote-protocol packet: $payload#checksum."""
    return f"${payload}#{sum(payload.encode()) % 256:02x}".encode()


def _hit_and_leave(port: int, payload: str):
    """A client that sends a request and leaves before any answer can come."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"+" + _packet(payload))


def _client_leaves(p: subprocess.Popen, seen: list[str]):
    gdb_port = int(_read_until(p, CONNECT_LINES[0], seen, 30)[1])
    monitor_port = int(_read_until(p, CONNECT_LINES[1], seen, 30)[1])
    _read_until(p, r"VMX root", seen, 120)                       # mid-run from here on
    g = subprocess.run([sys.executable, str(HARNESS), "gdb", "--run", "run-demo*", "--print"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    if g.returncode != 0 or f"target remote 127.0.0.1:{gdb_port}" not in g.stdout \
            or "build/guests/basic.elf" not in g.stdout:
        raise Failure(f"`make gdb` did not find the run: {g.stdout.strip()} {g.stderr.strip()}")
    for _ in range(2):
        _hit_and_leave(gdb_port, "qSupported:swbreak+;hwbreak+")
        _hit_and_leave(monitor_port, "qRcmd," + "info partitions".encode().hex())
        time.sleep(1)
    status = _read_until(p, r"hvlab: exit status (\d+)", seen, 180)
    if status[1] != "0":
        raise Failure(f"the run ended with status {status[1]}")
    rest, _ = p.communicate(timeout=30)
    seen += rest.splitlines()
    if p.returncode != 0:
        raise Failure(f"the harness exited with {p.returncode} (want 0)")


def test_run_debug_client_leaves() -> CaseResult:
    """Debugger clients come and go during a run: Bochs lives, the run ends with 0."""
    name = "run_debug_client_leaves"
    start = time.monotonic()
    p = _start_run("--scenario", "demo", "--cpus", "2", "--timeout", "240")
    seen: list[str] = []
    try:
        _client_leaves(p, seen)
    except (Failure, OSError, subprocess.SubprocessError) as e:
        return CaseResult(name, False, [f"{e}"] + seen[-10:])
    finally:
        _stop(p)
    logs = list((ROOT / "build" / "runs").glob("run-demo*/hvlink.log"))
    text = max(logs, key=lambda f: f.stat().st_mtime).read_text() if logs else ""
    if text.count("attached") < 4 or "left" not in text:
        return CaseResult(name, False, ["hvlink never saw the clients come and go:"]
                          + text.splitlines()[-8:])
    time.sleep(0.5)
    left = _left_running("run-demo")
    if left:
        return CaseResult(name, False, ["left running after the run:"] + left)
    g = subprocess.run([sys.executable, str(HARNESS), "gdb", "--run", "run-demo*", "--print"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    if g.returncode != 2 or "is running" not in g.stderr:
        return CaseResult(name, False, [f"`make gdb` after the run: status {g.returncode}, "
                                        f"said {g.stderr.strip()!r}"])
    return CaseResult(name, True, seconds=time.monotonic() - start)


def _in_shell(command: str, trap_int: bool = True) -> str:
    """A tmux pane command: run command, then print its status and whether the terminal
    was left in raw mode, then stay (so the screen can be read). With trap_int the shell
    survives the Ctrl-C meant for the run."""
    script = (("trap : INT; " if trap_int else "") + command + "; echo status=$?; "
              "stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e -echo "
              "| sed 's/^/terminal left with /'; echo terminal checked; sleep 600")
    return "sh -c " + shlex.quote(script)


def _monitor_case_quit(t):
    """hvmon opens; `quit` hands the console stream back; the run ends normally."""
    t.start(_in_shell(f"{MAKE_IN_TERMINAL} SCENARIO=demo"), 130, 40)
    t.wait_regex(r"hvmon \| .*127\.0\.0\.1:\d+", timeout=240)
    t.type("quit")
    t.wait_text("hvlab: hvmon ended (status 0)", timeout=30)
    screen = t.wait_text("status=0", "terminal checked", timeout=180)
    if "hvlab: exit status 0" not in screen or "terminal left with" in screen:
        raise ScreenFailure("after quit: no exit status 0, or terminal not restored", screen)


def _monitor_case_run_ends(t):
    """The run ends while hvmon shows it: hvmon is closed, the last lines printed."""
    t.start(_in_shell(f"{MAKE_IN_TERMINAL} SCENARIO=basic"), 130, 40)
    t.wait_regex(r"hvmon \| ", timeout=240)
    screen = t.wait_text("status=0", "terminal checked", timeout=180)
    if "hvlab: exit status 0" not in screen or "terminal left with" in screen:
        raise ScreenFailure("run ended under hvmon: no exit status 0, or terminal not "
                            "restored", screen)


def _monitor_case_off(t):
    """MONITOR=0: the plain stream, even on a terminal."""
    t.start(_in_shell(f"{MAKE_IN_TERMINAL} SCENARIO=basic MONITOR=0", trap_int=False), 130, 40)
    screen = t.wait_text("status=0", timeout=240)
    if not re.search(CONNECT_LINES[1], screen) or "hvlab: exit status 0" not in screen:
        raise ScreenFailure("MONITOR=0: no console stream with the connect lines", screen)


def test_make_run_monitor() -> CaseResult | None:
    """`make run` on a terminal: hvmon, its quitting, the run ending under it, MONITOR=0.
    Skipped (None) without tmux, as the hvmon tests are."""
    name = "make_run_monitor"
    if shutil.which("tmux") is None:
        print(f"SKIP {name}: tmux is not installed (apt-get install tmux)", flush=True)
        return None
    start = time.monotonic()
    for case in (_monitor_case_quit, _monitor_case_run_ends, _monitor_case_off):
        t = Tmux(case.__name__)               # a tmux server of its own for each
        t.env = {k: v for k, v in _fresh_env().items() if k != "TMUX"}
        try:
            case(t)
        except ScreenFailure as e:
            return CaseResult(name, False, [f"{case.__name__}: {e}"]
                              + ["| " + l for l in e.screen.rstrip().split("\n")])
        finally:
            t.kill()
    time.sleep(0.5)
    left = _left_running("run-demo") + _left_running("run-basic")
    if left:
        return CaseResult(name, False, ["left running after the runs:"] + left)
    return CaseResult(name, True, seconds=time.monotonic() - start)


COMMAND_TESTS = {"make_run": test_make_run, "run_interrupted": test_run_interrupted,
                 "run_debug_timeout": test_run_debug_timeout,
                 "run_debug_client_leaves": test_run_debug_client_leaves,
                 "make_run_monitor": test_make_run_monitor}


def run_command_tests(only: str | None) -> list[CaseResult]:
    """Run the command tests whose name matches @only (all when None), reporting each."""
    results = []
    for name, test in COMMAND_TESTS.items():
        if only and not re.search(only, name):
            continue
        r = test()
        if r is None:
            continue                          # skipped, and said so
        print(r.report(), flush=True)
        results.append(r)
    return results


if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    sys.exit(0 if all(r.passed for r in run_command_tests(only)) else 1)
