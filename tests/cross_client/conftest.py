"""Fixtures of the cross-client suite: the server under test, boto3 clients aimed at it, an
AWS CLI runner, and unique table names.

Normally one on-disk `stator` process on an ephemeral port serves the whole session
(`endpoint`), and tests that need a server of their own start one with `start_server`. With
STATOR_ENDPOINT=http://HOST:PORT set, every test talks to that endpoint instead and nothing is
started: tests marked `@pytest.mark.own_server("why")` (restarts, crashes, a fresh database)
are skipped with that reason, and `start_server` refuses to run. Tests therefore never assume
an empty database: every table name comes from `unique_table_name`.
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


def pytest_report_header(config):
    shared = h.shared_endpoint()
    if shared:
        return f"stator: the shared endpoint {shared} ({h.ENDPOINT_VAR})"
    return "stator: servers started by the suite (STATOR_BIN or target/debug/stator)"


def pytest_collection_modifyitems(config, items):
    """In endpoint mode, skip the tests marked own_server, with their reason."""
    shared = h.shared_endpoint()
    for item in items:
        marker = item.get_closest_marker("own_server")
        if marker is None:
            continue
        if not marker.args or not isinstance(marker.args[0], str):
            raise pytest.UsageError(f"{item.nodeid}: own_server needs the reason as argument")
        if shared:
            item.add_marker(pytest.mark.skip(
                reason=f"skipped ({h.ENDPOINT_VAR}): {marker.args[0]}"))


@pytest.fixture(scope="session")
def stator_bin():
    return h.find_stator_binary()


@pytest.fixture(scope="session")
def endpoint(request) -> str:
    """The endpoint every test talks to: STATOR_ENDPOINT, or the session's own server."""
    shared = h.shared_endpoint()
    if shared:
        return shared
    return request.getfixturevalue("server").endpoint


@pytest.fixture(scope="session")
def server(stator_bin, tmp_path_factory):
    """The session's server, on disk in a temporary directory (not in endpoint mode)."""
    assert not h.shared_endpoint(), "the session server is not started in endpoint mode"
    base = tmp_path_factory.mktemp("stator-session")
    srv = h.StatorServer(stator_bin, data_dir=base / "data", log_dir=base / "log").start()
    yield srv
    code = srv.stop()
    assert code == 0, f"stator did not stop cleanly on SIGTERM (exit {code}); " \
                      f"stderr: {srv.stderr()}"


@pytest.fixture
def start_server(request, tmp_path) -> Callable[..., h.StatorServer]:
    """Starts extra servers: start_server(in_memory=True) or start_server(data_dir=path).
    Every server it started is stopped at the end of the test. Not available in endpoint
    mode: a test that needs it is marked own_server, or uses it only without
    STATOR_ENDPOINT."""
    started: list[h.StatorServer] = []

    def start(*, data_dir=None, in_memory=False, extra_args=()) -> h.StatorServer:
        if h.shared_endpoint():
            pytest.fail(f"{request.node.nodeid} starts a server of its own although "
                        f"{h.ENDPOINT_VAR} is set: mark it own_server")
        log_dir = tmp_path / f"log{len(started)}"
        srv = h.StatorServer(request.getfixturevalue("stator_bin"), data_dir=data_dir,
                             in_memory=in_memory, log_dir=log_dir,
                             extra_args=list(extra_args)).start()
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
