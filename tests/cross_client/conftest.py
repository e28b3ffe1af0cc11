"""Fixtures of the cross-client suite: the real `stator` binary on an ephemeral port, boto3
clients aimed at it, an AWS CLI runner, and unique table names.

One on-disk server serves the whole session (`endpoint`); tests that need a server of their
own (an exact ListTables listing, restarts) use `start_server`.
"""

from __future__ import annotations

import os
from typing import Callable

import pytest

import stator_harness as h

# Keep the user's own AWS configuration (profiles, endpoints, retry settings) out of boto3.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def stator_bin():
    return h.find_stator_binary()


@pytest.fixture(scope="session")
def server(stator_bin, tmp_path_factory):
    """The session's server, on disk in a temporary directory."""
    base = tmp_path_factory.mktemp("stator-session")
    srv = h.StatorServer(stator_bin, data_dir=base / "data", log_dir=base / "log").start()
    yield srv
    code = srv.stop()
    assert code == 0, f"stator did not stop cleanly on SIGTERM (exit {code}); " \
                      f"stderr: {srv.stderr()}"


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.endpoint


@pytest.fixture
def start_server(stator_bin, tmp_path) -> Callable[..., h.StatorServer]:
    """Starts extra servers: start_server(in_memory=True) or start_server(data_dir=path).
    Every server it started is stopped at the end of the test."""
    started: list[h.StatorServer] = []

    def start(*, data_dir=None, in_memory=False) -> h.StatorServer:
        log_dir = tmp_path / f"log{len(started)}"
        srv = h.StatorServer(stator_bin, data_dir=data_dir, in_memory=in_memory,
                             log_dir=log_dir).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def ddb(endpoint):
    """A low-level boto3 DynamoDB client."""
    return h.make_client(endpoint)


@pytest.fixture(scope="session")
def ddb_resource(endpoint):
    return h.make_resource(endpoint)


@pytest.fixture
def table_name(request) -> str:
    return h.unique_table_name(request.node.name)


@pytest.fixture
def make_table(ddb, request):
    """Creates a table with a unique name and returns the name.

    make_table(hash=("pk", "S"), range=None, billing="PAY_PER_REQUEST", **extra_create_args)
    """
    counter = iter(range(1000))

    def make(hash=("pk", "S"), range=None, billing="PAY_PER_REQUEST", **extra) -> str:
        name = h.unique_table_name(f"{request.node.name}_{next(counter)}")
        attrs = [{"AttributeName": hash[0], "AttributeType": hash[1]}]
        keys = [{"AttributeName": hash[0], "KeyType": "HASH"}]
        if range is not None:
            attrs.append({"AttributeName": range[0], "AttributeType": range[1]})
            keys.append({"AttributeName": range[0], "KeyType": "RANGE"})
        args = dict(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                    BillingMode=billing)
        if billing == "PROVISIONED" and "ProvisionedThroughput" not in extra:
            args["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        args.update(extra)
        ddb.create_table(**args)
        return name

    return make


@pytest.fixture
def table(make_table) -> str:
    """A fresh on-demand table with a string partition key `pk`."""
    return make_table()


@pytest.fixture(scope="session")
def aws(endpoint):
    """aws("put-item", "--table-name", t, ...) -> CliResult(returncode, output, stderr)."""

    def run(*args: str, endpoint_url: str | None = None) -> h.CliResult:
        return h.run_aws_cli(endpoint_url or endpoint, *args)

    return run


@pytest.fixture(scope="session")
def raw(endpoint):
    """raw(body, operation="PutItem", ...) -> RawResponse, via http.client."""

    def send(body=None, **kwargs) -> h.RawResponse:
        return h.raw_request(endpoint, body, **kwargs)

    return send
