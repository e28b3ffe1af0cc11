"""Plumbing shared by the cross-client tests: starting and stopping the real `stator` binary
(or finding the shared endpoint named by STATOR_ENDPOINT), building boto3 clients and AWS CLI
invocations aimed at it, sending raw HTTP requests, unique names, and the small helpers the
test files share (error codes, reads, waits, threads).

Servers started here listen on 127.0.0.1 only; nothing reaches AWS. With STATOR_ENDPOINT
the suite talks to that endpoint instead (see docs/testing.md).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"

REGION = "us-east-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TARGET_PREFIX = "DynamoDB_20120810."

# How long the server may take to print its listening line, and to stop after SIGTERM.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

LISTENING_RE = re.compile(r"^Stator listening on (http://[^\s]+) \(data (.*)\)$")

# The environment variable that points the suite at a running server ("endpoint mode").
ENDPOINT_VAR = "STATOR_ENDPOINT"
ENDPOINT_RE = re.compile(r"^http://[^/:\s]+(:\d+)$|^http://\[[0-9a-fA-F:]+\](:\d+)$")


def shared_endpoint() -> str | None:
    """The endpoint named by STATOR_ENDPOINT (http://HOST:PORT), or None when the suite starts
    its own servers. A malformed value is an error, not a reason to test something else."""
    value = os.environ.get(ENDPOINT_VAR, "").strip().rstrip("/")
    if not value:
        return None
    if not ENDPOINT_RE.match(value):
        raise RuntimeError(f"{ENDPOINT_VAR}={value!r}: expected http://HOST:PORT")
    return value


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


def find_stator_binary() -> Path:
    """The binary named by STATOR_BIN, else target/debug/stator (built with cargo if missing)."""
    configured = os.environ.get("STATOR_BIN")
    if configured:
        path = Path(configured)
        if not path.is_absolute():
            path = REPO_ROOT / path
        if not path.is_file():
            raise RuntimeError(f"STATOR_BIN={configured} does not name a file")
        return path
    path = REPO_ROOT / "target" / "debug" / "stator"
    if not path.is_file():
        cargo = shutil.which("cargo")
        if cargo is None:
            raise RuntimeError(f"{path} is missing and cargo is not on PATH to build it")
        subprocess.run(
            [cargo, "build", "-p", "stator-server", "--bin", "stator"],
            cwd=REPO_ROOT,
            check=True,
        )
    return path


class StatorServer:
    """One `stator serve` process on an ephemeral port.

    stdout and stderr go to files (not pipes), so a chatty server can never block on a full
    pipe; the first stdout line tells the port.
    """

    def __init__(self, binary: Path, *, data_dir: Path | None = None, in_memory: bool = False,
                 log_dir: Path | None = None, extra_args: list[str] | None = None):
        if data_dir is None and not in_memory:
            raise ValueError("a server needs a data_dir unless it is in memory")
        self.binary = binary
        self.data_dir = data_dir
        self.in_memory = in_memory
        self.extra_args = list(extra_args or [])
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="stator-log-"))
        self.process: subprocess.Popen | None = None
        self.endpoint: str = ""
        self.port: int = 0
        self.storage_description: str = ""
        self._stdout_path = self.log_dir / "stdout.log"
        self._stderr_path = self.log_dir / "stderr.log"

    def command(self) -> list[str]:
        cmd = [str(self.binary), "serve", "--port", "0", "--host", "127.0.0.1"]
        if self.in_memory:
            cmd.append("--in-memory")
        else:
            cmd += ["--data-dir", str(self.data_dir)]
        return cmd + self.extra_args

    def start(self) -> "StatorServer":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stdout = open(self._stdout_path, "wb")
        stderr = open(self._stderr_path, "wb")
        try:
            self.process = subprocess.Popen(
                self.command(), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                cwd=self.log_dir,
            )
        finally:
            stdout.close()
            stderr.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            text = self._stdout_path.read_text(errors="replace")
            if "\n" in text:
                first = text.split("\n", 1)[0].strip()
                match = LISTENING_RE.match(first)
                if not match:
                    self.kill()
                    raise RuntimeError(f"unexpected first line from stator: {first!r}\n"
                                       f"stderr: {self.stderr()}")
                self.endpoint = match.group(1)
                self.storage_description = match.group(2)
                self.port = urllib.parse.urlsplit(self.endpoint).port or 0
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"stator exited with {self.process.returncode} before "
                                   f"listening; stderr: {self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"stator printed no listening line in {START_TIMEOUT_S} s; "
                                   f"stderr: {self.stderr()}")
            time.sleep(0.01)

    def stdout(self) -> str:
        return self._stdout_path.read_text(errors="replace") if self._stdout_path.exists() else ""

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace") if self._stderr_path.exists() else ""

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, wait, SIGKILL if it did not stop. Returns the exit code (None if killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


def client_config(**overrides: Any) -> botocore.config.Config:
    """botocore settings for the tests.

    Retries: the legacy mode with a single attempt, so every error surfaces at once, and so
    botocore's DynamoDB CRC-32 check raises `ChecksumError` on a mismatch. (In legacy mode the
    check is part of the retry handler and raises on the last attempt; in standard mode a
    mismatch only causes a retry.) So every boto3 call in this suite also verifies the
    server's x-amz-crc32 header against the body.
    """
    settings: dict[str, Any] = {
        "retries": {"mode": "legacy", "total_max_attempts": 1},
        "connect_timeout": 5,
        "read_timeout": 60,
        "parameter_validation": True,
    }
    settings.update(overrides)
    return botocore.config.Config(**settings)


def boto3_session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


def make_client(endpoint: str, config: botocore.config.Config | None = None):
    return boto3_session().client("dynamodb", endpoint_url=endpoint,
                                  config=config or client_config())


def make_resource(endpoint: str, config: botocore.config.Config | None = None):
    return boto3_session().resource("dynamodb", endpoint_url=endpoint,
                                    config=config or client_config())


def isolated_aws_environment() -> dict[str, str]:
    """An environment with dummy credentials and no user AWS configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_RETRY_MODE": "legacy",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


