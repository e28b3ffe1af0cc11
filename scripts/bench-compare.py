#!/usr/bin/env python3
"""Side-by-side benchmark of Stator and the other DynamoDB implementations on this machine.

    python3 scripts/bench-compare.py            # the documented command (docs/benchmarks.md)

What it does, in order:
 1. builds Stator and the `bench` driver (release) and installs the peers, pinned, into
    .bench/peers/ from the registries: Dynoxide (crates.io), dynalite (npm), moto (PyPI);
 2. starts every server on 127.0.0.1 with a free port, pinned to one core (`taskset`),
    timing process start to the first answered ListTables (median of 3 starts) and
    reading idle RSS; starts the `{}` ceiling server (`bench ceiling-server`) the same way;
 3. loads every server with the same data (`bench run load`: 100,000 1 KB items, 100
    query partitions of 100 items of ~100 bytes, 100 of 100 ~1 KB items of 14 attributes and
    100 of 100 ~1 KB items of 4 attributes) and reads RSS after loading;
 4. runs each workload against each server in turn (workload-major, so slow drift of the
    machine touches every server alike), the driver pinned to the other core, and
    records throughput, latency percentiles and operations per second of *server* CPU;
 5. for Stator only, Query latency at 1 connection with 10 thousand and then 1 million
    items in the query table;
 6. writes the tables into docs/benchmarks.md (between the compare markers) and the raw
    JSON lines into docs/bench-results/<date>.jsonl.

With --baseline-bin PATH (a `stator` binary of an earlier commit) it also runs that binary
as `stator-memory-before` and `stator-disk-before`, with the same flags, each next to its
current counterpart in every workload round, and adds a "Before and after" section. With
--rounds N the workload rounds of Stator and the baseline run N times (every other round in
reverse order) and each row reports its median round, with every round's value beside it:
one 5-second run varies by ±5-8% on a shared VM, more than the 3% a regression check must
resolve.

Options shorten or narrow a run (see --help); the documented numbers use the defaults.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, ".bench", "peers")
BENCH = os.path.join(ROOT, "target", "release", "bench")
STATOR = os.path.join(ROOT, "target", "release", "stator")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
RESULTS_DIR = os.path.join(ROOT, "docs", "bench-results")
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"

DYNOXIDE_VERSION = "3.2.0"
DYNALITE_VERSION = "4.0.0"
MOTO_VERSION = "5.2.5"

DYNOXIDE = os.path.join(PEERS, "dynoxide", "bin", "dynoxide")
DYNALITE_CLI = os.path.join(PEERS, "dynalite", "node_modules", "dynalite", "cli.js")
MOTO = os.path.join(PEERS, "moto-venv", "bin", "moto_server")

WORKLOADS = ["put", "get", "update", "query", "query-1kb", "query-1kb-flat", "scan", "batch-write",
             "transact", "mixed"]
# Like-for-like pairs for the targets: (Stator server, Dynoxide server).
PAIRS = [("stator-memory", "dynoxide-memory"), ("stator-disk", "dynoxide-file")]
TARGET_RATIOS = {"put": 5.0, "get": 3.0, "query": 5.0, "query-1kb": 6.0, "query-1kb-flat": 6.0,
                 "mixed": 4.0}
# Stator servers that run the --baseline-bin binary, and the current server each mirrors.
BEFORE = {"stator-memory-before": "stator-memory", "stator-disk-before": "stator-disk"}
# A workload whose after÷before falls below this is marked slower in the report.
SLOWER_BELOW = 0.97
# Which Stator a peer is compared with: the one with the same kind of storage.
SAME_KIND = {
    "stator-memory": "stator-memory",
    "stator-disk": "stator-disk",
    "stator-memory-before": "stator-memory",
    "stator-disk-before": "stator-disk",
    "dynoxide-memory": "stator-memory",
    "dynoxide-file": "stator-disk",
    "dynalite": "stator-memory",
    "moto": "stator-memory",
}

LIST_TABLES = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20261121T000000Z\r\n"
    b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/20261121/us-east-1/dynamodb/"
    b"aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


def log(msg):
    print(msg, flush=True)


def sh(cmd, **kw):
    log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def output(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


# ---------------------------------------------------------------------------- setup


def build():
    sh(["cargo", "build", "--release", "--locked", "-p", "stator-server", "-p", "stator-bench"],
       cwd=ROOT)


def install_peers(names):
    os.makedirs(PEERS, exist_ok=True)
    if any(n.startswith("dynoxide") for n in names) and not os.path.exists(DYNOXIDE):
        sh(["cargo", "install", "dynoxide-rs", "--version", DYNOXIDE_VERSION, "--locked",
            "--root", os.path.join(PEERS, "dynoxide")])
    if "dynalite" in names and not os.path.exists(DYNALITE_CLI):
        os.makedirs(os.path.join(PEERS, "dynalite"), exist_ok=True)
        sh(["npm", "install", "--no-audit", "--no-fund", f"dynalite@{DYNALITE_VERSION}"],
           cwd=os.path.join(PEERS, "dynalite"))
    if "moto" in names and not os.path.exists(MOTO):
        venv = os.path.join(PEERS, "moto-venv")
        sh([sys.executable, "-m", "venv", venv])
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", f"moto[server]=={MOTO_VERSION}"])


def versions(baseline_bin=None, baseline_label=None):
    moto = output([os.path.join(PEERS, "moto-venv", "bin", "python"), "-c",
                   "import moto; print(moto.__version__)"])
    rev = output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    found = {
        "stator": rev + ("+changes" if dirty not in ("", "?") else ""),
        "dynoxide-rs": f"{DYNOXIDE_VERSION} (its binary reports `{output([DYNOXIDE, '--version'])}`)",
        "dynalite": DYNALITE_VERSION,
        "node": output(["node", "--version"]),
        "moto": moto,
        "python": platform.python_version(),
    }
    if baseline_bin:
        found["stator-before"] = (f"{baseline_label} at " if baseline_label else "") + f"`{baseline_bin}`"
    return found


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem_gib:.0f} GiB, Linux {platform.release()}"


# ---------------------------------------------------------------------------- servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(LIST_TABLES)
            data = s.recv(32)
            return data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    """User + system CPU seconds of a process, all threads (clock ticks of 1/100 s)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(server, limit_s=120):
    """Waits until the server uses under 2% of a core over a second (a storage engine's
    flushes and compactions after a bulk load have finished), at most `limit_s`."""
    deadline = time.time() + limit_s
    before = cpu_seconds(server.proc.pid)
    while time.time() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(server.proc.pid)
        if now - before < 0.02:
            return
        before = now
    log(f"  {server.name} still busy after {limit_s} s; measuring anyway")


