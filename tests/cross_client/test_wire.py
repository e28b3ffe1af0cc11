"""The HTTP layer seen from outside: checksums, request ids, the health check, gzip bodies,
body limits, unknown targets and missing authentication; and a proof that boto3 really checks
the x-amz-crc32 header, using a small local proxy that corrupts it."""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import socket
import threading
import urllib.parse
import zlib

import pytest
from botocore.exceptions import ChecksumError

import stator_harness as h

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"


def crc_ok(resp: h.RawResponse) -> bool:
    return resp.header("x-amz-crc32") == str(zlib.crc32(resp.body) & 0xFFFFFFFF)


def test_success_response_has_crc32_request_id_and_content_type(raw, table):
    resp = raw({"TableName": table}, operation="DescribeTable")
    assert resp.status == 200
    assert crc_ok(resp), (resp.header("x-amz-crc32"), zlib.crc32(resp.body))
    assert resp.header("x-amzn-RequestId")
    assert resp.header("Content-Type") == JSON_CONTENT_TYPE
    assert int(resp.header("Content-Length")) == len(resp.body)
    assert resp.json()["Table"]["TableName"] == table


def test_error_response_has_crc32_request_id_and_type(raw, table_name):
    resp = raw({"TableName": table_name, "Key": {"pk": {"S": "a"}}}, operation="GetItem")
    assert resp.status == 400
    assert crc_ok(resp)
    assert resp.header("x-amzn-RequestId")
    assert resp.header("Content-Type") == JSON_CONTENT_TYPE
    body = resp.json()
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert body["message"] == "Requested resource not found"


def test_crc32_of_large_body(raw, table):
    value = "".join(chr(0x20 + (i * 7919) % 0x5F) for i in range(200_000)) + "é日本"
    put = raw({"TableName": table, "Item": {"pk": {"S": "big"}, "v": {"S": value}}},
              operation="PutItem")
    assert put.status == 200, put.body
    resp = raw({"TableName": table, "Key": {"pk": {"S": "big"}}}, operation="GetItem")
    assert resp.status == 200
    assert crc_ok(resp)
    assert resp.json()["Item"]["v"]["S"] == value


def test_request_ids_are_unique(raw):
    ids = {raw({}, operation="ListTables").header("x-amzn-RequestId") for _ in range(20)}
    assert len(ids) == 20


def test_keep_alive_serves_several_requests_on_one_connection(endpoint):
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for _ in range(3):
            body = b"{}"
            conn.request("POST", "/", body=body,
                         headers=h.sigv4_headers(endpoint, body, h.TARGET_PREFIX + "ListTables"))
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200
            assert "TableNames" in json.loads(data)
    finally:
        conn.close()


def test_health_check(raw, endpoint):
    resp = raw(method="GET", sign=False)
    assert resp.status == 200
    # The host the client addressed, as DynamoDB answers (test_fidelity.py pins other hosts).
    assert resp.body.decode() == f"healthy: {urllib.parse.urlsplit(endpoint).netloc} "


def test_unknown_operation(raw):
    resp = raw({}, operation="NoSuchOperation")
    assert resp.status == 400
    assert resp.error_type == "UnknownOperationException"
    assert resp.json()["__type"].startswith("com.amazon.coral.service#")
    assert crc_ok(resp)
    assert resp.header("x-amzn-RequestId")


@pytest.mark.parametrize("target", ["DynamoDB_20990101.GetItem", "GetItem", None],
                         ids=["wrong-version", "no-prefix", "missing"])
def test_malformed_target_is_unknown_operation(raw, target):
    resp = raw({}, target=target)
    assert resp.status == 400
    assert resp.error_type == "UnknownOperationException"


def test_missing_authorization_header(raw):
    resp = raw({}, operation="ListTables", sign=False,
               headers={"X-Amz-Date": "20240101T000000Z"})
    assert resp.status == 400
    assert resp.error_type == "MissingAuthenticationTokenException"
    assert resp.json()["message"] == "Request is missing Authentication Token"
    assert crc_ok(resp)
    assert resp.header("x-amzn-RequestId")


