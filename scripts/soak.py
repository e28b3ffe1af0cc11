#!/usr/bin/env python3
"""Memory soak under DDL churn: does a server that keeps creating and deleting tables and
global secondary indexes hold its resident memory flat?

Starts a release `stator` (on a fresh data directory, or --in-memory), then loops over a
churn cycle until the duration is up:

  CreateTable (a GSI at creation) -> BatchWriteItem --items items (~1 KB each) ->
  UpdateTable adding a second GSI, wait until it is ACTIVE (backfill) -> Query both
  GSIs, GetItem a few -> UpdateTable deleting the first GSI -> DeleteTable

with --tables tables alive at a time (a new one is created before the oldest is
deleted), so dropped-data cleanup in the background overlaps with new work. Every
--interval seconds it samples /proc/<pid>/smaps_rollup (resident, anonymous and file
pages, and pages freed with MADV_FREE that the kernel has not taken back yet), the
data directory's size and the server's thread count, and prints a row. At
the end it prints a verdict: FLAT when the resident size over the last third of the run
moved less than --tolerance MB and its trend over the last half is under --slope MB per
10 minutes; GROWING otherwise (exit status 1).

Plain HTTP (http.client, keep-alive), no third-party modules, so any python3 runs it:

  cargo build --release -p stator-server
  python3 scripts/soak.py --duration 1800 --backend disk
  python3 scripts/soak.py --duration 300 --backend memory
"""

