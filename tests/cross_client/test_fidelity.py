"""Issue 12: DynamoDB behaviours Stator used to get wrong, pinned through boto3 and raw HTTP.
Every message is the exact text a client sees; texts Stator had to decide itself are listed
in docs/compatibility.md ("Decided texts")."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import error_of

# --------------------------------------------------------------------------------------------
# Index key size limits
# --------------------------------------------------------------------------------------------


def _indexed_table(make_table) -> str:
    """pk (S) + sk (S), a GSI `gsi` on gpk (S) + gsk (S), an LSI `lsi` on pk + lsk (S)."""
    return make_table(
        hash=("pk", "S"), range=("sk", "S"),
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk", "gsk", "lsk")
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi",
            "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                          {"AttributeName": "gsk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "lsi",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "lsk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )


def _limit_text(attr: str, size: int, limit: int, index: str) -> str:
    return (f"One or more parameter values were invalid: Size limit exceeded for Index Key "
            f"{attr} Actual Size: {size} bytes Max Size: {limit} bytes IndexName: {index}")


INDEX_LIMIT_CASES = [
    # (attribute, size at the limit, index, limit)
    ("gpk", 2048, "gsi", 2048),
    ("gsk", 1024, "gsi", 1024),
    ("lsk", 1024, "lsi", 1024),
]


@pytest.mark.parametrize("attr,limit,index,_", INDEX_LIMIT_CASES)
def test_put_item_index_key_limits(ddb, make_table, attr, limit, index, _):
    name = _indexed_table(make_table)
    at_limit = {"pk": {"S": "a"}, "sk": {"S": "1"}, "gpk": {"S": "g"}, "gsk": {"S": "s"},
                "lsk": {"S": "l"}}
    at_limit[attr] = {"S": "x" * limit}
    ddb.put_item(TableName=name, Item=at_limit)
    stored = ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                          ConsistentRead=True)["Item"]
    assert stored[attr]["S"] == "x" * limit
    for size in (limit + 1, 64 * 1024):
        over = dict(at_limit, sk={"S": f"over{size}"})
        over[attr] = {"S": "y" * size}
        with pytest.raises(ClientError) as e:
            ddb.put_item(TableName=name, Item=over)
        assert error_of(e) == ("ValidationException", _limit_text(attr, size, limit, index))
        assert h.status_of(e) == 400
        assert "Item" not in ddb.get_item(
            TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": f"over{size}"}},
            ConsistentRead=True)
    # Only the item at the limit is indexed.
    if index == "gsi":
        found = ddb.query(TableName=name, IndexName="gsi",
                          KeyConditionExpression="gpk = :p",
                          ExpressionAttributeValues={":p": at_limit["gpk"]})
        assert found["Count"] == 1
    else:
        found = ddb.query(TableName=name, IndexName="lsi", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "a"}})
        assert found["Count"] == 1


def test_update_item_index_key_over_limit_changes_nothing(ddb, make_table):
    name = _indexed_table(make_table)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item=dict(key, gpk={"S": "g"}, gsk={"S": "s"}))
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=name, Key=key, UpdateExpression="SET gpk = :v, x1 = :o",
                        ExpressionAttributeValues={":v": {"S": "z" * 2049}, ":o": {"S": "o"}})
    assert error_of(e) == ("ValidationException", _limit_text("gpk", 2049, 2048, "gsi"))
    item = ddb.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"]
    assert item == dict(key, gpk={"S": "g"}, gsk={"S": "s"})
    # A number counts by its DynamoDB size, a binary by its bytes.
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=name, Key=key, UpdateExpression="SET gsk = :v",
                        ExpressionAttributeValues={":v": {"S": "é" * 513}})
    assert error_of(e) == ("ValidationException", _limit_text("gsk", 1026, 1024, "gsi"))


def test_batch_write_with_one_index_key_over_limit_writes_nothing(ddb, make_table):
    name = _indexed_table(make_table)
    good = {"pk": {"S": "a"}, "sk": {"S": "good"}, "gpk": {"S": "g"}, "gsk": {"S": "s"}}
    bad = {"pk": {"S": "a"}, "sk": {"S": "bad"}, "gpk": {"S": "g"}, "gsk": {"S": "s" * 1025}}
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": good}},
                                                  {"PutRequest": {"Item": bad}}]})
    assert error_of(e) == ("ValidationException", _limit_text("gsk", 1025, 1024, "gsi"))
    assert ddb.scan(TableName=name, ConsistentRead=True)["Count"] == 0


def test_transact_write_with_index_key_over_limit_writes_nothing(ddb, make_table):
    name = _indexed_table(make_table)
    good = {"pk": {"S": "a"}, "sk": {"S": "good"}}
    bad = {"pk": {"S": "a"}, "sk": {"S": "bad"}, "gpk": {"S": "p" * 5000}, "gsk": {"S": "s"}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": good}},
            {"Put": {"TableName": name, "Item": bad}},
        ])
    # A per-action validation failure cancels the transaction (see below).
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert e.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ValidationError", "Message": _limit_text("gpk", 5000, 2048, "gsi")},
    ]
    assert ddb.scan(TableName=name, ConsistentRead=True)["Count"] == 0


def test_gsi_backfill_skips_items_over_the_index_key_limits(ddb, make_table):
    name = make_table(hash=("pk", "S"))
    values = {"ok": "fine", "at-limit": "x" * 2048, "over": "y" * 2049, "huge": "z" * 60000}
    for pk, value in values.items():
        ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "n": {"S": value}})
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byn",
            "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    )
    h.wait_index_active(ddb, name, "byn")
    indexed = ddb.scan(TableName=name, IndexName="byn")["Items"]
    assert sorted(i["pk"]["S"] for i in indexed) == ["at-limit", "ok"]
    described = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert described["IndexStatus"] == "ACTIVE"
    # The skipped items are still in the table, and writing one again is refused.
    assert ddb.scan(TableName=name, ConsistentRead=True)["Count"] == 4
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"pk": {"S": "over"}, "n": {"S": "y" * 2049}})
    assert error_of(e) == ("ValidationException", _limit_text("n", 2049, 2048, "byn"))


# --------------------------------------------------------------------------------------------
# Request Content-Encoding
# --------------------------------------------------------------------------------------------


def _put_body(table: str, pk: str) -> bytes:
    return json.dumps({"TableName": table, "Item": {"pk": {"S": pk}}}).encode()


@pytest.mark.parametrize("encoding,body", [
    ("garbage", None),                   # a coding nobody knows
    ("br", None),                        # a real coding Stator does not decode
    ("deflate", "plain"),                # deflate named, the body is plain JSON
    ("gzip", "plain"),                   # gzip named, the body is plain JSON
    ("deflate", "raw-deflate"),          # raw DEFLATE, not the zlib stream HTTP means
    ("deflate", "trailing"),             # a zlib stream followed by more bytes
    ("gzip, garbage", None),             # a list with one unknown member
])
def test_undecodable_request_bodies_are_refused_unexecuted(raw, table, encoding, body):
    plain = _put_body(table, "must-not-exist")
    raw_deflate = zlib.compressobj(wbits=-15)
    sent = {
        None: plain,
        "plain": plain,
        "raw-deflate": raw_deflate.compress(plain) + raw_deflate.flush(),
        "trailing": zlib.compress(plain) + b"xx",
    }[body]
    resp = raw(sent, operation="PutItem", headers={"Content-Encoding": encoding})
    assert resp.status == 400, resp.body
    assert resp.error_type == "SerializationException"
    message = resp.json()["message"]
    if body is None:
        bad = encoding.split(",")[-1].strip()
        assert message == f"Unsupported Content-Encoding: {bad} (supported: gzip, deflate, " \
                          f"identity)"
    else:
        assert message == f"The request body is not valid {encoding} data"
    got = raw({"TableName": table, "Key": {"pk": {"S": "must-not-exist"}},
               "ConsistentRead": True}, operation="GetItem")
    assert got.status == 200
    assert "Item" not in got.json()


def test_deflate_and_layered_request_bodies(raw, table):
    resp = raw(zlib.compress(_put_body(table, "zlib")), operation="PutItem",
               headers={"Content-Encoding": "Deflate"})
    assert resp.status == 200, resp.body
    # Codings listed in the order applied: gzip first, then deflate over it.
    layered = zlib.compress(gzip.compress(_put_body(table, "layered")))
    resp = raw(layered, operation="PutItem", headers={"Content-Encoding": "gzip, deflate"})
    assert resp.status == 200, resp.body
    resp = raw(_put_body(table, "identity"), operation="PutItem",
               headers={"Content-Encoding": "identity"})
    assert resp.status == 200, resp.body
    # Several gzip members decode to their concatenation.
    body = _put_body(table, "members")
    members = gzip.compress(body[:10]) + gzip.compress(body[10:])
    resp = raw(members, operation="PutItem", headers={"Content-Encoding": "gzip"})
    assert resp.status == 200, resp.body
    for pk in ("zlib", "layered", "identity", "members"):
        got = raw({"TableName": table, "Key": {"pk": {"S": pk}}, "ConsistentRead": True},
                  operation="GetItem")
        assert got.json()["Item"] == {"pk": {"S": pk}}, pk


def test_deflate_body_inflating_over_16_mb_is_413(raw):
    bomb = zlib.compress(b" " * (16 * 1024 * 1024 + 1024))
    assert len(bomb) < 1024 * 1024
    resp = raw(bomb, operation="ListTables", headers={"Content-Encoding": "deflate"})
    assert resp.status == 413


# --------------------------------------------------------------------------------------------
# Response compression
# --------------------------------------------------------------------------------------------


def _big_item(raw, table) -> dict:
    item = {"pk": {"S": "big"}, "v": {"S": "compressible " * 1000}}
    assert raw({"TableName": table, "Item": item}, operation="PutItem").status == 200
    return item


def _get_big(raw, table, accept: str | None) -> h.RawResponse:
    headers = {} if accept is None else {"Accept-Encoding": accept}
    return raw({"TableName": table, "Key": {"pk": {"S": "big"}}}, operation="GetItem",
               headers=headers)


def _decoded(resp: h.RawResponse) -> bytes:
    coding = resp.header("Content-Encoding")
    if coding == "gzip":
        return gzip.decompress(resp.body)
    if coding == "deflate":
        return zlib.decompress(resp.body)  # a zlib stream, not raw DEFLATE
    assert coding is None, coding
    return resp.body


@pytest.mark.parametrize("accept,expected", [
    ("gzip", "gzip"),
    ("deflate", "deflate"),
    ("GZip", "gzip"),
    ("gzip, deflate", "gzip"),
    ("deflate, gzip", "deflate"),
    ("deflate;q=0.5, gzip;q=0.5", "deflate"),
    ("gzip;q=0.4, deflate;q=0.6", "deflate"),
    ("gzip;q=2, deflate", "gzip"),                # above 1 counts as 1: a tie, first wins
    ("deflate;q=nonsense, gzip;q=0.9", "deflate"),  # unparseable counts as 1
    ("gzip;q=0", None),
    ("gzip;q=-0.5, deflate;q=0", None),
    ("identity", None),
    ("identity, gzip;q=0.5", None),
    ("br, zstd", None),
    ("*", "gzip"),
    ("*;q=0", None),
    ("gzip;q=0, *", "deflate"),
    ("gzip;q=0.1, *;q=0.2", "deflate"),
    (None, None),
])
def test_response_compression_follows_accept_encoding(raw, table, accept, expected):
    item = _big_item(raw, table)
    resp = _get_big(raw, table, accept)
    assert resp.status == 200
    assert resp.header("Content-Encoding") == expected
    # The checksum is of the bytes sent.
    assert resp.header("x-amz-crc32") == str(zlib.crc32(resp.body) & 0xFFFFFFFF)
    assert int(resp.header("Content-Length")) == len(resp.body)
    assert json.loads(_decoded(resp))["Item"] == item
    if expected is not None:
        assert len(resp.body) < len(_decoded(resp)) // 4


def test_small_responses_are_not_compressed(raw, table):
    resp = raw({"TableName": table, "Key": {"pk": {"S": "none"}}}, operation="GetItem",
               headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.header("Content-Encoding") is None
    assert resp.json() == {}


def _raw_exchange(endpoint: str, request: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Sends bytes as they are and reads one HTTP response: (status, headers, body)."""
    import http.client as hc
    import socket
    import urllib.parse
    parts = urllib.parse.urlsplit(endpoint)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    try:
        sock.sendall(request)
        resp = hc.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        sock.close()