class Server:
    def __init__(self, name, command, pin):
        self.name = name
        self.command = command  # a function of (port, data_dir) -> argv
        self.pin = pin
        self.proc = None
        self.port = None
        self.data_dir = None

    def start(self):
        """Starts the server in a fresh data directory; returns ms to the first answer."""
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir = tempfile.mkdtemp(prefix=f"bench-{self.name}-", dir=os.path.join(ROOT, ".bench"))
        self.port = free_port()
        argv = self.command(self.port, self.data_dir)
        if self.pin is not None:
            argv = ["taskset", "-c", str(self.pin)] + argv
        started = time.perf_counter()
        # Output goes to a file: a pipe nobody reads fills up and stalls servers that log
        # every request (moto does).
        self.log_path = os.path.join(self.data_dir, "server.log")
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT,
                                         cwd=self.data_dir)
        deadline = started + 120
        while not answered(self.port):
            if self.proc.poll() is not None:
                with open(self.log_path, "rb") as f:
                    err = f.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited at start: {err}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{self.name} did not answer within 120 s")
            time.sleep(0.0005)
        return (time.perf_counter() - started) * 1000

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"


def stator_memory(binary):
    return lambda p, d: [binary, "serve", "--in-memory", "--port", str(p)]


def stator_disk(binary):
    return lambda p, d: [binary, "serve", "--data-dir", os.path.join(d, "data"), "--port", str(p)]


