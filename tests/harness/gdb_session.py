"""gdb_session.py — runs INSIDE GDB (gdb -batch -x gdb_session.py): one GDB session against
the gdbstub, each step checked and timed, the results written as JSON for gdb_tests.py.

Environment (set by gdb_tests.py):
  HVLAB_GDB_PORT     TCP port of the machine's COM2 (hvlink's side)
  HVLAB_GDB_ELF      the guest's ELF with symbols (build/guests/gdb_target.elf)
  HVLAB_GDB_OUT      where to write the JSON list of {name, ok, detail, ms}
  HVLAB_GDB_MODE     "test" (the walkthrough of docs/gdb.md), "penryn" (the same without
                     threads and monitor, for a 1-vCPU partition) or "bench"
  HVLAB_GDB_MONITOR  regex the answer to `monitor info vmcs 0.0` must match
"""

import json
import os
import re
import time

import gdb  # noqa: the GDB Python API, only inside GDB

PORT = os.environ["HVLAB_GDB_PORT"]
ELF = os.environ["HVLAB_GDB_ELF"]
OUT = os.environ["HVLAB_GDB_OUT"]
MODE = os.environ.get("HVLAB_GDB_MODE", "test")
MONITOR = os.environ.get("HVLAB_GDB_MONITOR", ".")

results = []
last_stop = []   # the last stop event GDB reported (to_string does not catch its message)


def on_stop(event):
    last_stop[:] = [event]


gdb.events.stop.connect(on_stop)


def run(cmd: str) -> str:
    return gdb.execute(cmd, to_string=True) or ""


def value(expr: str) -> int:
    return int(gdb.parse_and_eval(expr))


class Failed(Exception):
    pass


def expect(cond, what: str):
    if not cond:
        raise Failed(what)


def step(name: str, fn) -> bool:
    """Run one checked step; record ok/detail/ms. Later steps run even if this one fails."""
    start = time.monotonic()
    try:
        detail = fn() or ""
        ok = True
    except Exception as e:  # gdb.error, Failed, anything: the step failed
        detail, ok = f"{type(e).__name__}: {e}", False
    results.append({"name": name, "ok": ok, "detail": str(detail)[:2000],
                    "ms": round((time.monotonic() - start) * 1000, 1)})
    write()
    return ok


def write():
    with open(OUT, "w") as f:
        json.dump(results, f)


# ---- The test: what issue 5 asks GDB to do, in the order a student would -----------------

def connect():
    return run(f"target remote 127.0.0.1:{PORT}")


def info_registers():
    out = run("info registers")
    missing = [r for r in ("rax", "rsp", "rip", "eflags", "cs", "fs_base", "cr0", "cr3", "efer")
               if not re.search(rf"^{r}\s+0x", out, re.M)]
    expect(not missing, f"registers missing from `info registers`: {missing}\n{out}")
    return out.splitlines()[16]  # the rip line


def stopped_by(kind) -> bool:
    """Was the last stop a hit of a breakpoint of @kind (gdb.BP_*)?"""
    e = last_stop[0] if last_stop else None
    return isinstance(e, gdb.BreakpointEvent) and any(b.type == kind for b in e.breakpoints)


def break_and_continue():
    run("break gdb_target_hit")
    run("continue")
    frame = gdb.selected_frame().name()
    expect(frame == "gdb_target_hit", f"stopped in {frame}, not gdb_target_hit")
    expect(stopped_by(gdb.BP_BREAKPOINT), f"the stop was not the breakpoint: {last_stop}")
    return f"in {frame}, round {value('$rdi')}"


def stepi():
    pc = value("$pc")
    length = gdb.selected_inferior().architecture().disassemble(pc)[0]["length"]
    run("stepi")
    now = value("$pc")
    expect(now == pc + length, f"stepi went from {pc:#x} to {now:#x}, expected {pc + length:#x}")
    return f"{pc:#x} -> {now:#x}"


def read_memory():
    rnd = value("$rdi")       # the argument `round`, still in its register
    counter = value("gdb_counter")
    expect(counter == rnd * (rnd - 1) // 2,
           f"gdb_counter = {counter} in round {rnd}, expected {rnd * (rnd - 1) // 2}")
    raw = bytes(gdb.selected_inferior().read_memory(int(gdb.parse_and_eval("&gdb_counter")), 8))
    expect(int.from_bytes(raw, "little") == counter, f"x/8xb gives {raw.hex()}, not {counter}")
    return f"round {rnd}, gdb_counter {counter}"


