#!/usr/bin/env python3
"""A/B of two Stator binaries: the regression check of docs/benchmarks.md.

    python3 scripts/bench-ab.py --before /path/to/old/stator [--after target/release/stator]

Why a second script: bench-compare.py starts, loads and measures each server in turn, and
on a shared VM the kernel's loopback path varies by 5-10% between minutes, more than the 3%
a regression check has to resolve. Here both servers are started and loaded once and stay
alive (pinned to the same core; an idle server costs nothing), and each round measures
both builds back to back, in alternating order (`--mode interleaved`, the default), so
the two runs of a round are seconds apart and the ratio of each round is taken between
neighbours. The result is the median of the per-round ratios after ÷ before, in
operations per second of *server* CPU, with every round listed.

`--mode concurrent` drives both servers at once instead. It was tried and is kept only to
show why it is not the default: two servers time-sliced on one core spend most of their
CPU on the switching (GetItem fell from ~100k to ~34k per server-CPU-second), which hides
the difference being measured.

Steps: start both servers (fresh data directories, or both in memory), load both with the
same data (`bench run load`), wait until both are idle, then for each round and workload
run the drivers. Nothing is written to the docs; paste the printed table into
docs/benchmarks.md with the command and the date.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_compare", os.path.join(HERE, "bench-compare.py"))
bc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, metavar="PATH", help="the stator binary to compare against")
    ap.add_argument("--after", default=bc.STATOR, metavar="PATH", help="default: target/release/stator")
    ap.add_argument("--storage", choices=("memory", "disk"), default="memory")
    ap.add_argument("--workloads", default="get,put,update")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=100)
    ap.add_argument("--mode", choices=("interleaved", "concurrent"), default="interleaved")
    args = ap.parse_args()
    for path in (args.before, args.after):
        if not os.access(path, os.X_OK):
            sys.exit(f"not an executable file: {path}")
    if not os.access(bc.BENCH, os.X_OK):
        sys.exit(f"build the driver first: cargo build --release -p stator-bench ({bc.BENCH})")
    driver_core, server_core = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)
    os.makedirs(os.path.join(bc.ROOT, ".bench"), exist_ok=True)

    make = bc.stator_memory if args.storage == "memory" else bc.stator_disk
    builds = [bc.Server("before", make(os.path.abspath(args.before)), server_core),
              bc.Server("after", make(os.path.abspath(args.after)), server_core)]
    values = {}
    try:
        for s in builds:
            s.start()
        loads = run_together(builds, "load", args, driver_core, connections=8)
        for s, r in zip(builds, loads):
            if r["errors"]:
                raise RuntimeError(f"loading {s.name} failed: {r['first_error']}")
        for s in builds:
            bc.wait_until_idle(s)
        for rnd in range(args.rounds):
            bc.log(f"-- round {rnd + 1} of {args.rounds}")
            for w in args.workloads.split(","):
                if args.mode == "concurrent":
                    results = run_together(builds, w, args, driver_core)
                else:
                    order = builds if rnd % 2 == 0 else builds[::-1]
                    measured = {s.name: bc.drive(s, w, args, driver_core) for s in order}
                    results = [measured[s.name] for s in builds]
                for s, r in zip(builds, results):
                    if r["errors"]:
                        raise RuntimeError(f"{w} on {s.name}: {r['first_error']}")
                    values.setdefault((w, s.name), []).append(r["ops_per_server_cpu_s"])
                b, a = (values[(w, n)][-1] for n in ("before", "after"))
                bc.log(f"  {w:<8} before {b / 1000:6.1f}k  after {a / 1000:6.1f}k  ratio {a / b:.3f}")
    finally:
        for s in builds:
            s.cleanup()

    print()
    print(f"| workload | before ({args.storage}) | after | median of after ÷ before per round |")
    print("| --- | --- | --- | ---: |")
    for w in args.workloads.split(","):
        b, a = values[(w, "before")], values[(w, "after")]
        ratios = [x / y for x, y in zip(a, b)]
        print(f"| {w} | {' '.join(f'{v / 1000:.1f}' for v in b)}k | {' '.join(f'{v / 1000:.1f}' for v in a)}k "
              f"| {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}) |")


def run_together(builds, workload, args, pin, **extra):
    """Runs the workload's driver against every build at once; returns their results in order."""
    out = [None] * len(builds)
    errors = []

    def one(i, s):
        try:
            out[i] = bc.drive(s, workload, args, pin, **extra)
        except Exception as e:  # reported after both drivers are done
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(builds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


if __name__ == "__main__":
    try:
        main()
    except subprocess.SubprocessError as e:
        sys.exit(str(e))