def servers(pin, baseline_bin=None):
    found = {
        "stator-memory": Server("stator-memory", stator_memory(STATOR), pin),
        "stator-disk": Server("stator-disk", stator_disk(STATOR), pin),
        "dynoxide-memory": Server("dynoxide-memory", lambda p, d: [DYNOXIDE, "serve", "--port", str(p), "--log", "quiet"], pin),
        "dynoxide-file": Server("dynoxide-file", lambda p, d: [DYNOXIDE, "serve", "--port", str(p), "--log", "quiet", "--db-path", os.path.join(d, "db.sqlite")], pin),
        "dynalite": Server("dynalite", lambda p, d: ["node", DYNALITE_CLI, "--host", "127.0.0.1", "--port", str(p), "--createTableMs", "0"], pin),
        "moto": Server("moto", lambda p, d: [MOTO, "-H", "127.0.0.1", "-p", str(p)], pin),
    }
    if baseline_bin:
        found["stator-memory-before"] = Server("stator-memory-before", stator_memory(baseline_bin), pin)
        found["stator-disk-before"] = Server("stator-disk-before", stator_disk(baseline_bin), pin)
    return found


def with_before(names):
    """The server list with each Stator's -before twin right after it (unless listed), so
    that a workload round measures the two back to back."""
    out = []
    for n in names:
        if n in out:
            continue
        out.append(n)
        twin = n + "-before"
        if twin in BEFORE and twin not in names:
            out.append(twin)
    return out


# ---------------------------------------------------------------------------- driver


def drive(server, workload, args, pin, **extra):
    opts = {"connections": args.connections, "duration": args.duration, "warmup": args.warmup,
            "items": args.items, "partitions": args.partitions}
    opts.update(extra)
    argv = [BENCH, "run", workload, "--endpoint", server.endpoint, "--label", server.name,
            "--server-pid", str(server.proc.pid), "--json",
            "-c", str(opts["connections"]), "-d", str(opts["duration"]),
            "--warmup", str(opts["warmup"]), "--items", str(opts["items"]),
            "--partitions", str(opts["partitions"])]
    if "partitions_1kb" in opts:
        argv += ["--partitions-1kb", str(opts["partitions_1kb"])]
    if pin is not None:
        argv = ["taskset", "-c", str(pin)] + argv
    done = subprocess.run(argv, capture_output=True, text=True)
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"bench {workload} on {server.name} failed: {done.stderr.strip()}")
    result = json.loads(lines[-1])
    status = "ok" if result["errors"] == 0 else f"FAILED ({result['errors']} errors: {result['first_error']})"
    per_cpu = result.get("ops_per_server_cpu_s") or 0
    log(f"  {workload:<14} {server.name:<16} {result['ops_per_s']:>10.0f} ops/s "
        f"{per_cpu:>10.0f} ops/server-cpu-s  p50 {result['p50_us']} µs  p99 {result['p99_us']} µs  {status}")
    return result


# ---------------------------------------------------------------------------- report


def median_run(results):
    """The run with the median operations per server-CPU-second (the lower middle one of an
    even count), carrying every round's value in `round_values`. A failed run counts as
    the slowest."""
    ranked = sorted(results, key=lambda r: (not r["errors"], r.get("ops_per_server_cpu_s") or 0))
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    chosen["round_values"] = [r.get("ops_per_server_cpu_s") if not r["errors"] else None
                              for r in results]
    return chosen


def fmt_int(v):
    return "—" if v is None else f"{v:,.0f}"


def fmt_ratio(v):
    return "—" if v is None else f"{v:.1f}×"


def per_cpu(results, server, workload):
    r = results.get((server, workload))
    if not r or r["errors"]:
        return None
    return r.get("ops_per_server_cpu_s")


