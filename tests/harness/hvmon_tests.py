"""hvmon_tests.py — hvmon, the host-side monitor, driven as a user would, in tmux.

Part of the test harness (tests/harness/hvtest.py runs these after the command tests).
hvmon runs in a detached tmux session of fixed size; keys go in with send-keys and the
screen comes back with capture-pane. The other end is tests/harness/fake_monitor.py, a
STAND-IN for the hypervisor's monitor port that answers with canned text: these tests
check hvmon's own behaviour (layout, commands, error messages, resizing, quitting,
reconnecting), not the hypervisor's monitor, which does not exist yet.

  hvmon_screen      panes show the fake's partitions, VMCS and live exit rates; `pause 1`
                    sends qRcmd with the right hex and shows the reply; `info vmcs 1.0`;
                    an unknown command, a bad argument and a hypervisor error each get
                    their message; select, Tab completion; resize redraws cleanly; `quit`
                    exits 0 and gives the terminal back
  hvmon_reconnect   nothing listening: NOT CONNECTED, retried; connects when the fake
                    starts, notices when it goes; SIGTERM exits 143, terminal restored
  hvmon_keys        Ctrl-D exits 0, Ctrl-C exits 130, terminal restored both times
  hvmon_plain       --plain reads commands from stdin (acknowledgments kept on), exit
                    status 1 when a command failed, 0 when none did, bounded when the
                    port is closed

Skipped, with a SKIP line and not counted, when tmux is not installed. Every wait is
bounded (WAIT seconds). Standard library only.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import ROOT
from unit_tests import CaseResult

HVMON = ROOT / "build" / "hvmon"
FAKE = Path(__file__).with_name("fake_monitor.py")
WAIT = 10.0          # seconds any one expected screen may take to appear
SESSION = "hvmon"


class Failure(Exception):
    """A check failed: the message, and the screen at that moment."""
    def __init__(self, what: str, screen: str = ""):
        super().__init__(what)
        self.screen = screen


class Tmux:
    """A private tmux server (its own socket, no config) with one session."""

    def __init__(self, name: str):
        self.socket = f"hvmon-test-{os.getpid()}-{name}"
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}

    def tmux(self, *args: str) -> str:
        p = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], env=self.env,
                           capture_output=True, text=True, timeout=WAIT)
        if p.returncode != 0:
            raise Failure(f"tmux {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def start(self, shell_command: str, cols: int, rows: int):
        self.tmux("new-session", "-d", "-s", SESSION, "-x", str(cols), "-y", str(rows),
                  shell_command)

    def keys(self, *keys: str):
        self.tmux("send-keys", "-t", SESSION, *keys)

    def type(self, line: str):
        """Type @line and Enter (literally, so no word is taken for a key name)."""
        self.tmux("send-keys", "-t", SESSION, "-l", line)
        self.tmux("send-keys", "-t", SESSION, "Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", SESSION)

    def value(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", SESSION, fmt).strip()

    def wait_for(self, what: str, check, timeout: float = WAIT) -> str:
        """Capture until check(screen) is true; the screen, or Failure naming @what."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise Failure(f"{what}: not on the screen after {timeout:.0f} s", screen)
            time.sleep(0.2)

    def wait_text(self, *texts: str, timeout: float = WAIT) -> str:
        return self.wait_for(" and ".join(repr(t) for t in texts),
                             lambda s: all(t in s for t in texts), timeout)

    def wait_regex(self, regex: str, timeout: float = WAIT) -> str:
        return self.wait_for(f"/{regex}/", lambda s: re.search(regex, s, re.M), timeout)

    def kill(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env,
                       capture_output=True, timeout=WAIT)


class Fake:
    """tests/harness/fake_monitor.py on a port of its own, recording the packets it gets."""

    def __init__(self, workdir: Path, port: int = 0, no_noack: bool = False):
        self.record = workdir / f"packets-{port}.txt"
        argv = [sys.executable, str(FAKE), "--port", str(port), "--record", str(self.record)]
        if no_noack:
            argv.append("--no-noack")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], WAIT)
        line = self.proc.stdout.readline() if ready else ""
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise Failure(f"the fake monitor did not start: {line.strip()!r}")
        self.port = int(m.group(1))

    def packets(self) -> list[str]:
        return self.record.read_text().splitlines() if self.record.exists() else []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        self.proc.stdout.close()


def qrcmd(command: str) -> str:
    """The packet (without framing) hvmon must send for @command."""
    return "qRcmd," + command.encode().hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pane_script(port: int, runs: int = 1) -> str:
    """Run hvmon @runs times, each followed by its exit status and a check that the
    terminal is back in cooked mode, the next run only after an Enter; then stay (so the
    screen can still be read)."""
    one = (f"{HVMON} --connect 127.0.0.1:{port}; echo \"hvmon exited with status $?\"; "
           "stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e -echo "
           "| sed 's/^/terminal left with /'; echo 'terminal checked';")
    script = " read next; ".join([one] * runs)
    # The shell survives the Ctrl-C meant for hvmon (a trap is not inherited).
    return "sh -c 'trap : INT; " + script.replace("'", "'\"'\"'") + " sleep 600'"