@dataclass
class CliResult:
    returncode: int
    output: Any  # parsed JSON, or the raw stdout text when it is not JSON, or None when empty
    stderr: str

    def __iter__(self):
        return iter((self.returncode, self.output, self.stderr))


def run_aws_cli(endpoint: str, *args: str, timeout: float = 60.0) -> CliResult:
    """Runs `.venv/bin/aws dynamodb ARGS --endpoint-url ENDPOINT --output json`."""
    aws = VENV_BIN / "aws"
    if not aws.exists():
        raise RuntimeError(f"{aws} is missing: run scripts/setup-test-env.sh")
    cmd = [str(aws), "dynamodb", *args, "--endpoint-url", endpoint, "--output", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=isolated_aws_environment(), stdin=subprocess.DEVNULL)
    out: Any = proc.stdout
    if not out.strip():
        out = None
    else:
        try:
            out = json.loads(out)
        except json.JSONDecodeError:
            pass
    return CliResult(proc.returncode, out, proc.stderr)


# --------------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def error_type(self) -> str:
        """The part of __type after '#', as SDKs read it."""
        return self.json()["__type"].rsplit("#", 1)[-1]


def sigv4_headers(endpoint: str, body: bytes, target: str | None,
                  extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers of a properly SigV4-signed DynamoDB request (as botocore would sign it)."""
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        headers["X-Amz-Target"] = target
    if extra:
        headers.update(extra)
    request = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=body,
                                             headers=headers)
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
    botocore.auth.SigV4Auth(credentials, "dynamodb", REGION).add_auth(request)
    return dict(request.headers.items())


def raw_request(endpoint: str, body: bytes | str | dict | None = None, *,
                target: str | None = None, operation: str | None = None,
                headers: Mapping[str, str] | None = None, sign: bool = True,
                method: str = "POST", path: str = "/", timeout: float = 30.0) -> RawResponse:
    """Sends one HTTP request with http.client and returns status, headers and body.

    `operation` is shorthand for `target=DynamoDB_20120810.<operation>`; a dict body is sent
    as JSON. With sign=False no Authorization header is added (only `headers`).
    """
    if operation is not None:
        target = TARGET_PREFIX + operation
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    elif body is None:
        body = b""
    if sign and method == "POST":
        all_headers = sigv4_headers(endpoint, body, target, headers)
    else:
        all_headers = {"Content-Type": "application/x-amz-json-1.0"}
        if target is not None:
            all_headers["X-Amz-Target"] = target
        all_headers.update(headers or {})
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body if method != "GET" else None, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return RawResponse(response.status, response.headers, data)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Names and sizes
# --------------------------------------------------------------------------------------------

_counter = itertools.count(1)
# Six random hex digits per process: on a shared endpoint, runs on other machines (whose pids
# may repeat ours) create tables side by side with ours.
RUN_ID = f"{os.getpid()}{secrets.token_hex(3)}"


def unique_table_name(hint: str) -> str:
    """A table name (or any server-wide name) unique to this call: the test's hint, this
    process's run id, a counter."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", hint)[:180]
    return f"xc_{cleaned}_{RUN_ID}_{next(_counter)}"


def item_size_of_strings(item: Mapping[str, str]) -> int:
    """DynamoDB's size of an item whose attributes are all strings: UTF-8 name + value bytes."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in item.items())


# --------------------------------------------------------------------------------------------
# Small helpers of the test files
# --------------------------------------------------------------------------------------------


def error_of(excinfo) -> tuple[str, str]:
    """The DynamoDB error code and message of a `pytest.raises(ClientError)` result."""
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def status_of(excinfo) -> int:
    """The HTTP status of a `pytest.raises(ClientError)` result."""
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def get_item(ddb, table: str, pk: str):
    """The item with string partition key `pk` (strongly consistent), or None."""
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def wait_table_active(ddb, name: str) -> None:
    # The waiter's first DescribeTable is immediate, so an ACTIVE table costs no sleep.
    ddb.get_waiter("table_exists").wait(TableName=name,
                                        WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def wait_index_active(ddb, table: str, index: str, timeout: float = 30.0) -> None:
    """Polls DescribeTable until the global secondary index `index` is ACTIVE; fails with
    its last status after `timeout` seconds (a backfill that never ends is a failure)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        indexes = ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        status = next((i["IndexStatus"] for i in indexes if i["IndexName"] == index), None)
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise AssertionError(f"index {index} of {table} still {status} after {timeout} s")


def wait_table_gone(ddb, name: str) -> None:
    ddb.get_waiter("table_not_exists").wait(TableName=name,
                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def run_threads(count: int, target: Callable[[int], None], timeout: float) -> None:
    """Runs target(0) … target(count - 1) on threads at once; fails if one raised or is still
    running after `timeout` seconds."""
    errors: list[BaseException] = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors
