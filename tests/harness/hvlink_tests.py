"""hvlink_tests.py — hvlink, the debug-port relay, against a stand-in for Bochs.

Part of the test harness (tests/harness/hvtest.py runs these after the hvmon tests). The
stand-in behaves as Bochs does with two COM ports in mode=socket-server: it listens on
the first port late, accepts one client, only then listens on the second, and writes to
both whenever it likes. No emulator is needed, so every case takes about a second; the
runs with Bochs itself are in command_tests.py.

  hvlink_relay    waits for "Bochs" to listen, port after port; discards Bochs' bytes
                  while no client is attached; relays both ways; refuses a second client;
                  a client that leaves ends nothing and the next one is served; exits 0
                  when Bochs closes its sockets
  hvlink_errors   a listen port in use, a Bochs that never listens (bounded by
                  --timeout), bad arguments: each gets its message and exit status
Standard library only.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time

from debug_ports import HVLINK
from unit_tests import CaseResult

WAIT = 10.0


class Failure(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeBochs:
    """Two socket-server ports opened one after the other, as Bochs opens com2 then com3;
    self.conns[i] is the accepted connection of port i once it exists."""

    def __init__(self, delay: float = 0.5):
        self.ports = [_free_port(), _free_port()]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, args=(delay,), daemon=True)
        self.thread.start()

    def _serve(self, delay: float):
        time.sleep(delay)                     # hvlink must retry until this
        for port in self.ports:
            with socket.create_server(("127.0.0.1", port)) as server:
                server.settimeout(WAIT)
                conn, _ = server.accept()     # Bochs blocks here, the machine stopped
                conn.settimeout(WAIT)
                self.conns.append(conn)

    def wait_connected(self):
        self.thread.join(WAIT + 1)
        if len(self.conns) != 2:
            raise Failure("hvlink did not connect to both Bochs ports")

    def close(self):
        for c in self.conns:
            c.close()


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([str(HVLINK), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)


def _read_until(p: subprocess.Popen, regex: str, seen: list[str]) -> re.Match:
    """hvlink's lines until one matches regex (all kept in seen); bounded by WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        m = re.search(regex, line)
        if m:
            return m
    raise Failure(f"hvlink never said /{regex}/; it said: " + " | ".join(seen[-6:]))


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def case_relay():
    bochs = FakeBochs()
    p = _start("--link", f"{bochs.ports[0]}:0", "--link", f"{bochs.ports[1]}:0",
               "--timeout", "5")
    seen: list[str] = []
    try:
        gdb_port = int(_read_until(p, rf"port {bochs.ports[0]}\): listening on \S+:(\d+)", seen)[1])
        _read_until(p, r"hvlink: ready", seen)
        bochs.wait_connected()
        com2 = bochs.conns[0]
        com2.sendall(b"nobody hears this")   # no client: discarded, Bochs never blocks
        com2.sendall(b"x" * 300_000)         # far more than any socket buffer holds
        time.sleep(1)                        # plenty for hvlink to read it all
        client = socket.create_connection(("127.0.0.1", gdb_port), timeout=WAIT)
        _read_until(p, r"client \S+ attached \(300017 bytes from Bochs discarded", seen)
        client.sendall(b"$qSupported#37")
        if _recv_exactly(com2, 14) != b"$qSupported#37":
            raise Failure("client -> Bochs: bytes lost")
        com2.sendall(b"$OK#9a")
        if _recv_exactly(client, 6) != b"$OK#9a":
            raise Failure("Bochs -> client: bytes lost")
        second = socket.create_connection(("127.0.0.1", gdb_port), timeout=WAIT)
        _read_until(p, r"refused client \S+: one client at a time", seen)
        if second.recv(10) != b"":
            raise Failure("a second client was not refused (its socket stayed open)")
        client.close()
        _read_until(p, r"client \S+ left; waiting for the next one", seen)
        com2.sendall(b"$late reply#00")      # to nobody: must not end anything
        again = socket.create_connection(("127.0.0.1", gdb_port), timeout=WAIT)
        _read_until(p, r"client \S+ attached", seen)
        com2.sendall(b"hello")
        if _recv_exactly(again, 5) != b"hello":
            raise Failure("the next client was not served")
        bochs.close()                        # the machine stopped
        _read_until(p, r"Bochs closed the port .*exiting", seen)
        rc = p.wait(WAIT)
        if rc != 0:
            raise Failure(f"exit status {rc} after Bochs closed, want 0")
    finally:
        bochs.close()
        if p.poll() is None:
            p.kill()
        p.wait()


def case_errors():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        p = _start("--link", f"{_free_port()}:{port}", "--timeout", "1")
        out, _ = p.communicate(timeout=WAIT)
        if p.returncode != 1 or "port in use" not in out:
            raise Failure(f"listen port in use: status {p.returncode}, said {out.strip()!r}")
    start = time.monotonic()
    p = _start("--link", f"{_free_port()}:0", "--timeout", "1")
    out, _ = p.communicate(timeout=WAIT)
    took = time.monotonic() - start
    if p.returncode != 1 or "Bochs never listened" not in out or took > 5:
        raise Failure(f"no Bochs: status {p.returncode} after {took:.1f} s, said {out.strip()!r}")
    p = _start("--link", "4000")
    out, _ = p.communicate(timeout=WAIT)
    if p.returncode != 2 or "expected BOCHS_PORT:LISTEN_PORT" not in out:
        raise Failure(f"bad --link: status {p.returncode}, said {out.strip()!r}")


CASES = {"hvlink_relay": case_relay, "hvlink_errors": case_errors}


def run_hvlink_tests(only: str | None) -> list[CaseResult]:
    """Run the hvlink cases whose name matches @only (all when None), reporting each."""
    results = []
    for name, case in CASES.items():
        if only and not re.search(only, name):
            continue
        start = time.monotonic()
        if not HVLINK.is_file():
            r = CaseResult(name, False, [f"{HVLINK} is missing (make hvlink)"])
        else:
            try:
                case()
                r = CaseResult(name, True, seconds=time.monotonic() - start)
            except (Failure, OSError, subprocess.SubprocessError) as e:
                r = CaseResult(name, False, [f"{type(e).__name__}: {e}"])
        print(r.report(), flush=True)
        results.append(r)
    return results


if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    sys.exit(0 if all(r.passed for r in run_hvlink_tests(only)) else 1)