def write_memory():
    run("set var gdb_poke = 0x1234abcd")
    expect(value("gdb_poke") == 0x1234abcd, "gdb_poke did not change")
    return "gdb_poke = 0x1234abcd (the guest prints it at its end)"


def watchpoint():
    run("delete")
    run("watch gdb_watched")
    before = value("gdb_watched")
    run("continue")
    after = value("gdb_watched")
    expect(stopped_by(gdb.BP_HARDWARE_WATCHPOINT), f"the stop was not the watchpoint: {last_stop}")
    expect(after != before, f"gdb_watched still {before}")
    run("delete")
    return f"gdb_watched {before} -> {after}"


def hw_breakpoint():
    run("hbreak gdb_target_hit")
    run("continue")
    frame = gdb.selected_frame().name()
    expect(stopped_by(gdb.BP_HARDWARE_BREAKPOINT), f"the stop was not the hardware breakpoint: {last_stop}")
    expect(frame == "gdb_target_hit", f"stopped in {frame}")
    run("delete")
    pc = value("$pc")        # resuming from a debug-register fault needs RFLAGS.RF
    run("stepi")
    expect(value("$pc") > pc, f"stepi from the hardware breakpoint did not move ({pc:#x})")
    return f"at {pc:#x}, stepi to {value('$pc'):#x}"


def monitor():
    try:
        out = run("monitor info vmcs 0.0")
    except gdb.error as e:
        out = f"(error) {e}"
    expect(re.search(MONITOR, out), f"answer does not match /{MONITOR}/:\n{out}")
    return out.strip().splitlines()[0] if out.strip() else ""


def threads():
    out = run("info threads")
    ids = re.findall(r"^[ *]+(\d+)\s+Thread", out, re.M)
    expect(len(ids) == 2, f"expected 2 threads (vCPUs):\n{out}")
    run("thread 2")
    expect(gdb.selected_thread().num == 2, "did not switch to thread 2")
    frames, f = [], gdb.selected_frame()
    while f is not None and len(frames) < 4:      # ap_spin, maybe under an inlined cpu_relax
        frames.append(f.name())
        f = f.older()
    expect("ap_spin" in frames, f"thread 2 (the AP) is in {frames}, not in ap_spin")
    frame = frames[0]
    pc2 = value("$pc")
    run("thread 1")
    expect(value("$pc") != pc2, "threads 1 and 2 show the same rip")
    return f"thread 2 in {frame} at {pc2:#x}"


def detach():
    out = run("detach")
    expect("etach" in out, f"unexpected answer to detach: {out}")
    return out.strip()


# ---- The benchmark ------------------------------------------------------------------------

def bench_stepi():
    run("break gdb_target_hit")
    run("continue")
    run("delete")
    times = []
    for _ in range(20):
        t = time.monotonic()
        run("stepi")
        gdb.selected_frame().read_register("rip")   # the refreshed registers
        times.append((time.monotonic() - t) * 1000)
    times.sort()
    return f"bench gdb.stepi_ms={times[len(times) // 2]:.0f} (median of 20, wall clock)"


def bench_read():
    run("set code-cache off")
    run("set stack-cache off")
    t = time.monotonic()
    data = gdb.selected_inferior().read_memory(0x100000, 65536)
    ms = (time.monotonic() - t) * 1000
    expect(len(bytes(data)) == 65536, "short read")
    return f"bench gdb.read64k_ms={ms:.0f} bench gdb.read_kib_per_s={64 * 1000 / ms:.1f} (wall clock)"


run("set pagination off")
run("set confirm off")
run("set remotetimeout 60")
run(f"file {ELF}")
if step("connect", connect):
    if MODE == "bench":
        step("bench_stepi", bench_stepi)
        step("bench_read64k", bench_read)
    else:
        step("info_registers", info_registers)
        step("break_continue", break_and_continue)
        step("stepi", stepi)
        step("read_memory", read_memory)
        step("watchpoint", watchpoint)
        step("hw_breakpoint", hw_breakpoint)
        step("write_memory", write_memory)  # last before detach: the guest ends its rounds then
        if MODE == "test":  # "penryn": one vCPU, and the monitor is not the point there
            step("monitor", monitor)
            step("threads", threads)
    step("detach", detach)
write()