def _signed_request(endpoint: str, operation: str, body: dict,
                    extra_lines: list[tuple[str, str]] = (), path: str = "/") -> bytes:
    data = json.dumps(body).encode()
    headers = h.sigv4_headers(endpoint, data, h.TARGET_PREFIX + operation)
    headers.pop("Content-Length", None)
    head = f"POST {path} HTTP/1.1\r\nHost: {endpoint.split('//')[1]}\r\n"
    for k, v in list(headers.items()) + list(extra_lines):
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    return head.encode() + data


def test_only_the_first_accept_encoding_line_counts(endpoint, raw, table):
    _big_item(raw, table)
    get = {"TableName": table, "Key": {"pk": {"S": "big"}}}
    status, headers, _ = _raw_exchange(endpoint, _signed_request(
        endpoint, "GetItem", get, [("Accept-Encoding", "identity"), ("Accept-Encoding", "gzip")]))
    assert status == 200 and "content-encoding" not in headers
    status, headers, body = _raw_exchange(endpoint, _signed_request(
        endpoint, "GetItem", get, [("Accept-Encoding", "deflate"), ("Accept-Encoding", "gzip")]))
    assert status == 200 and headers["content-encoding"] == "deflate"
    assert "Item" in json.loads(zlib.decompress(body))