def check_restored(t: Tmux, status: int, occurrence: int = 1):
    """hvmon's exit status was @status, and the terminal is as it was before it: cooked
    mode, alternate screen off."""
    want = f"hvmon exited with status {status}"
    screen = t.wait_for(f"{want!r} (#{occurrence}) and the terminal check",
                        lambda s: s.count(want) >= occurrence
                        and s.count("terminal checked") >= occurrence)
    if "terminal left with" in screen:
        raise Failure("the terminal was not restored", screen)
    if t.value("#{alternate_on}") != "0":
        raise Failure("the terminal was left on the alternate screen", screen)


def has_title(screen: str, title: str) -> bool:
    """Is @title a pane title (a blank or a line's edge on each side) on @screen?"""
    return re.search(r"(^| )%s( |$)" % re.escape(title), screen, re.M) is not None


def rows_of(screen: str) -> list[str]:
    """The screen's rows (capture-pane ends the last one with a newline too)."""
    return screen[:-1].split("\n") if screen.endswith("\n") else screen.split("\n")


# ---- The cases --------------------------------------------------------------------------

def case_screen(t: Tmux, work: Path):
    fake = Fake(work)
    try:
        t.start(pane_script(fake.port), 160, 48)
        screen = t.wait_regex(r"connected to 127\.0\.0\.1:%d" % fake.port)
        screen = t.wait_regex(r"^ +0 +basic +running .*\n +1 +shadowed +running")
        for title in ("partitions", "registers 0.0", "console 0", "VMCS 0.0", "exits 0, live",
                      "output"):
            t.wait_for(f"the title {title!r}", lambda s, title=title: has_title(s, title))
        rows = rows_of(t.screen())
        if not rows[0].startswith(" hvmon | connected") or not rows[47].startswith("hvmon>"):
            raise Failure("status line not on the first row or prompt not on the last", screen)
        t.wait_text("VMCS of vCPU 0.0 (basic)", "[basic] console line 30")
        t.wait_regex(r"external interrupt +\d+ +[1-9]\d*$")      # a live rate per second

        t.type("pause 1")
        t.wait_text("partition 1 (shadowed) paused")
        if qrcmd("pause 1") not in fake.packets():
            raise Failure(f"the fake never got {qrcmd('pause 1')}; it got {fake.packets()[-5:]}")
        t.wait_regex(r"1 +shadowed +paused")                     # the partitions pane follows
        t.type("resume 1")
        t.wait_text("partition 1 (shadowed) resumed")
        t.type("info vmcs 1.0")
        t.wait_text("VMCS of vCPU 1.0 (shadowed)")

        t.type("foo")
        t.wait_text("unknown command 'foo'; type help")
        t.type("pause")
        t.wait_text("pause: expected a partition number or name (usage: pause P)")
        if any(p in fake.packets() for p in (qrcmd("foo"), qrcmd("pause"))):
            raise Failure("a command hvmon refused was sent anyway")
        t.type("pause 7")                                          # refused by the "hypervisor"
        t.wait_text("no partition '7'; there are 0 (basic), 1 (shadowed)")

        t.type("select 1.1")
        for title in ("registers 1.1", "VMCS 1.1", "console 1"):
            t.wait_for(f"the title {title!r}", lambda s, title=title: has_title(s, title))
        t.wait_text("[shadowed] console line 30")
        t.keys("inf", "Tab")
        t.wait_regex(r"^hvmon> info$")               # (capture-pane drops the trailing blank)
        t.keys("C-u")

        t.tmux("resize-window", "-t", SESSION, "-x", "100", "-y", "30")
        screen = t.wait_for("a one-column layout at 100x30",
                            lambda s: len(rows_of(s)) == 30 and rows_of(s)[29].startswith("hvmon>")
                            and "│" not in s and has_title(s, "partitions"))
        t.tmux("resize-window", "-t", SESSION, "-x", "150", "-y", "40")
        rule = (150 - 1) // 2
        screen = t.wait_for("a two-column layout at 150x40, the rule in one column throughout",
                            lambda s: len(rows_of(s)) == 40
                            and all(len(r) > rule and r[rule] == "│" for r in rows_of(s)[1:39])
                            and rows_of(s)[0].startswith(" hvmon |")
                            and rows_of(s)[39].startswith("hvmon>"))
        t.type("quit")
        check_restored(t, 0)
    finally:
        fake.stop()


