#!/usr/bin/env python3
"""hvtest.py — boot hvlab in an emulator, and run its tests.

    hvtest.py run   --scenario NAME [--emu bochs|qemu] [--model M] [--cpus N] [--timeout S]
                    [--debug [--monitor]]
    hvtest.py gdb   [--run NAME] [--print] [-- GDB_ARGS...]
    hvtest.py test  [--unit BIN...] [--fuzz BIN... [--fuzz-seconds S]] [--only REGEX]
    hvtest.py unit  BIN...
    hvtest.py fuzz  [--seconds S] BIN...
    hvtest.py bench [--only REGEX]

How one run works (class Machine, in machine.py; unit binaries: unit_tests.py; libFuzzer
targets: fuzz_tests.py):
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

`run --debug` gives the Bochs machine its debugger ports: COM2 (gdbstub) and COM3
(monitor) as sockets, relayed by hvlink so that Bochs never waits for a debugger
(debug_ports.py), and prints where GDB and hvmon connect; with --monitor on a terminal,
hvmon takes the terminal (live_run.py). `gdb` attaches GDB to the newest live run.

`run --emu qemu` boots the ISO under QEMU/KVM instead (needs nested VT-x on the host; it
says in words what is missing). The console is QEMU's stdout (-serial stdio), written to
the same console.log.

`test` runs the host unit-test binaries (cmocka), then the fuzz targets (libFuzzer, all at
once, --fuzz-seconds each; a crash fails its target and names the reproducer), then every
integration scenario in tests/harness/scenarios.py, two at a time, then the command tests
(command_tests.py: `make run`, Ctrl-C, debug ports), then hvmon in tmux against a stand-in
for the monitor port (hvmon_tests.py) and against the real hypervisor in Bochs
(hvmon_live_tests.py), then hvlink against a stand-in for Bochs (hvlink_tests.py), and prints one line per test case, then as its
very last line `N passed, N failed`. `fuzz` runs only the fuzz targets (`make fuzz`).

Exit status of `run`: the hypervisor's exit status N; 124 if the run timed out, 125 if it
ended with no exit line, 128 + signal number if interrupted (130 for Ctrl-C), 2 for bad
arguments or a missing setup. `test`, `unit`, `fuzz`, `bench`: 0 if everything passed, 1 if not.

Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from pathlib import Path

from machine import (BENCH_LINE, BENCH_RESULTS, BOCHS_MODELS, DEFAULT_TABLE, EXIT_NO_STATUS, EXIT_TIMEOUT, EXIT_USAGE, ISO_DIR, Machine, PARALLEL_RUNS, QEMU, UsageError, check_bochs_setup, drive, install_signal_handlers, interrupt_status, interrupted, qemu_problems)
from unit_tests import (CaseResult, run_units)
from fuzz_tests import run_fuzzers
from command_tests import run_command_tests
from hvmon_tests import run_hvmon_tests
from hvmon_live_tests import run_hvmon_live_tests
from hvlink_tests import run_hvlink_tests
from gdb_tests import run_gdb_bench, run_gdb_tests
import live_run


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
                   cpus=scenario.cpus, megs=scenario.megs, timeout=scenario.timeout,
                   debug=getattr(scenario, "debug", False))


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

    if args.debug and args.emu != "bochs":
        print("hvtest: debug ports are for Bochs only; running without them", file=sys.stderr)
    if args.debug and args.emu == "bochs":
        live = live_run.LiveRun(monitor=args.monitor)
        m = Machine(f"run-{args.scenario}", iso, model=args.model, cpus=args.cpus,
                    megs=args.megs, timeout=args.timeout, on_line=live.on_line, debug=True)
        finished = live.run(m)
    else:
        m = Machine(f"run-{args.scenario}", iso, emu=args.emu, model=args.model,
                    cpus=args.cpus, megs=args.megs, timeout=args.timeout, on_line=show)
        finished = drive([m], 1)
    if not finished:
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
    if not interrupted() and args.fuzz:
        results += run_fuzzers(args.fuzz, args.fuzz_seconds)
    if not interrupted():
        results += run_scenarios(rows, table.NONZERO, Path(args.iso_dir), args.jobs)
    if not interrupted():
        results += run_command_tests(args.only)
    if not interrupted():
        results += run_hvmon_tests(args.only)
    if not interrupted():
        results += run_hvmon_live_tests(args.only)
    if not interrupted():
        results += run_hvlink_tests(args.only)
    if not interrupted():
        results += run_gdb_tests(args.only)
    return summary(results)


def cmd_fuzz(args) -> int:
    return summary(run_fuzzers(args.binaries, args.seconds))


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
    gdb_cases = []
    if not interrupted() and (not args.only or re.search(args.only, "gdb")):
        # GDB round trips through the gdbstub, timed by the harness (gdb_tests.py).
        gdb_cases, pairs = run_gdb_bench()
        rows_out += [("gdb", key, value) for key, value in pairs]
    table_text = format_table(("scenario", "key", "value"), rows_out)
    print(table_text)
    BENCH_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    BENCH_RESULTS.write_text(table_text + "\n")
    print(f"written to {BENCH_RESULTS}")
    return summary([case for _, _, case in results] + gdb_cases)


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
    r.add_argument("--debug", action="store_true",
                   help="COM2/COM3 as debugger ports, relayed by hvlink (Bochs only)")
    r.add_argument("--monitor", action="store_true",
                   help="with --debug on a terminal: hvmon takes the terminal")
    r.set_defaults(func=cmd_run)

    g = sub.add_parser("gdb", help="attach GDB to the newest live `make run`")
    g.add_argument("--run", metavar="NAME", help="the run directory build/runs/NAME instead")
    g.add_argument("--print", action="store_true", help="print the GDB command, run nothing")
    g.add_argument("gdb_args", nargs="*", metavar="GDB_ARGS", help="more arguments for GDB")
    g.set_defaults(func=live_run.cmd_gdb)

    t = sub.add_parser("test", help="unit tests, fuzz targets, then every integration scenario")
    t.add_argument("--unit", nargs="*", default=[], metavar="BIN", help="cmocka binaries")
    t.add_argument("--fuzz", nargs="*", default=[], metavar="BIN", help="libFuzzer binaries")
    t.add_argument("--fuzz-seconds", type=seconds, default=20, help="per fuzz target")
    t.add_argument("--jobs", type=int, default=PARALLEL_RUNS, help="scenarios at a time")
    scenarios_options(t)
    t.set_defaults(func=cmd_test)

    u = sub.add_parser("unit", help="run cmocka unit-test binaries")
    u.add_argument("binaries", nargs="*", metavar="BIN")
    u.set_defaults(func=cmd_unit)

    f = sub.add_parser("fuzz", help="run libFuzzer binaries, all at once, for a time")
    f.add_argument("--seconds", type=seconds, default=300, help="per target (default 300)")
    f.add_argument("binaries", nargs="*", metavar="BIN")
    f.set_defaults(func=cmd_fuzz)

    b = sub.add_parser("bench", help="run the benchmark scenarios, collect `bench K=V`")
    scenarios_options(b)
    b.set_defaults(func=cmd_bench)
    return p.parse_args(argv)


def cpu_count(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 8:
        raise argparse.ArgumentTypeError("must be 1 to 8")
    return n


def seconds(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
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