# --------------------------------------------------------------------------------------------
# CORS, the health answer, the Server header
# --------------------------------------------------------------------------------------------

CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
                "Access-Control-Max-Age", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers")


def test_cors_headers_only_with_an_origin(raw):
    resp = raw({}, operation="ListTables", headers={"Origin": "http://app.example"})
    assert resp.status == 200
    assert resp.header("Access-Control-Allow-Origin") == "*"
    assert "x-amzn-RequestId" in resp.header("Access-Control-Expose-Headers")
    assert "x-amz-crc32" in resp.header("Access-Control-Expose-Headers")
    assert resp.header("Access-Control-Max-Age") is None
    plain = raw({}, operation="ListTables")
    for name in CORS_HEADERS:
        assert plain.header(name) is None, name
    # Errors carry them too: a browser script must be able to read the error.
    err = raw({"TableName": "no-such-table-xyz"}, operation="DescribeTable",
              headers={"Origin": "http://app.example"})
    assert err.status == 400
    assert err.header("Access-Control-Allow-Origin") == "*"


def test_cors_preflight(raw):
    resp = raw(method="OPTIONS", sign=False, headers={
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,authorization",
    })
    assert resp.status == 200
    assert resp.header("Access-Control-Allow-Origin") == "*"
    assert resp.header("Access-Control-Allow-Methods") == "POST"
    assert resp.header("Access-Control-Allow-Headers") == \
        "content-type,x-amz-target,authorization"
    assert int(resp.header("Access-Control-Max-Age")) > 0
    assert resp.header("Access-Control-Expose-Headers")
    bare = raw(method="OPTIONS", sign=False)
    assert bare.status == 200
    for name in CORS_HEADERS:
        assert bare.header(name) is None, name


def test_health_names_the_host_the_client_used(endpoint):
    status, headers, body = _raw_exchange(
        endpoint, b"GET / HTTP/1.1\r\nHost: dynamodb.eu-west-3.example:1234\r\n"
                  b"Connection: close\r\n\r\n")
    assert status == 200
    assert body.decode() == "healthy: dynamodb.eu-west-3.example:1234 "
    assert headers["server"] == "Server"


def test_every_response_carries_a_server_header(raw, table):
    for resp in (
        raw({}, operation="ListTables"),
        raw({"TableName": table, "Key": {"pk": {"S": "x"}}}, operation="GetItem"),
        raw({"TableName": "missing-table-xyz"}, operation="DescribeTable"),
        raw({}, operation="NoSuchOperation"),
        raw(method="GET", sign=False),
        raw(method="GET", path="/elsewhere", sign=False),
        raw(method="PUT", sign=False),
    ):
        assert resp.header("Server") == "Server", (resp.status, resp.body)


# --------------------------------------------------------------------------------------------
# Request head limit
# --------------------------------------------------------------------------------------------


def test_request_heads_over_16_kb_are_refused_unexecuted(endpoint, raw, table):
    put = {"TableName": table, "Item": {"pk": {"S": "padded"}}}
    status, _, _ = _raw_exchange(endpoint, _signed_request(
        endpoint, "PutItem", put, [("X-Pad", "a" * 14000)]))
    assert status == 200
    assert "Item" in raw({"TableName": table, "Key": {"pk": {"S": "padded"}},
                          "ConsistentRead": True}, operation="GetItem").json()
    for name, extra, path in (
        ("header", [("X-Pad", "a" * 17000)], "/"),
        ("many headers", [(f"X-Pad-{i}", "b" * 500) for i in range(40)], "/"),
        ("request line", [], "/?" + "c" * 17000),
    ):
        put = {"TableName": table, "Item": {"pk": {"S": f"refused-{name}"}}}
        status, headers, body = _raw_exchange(endpoint, _signed_request(
            endpoint, "PutItem", put, extra, path=path))
        assert status == 400, (name, body)
        assert headers["server"] == "Server"
        got = raw({"TableName": table, "Key": {"pk": {"S": f"refused-{name}"}},
                   "ConsistentRead": True}, operation="GetItem")
        assert "Item" not in got.json(), name