def render(meta, startup, runs, flat, names, args):
    out = []
    out.append(f"Run of {meta['date']} on {meta['machine']}; driver pinned to core {meta['driver_core']}, "
               f"servers to core {meta['server_core']}; {args.connections} connections, "
               f"{args.duration:g} s per run after {args.warmup:g} s warm-up; "
               f"{args.items:,} items of 1 KB and {args.partitions} query partitions of 100 items.")
    out.append("")
    out.append("Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".")
    out.append("")
    out.append("Command: `" + meta["command"] + "`")
    out.append("")
    out.append("### Operations per second of server CPU")
    out.append("")
    out.append("Requests completed per second of CPU time used by the server process (all threads, user + "
               "system), so other load on the machine does not distort the comparison. "
               "`batch-write` is 25 items per request, `transact` 4, `query` returns 100 items of ~100 bytes, "
               "`query-1kb` 100 items of ~1 KB in 14 attributes (a ~100 KB page), `query-1kb-flat` "
               "100 items of ~1 KB mostly in one string (4 attributes), `scan` one 1 MB page.")
    out.append("")
    out.append("| workload | " + " | ".join(names) + " |")
    out.append("| --- |" + " ---: |" * len(names))
    for w in WORKLOADS:
        cells = []
        for n in names:
            r = runs.get((n, w))
            if r is None:
                cells.append("—")
            elif r["errors"]:
                cells.append("error")
            elif not r["requests"]:
                cells.append("0")
            else:
                cells.append(fmt_int(r.get("ops_per_server_cpu_s")))
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    if "ceiling" in runs:
        c = runs["ceiling"]
        out.append("")
        out.append(f"`{{}}` ceiling server (hyper, same stack, answers `{{}}`): "
                   f"{fmt_int(c.get('ops_per_server_cpu_s'))} requests per server-CPU-second "
                   f"({fmt_int(c['ops_per_s'])} /s wall).")
    if "ceiling-raw" in runs:
        c = runs["ceiling-raw"]
        out.append("")
        out.append(f"Raw `{{}}` ceiling (no HTTP library: httparse and one fixed answer per request, "
                   f"`bench ceiling-server --raw`): "
                   f"{fmt_int(c.get('ops_per_server_cpu_s'))} requests per server-CPU-second "
                   f"({fmt_int(c['ops_per_s'])} /s wall).")
    out.append("")
    out.append("### Throughput and latency")
    out.append("")
    out.append("Wall-clock throughput depends on what else runs on the machine; the ratio column compares "
               "operations per server-CPU-second with the Stator of the same storage kind "
               "(in memory: Dynoxide in memory, dynalite, moto; on disk: Dynoxide file-backed).")
    out.append("")
    out.append("| workload | server | ops/s | ops per server-CPU-s | p50 µs | p99 µs | p99.9 µs | Stator ÷ this |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in WORKLOADS:
        for n in names:
            r = runs.get((n, w))
            if r is None:
                continue
            if r["errors"]:
                why = (r.get("first_error") or "").replace("|", "/")[:90]
                out.append(f"| {w} | {n} | error: `{why}` | | | | | |")
                continue
            if not r["requests"]:
                out.append(f"| {w} | {n} | no request completed in {r['seconds']:.0f} s | | | | | |")
                continue
            mine = per_cpu(runs, SAME_KIND[n], w)
            theirs = r.get("ops_per_server_cpu_s")
            ratio = mine / theirs if mine and theirs else None
            out.append(f"| {w} | {n} | {fmt_int(r['ops_per_s'])} | {fmt_int(theirs)} | {r['p50_us']:,} | "
                       f"{r['p99_us']:,} | {r['p999_us']:,} | {fmt_ratio(ratio)} |")
    if any(n in BEFORE for n in names):
        out.extend(before_and_after(runs, names, meta))
    out.append("")
    out.append("### Start-up and memory")
    out.append("")
    out.append("| server | start → first answer (ms, median of 3) | idle RSS (MiB) | RSS after loading (MiB) |")
    out.append("| --- | ---: | ---: | ---: |")
    for n in names:
        s = startup.get(n)
        if s:
            out.append(f"| {n} | {s['start_ms']:.1f} | {s['idle_rss']:.1f} | {s['loaded_rss']:.1f} |")
    if flat:
        out.append("")
        out.append("### Query latency as the table grows (Stator, 1 connection)")
        out.append("")
        out.append("Each step is measured once the server is idle again after its load (its flushes and "
                   "compactions done), so the numbers show the table's size, not a compaction running "
                   "on the same core.")
        out.append("")
        out.append("| server | items in table | p50 µs | p90 µs | p99 µs | p50 vs 10k |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for n, rows in flat.items():
            base = rows[0][1]["p50_us"] or 1
            for items, r in rows:
                out.append(f"| {n} | {items:,} | {r['p50_us']} | {r['p90_us']} | {r['p99_us']} | "
                           f"{r['p50_us'] / base:.2f} |")
    out.append("")
    out.append("### Targets")
    out.append("")
    out.append("| target | measured | met |")
    out.append("| --- | --- | --- |")
    for line in targets(startup, runs, flat):
        out.append(line)
    return "\n".join(out)


def rounds_of(runs, server, workload):
    """Every round's value of a row, in thousands, for the before/after table."""
    values = runs.get((server, workload), {}).get("round_values") or []
    return " ".join("err" if v is None else f"{v / 1000:.1f}k" for v in values)


def before_and_after(runs, names, meta):
    """Per workload and storage kind: the baseline binary against the current one."""
    out = ["", "### Before and after", "",
           f"Before: the baseline binary, {meta['versions'].get('stator-before', '?')}; after: "
           f"this build, {meta['versions']['stator']}; the same flags, measured back to back in every "
           f"workload round; each row is the median of its rounds (all listed, in thousands). "
           f"Operations per server-CPU-second; a workload more than "
           f"{1 - SLOWER_BELOW:.0%} slower after is marked.",
           "", "| workload | storage | before | after | after ÷ before | | rounds before / after |",
           "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for w in WORKLOADS:
        for before, after in BEFORE.items():
            if before not in names or after not in names:
                continue
            if (before, w) not in runs and (after, w) not in runs:
                continue
            b, a = per_cpu(runs, before, w), per_cpu(runs, after, w)
            kind = after.removeprefix("stator-")
            if a and b:
                ratio = a / b
                mark = f"**{1 - ratio:.1%} slower**" if ratio < SLOWER_BELOW else ""
                out.append(f"| {w} | {kind} | {fmt_int(b)} | {fmt_int(a)} | {ratio:.3f} | {mark} | "
                           f"{rounds_of(runs, before, w)} / {rounds_of(runs, after, w)} |")
            else:
                out.append(f"| {w} | {kind} | {fmt_int(b) if b else 'error'} | "
                           f"{fmt_int(a) if a else 'error'} | — | | |")
    return out


def targets(startup, runs, flat):
    rows = []

    def row(name, measured, ok):
        rows.append(f"| {name} | {measured} | {'yes' if ok else '**no**'} |")

    for w, want in TARGET_RATIOS.items():
        for mine, theirs in PAIRS:
            a, b = per_cpu(runs, mine, w), per_cpu(runs, theirs, w)
            if a and b:
                row(f"{w}: {mine} ≥ {want:g}× {theirs}", f"{a / b:.1f}× ({fmt_int(a)} vs {fmt_int(b)})",
                    a / b >= want)
    for mine in ("stator-memory", "stator-disk"):
        g = per_cpu(runs, mine, "get")
        if g:
            ceiling = runs.get("ceiling", {}).get("ops_per_server_cpu_s")
            frac = f"; {g / ceiling:.0%} of the `{{}}` ceiling ({fmt_int(ceiling)})" if ceiling else ""
            raw_ceiling = runs.get("ceiling-raw", {}).get("ops_per_server_cpu_s")
            if raw_ceiling:
                frac += f", {g / raw_ceiling:.0%} of the raw one ({fmt_int(raw_ceiling)})"
            row(f"get ≥ 100,000 per server-core-second ({mine})", f"{fmt_int(g)}{frac}", g >= 100_000)
    for mine in ("stator-memory", "stator-disk"):
        for w in ("get", "put"):
            r = runs.get((mine, w, "latency"))
            if r:
                row(f"{w} p99 < 1 ms at 4 connections ({mine})", f"{r['p99_us']} µs", r["p99_us"] < 1000 and not r["errors"])
    for mine in ("stator-memory", "stator-disk"):
        s = startup.get(mine)
        if s:
            row(f"start-up < 20 ms ({mine})", f"{s['start_ms']:.1f} ms", s["start_ms"] < 20)
            row(f"idle RSS < 15 MB ({mine})", f"{s['idle_rss']:.1f} MiB", s["idle_rss"] < 15)
    s = startup.get("stator-disk")
    if s:
        row("RSS after 100k 1 KB items < 150 MB (stator-disk)", f"{s['loaded_rss']:.1f} MiB", s["loaded_rss"] < 150)
    for n, rows_ in (flat or {}).items():
        base, last = rows_[0][1], rows_[-1][1]
        if base["p50_us"]:
            g = last["p50_us"] / base["p50_us"]
            row(f"Query p50 flat within 20% from {rows_[0][0]:,} to {rows_[-1][0]:,} items ({n})",
                f"{base['p50_us']} → {last['p50_us']} µs ({g:.2f}×)", g <= 1.2)
    return rows


def write_doc(text):
    with open(DOC) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = head + BEGIN + "\n" + text + "\n" + END + tail
    else:
        doc = doc.rstrip("\n") + "\n\n" + BEGIN + "\n" + text + "\n" + END + "\n"
    with open(DOC, "w") as f:
        f.write(doc)


# ---------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="stator-memory,stator-disk,dynoxide-memory,dynoxide-file,dynalite,moto")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=100)
    ap.add_argument("--flat-partitions", type=int, default=10_000,
                    help="query partitions for the large step of the Query latency check (0 skips it)")
    ap.add_argument("--baseline-bin", metavar="PATH",
                    help="a stator binary of an earlier commit: also run it as stator-memory-before and "
                         "stator-disk-before, next to the current ones, and report before and after")
    ap.add_argument("--baseline-label", metavar="TEXT",
                    help="what the baseline binary is, for the report (for example its commit)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the workload rounds of Stator (and the baseline) this many times "
                         "and report each row's median round (peers run once)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print the tables instead of writing docs")
    args = ap.parse_args()

    names = [n for n in args.servers.split(",") if n]
    if args.baseline_bin:
        args.baseline_bin = os.path.abspath(args.baseline_bin)
        if not os.access(args.baseline_bin, os.X_OK):
            sys.exit(f"--baseline-bin: not an executable file: {args.baseline_bin}")
        names = with_before(names)
    elif any(n in BEFORE for n in names):
        sys.exit(f"{', '.join(n for n in names if n in BEFORE)} need --baseline-bin")
    workloads = [w for w in args.workloads.split(",") if w]
    cores = os.cpu_count() or 1
    driver_core, server_core = (0, 1) if cores >= 2 and shutil.which("taskset") else (None, None)

    if not args.no_build:
        build()
    install_peers(names)
    all_servers = servers(server_core, args.baseline_bin)
    unknown = [n for n in names if n not in all_servers]
    if unknown:
        sys.exit(f"unknown servers: {unknown}")
    chosen = [all_servers[n] for n in names]
    ceiling = Server("ceiling", lambda p, d: [BENCH, "ceiling-server", "--port", str(p)], server_core)
    ceiling_raw = Server("ceiling-raw", lambda p, d: [BENCH, "ceiling-server", "--raw", "--port", str(p)],
                         server_core)
    meta = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions(args.baseline_bin, args.baseline_label),
        "driver_core": driver_core,
        "server_core": server_core,
        "command": "python3 scripts/bench-compare.py" + ("" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])),
    }
    startup, runs, flat = {}, {}, {}
    raw = []
    try:
        log("== start-up and idle memory")
        for s in chosen:
            times = []
            for i in range(3):
                if i:
                    s.stop()
                times.append(s.start())
            time.sleep(1.0)
            startup[s.name] = {"start_ms": statistics.median(times), "idle_rss": rss_mib(s.proc.pid)}
            log(f"  {s.name:<16} start {startup[s.name]['start_ms']:.1f} ms, idle RSS {startup[s.name]['idle_rss']:.1f} MiB")
        ceiling.start()
        ceiling_raw.start()

        log("== load")
        for s in chosen:
            r = drive(s, "load", args, driver_core, connections=8)
            raw.append(r)
            if r["errors"]:
                raise RuntimeError(f"loading {s.name} failed: {r['first_error']}")
            time.sleep(1.0)
            startup[s.name]["loaded_rss"] = rss_mib(s.proc.pid)
            log(f"  {s.name:<16} RSS after loading {startup[s.name]['loaded_rss']:.1f} MiB")

        log("== workloads")
        # Round 0 runs every server; later rounds (--rounds) only Stator's and the
        # baseline's, in reverse order every other round, so that before and after take
        # turns at going first. Each row then reports the median round.
        measured = {}
        for rnd in range(args.rounds):
            if args.rounds > 1:
                log(f"-- round {rnd + 1} of {args.rounds}")
            order = chosen if rnd == 0 else [s for s in chosen if s.name.startswith("stator")]
            if rnd % 2 == 1:
                order = list(reversed(order))
            for w in workloads:
                for s in order:
                    r = drive(s, w, args, driver_core)
                    r["round"] = rnd + 1
                    raw.append(r)
                    measured.setdefault((s.name, w), []).append(r)
                if w == "get" and rnd == 0:
                    for c in (ceiling, ceiling_raw):
                        r = drive(c, "ping", args, driver_core)
                        r["label"] = c.name
                        raw.append(r)
                        runs[c.name] = r
        for key, results in measured.items():
            runs[key] = median_run(results)

        # The latency and table-growth checks are targets of the current Stator only; the
        # baseline binary takes part in the workload rounds above.
        log("== latency at 4 connections")
        for s in chosen:
            if s.name.startswith("stator") and s.name not in BEFORE:
                for w in ("get", "put"):
                    r = drive(s, w, args, driver_core, connections=4)
                    r["purpose"] = "latency"
                    raw.append(r)
                    runs[(s.name, w, "latency")] = r

        if args.flat_partitions:
            log("== Query latency as the table grows (Stator)")
            for s in chosen:
                if not s.name.startswith("stator") or s.name in BEFORE:
                    continue
                rows = []
                for parts in (args.partitions, args.flat_partitions):
                    if parts != args.partitions:
                        # partitions_1kb=0: only `bench_query` grows; both 1 KB query tables
                        # are left alone.
                        r = drive(s, "load", args, driver_core, connections=8, items=0, partitions=parts,
                                  partitions_1kb=0)
                        raw.append(r)
                    # Latency of the table at rest: after a bulk load the disk backend
                    # flushes and compacts for a while on the same pinned core.
                    wait_until_idle(s)
                    r = drive(s, "query", args, driver_core, connections=1, partitions=parts)
                    r["purpose"] = "flat"
                    raw.append(r)
                    rows.append((parts * 100, r))
                flat[s.name] = rows
    finally:
        for s in chosen + [ceiling, ceiling_raw]:
            s.cleanup()

    text = render(meta, startup, runs, flat, names, args)
    if args.no_write:
        print(text)
        return
    write_doc(text)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{meta['date']}.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps({"meta": meta, "startup": startup}) + "\n")
        for r in raw:
            f.write(json.dumps(r) + "\n")
    log(f"wrote {DOC} and {path}")


if __name__ == "__main__":
    main()
