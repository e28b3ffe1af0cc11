#!/usr/bin/env python3
"""Time from process start to the first answered ListTables, over 10 restarts.

Usage: scripts/measure-startup.py target/release/stator [--data-dir DIR | --in-memory]
Prints min / median / max in milliseconds. The performance issue's benchmark will replace
this; until then it is how docs/storage.md's start-up numbers were produced.
"""
import signal
import subprocess
import sys
import time
import urllib.request

HEADERS = {
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": "AWS4-HMAC-SHA256 Credential=local/20261121/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=00",
    "X-Amz-Date": "20261121T000000Z",
}


def answered(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}", headers=HEADERS)
    try:
        return urllib.request.urlopen(req, timeout=1).status == 200
    except OSError:
        return False


def main():
    binary, args = sys.argv[1], sys.argv[2:]
    times = []
    for i in range(10):
        port = 18500 + i
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "serve", "--port", str(port)] + args,
                                stdout=subprocess.DEVNULL)
        while not answered(port):
            time.sleep(0.0005)
        times.append((time.perf_counter() - start) * 1000)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    times.sort()
    print(f"start -> first ListTables (ms): min {times[0]:.1f} "
          f"median {times[len(times) // 2]:.1f} max {times[-1]:.1f}")


if __name__ == "__main__":
    main()