# --------------------------------------------------------------------------------------------
# WarmThroughput
# --------------------------------------------------------------------------------------------


def _gsi(name: str, attr: str, **extra) -> dict:
    return dict({"IndexName": name,
                 "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}, **extra)


def test_warm_throughput_is_reported_and_only_grows(ddb, make_table):
    name = make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        WarmThroughput={"ReadUnitsPerSecond": 15000},
        GlobalSecondaryIndexes=[_gsi("byg", "g",
                                     WarmThroughput={"WriteUnitsPerSecond": 5000})],
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 15000,
                                       "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
    assert table["GlobalSecondaryIndexes"][0]["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"}
    out = ddb.update_table(TableName=name, WarmThroughput={"WriteUnitsPerSecond": 9000})
    assert out["TableDescription"]["WarmThroughput"]["WriteUnitsPerSecond"] == 9000
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
        "IndexName": "byg", "WarmThroughput": {"ReadUnitsPerSecond": 20000}}}])
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 15000,
                                       "WriteUnitsPerSecond": 9000, "Status": "ACTIVE"}
    assert table["GlobalSecondaryIndexes"][0]["WarmThroughput"]["ReadUnitsPerSecond"] == 20000
    for args in ({"WarmThroughput": {"ReadUnitsPerSecond": 14999}},
                 {"WarmThroughput": {"WriteUnitsPerSecond": 0}},
                 {"GlobalSecondaryIndexUpdates": [{"Update": {
                     "IndexName": "byg", "WarmThroughput": {"WriteUnitsPerSecond": 10}}}]}):
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName=name, **args)
        assert error_of(e)[0] == "ValidationException", args
    assert ddb.describe_table(TableName=name)["Table"]["WarmThroughput"] == table["WarmThroughput"]


def test_warm_throughput_of_a_new_table_and_provisioned_increases(ddb, make_table):
    name = make_table(billing="PROVISIONED")
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 12000,
                                       "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 30000,
                                                            "WriteCapacityUnits": 5})
    warm = ddb.describe_table(TableName=name)["Table"]["WarmThroughput"]
    assert warm["ReadUnitsPerSecond"] == 30000 and warm["WriteUnitsPerSecond"] == 4000
    # Lowering the provisioned throughput again leaves the warm throughput where it was.
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                            "WriteCapacityUnits": 5})
    assert ddb.describe_table(TableName=name)["Table"]["WarmThroughput"] == warm


def test_table_id_is_stable(ddb, make_table):
    name = make_table()
    first = ddb.describe_table(TableName=name)["Table"]["TableId"]
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    assert ddb.describe_table(TableName=name)["Table"]["TableId"] == first
    assert len(first) == 36 and first.count("-") == 4


# --------------------------------------------------------------------------------------------
# The command line, as a newcomer meets it
# --------------------------------------------------------------------------------------------