import argparse
import http.client
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDSOAK/20261202/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.requests = 0

    def call(self, op, body, ok=(200,)):
        data = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + op,
            "X-Amz-Date": "20261202T000000Z",
            "Authorization": AUTH,
        }
        for attempt in range(3):
            try:
                self.conn.request("POST", "/", data, headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        self.requests += 1
        out = json.loads(payload) if payload else {}
        if resp.status not in ok:
            raise RuntimeError(f"{op} -> {resp.status}: {out}")
        return out


def item(i, rnd):
    return {
        "pk": {"S": f"p{i % 37}"},
        "sk": {"N": str(i)},
        "g1": {"S": f"a{i % 11}"},
        "g2": {"S": f"b{i % 13}"},
        "body": {"S": "".join(rnd.choice("abcdefghijklmnop") for _ in range(1000))},
    }


def gsi(name, attr):
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


ATTRS = [{"AttributeName": "pk", "AttributeType": "S"},
         {"AttributeName": "sk", "AttributeType": "N"},
         {"AttributeName": "g1", "AttributeType": "S"},
         {"AttributeName": "g2", "AttributeType": "S"}]


def create_and_fill(client, name, items, rnd):
    client.call("CreateTable", {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [a for a in ATTRS if a["AttributeName"] != "g2"],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [gsi("gsi1", "g1")],
    })
    for start in range(0, items, 25):
        requests = [{"PutRequest": {"Item": item(i, rnd)}}
                    for i in range(start, min(items, start + 25))]
        out = client.call("BatchWriteItem", {"RequestItems": {name: requests}})
        if out.get("UnprocessedItems"):
            raise RuntimeError("unprocessed items")
    client.call("UpdateTable", {
        "TableName": name,
        "AttributeDefinitions": ATTRS,
        "GlobalSecondaryIndexUpdates": [{"Create": gsi("gsi2", "g2")}],
    })
    deadline = time.time() + 60
    while True:
        table = client.call("DescribeTable", {"TableName": name})["Table"]
        states = {g["IndexName"]: g["IndexStatus"] for g in table.get("GlobalSecondaryIndexes", [])}
        if states.get("gsi2") == "ACTIVE":
            break
        if time.time() > deadline:
            raise RuntimeError(f"backfill of {name}.gsi2 did not finish: {states}")
        time.sleep(0.02)
    for index, attr, value in (("gsi1", "g1", "a3"), ("gsi2", "g2", "b5")):
        client.call("Query", {
            "TableName": name, "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": attr},
            "ExpressionAttributeValues": {":v": {"S": value}},
        })
    for i in range(0, items, max(1, items // 5)):
        client.call("GetItem", {"TableName": name,
                                "Key": {"pk": {"S": f"p{i % 37}"}, "sk": {"N": str(i)}}})
    client.call("UpdateTable", {
        "TableName": name,
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gsi1"}}],
    })


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
    threads = len(os.listdir(f"/proc/{pid}/task"))
    rss = fields.get("Rss", 0) / 1024
    anon = fields.get("Anonymous", 0) / 1024
    lazy = fields.get("LazyFree", 0) / 1024
    return rss, anon, rss - anon, lazy, threads


def server_pid(root, binary):
    """The pid of the stator process: `root` itself, or (under a wrapper) a descendant."""
    for _ in range(100):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        parents = {}
        for p in pids:
            try:
                with open(f"/proc/{p}/stat") as f:
                    parents[p] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
        for p in pids:
            ancestor = p
            while ancestor not in (root, 0, 1) and ancestor in parents:
                ancestor = parents[ancestor]
            if ancestor != root:
                continue
            try:
                if os.path.realpath(f"/proc/{p}/exe") == binary:
                    return p
            except OSError:
                pass
        time.sleep(0.1)
    sys.exit("cannot find the server process")


def dir_mb(path):
    if path is None:
        return 0.0
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total / 2**20


def slope_per_10min(samples):
    """Least-squares slope of RSS (MB) against time, in MB per 10 minutes."""
    if len(samples) < 2:
        return 0.0
    xs = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var * 600


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds (default 300)")
    parser.add_argument("--backend", choices=["disk", "memory"], default="disk")
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    parser.add_argument("--items", type=int, default=200, help="items per table")
    parser.add_argument("--tables", type=int, default=3, help="tables alive at a time")
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "release", "stator"))
    parser.add_argument("--data-dir", help="data directory (default: a fresh temporary one)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra argument for the server (repeatable)")
    parser.add_argument("--wrapper", default="",
                        help="command to run the server under, e.g. 'heaptrack -o /tmp/h' "
                             "(samples then follow the server process it starts)")
    parser.add_argument("--tolerance", type=float, default=8.0,
                        help="MB the RSS may move over the last third for FLAT")
    parser.add_argument("--slope", type=float, default=2.0,
                        help="MB per 10 minutes the RSS may trend over the last half for FLAT")
    args = parser.parse_args()

    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: cargo build --release -p stator-server")
    scratch = None
    cmd = [args.binary, "serve", "--host", "127.0.0.1", "--port", "0"]
    data_dir = None
    if args.backend == "memory":
        cmd.append("--in-memory")
    else:
        if args.data_dir:
            data_dir = args.data_dir
        else:
            scratch = tempfile.mkdtemp(prefix="stator-soak-")
            data_dir = os.path.join(scratch, "data")
        cmd += ["--data-dir", data_dir]
    cmd += args.server_arg
    cmd = shlex.split(args.wrapper) + cmd
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    pid = None
    # `timeout`, Ctrl-C and kill end the run through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        line = server.stdout.readline()
        while "http://" not in line:
            if not line:
                sys.exit("the server did not start")
            line = server.stdout.readline()
        port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        pid = server_pid(server.pid, os.path.realpath(args.binary))
        client = Client(port)
        rnd = random.Random(7)
        print(f"soak: {args.backend} backend, pid {pid}, port {port}, "
              f"{args.duration:.0f} s, {args.items} items per table, {args.tables} tables alive")
        print(f"{'t (s)':>7} {'cycles':>7} {'req/s':>7} {'RSS MB':>8} {'anon MB':>8} "
              f"{'file MB':>8} {'lazyfree':>8} {'threads':>7} {'data MB':>8}")
        started = time.time()
        samples = []
        cycles = 0
        alive = []
        last = (started, 0)

        def sample():
            nonlocal last
            now = time.time()
            rss, anon, file_mb, lazy, threads = memory(pid)
            rate = (client.requests - last[1]) / max(now - last[0], 1e-9)
            last = (now, client.requests)
            samples.append((now - started, rss))
            print(f"{now - started:7.0f} {cycles:7d} {rate:7.0f} {rss:8.1f} {anon:8.1f} "
                  f"{file_mb:8.1f} {lazy:8.1f} {threads:7d} {dir_mb(data_dir):8.1f}", flush=True)

        sample()
        next_sample = started + args.interval
        while time.time() - started < args.duration:
            name = f"churn-{cycles:06d}"
            create_and_fill(client, name, args.items, rnd)
            alive.append(name)
            if len(alive) > args.tables:
                client.call("DeleteTable", {"TableName": alive.pop(0)})
            cycles += 1
            if time.time() >= next_sample:
                sample()
                next_sample += args.interval
        for name in alive:
            client.call("DeleteTable", {"TableName": name})
        time.sleep(min(args.interval, 10))
        sample()

        total = samples[-1][0]
        last_third = [s for s in samples if s[0] >= total * 2 / 3]
        last_half = [s for s in samples if s[0] >= total / 2]
        spread = max(s[1] for s in last_third) - min(s[1] for s in last_third)
        trend = slope_per_10min(last_half)
        flat = spread <= args.tolerance and trend <= args.slope
        print(f"cycles {cycles}, requests {client.requests}, RSS first {samples[0][1]:.1f} MB, "
              f"peak {max(s[1] for s in samples):.1f} MB, last {samples[-1][1]:.1f} MB")
        print(f"last third moved {spread:.1f} MB (tolerance {args.tolerance}), "
              f"last half trend {trend:+.2f} MB/10 min (limit {args.slope})")
        print("verdict: " + ("FLAT" if flat else "GROWING"))
        return 0 if flat else 1
    finally:
        # The server itself, not a wrapper that might leave it running.
        try:
            os.kill(pid if pid else server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
