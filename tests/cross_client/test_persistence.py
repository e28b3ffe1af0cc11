"""Persistence: tables and items written through boto3 survive a restart of the server on the
same data directory, after a clean SIGTERM stop and after a crash (SIGKILL). Every test here
starts and stops servers of its own, so all are skipped against STATOR_ENDPOINT."""

from __future__ import annotations

import pytest

import stator_harness as h

ITEMS = [
    {"user": {"S": "ada"}, "ts": {"N": "1"}, "name": {"S": "Ada"}, "tags": {"SS": ["a", "b"]}},
    {"user": {"S": "ada"}, "ts": {"N": "2.5"}, "doc": {"M": {"l": {"L": [{"N": "1e2"},
                                                                          {"B": b"\x00\xff"}]}}}},
    {"user": {"S": "bob"}, "ts": {"N": "-3"}, "empty": {"S": ""}, "flag": {"BOOL": False}},
]


def normalised(item):
    out = dict(item)
    if "tags" in out:
        out["tags"] = {"SS": sorted(out["tags"]["SS"])}
    if "doc" in out:
        out["doc"] = {"M": {"l": {"L": [{"N": "100"}, {"B": b"\x00\xff"}]}}}
    return out


def create_and_fill(client, name):
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"},
                              {"AttributeName": "ts", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                   {"AttributeName": "ts", "KeyType": "RANGE"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        Tags=[{"Key": "kept", "Value": "yes"}],
    )
    for item in ITEMS:
        client.put_item(TableName=name, Item=item)
    # A deleted item must stay deleted.
    client.put_item(TableName=name, Item={"user": {"S": "gone"}, "ts": {"N": "0"}})
    client.delete_item(TableName=name, Key={"user": {"S": "gone"}, "ts": {"N": "0"}})
    return client.describe_table(TableName=name)["Table"]


def check_intact(client, name, before):
    after = client.describe_table(TableName=name)["Table"]
    for field in ("TableName", "TableArn", "TableId", "CreationDateTime", "KeySchema",
                  "ItemCount", "TableSizeBytes", "WarmThroughput"):
        assert after[field] == before[field], field
    assert sorted(after["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == \
        sorted(before["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    pt = after["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (3, 4)
    assert after["ItemCount"] == len(ITEMS)
    assert name in client.list_tables()["TableNames"]
    assert client.list_tags_of_resource(ResourceArn=after["TableArn"])["Tags"] == [
        {"Key": "kept", "Value": "yes"}]
    for item in ITEMS:
        key = {"user": item["user"], "ts": item["ts"]}
        got = client.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"]
        got = normalised({**got, "ts": item["ts"]})
        assert got == normalised(item)
    assert "Item" not in client.get_item(TableName=name,
                                         Key={"user": {"S": "gone"}, "ts": {"N": "0"}})


@pytest.mark.own_server("needs its own server to stop it and restart it on its data directory")
def test_data_survives_sigterm_restart(start_server, tmp_path):
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir)
    assert str(data_dir) in first.storage_description
    before = create_and_fill(h.make_client(first.endpoint), "persisted")
    assert first.stop() == 0, first.stderr()

    second = start_server(data_dir=data_dir)
    check_intact(h.make_client(second.endpoint), "persisted", before)
    assert second.stop() == 0, second.stderr()


@pytest.mark.own_server("needs its own server to kill it with SIGKILL and restart it")
def test_data_survives_crash(start_server, tmp_path):
    """An acknowledged write survives a process crash (SIGKILL) without --sync."""
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir)
    before = create_and_fill(h.make_client(first.endpoint), "crashed")
    first.kill()

    second = start_server(data_dir=data_dir)
    check_intact(h.make_client(second.endpoint), "crashed", before)


@pytest.mark.own_server("needs a fresh in-memory server of its own")
def test_in_memory_server_starts_empty(start_server):
    srv = start_server(in_memory=True)
    assert "memory" in srv.storage_description
    client = h.make_client(srv.endpoint)
    assert client.list_tables()["TableNames"] == []


@pytest.mark.own_server("needs its own server to stop it with SIGTERM")
def test_sigterm_stops_promptly_with_exit_code_zero(start_server, tmp_path):
    srv = start_server(data_dir=tmp_path / "data")
    h.make_client(srv.endpoint).list_tables()
    assert srv.stop(timeout=10) == 0, srv.stderr()