def _run_stator(stator_bin, *args, timeout=10):
    import subprocess
    return subprocess.run([str(stator_bin), *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.own_server("runs the stator binary itself")
def test_help_shows_how_to_start(stator_bin):
    for flag in ("--help", "-help"):
        done = _run_stator(stator_bin, flag)
        assert done.returncode == 0, done.stderr
        assert "stator --in-memory" in done.stdout
        assert "--data-dir" in done.stdout and "--port" in done.stdout


@pytest.mark.own_server("runs the stator binary itself")
@pytest.mark.parametrize("args", [
    ["-inMemory", "-dbPath", "somewhere"],
    ["--in-memory", "--data-dir", "somewhere"],
    ["--in-memory", "--sync"],
])
def test_contradictory_flags_are_refused(stator_bin, tmp_path, args):
    done = _run_stator(stator_bin, "--port", "0", *args)
    assert done.returncode != 0
    assert "cannot be used with" in done.stderr, done.stderr
    assert not (tmp_path / "somewhere").exists()


@pytest.mark.own_server("starts servers of its own on one data directory")
def test_dynamodb_local_flags_and_a_directory_in_use(start_server, stator_bin, tmp_path):
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir)
    done = _run_stator(stator_bin, "-port", "0", "-dbPath", str(data_dir), "-sharedDb",
                       "-optimizeDbBeforeStartup", "-disableTelemetry", "-cors", "*")
    assert done.returncode == 1
    assert done.stderr.strip().startswith(
        f"stator: the data directory {data_dir} is in use by another running Stator"), \
        done.stderr
    assert "Locked" not in done.stderr
    assert h.make_client(first.endpoint).list_tables()["TableNames"] == []


@pytest.mark.own_server("starts a server with delayed transient statuses")
def test_delay_transient_statuses_flag(start_server):
    # A delay far longer than the test, so the table is certainly still CREATING; the
    # passage to ACTIVE is tested on a manual clock in the engine's tests.
    srv = start_server(in_memory=True, extra_args=["-delayTransientStatuses", "600000"])
    ddb = h.make_client(srv.endpoint)
    created = ddb.create_table(
        TableName="slow", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[_gsi("byG", "g")])
    assert created["TableDescription"]["TableStatus"] == "CREATING"
    assert created["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    described = ddb.describe_table(TableName="slow")["Table"]
    assert described["TableStatus"] == "CREATING"
    # Its index is CREATING with it (DELETING tables and indexes: the engine's tests).
    assert described["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    assert _raises(ddb.put_item, TableName="slow", Item={"pk": {"S": "a"}}) == (
        "ResourceNotFoundException", "Requested resource not found")
    assert _raises(ddb.delete_table, TableName="slow") == (
        "ResourceInUseException",
        "Attempt to change a resource which is still in use: Table is being created: slow")


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------


def _raises(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return error_of(e)


def test_texts_of_request_checks(ddb, raw, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    v = "ValidationException"

    def raw_error(operation, body):
        # boto3 checks these constraints itself, so they go over raw HTTP.
        resp = raw(body, operation=operation)
        assert resp.status == 400, resp.body
        return resp.error_type, resp.json()["message"]

    assert raw_error("Query", {"TableName": name, "KeyConditionExpression": "pk = :p",
                               "ExpressionAttributeValues": {":p": {"S": "a"}},
                               "Limit": 0}) == (
        v, "1 validation error detected: Value at 'Limit' failed to satisfy constraint: "
           "Member must have value greater than or equal to 1")
    assert raw_error("Scan", {"TableName": name, "Limit": 0}) == (
        v, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
           "Member must have value greater than or equal to 1")
    keys = [{"pk": {"S": f"k{i}"}, "sk": {"N": "1"}} for i in range(101)]
    assert raw_error("BatchGetItem", {"RequestItems": {name: {"Keys": keys}}}) == (
        v, f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed "
           f"to satisfy constraint: Member must have length less than or equal to 100")
    assert raw_error("PutItem", {"TableName": "", "Item": {"pk": {"S": "a"}}}) == (
        v, "1 validation error detected: Value '' at 'tableName' failed to satisfy "
           "constraint: Member must have length greater than or equal to 1")
    assert _raises(ddb.put_item, TableName=name,
                   Item={"pk": {"S": "a"}, "sk": {"N": "1"}},
                   ExpressionAttributeValues={":v": {"S": "x"}}) == (
        v, "ExpressionAttributeValues can only be specified when using expressions: "
           "ConditionExpression is null")
    assert _raises(ddb.update_item, TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                   ExpressionAttributeNames={"#n": "n"}) == (
        v, "ExpressionAttributeNames can only be specified when using expressions: "
           "UpdateExpression and ConditionExpression are null")
    assert _raises(ddb.query, TableName=name, ExpressionAttributeValues={":v": {"S": "x"}},
                   KeyConditions={"pk": {"ComparisonOperator": "EQ",
                                         "AttributeValueList": [{"S": "a"}]}}) == (
        v, "ExpressionAttributeValues can only be specified when using expressions: "
           "ProjectionExpression, FilterExpression and KeyConditionExpression are null")
    assert _raises(ddb.put_item, TableName=name,
                   Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "b": {"BS": []}}) == (
        v, "One or more parameter values were invalid: Binary sets should not be empty")
    assert _raises(ddb.query, TableName=name, KeyConditionExpression="pk = :p AND a.b = :v",
                   ExpressionAttributeValues={":p": {"S": "a"}, ":v": {"N": "1"}}) == (
        v, "KeyConditionExpressions cannot have conditions on nested attributes")
    assert _raises(ddb.get_item, TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                   ProjectionExpression="l[99999999999]") == (
        v, "Invalid ProjectionExpression: List index is not within the allowable range; "
           "index: [99999999999]")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                                       "n": {"N": "9e125"}})
    assert _raises(ddb.update_item, TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                   UpdateExpression="SET n = n + :v",
                   ExpressionAttributeValues={":v": {"N": "9e125"}}) == (
        v, "Number overflow. Attempting to store a number with magnitude larger than "
           "supported range")
    big = "x" * 390_000
    actions = [{"Put": {"TableName": name,
                        "Item": {"pk": {"S": f"t{i}"}, "sk": {"N": "1"}, "v": {"S": big}}}}
               for i in range(11)]
    code, message = _raises(ddb.transact_write_items, TransactItems=actions)
    assert code == v and "size cannot exceed" in message, message


def test_texts_of_create_table(ddb, raw, table_name):
    v = "ValidationException"
    # boto3 refuses a missing TableName itself, so this one goes over raw HTTP.
    resp = raw({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}, operation="CreateTable")
    assert resp.status == 400
    assert (resp.error_type, resp.json()["message"]) == (
        v, "The parameter 'TableName' is required but was not present in the request")
    same = dict(TableName=table_name + "x",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "pk", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST")
    assert _raises(ddb.create_table, **same) == (
        v, "Invalid KeySchema: Some index key attribute have no definition")


# --------------------------------------------------------------------------------------------
# UpdateItem on a missing item
# --------------------------------------------------------------------------------------------


def test_update_item_on_a_missing_item(ddb, table):
    def item(pk):
        return ddb.get_item(TableName=table, Key={"pk": {"S": pk}},
                            ConsistentRead=True).get("Item")

    # No actions at all: the item is created with only its key.
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "empty"}}, AttributeUpdates={},
                          ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": {"S": "empty"}}
    assert item("empty") == {"pk": {"S": "empty"}}
    # Only removals: nothing is created, and ALL_NEW returns no Attributes.
    for pk, args in (
        ("remove", dict(UpdateExpression="REMOVE a, b")),
        ("remove-nested", dict(UpdateExpression="REMOVE x.y")),
        ("remove-index", dict(UpdateExpression="REMOVE x[0]")),
        ("legacy-delete", dict(AttributeUpdates={"a": {"Action": "DELETE"}})),
    ):
        out = ddb.update_item(TableName=table, Key={"pk": {"S": pk}}, ReturnValues="ALL_NEW",
                              **args)
        assert "Attributes" not in out, pk
        assert item(pk) is None, pk
    # On an existing item without x, a nested REMOVE is still the document-path error.
    ddb.put_item(TableName=table, Item={"pk": {"S": "there"}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "there"}},
                        UpdateExpression="REMOVE x.y")
    assert error_of(e) == ("ValidationException",
                           "The document path provided in the update expression is invalid "
                           "for update")


# --------------------------------------------------------------------------------------------
# Transactions: per-action validation cancels
# --------------------------------------------------------------------------------------------

CANCELLED_PREFIX = "Transaction cancelled, please refer cancellation reasons for specific reasons"