def test_gzip_request_body(raw, table):
    put = json.dumps({"TableName": table,
                      "Item": {"pk": {"S": "gz"}, "v": {"S": "compressed " * 100}}}).encode()
    resp = raw(gzip.compress(put), operation="PutItem", headers={"Content-Encoding": "gzip"})
    assert resp.status == 200, resp.body
    get = json.dumps({"TableName": table, "Key": {"pk": {"S": "gz"}}}).encode()
    resp = raw(gzip.compress(get), operation="GetItem", headers={"Content-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.json()["Item"]["v"]["S"] == "compressed " * 100


def _send_oversized(endpoint: str, headers: dict, body_len: int, chunk: bytes) -> h.RawResponse:
    """Sends headers, then streams the body from a thread while the main thread reads the
    answer: a server may answer (and close) before the body has been sent in full."""
    parts = urllib.parse.urlsplit(endpoint)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = "POST / HTTP/1.1\r\nHost: {}:{}\r\n".format(parts.hostname, parts.port)
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {body_len}\r\n\r\n"
    sock.sendall(head.encode())

    def pump():
        sent = 0
        try:
            while sent < body_len:
                piece = chunk[: body_len - sent]
                sock.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # the server stopped reading: expected once it has answered

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    try:
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        data = resp.read()
        return h.RawResponse(resp.status, resp.headers, data)
    finally:
        sock.close()
        sender.join(timeout=30)


def test_body_over_16_mb_is_413(endpoint):
    limit = 16 * 1024 * 1024
    headers = h.sigv4_headers(endpoint, b"", h.TARGET_PREFIX + "PutItem")
    headers.pop("Content-Length", None)
    resp = _send_oversized(endpoint, headers, limit + 1, b" " * (1 << 20))
    assert resp.status == 413


def test_gzip_body_inflating_over_16_mb_is_413(raw):
    bomb = gzip.compress(b" " * (16 * 1024 * 1024 + 1024))
    assert len(bomb) < 1024 * 1024
    resp = raw(bomb, operation="ListTables", headers={"Content-Encoding": "gzip"})
    assert resp.status == 413


def test_body_just_under_16_mb_is_accepted(raw):
    # 16 MB of JSON whitespace around an empty object: the limit counts bytes, not content.
    body = b"{}" + b" " * (16 * 1024 * 1024 - 2)
    resp = raw(body, operation="ListTables")
    assert resp.status == 200, resp.body[:200]


# ---------------------------------------------------------------------------------------------
# boto3's CRC-32 check, proved with a proxy that corrupts the header
# ---------------------------------------------------------------------------------------------


class CorruptingProxy:
    """A local HTTP proxy to the server that can rewrite x-amz-crc32 on the way back."""

    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.corrupt = False
        self.requests = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                proxy.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                  timeout=30)
                try:
                    conn.request("POST", self.path, body=body,
                                 headers={k: v for k, v in self.headers.items()})
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() in ("content-length", "connection", "date", "server"):
                            continue
                        if k.lower() == "x-amz-crc32" and proxy.corrupt:
                            v = str((int(v) + 1) & 0xFFFFFFFF)
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_boto3_verifies_crc32(endpoint, table):
    with CorruptingProxy(endpoint) as proxy:
        client = h.make_client(proxy.endpoint)  # legacy retries, one attempt (see harness)
        # Through the proxy, untouched: the real server's checksums pass botocore's check.
        client.put_item(TableName=table, Item={"pk": {"S": "crc"}})
        assert client.get_item(TableName=table, Key={"pk": {"S": "crc"}})["Item"] == {
            "pk": {"S": "crc"}}
        assert proxy.requests == 2

        # A wrong x-amz-crc32 makes botocore raise, on success and on error responses alike.
        proxy.corrupt = True
        with pytest.raises(ChecksumError):
            client.get_item(TableName=table, Key={"pk": {"S": "crc"}})
        with pytest.raises(ChecksumError):
            client.get_item(TableName=table + "_missing", Key={"pk": {"S": "crc"}})

        # In the standard retry mode a mismatch is retryable: botocore tries again, up to
        # total_max_attempts, each try reaching the server.
        retrying = h.make_client(proxy.endpoint, h.client_config(
            retries={"mode": "standard", "total_max_attempts": 2}))
        before = proxy.requests
        retrying.get_item(TableName=table, Key={"pk": {"S": "crc"}})
        assert proxy.requests - before == 2

        proxy.corrupt = False
        before = proxy.requests
        retrying.get_item(TableName=table, Key={"pk": {"S": "crc"}})
        assert proxy.requests - before == 1
