#!/usr/bin/env python3
"""fake_monitor.py — a STAND-IN for the hypervisor's monitor port, to test hvmon alone.

This is not the hypervisor and knows nothing about it: it speaks the monitor protocol
(docs/design/monitor-protocol.md: GDB remote-protocol framing, `qRcmd,<hex>`, answered
by `O<hex>` packets and then `OK`, or an `O` explaining the error and `Exx`) and answers
with canned text about two made-up partitions. hvmon's tests (hvmon_tests.py) use it to
check hvmon's own behaviour: layout, commands, errors, resizing, quitting. It also lets
a student try hvmon before the hypervisor side exists:

    python3 tests/harness/fake_monitor.py --port 4557 &
    build/hvmon

Options:
  --port N       TCP port on 127.0.0.1 (0: any free one); default 4557
  --record FILE  append every packet received, one per line, as it came (without $ # cs)
  --no-noack     refuse QStartNoAckMode, so acknowledgments stay on
Prints "fake monitor listening on 127.0.0.1:PORT" when ready. Serves one client at a
time, and the next one after it leaves. Standard library only.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

CHUNK = 50  # text bytes per O packet: replies come in several packets, as they may for real

RATES = {"external interrupt": 250, "HLT": 100, "EPT violation": 40, "I/O instruction": 12,
         "CPUID": 3, "RDMSR": 1}


class Partition:
    def __init__(self, pid: int, name: str, paging: str, vcpus: list[tuple[str, str]]):
        self.id, self.name, self.paging, self.vcpus = pid, name, paging, vcpus
        self.state = "running"
        self.exits = {reason: 1000 * (pid + 1) for reason in RATES}
        self.counted_at = time.monotonic()

    def count_exits(self):
        """Counters grow at RATES per second while the partition runs."""
        now = time.monotonic()
        if self.state == "running":
            for reason, rate in RATES.items():
                self.exits[reason] += int(rate * (now - self.counted_at))
        self.counted_at = now


class Failed(Exception):
    """A command error: the text goes out as O packets, then Exx with this code."""
    def __init__(self, text: str, code: int = 1):
        super().__init__(text)
        self.code = code


class FakeHypervisor:
    """The canned answers, with just enough state for pause and resume to show."""

    def __init__(self):
        self.parts = [Partition(0, "basic", "ept", [("running", "cpu0")]),
                      Partition(1, "shadowed", "shadow", [("running", "cpu1"), ("halted", "cpu1")])]

    def part(self, word: str) -> Partition:
        for p in self.parts:
            if word in (str(p.id), p.name):
                return p
        names = ", ".join(f"{p.id} ({p.name})" for p in self.parts)
        raise Failed(f"no partition '{word}'; there are {names}", 2)

    def vcpu(self, word: str) -> tuple[Partition, int]:
        pw, _, vw = word.rpartition(".")
        p = self.part(pw)
        if not vw.isdigit() or int(vw) >= len(p.vcpus):
            raise Failed(f"partition {p.id} ({p.name}) has no vCPU '{vw}'", 2)
        return p, int(vw)

    def run(self, line: str) -> str:
        words = line.split()
        if not words:
            raise Failed("empty command")
        name, args = words[0], words[1:]
        if name == "info" and args:
            name, args = "info " + args[0], args[1:]
        if name.startswith("x/") or name == "x":
            name = "x"
        handler = getattr(self, "cmd_" + name.replace(" ", "_"), None)
        if handler is None:
            raise Failed(f"unknown command '{line}'; type help")
        return handler(*args)

    def cmd_info_partitions(self):
        out = []
        for p in self.parts:
            v = ", ".join(f"vCPU {i} {s} on {c}" for i, (s, c) in enumerate(p.vcpus))
            out.append(f"{p.id}  {p.name:<10} {p.state:<8} {p.paging:<7} {v}")
        return "\n".join(out) + "\n"

    def cmd_info_vcpu(self, pv):
        p, v = self.vcpu(pv)
        return (f"vCPU {p.id}.{v} of {p.name}\n"
                f"rax 0000000000000001  rbx 0000000000002000  rcx 000000000000000{v}\n"
                f"rip 00000000001{p.id}0{v}4a  rsp 000000000009ff00  rflags 0000000000000202\n"
                f"cr0 0000000080000011  cr3 0000000000101000  cr4 0000000000002020\n")

    def cmd_info_vmcs(self, pv):
        p, v = self.vcpu(pv)
        return (f"VMCS of vCPU {p.id}.{v} ({p.name})\n"
                "pin-based controls: external-interrupt exiting, NMI exiting\n"
                "processor controls: HLT exiting, use I/O bitmaps, use MSR bitmaps\n"
                "secondary controls: " + ("enable EPT, " if p.paging == "ept" else "")
                + "unrestricted guest\n"
                "last exit: 12 HLT, qualification 0x0\n")

    def cmd_info_ept(self, part, addr):
        p = self.part(part)
        return (f"walk of {addr} in partition {p.id} ({p.name})\n"
                "guest PML4[0] -> PDPT[0] -> PD[0] -> PT[16] = 0x10000\n"
                f"{p.paging.upper()} PML4[0] -> PDPT[0] -> PD[0] -> PT[16] = host 0x2010000\n")

    def cmd_info_exits(self, part=None):
        parts = [self.part(part)] if part is not None else self.parts
        totals = dict.fromkeys(RATES, 0)
        for p in parts:
            p.count_exits()
            for reason, n in p.exits.items():
                totals[reason] += n
        title = (f"exits of partition {parts[0].id} ({parts[0].name})" if part
                 else "exits of all partitions")
        return title + "\n" + "".join(f"{r}: {n}\n" for r, n in totals.items())

    def cmd_info_irq(self):
        return "irq 4 (uart0) -> partition 0 vector 0x24\n"

    def cmd_info_pci(self):
        return "00:00.0 host bridge (hvlab)\n"

    def _set_state(self, part, want_from, to, verb):
        p = self.part(part)
        if p.state != want_from:
            raise Failed(f"partition {p.id} ({p.name}) is {p.state}, not {want_from}", 0x16)
        p.count_exits()
        p.state = to
        return f"partition {p.id} ({p.name}) {verb}\n"

    def cmd_pause(self, part):
        return self._set_state(part, "running", "paused", "paused")

    def cmd_resume(self, part):
        return self._set_state(part, "paused", "running", "resumed")

    def cmd_reset(self, part):
        p = self.part(part)
        return f"partition {p.id} ({p.name}) reset\n"

    def cmd_step(self, pv):
        p, v = self.vcpu(pv)
        if p.state != "paused":
            raise Failed(f"partition {p.id} ({p.name}) is running; pause it first", 0x16)
        return f"vCPU {p.id}.{v} stepped to rip 00000000001{p.id}0{v}4c\n"

    def cmd_break(self, part, addr):
        p = self.part(part)
        return f"breakpoint at {addr} in partition {p.id} ({p.name})\n"

    def cmd_x(self, part, addr):
        p = self.part(part)
        return f"{addr}: 48 89 e5 90 90 90 c3 00  00 00 00 00 00 00 00 00   (partition {p.id})\n"

    def cmd_console(self, part, n="20"):
        p = self.part(part)
        lines = [f"[{p.name}] console line {i}" for i in range(1, 31)]
        return "\n".join(lines[-int(n):]) + "\n"

    def cmd_help(self, *cmd):
        if cmd:
            return f"{' '.join(cmd)}: (the fake monitor's help for this command)\n"
        return ("info partitions      every partition (fake)\n"
                "pause P              stop partition P (fake)\n")


def checksum(data: bytes) -> bytes:
    return b"%02x" % (sum(data) % 256)


def frame(payload: bytes) -> bytes:
    escaped = bytearray()
    for b in payload:
        if b in b"#$}*":
            escaped += bytes([0x7D, b ^ 0x20])
        else:
            escaped.append(b)
    return b"$" + bytes(escaped) + b"#" + checksum(bytes(escaped))


class Connection:
    """One client: RSP framing, acknowledgments, and the qRcmd conversation."""

    def __init__(self, sock: socket.socket, hv: FakeHypervisor, record, allow_noack: bool):
        self.sock, self.hv, self.record, self.allow_noack = sock, hv, record, allow_noack
        self.ack = True
        self.buf = b""

    def send_packet(self, payload: bytes):
        self.sock.sendall(frame(payload))

    def answer(self, payload: bytes):
        if payload == b"QStartNoAckMode":
            if self.allow_noack:
                self.send_packet(b"OK")
                self.ack = False
            else:
                self.send_packet(b"")
        elif payload.startswith(b"qRcmd,"):
            try:
                text, code = self.hv.run(bytes.fromhex(payload[6:].decode()).decode()), None
            except (Failed, TypeError, ValueError) as e:
                text, code = str(e) + "\n", getattr(e, "code", 1)
            data = text.encode()
            for i in range(0, len(data), CHUNK):
                self.send_packet(b"O" + data[i:i + CHUNK].hex().encode())
            self.send_packet(b"OK" if code is None else b"E%02x" % code)
        else:
            self.send_packet(b"")  # unknown packet: the empty reply

    def serve(self):
        while True:
            data = self.sock.recv(4096)
            if not data:
                return
            self.buf += data
            while self.buf:
                if self.buf[:1] in (b"+", b"-"):
                    self.buf = self.buf[1:]
                    continue
                start = self.buf.find(b"$")
                end = self.buf.find(b"#", start)
                if start < 0 or end < 0 or len(self.buf) < end + 3:
                    break
                body, cs = self.buf[start + 1:end], self.buf[end + 1:end + 3]
                self.buf = self.buf[end + 3:]
                if self.ack:
                    self.sock.sendall(b"+" if checksum(body) == cs.lower() else b"-")
                if checksum(body) != cs.lower():
                    continue
                if self.record:
                    self.record.write(body.decode(errors="replace") + "\n")
                    self.record.flush()
                self.answer(body)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=4557)
    ap.add_argument("--record")
    ap.add_argument("--no-noack", action="store_true")
    args = ap.parse_args(argv)
    record = open(args.record, "a") if args.record else None
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    server.listen(1)
    print(f"fake monitor listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
    hv = FakeHypervisor()
    while True:
        client, _ = server.accept()
        with client:
            try:
                Connection(client, hv, record, not args.no_noack).serve()
            except OSError:
                pass


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