def test_transact_write_action_validation_cancels_at_the_first_failure(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"N": "1"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"N": "2"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET a = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}}}},
        ])
    response = e.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"].startswith(CANCELLED_PREFIX)
    assert response["Error"]["Message"].endswith("[None, ValidationError, None, None]")
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ValidationError",
         "Message": "The provided key element does not match the schema"},
        {"Code": "None"},
        {"Code": "None"},
    ]
    assert h.get_item(ddb, table, "new") is None
    assert h.get_item(ddb, table, "kept") == {"pk": {"S": "kept"}}
    # A wrong-typed key in a Put cancels the same way.
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"N": "2"}}}},
        ])
    assert e.value.response["CancellationReasons"] == [{
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Type mismatch for key pk "
                   "expected: S actual: N"}]
    # Expression problems stay request-level ValidationExceptions.
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET = :v"}},
        ])
    assert error_of(e)[0] == "ValidationException"


def test_transact_get_key_validation_cancels_and_duplicates_are_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {}}}])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert e.value.response["CancellationReasons"] == [
        {"Code": "ValidationError",
         "Message": "The provided key element does not match the schema"}]
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
            {"Get": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
        ])
    assert error_of(e) == ("ValidationException",
                           "Transaction request cannot include multiple operations on one item")


# --------------------------------------------------------------------------------------------
# Query: legacy KeyConditions with expressions
# --------------------------------------------------------------------------------------------


def test_key_conditions_combine_with_filter_and_projection_expressions(ddb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": str(i)},
                                           "v": {"N": str(i * 10)}, "w": {"S": "x"}})
    out = ddb.query(
        TableName=name,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
                       "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]}},
        FilterExpression="#v > :min", ProjectionExpression="sk, #v",
        ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":min": {"N": "15"}},
    )
    assert [i["sk"]["N"] for i in out["Items"]] == ["2", "3", "4"]
    assert all(set(i) == {"sk", "v"} for i in out["Items"])
    assert out["ScannedCount"] == 4
    # QueryFilter, AttributesToGet and ConditionalOperator still may not go with expressions,
    # and the message lists only those.
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name,
                  KeyConditions={"pk": {"ComparisonOperator": "EQ",
                                        "AttributeValueList": [{"S": "a"}]}},
                  QueryFilter={"w": {"ComparisonOperator": "EQ",
                                     "AttributeValueList": [{"S": "x"}]}},
                  FilterExpression="v > :min", ExpressionAttributeValues={":min": {"N": "1"}})
    assert error_of(e) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {QueryFilter} Expression parameters: {FilterExpression}")


# --------------------------------------------------------------------------------------------
# Query ExclusiveStartKey
# --------------------------------------------------------------------------------------------


def test_query_exclusive_start_key_rules(ddb, make_table):
    hash_only = make_table(hash=("pk", "S"))
    ddb.put_item(TableName=hash_only, Item={"pk": {"S": "a"}})
    # The one-item partition is read completely, even with Limit 1: nothing to continue.
    page = ddb.query(TableName=hash_only, KeyConditionExpression="pk = :p", Limit=1,
                     ExpressionAttributeValues={":p": {"S": "a"}})
    assert page["Count"] == 1 and "LastEvaluatedKey" not in page
    assert _raises(ddb.query, TableName=hash_only, KeyConditionExpression="pk = :p",
                   ExpressionAttributeValues={":p": {"S": "a"}},
                   ExclusiveStartKey={"pk": {"S": "a"}}) == (
        "ValidationException", "The provided starting key is invalid")

    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    for i in range(1, 6):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": str(i)}})
    cond = dict(TableName=name, KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
                ExpressionAttributeValues={":p": {"S": "a"}, ":lo": {"N": "2"},
                                           ":hi": {"N": "4"}})
    # Inside the range: the page continues after it.
    out = ddb.query(ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "2"}}, **cond)
    assert [i["sk"]["N"] for i in out["Items"]] == ["3", "4"]
    # Past the end of the sort key range, in either direction.
    outside = ("ValidationException",
               "The provided starting key is outside query boundaries based on provided "
               "conditions")
    assert _raises(ddb.query, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "5"}},
                   **cond) == outside
    assert _raises(ddb.query, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "1"}},
                   ScanIndexForward=False, **cond) == outside
    # A key attribute of the wrong type.
    assert _raises(ddb.query, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"S": "3"}},
                   **cond) == ("ValidationException",
                               "The provided key element does not match the schema")


# --------------------------------------------------------------------------------------------
# DeleteTable, UpdateTable, tags
# --------------------------------------------------------------------------------------------


def test_update_table_redefinition_and_unchanged_throughput(ddb, make_table):
    name = make_table(billing="PROVISIONED")
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "N"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": _gsi(
                "byg", "g", ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                   "WriteCapacityUnits": 1})}])
    code, message = error_of(e)
    assert code == "ValidationException"
    assert message.startswith("One or more parameter values were invalid: Attributes cannot "
                              "be redefined"), message
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]
    # The table defines pk, but this request's AttributeDefinitions do not: refused.
    index = _gsi("byg", "g", ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                    "WriteCapacityUnits": 1})
    index["KeySchema"] = [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "pk", "KeyType": "RANGE"}]
    assert _raises(ddb.update_table, TableName=name,
                   AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                   GlobalSecondaryIndexUpdates=[{"Create": index}]) == (
        "ValidationException", "Invalid KeySchema: Some index key attribute have no definition")
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                         ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                "WriteCapacityUnits": 5})
    assert error_of(e)[1].startswith("The provisioned throughput for the table will not "
                                     "change."), error_of(e)


