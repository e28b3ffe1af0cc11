"""Throttling through boto3 against `--capacity enforce --clock manual`: the error and its
ThrottlingReasons as botocore parses them, botocore's standard retry loop succeeding once
the engine clock moves (a helper thread moves it as soon as the server has counted the
throttle; the test never sleeps for time to pass), a batch's throttled writes in
UnprocessedItems, and the partitions a throughput increase creates, through the admin API."""

from __future__ import annotations

import json
import threading
import urllib.request

import botocore.exceptions
import pytest

import stator_harness as h

pytestmark = pytest.mark.own_server("needs --capacity enforce --clock manual")

START = "2026-01-01T00:00:00Z"


def admin(endpoint: str, method: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(endpoint + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def enforcing(start_server):
    srv = start_server(in_memory=True,
                       extra_args=["--capacity", "enforce", "--clock", f"manual={START}"])
    return srv.endpoint


def create(ddb, name, rcu, wcu):
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
    )


def test_a_throttle_and_its_reasons_parse_in_botocore(enforcing):
    ddb = h.make_client(enforcing)
    create(ddb, "Hot", 5, 2)
    for i in range(2):
        ddb.put_item(TableName="Hot", Item={"pk": {"S": f"k{i}"}})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ddb.put_item(TableName="Hot", Item={"pk": {"S": "k2"}})
    err = caught.value.response
    assert err["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert err["Error"]["Message"] == (
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.")
    assert err["ThrottlingReasons"] == [{
        "reason": "TableWriteProvisionedThroughputExceeded",
        "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/Hot",
    }]
    assert isinstance(caught.value, ddb.exceptions.ProvisionedThroughputExceededException)


def test_botocore_standard_retries_succeed_once_the_clock_moves(enforcing):
    ddb = h.make_client(enforcing)
    create(ddb, "Retried", 1, 1)
    ddb.put_item(TableName="Retried", Item={"pk": {"S": "first"}})
    moved = {}

    def mover():
        for _ in range(20000):
            _, report = admin(enforcing, "GET", "/_stator/tables/Retried/partitions")
            if report["table"]["throttles"]["write"] >= 1:
                moved["clock"] = admin(enforcing, "POST", "/_stator/clock",
                                       {"advanceSeconds": 1})[1]
                return

    thread = threading.Thread(target=mover)
    thread.start()
    retrying = h.make_client(enforcing, h.client_config(
        retries={"mode": "standard", "total_max_attempts": 20}))
    retrying.put_item(TableName="Retried", Item={"pk": {"S": "second"}})
    thread.join()
    assert moved["clock"]["now"] == "2026-01-01T00:00:01.000Z"
    got = ddb.get_item(TableName="Retried", Key={"pk": {"S": "second"}}, ConsistentRead=True)
    assert got["Item"] == {"pk": {"S": "second"}}


def test_throttled_batch_writes_come_back_unprocessed(enforcing):
    ddb = h.make_client(enforcing)
    create(ddb, "Batch", 1, 3)
    requests = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(5)]
    out = ddb.batch_write_item(RequestItems={"Batch": requests})
    assert out["UnprocessedItems"] == {"Batch": requests[3:]}
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.batch_write_item(RequestItems={"Batch": requests[3:]})
    admin(enforcing, "POST", "/_stator/clock", {"advanceSeconds": 1})
    out = ddb.batch_write_item(RequestItems={"Batch": requests[3:]})
    assert out["UnprocessedItems"] == {}


def test_a_throughput_increase_splits_partitions_and_a_decrease_keeps_them(enforcing):
    ddb = h.make_client(enforcing)
    create(ddb, "Split", 5, 5)
    status, report = admin(enforcing, "GET", "/_stator/tables/Split/partitions")
    assert status == 200 and len(report["table"]["partitions"]) == 1
    ddb.update_table(TableName="Split", ProvisionedThroughput={
        "ReadCapacityUnits": 6000, "WriteCapacityUnits": 2000})
    _, report = admin(enforcing, "GET", "/_stator/tables/Split/partitions")
    starts = [p["hashStart"] for p in report["table"]["partitions"]]
    assert starts == ["0x0000000000000000", "0x4000000000000000",
                      "0x8000000000000000", "0xc000000000000000"]
    ddb.update_table(TableName="Split", ProvisionedThroughput={
        "ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    _, report = admin(enforcing, "GET", "/_stator/tables/Split/partitions")
    assert len(report["table"]["partitions"]) == 4
    assert report["table"]["partitions"][0]["share"] == {"read": 1.25, "write": 1.25}