def case_reconnect(t: Tmux, work: Path):
    port = free_port()
    t.start(pane_script(port), 120, 30)
    t.wait_text(f"NOT CONNECTED to 127.0.0.1:{port}", "retrying every second")
    t.type("pause 1")
    t.wait_text(f"'pause 1' not sent: not connected to 127.0.0.1:{port}")
    fake = Fake(work, port)
    try:
        t.wait_regex(r"\| connected to 127\.0\.0\.1:%d" % port)
        t.wait_regex(r"1 +shadowed +running")
    finally:
        fake.stop()
    t.wait_text(f"NOT CONNECTED to 127.0.0.1:{port}")
    shell = t.value("#{pane_pid}")
    children = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
    if len(children) != 1:
        raise Failure(f"expected hvmon as the only child of the pane's shell, got {children}")
    os.kill(int(children[0]), signal.SIGTERM)
    check_restored(t, 128 + signal.SIGTERM)


def case_keys(t: Tmux, work: Path):
    t.start(pane_script(free_port(), runs=2), 100, 30)
    t.wait_text("NOT CONNECTED")
    t.keys("C-d")
    check_restored(t, 0)
    t.keys("Enter")                                   # the shell reads it: hvmon again
    t.wait_text("NOT CONNECTED")
    t.keys("C-c")
    check_restored(t, 128 + signal.SIGINT)


def run_plain(port: int, commands: str, wait: float = 5) -> subprocess.CompletedProcess:
    return subprocess.run([str(HVMON), "--plain", "--connect", f"127.0.0.1:{port}", "--wait",
                           str(wait)], input=commands, capture_output=True, text=True,
                          timeout=WAIT + 3 * wait)


def case_plain(t: Tmux, work: Path):
    fake = Fake(work, no_noack=True)
    try:
        p = run_plain(fake.port, "info partitions\npause 1\nfoo\ninfo vmcs 0.0\n")
        out = p.stdout
        for want in ("1  shadowed   running", "partition 1 (shadowed) paused",
                     "hvmon: unknown command 'foo'; type help", "VMCS of vCPU 0.0 (basic)"):
            if want not in out:
                raise Failure(f"--plain: no {want!r} in its output", out)
        if p.returncode != 1:
            raise Failure(f"--plain: exit status {p.returncode} after a bad command, want 1", out)
        if "QStartNoAckMode" not in fake.packets():
            raise Failure("--plain: QStartNoAckMode was not offered")
        p = run_plain(fake.port, "resume 1\nhelp\n")
        if p.returncode != 0 or "partition 1 (shadowed) resumed" not in p.stdout:
            raise Failure(f"--plain: exit status {p.returncode} for good commands", p.stdout)
    finally:
        fake.stop()
    start = time.monotonic()
    p = run_plain(free_port(), "info partitions\n", wait=1)
    if p.returncode != 1 or "not connected" not in p.stdout or time.monotonic() - start > 5:
        raise Failure(f"--plain with nothing listening: status {p.returncode} after "
                      f"{time.monotonic() - start:.1f} s", p.stdout)


CASES = {"hvmon_screen": case_screen, "hvmon_reconnect": case_reconnect,
         "hvmon_keys": case_keys, "hvmon_plain": case_plain}


def run_case(name: str, case, prefix: str = "hvmon-test-") -> CaseResult:
    """Run one tmux case in a fresh session and scratch directory; a Failure becomes a
    failed result with the screen it saw."""
    start = time.monotonic()
    t = Tmux(name)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as work:
            case(t, Path(work))
    except Failure as e:
        detail = [str(e)]
        if e.screen:
            detail += ["screen:"] + ["| " + line for line in e.screen.rstrip("\n").split("\n")]
        return CaseResult(name, False, detail, seconds=time.monotonic() - start)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        return CaseResult(name, False, [f"{type(e).__name__}: {e}"])
    finally:
        t.kill()
    return CaseResult(name, True, seconds=time.monotonic() - start)


def run_tmux_cases(cases: dict, only: str | None, prefix: str = "hvmon-test-") -> list[CaseResult]:
    """Run the cases of @cases whose name matches @only (all when None), reporting each;
    skipped with a message when tmux is missing."""
    names = [n for n in cases if not only or re.search(only, n)]
    if not names:
        return []
    if shutil.which("tmux") is None:
        print(f"SKIP {', '.join(names)}: tmux is not installed (apt-get install tmux)", flush=True)
        return []
    if not os.access(HVMON, os.X_OK):
        results = [CaseResult(n, False, [f"{HVMON} is missing (make hvmon)"]) for n in names]
    else:
        results = [run_case(n, cases[n], prefix) for n in names]
    for r in results:
        print(r.report(), flush=True)
    return results


def run_hvmon_tests(only: str | None) -> list[CaseResult]:
    """The hvmon cases against the stand-in monitor."""
    return run_tmux_cases(CASES, only)


if __name__ == "__main__":
    sys.exit(0 if all(r.passed for r in run_hvmon_tests(sys.argv[1] if len(sys.argv) > 1 else None))
             else 1)