def test_tag_resource_arn_rules(ddb, make_table):
    name = make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[_gsi("byg", "g")])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    tag = [{"Key": "k", "Value": "v"}]
    code, _ = _raises(ddb.tag_resource, ResourceArn="table/" + name, Tags=tag)
    assert code == "ValidationException"
    code, message = _raises(ddb.tag_resource, ResourceArn=arn + "/index/byg", Tags=tag)
    assert code == "ValidationException" and "only table or stream is accepted" in message
    other = arn.replace(":000000000000:", ":123456789012:")
    assert other != arn
    code, _ = _raises(ddb.tag_resource, ResourceArn=other, Tags=tag)
    assert code == "AccessDeniedException"
    code, message = _raises(ddb.tag_resource, ResourceArn=arn,
                            Tags=[{"Key": "bad#key", "Value": "v"}])
    assert code == "ValidationException" and "regular expression pattern" in message
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "ok key_1.:/=+-@", "Value": "é v 2"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "ok key_1.:/=+-@", "Value": "é v 2"}]


def test_create_table_with_more_than_50_tags_creates_nothing(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=table_name,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST",
                         Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error_of(e) == ("LimitExceededException",
                           "The number of tags for the resource exceeds the maximum of 50")
    assert table_name not in ddb.list_tables()["TableNames"]


@pytest.mark.own_server("starts a server with another account id")
def test_account_id_flag(start_server, stator_bin, tmp_path):
    import subprocess
    srv = h.StatorServer(stator_bin, in_memory=True, log_dir=tmp_path / "log",
                         extra_args=["--account-id", "123456789012"]).start()
    try:
        client = h.make_client(srv.endpoint)
        client.create_table(TableName="acct",
                            AttributeDefinitions=[{"AttributeName": "pk",
                                                   "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            BillingMode="PAY_PER_REQUEST")
        arn = client.describe_table(TableName="acct")["Table"]["TableArn"]
        assert ":123456789012:table/acct" in arn
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    finally:
        srv.stop()
    bad = subprocess.run([str(stator_bin), "--account-id", "12"], capture_output=True,
                         text=True, timeout=10)
    assert bad.returncode != 0 and "twelve digits" in bad.stderr


# --------------------------------------------------------------------------------------------
# Attribute names
# --------------------------------------------------------------------------------------------


def test_empty_and_over_long_attribute_names_are_refused(ddb, raw, table):
    v = "ValidationException"
    empty = "One or more parameter values were invalid: Empty attribute name"
    too_long = ("One or more parameter values were invalid: Attribute name is too large, "
                "must be less than 65536 bytes")
    key = {"pk": {"S": "names"}}
    longest = "n" * 65535
    # 65535 bytes is allowed, one more is not, and nothing is written by a refused request.
    ddb.put_item(TableName=table, Item={**key, longest: {"S": "x"}})
    assert longest in ddb.get_item(TableName=table, Key=key)["Item"]
    assert _raises(ddb.put_item, TableName=table,
                   Item={"pk": {"S": "other"}, "n" * 65536: {"S": "x"}}) == (v, too_long)
    assert _raises(ddb.put_item, TableName=table,
                   Item={"pk": {"S": "other"}, "": {"S": "x"}}) == (v, empty)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "other"}})
    assert _raises(ddb.get_item, TableName=table, Key=key,
                   ProjectionExpression="#n", ExpressionAttributeNames={"#n": ""}) == (
        v, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n")
    assert _raises(ddb.update_item, TableName=table, Key=key, UpdateExpression="SET #n = :v",
                   ExpressionAttributeNames={"#n": "m" * 65536},
                   ExpressionAttributeValues={":v": {"S": "x"}}) == (
        v, "ExpressionAttributeNames contains invalid value: Attribute name is too large, "
           "must be less than 65536 bytes for key #n")
    assert _raises(ddb.delete_item, TableName=table, Key=key,
                   ConditionExpression="attribute_exists(#n)",
                   ExpressionAttributeNames={"#n": ""}) == (
        v, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n")
    # boto3 refuses an empty AttributesToGet entry itself, so that one goes over raw HTTP.
    resp = raw({"TableName": table, "Key": key, "AttributesToGet": [""]}, operation="GetItem")
    assert (resp.status, resp.error_type, resp.json()["message"]) == (400, v, empty)
    assert _raises(ddb.update_item, TableName=table, Key=key,
                   AttributeUpdates={"": {"Value": {"S": "x"}, "Action": "PUT"}}) == (v, empty)
    assert _raises(ddb.delete_item, TableName=table, Key=key,
                   Expected={"": {"Exists": False}}) == (v, empty)
    assert _raises(ddb.scan, TableName=table,
                   ScanFilter={"": {"ComparisonOperator": "NULL"}}) == (v, empty)
    assert longest in ddb.get_item(TableName=table, Key=key)["Item"]


def test_projected_attribute_names_over_255_bytes_are_refused(ddb, table_name):
    def create(non_key: list[str]) -> dict:
        return dict(
            TableName=table_name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": non_key},
            }],
        )
    long = "a" * 256
    assert _raises(ddb.create_table, **create(["b", long])) == (
        "ValidationException",
        f"1 validation error detected: Value '[b, {long}]' at "
        f"'globalSecondaryIndexes.1.member.projection.nonKeyAttributes' failed to satisfy "
        f"constraint: Member must satisfy constraint: [Member must have length less than or "
        f"equal to 255]")
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=table_name)


# --------------------------------------------------------------------------------------------
# Legacy conditions and AttributeUpdates
# --------------------------------------------------------------------------------------------


def test_legacy_in_not_contains_and_attribute_updates_type_mismatch(ddb, table):
    v = "ValidationException"
    key = {"pk": {"S": "legacy"}}
    ddb.put_item(TableName=table, Item={**key, "ss": {"SS": ["a"]}, "n": {"N": "1"}})
    assert _raises(ddb.scan, TableName=table, ScanFilter={"n": {
        "ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"S": "1"}]}}) == (
        v, "One or more parameter values were invalid: AttributeValues inside "
           "AttributeValueList must be of same type")
    found = ddb.scan(TableName=table, ScanFilter={"n": {
        "ComparisonOperator": "IN", "AttributeValueList": [{"N": "2"}, {"N": "1"}]}})
    assert [i["pk"]["S"] for i in found["Items"]] == ["legacy"]
    # NOT_CONTAINS on an attribute the item lacks is false, so the put is refused.
    assert _raises(ddb.put_item, TableName=table, Item=key,
                   Expected={"missing": {"ComparisonOperator": "NOT_CONTAINS",
                                         "AttributeValueList": [{"S": "x"}]}})[0] == (
        "ConditionalCheckFailedException")
    ddb.put_item(TableName=table, Item={**key, "ss": {"SS": ["a"]}, "n": {"N": "1"}},
                 Expected={"ss": {"ComparisonOperator": "NOT_CONTAINS",
                                  "AttributeValueList": [{"S": "x"}]}})
    mismatch = ("One or more parameter values were invalid: Type mismatch for attribute to "
                "update")
    for action, value in [("ADD", {"NS": ["1"]}), ("ADD", {"N": "1"}), ("DELETE", {"NS": ["1"]})]:
        assert _raises(ddb.update_item, TableName=table, Key=key, AttributeUpdates={
            "ss": {"Action": action, "Value": value}}) == (v, mismatch), (action, value)
    assert _raises(ddb.update_item, TableName=table, Key=key, AttributeUpdates={
        "n": {"Action": "ADD", "Value": {"SS": ["x"]}}}) == (v, mismatch)
    assert ddb.get_item(TableName=table, Key=key)["Item"] == {
        **key, "ss": {"SS": ["a"]}, "n": {"N": "1"}}


# --------------------------------------------------------------------------------------------
# Expression operands and UpdateExpression grammar
# --------------------------------------------------------------------------------------------


def test_condition_function_operand_rules(ddb, table):
    v = "ValidationException"
    key = {"pk": {"S": "ops"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"S": "abc"}, "n": {"N": "5"}})

    def filtered(expression: str, values: dict | None = None) -> list:
        kwargs = {"ExpressionAttributeValues": values} if values else {}
        return ddb.scan(TableName=table, FilterExpression=expression, **kwargs)["Items"]

    # attribute_type takes a value as its first operand.
    assert filtered("attribute_type(:v, :t)", {":v": {"S": "x"}, ":t": {"S": "S"}})
    assert not filtered("attribute_type(:v, :t)", {":v": {"S": "x"}, ":t": {"S": "N"}})
    # Its type operand must be a value, even when no item would be tested.
    assert _raises(ddb.scan, TableName=table, FilterExpression="attribute_type(a, a)") == (
        v, "Invalid FilterExpression: Incorrect operand type for operator or function; "
           "operator or function: attribute_type, operand type: PATH")
    # size() of a value is allowed; of a number or of size() it is not.
    assert filtered("size(:v) = :three", {":v": {"S": "abc"}, ":three": {"N": "3"}})
    assert _raises(ddb.scan, TableName=table, FilterExpression="size(:v) = :one",
                   ExpressionAttributeValues={":v": {"N": "5"}, ":one": {"N": "1"}}) == (
        v, "Invalid FilterExpression: Incorrect operand type for operator or function; "
           "operator or function: size, operand type: N")
    assert _raises(ddb.scan, TableName=table, FilterExpression="size(size(a)) = :one",
                   ExpressionAttributeValues={":one": {"N": "1"}}) == (
        v, "Invalid FilterExpression: The function is not allowed to be used this way in an "
           "expression; function: size")
    assert _raises(ddb.scan, TableName=table, FilterExpression="contains(a, a)") == (
        v, "Invalid FilterExpression: The first operand must be distinct from the remaining "
           "operands for this operator or function; operator: contains, first operand: [a]")
    # BETWEEN with literal bounds of two types is refused, not a false condition.
    assert _raises(ddb.scan, TableName=table, FilterExpression="n BETWEEN :lo AND :hi",
                   ExpressionAttributeValues={":lo": {"N": "1"}, ":hi": {"S": "9"}}) == (
        v, "Invalid FilterExpression: The BETWEEN operator requires same data type for lower "
           "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
           "AttributeValue: {S:9}")


def test_update_expression_grammar(ddb, table):
    v = "ValidationException"
    key = {"pk": {"S": "grammar"}}
    ddb.put_item(TableName=table, Item={**key, "l": {"L": []}, "n": {"N": "1"}})

    def update(expression: str, values: dict | None = None):
        kwargs = {"ExpressionAttributeValues": values} if values else {}
        return ddb.update_item(TableName=table, Key=key, UpdateExpression=expression, **kwargs)

    def refused(expression: str, values: dict | None = None) -> tuple[str, str]:
        with pytest.raises(ClientError) as e:
            update(expression, values)
        return error_of(e)

    assert refused("SET _123 = :v", {":v": {"N": "1"}}) == (
        v, 'Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123"')
    assert refused("SET a = _f(n)") == (
        v, 'Invalid UpdateExpression: Syntax error; token: "_", near: "= _f"')
    assert refused("SET a = f(n)") == (
        v, "Invalid UpdateExpression: Invalid function name; function: f")
    one = {":one": {"N": "1"}}
    assert refused("SET n = n + :one + :one", one) == (
        v, 'Invalid UpdateExpression: Syntax error; token: "+", near: ":one + :one"')
    lists = {":x": {"L": [{"N": "1"}]}}
    assert refused("SET l = list_append(list_append(l, :x), :x)", lists) == (
        v, "Invalid UpdateExpression: The function is not allowed to be used this way in an "
           "expression; function: list_append")
    # if_not_exists inside list_append, and if_not_exists(...) + :v, stay allowed.
    update("SET l = list_append(if_not_exists(l, :x), :x), n = if_not_exists(n, :one) + :one",
           {**lists, **one})
    item = ddb.get_item(TableName=table, Key=key)["Item"]
    assert item["l"] == {"L": [{"N": "1"}]} and item["n"] == {"N": "2"}
