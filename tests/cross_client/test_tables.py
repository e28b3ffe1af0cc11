"""Table operations through boto3: CreateTable, DescribeTable, ListTables, DeleteTable,
UpdateTable and tags."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import error_of, wait_table_active, wait_table_gone

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def arn_re(name: str) -> re.Pattern:
    return re.compile(rf"^arn:aws:dynamodb:us-east-1:\d{{12}}:table/{re.escape(name)}$")


def sorted_attrs(defs):
    return sorted(defs, key=lambda d: d["AttributeName"])


# ---------------------------------------------------------------------------------------------
# CreateTable / DescribeTable
# ---------------------------------------------------------------------------------------------


def test_create_table_simple_string_key_on_demand(ddb, table_name):
    before = dt.datetime.now(dt.timezone.utc)
    out = ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    d = out["TableDescription"]
    assert d["TableName"] == table_name
    assert d["TableStatus"] in ("CREATING", "ACTIVE")
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert d["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert arn_re(table_name).match(d["TableArn"]), d["TableArn"]
    assert UUID_RE.match(d["TableId"]), d["TableId"]
    # botocore parses the epoch-seconds timestamp into an aware datetime.
    assert isinstance(d["CreationDateTime"], dt.datetime)
    assert abs((d["CreationDateTime"] - before).total_seconds()) < 120
    assert d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert d["ItemCount"] == 0
    assert d["TableSizeBytes"] == 0

    wait_table_active(ddb, table_name)
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert t["TableArn"] == d["TableArn"]
    assert t["TableId"] == d["TableId"]
    assert t["CreationDateTime"] == d["CreationDateTime"]
    assert t["KeySchema"] == d["KeySchema"]
    assert t["AttributeDefinitions"] == d["AttributeDefinitions"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert isinstance(t["BillingModeSummary"].get("LastUpdateToPayPerRequestDateTime",
                                                    d["CreationDateTime"]), dt.datetime)
    # On-demand tables report zero provisioned throughput.
    pt = t["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 0
    assert pt["WriteCapacityUnits"] == 0
    assert pt["NumberOfDecreasesToday"] == 0
    assert t["DeletionProtectionEnabled"] is False


def test_create_table_composite_string_number_key_provisioned(ddb, table_name):
    out = ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[
            {"AttributeName": "user", "AttributeType": "S"},
            {"AttributeName": "ts", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "user", "KeyType": "HASH"},
            {"AttributeName": "ts", "KeyType": "RANGE"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )
    d = out["TableDescription"]
    assert d["KeySchema"] == [
        {"AttributeName": "user", "KeyType": "HASH"},
        {"AttributeName": "ts", "KeyType": "RANGE"},
    ]
    wait_table_active(ddb, table_name)
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert t["KeySchema"] == d["KeySchema"]
    assert sorted_attrs(t["AttributeDefinitions"]) == [
        {"AttributeName": "ts", "AttributeType": "N"},
        {"AttributeName": "user", "AttributeType": "S"},
    ]
    pt = t["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (5, 7)
    assert pt["NumberOfDecreasesToday"] == 0
    # BillingModeSummary is optional for tables created as PROVISIONED; when present it says so.
    if "BillingModeSummary" in t:
        assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_create_table_binary_keys_explicit_provisioned(ddb, table_name):
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[
            {"AttributeName": "h", "AttributeType": "B"},
            {"AttributeName": "r", "AttributeType": "B"},
        ],
        KeySchema=[
            {"AttributeName": "h", "KeyType": "HASH"},
            {"AttributeName": "r", "KeyType": "RANGE"},
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    wait_table_active(ddb, table_name)
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert sorted_attrs(t["AttributeDefinitions"]) == [
        {"AttributeName": "h", "AttributeType": "B"},
        {"AttributeName": "r", "AttributeType": "B"},
    ]
    key = {"h": {"B": b"\x00\x01\xff"}, "r": {"B": b"\x80"}}
    ddb.put_item(TableName=table_name, Item={**key, "v": {"S": "binary keyed"}})
    got = ddb.get_item(TableName=table_name, Key=key)["Item"]
    assert got == {**key, "v": {"S": "binary keyed"}}


def test_create_existing_table_is_resource_in_use(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    code, message = error_of(e)
    assert code == "ResourceInUseException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert table in message


def test_create_table_attribute_definitions_must_match_key_schema(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "unused", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "does not exactly match number of attributes defined in AttributeDefinitions" \
        in message


def test_create_table_billing_mode_and_throughput_must_agree(ddb, table_name):
    base = dict(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    with pytest.raises(ClientError) as e:
        ddb.create_table(**base, BillingMode="PAY_PER_REQUEST",
                         ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.create_table(**base, BillingMode="PROVISIONED")
    assert error_of(e)[0] == "ValidationException"
    # Neither attempt created the table.
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_describe_table_counts_items_and_bytes(ddb, table):
    items = [
        {"pk": "item-1", "data": "hello"},
        {"pk": "item-2", "data": "héllo wörld"},
        {"pk": "item-3", "data": "", "more": "x" * 100},
    ]
    for item in items:
        ddb.put_item(TableName=table, Item={k: {"S": v} for k, v in item.items()})
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["ItemCount"] == 3
    assert t["TableSizeBytes"] == sum(h.item_size_of_strings(i) for i in items)

    # Overwriting an item does not add to the count; deleting one removes it.
    ddb.put_item(TableName=table, Item={"pk": {"S": "item-1"}, "data": {"S": "hi"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "item-3"}})
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["ItemCount"] == 2
    assert t["TableSizeBytes"] == (h.item_size_of_strings({"pk": "item-1", "data": "hi"})
                                   + h.item_size_of_strings(items[1]))


def test_describe_missing_table(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    code, message = error_of(e)
    assert code == "ResourceNotFoundException"
    assert message.startswith("Requested resource not found")


# ---------------------------------------------------------------------------------------------
# ListTables
# ---------------------------------------------------------------------------------------------

LIST_NAMES = ["echo", "alpha", "delta", "bravo", "charlie"]


@dataclass
class Listing:
    """The tables of LIST_NAMES, as `prefix + name`, and a client to list them with."""

    client: Any
    prefix: str
    private: bool  # True: the server holds exactly these tables

    def name(self, short: str) -> str:
        return self.prefix + short

    @property
    def names(self) -> list[str]:
        return sorted(self.name(n) for n in LIST_NAMES)

    def start(self) -> dict:
        """Where the listing of these tables starts: at the beginning of a private server's
        listing, just before the prefix on a shared one."""
        return {} if self.private else {"ExclusiveStartTableName": self.prefix}

    def ours(self, names: list[str]) -> list[str]:
        return [n for n in names if n.startswith(self.prefix)]


@pytest.fixture
def listing(start_server) -> Listing:
    """Normally a private in-memory server holding exactly the tables in LIST_NAMES, under
    their plain names: the listing starts at the beginning and ends after them. On a shared
    endpoint (STATOR_ENDPOINT) other tables sort before and after them, so the names share a
    unique prefix, the listing starts at the prefix (only these tables sort between it and
    the first of them), and what follows them is not this test's to know."""
    shared = h.shared_endpoint()
    if shared:
        listing = Listing(h.make_client(shared), h.unique_table_name("list") + "_", False)
    else:
        srv = start_server(in_memory=True)
        assert "memory" in srv.storage_description
        listing = Listing(h.make_client(srv.endpoint), "", True)
    for name in LIST_NAMES:
        listing.client.create_table(
            TableName=listing.name(name),
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return listing


def test_list_tables_sorted_and_paged_by_limit(listing):
    client, name = listing.client, listing.name
    everything = client.list_tables(**listing.start())
    assert everything["TableNames"][:len(LIST_NAMES)] == listing.names
    if listing.private:
        assert everything["TableNames"] == listing.names
        assert "LastEvaluatedTableName" not in everything

    page1 = client.list_tables(Limit=2, **listing.start())
    assert page1["TableNames"] == [name("alpha"), name("bravo")]
    assert page1["LastEvaluatedTableName"] == name("bravo")
    page2 = client.list_tables(Limit=2, ExclusiveStartTableName=name("bravo"))
    assert page2["TableNames"] == [name("charlie"), name("delta")]
    assert page2["LastEvaluatedTableName"] == name("delta")
    page3 = client.list_tables(Limit=2, ExclusiveStartTableName=name("delta"))
    assert page3["TableNames"][:1] == [name("echo")]
    if listing.private:
        assert page3["TableNames"] == [name("echo")]
        assert "LastEvaluatedTableName" not in page3
    else:
        assert listing.ours(page3["TableNames"][1:]) == []


def test_list_tables_exclusive_start_need_not_exist(listing):
    client, name = listing.client, listing.name
    out = client.list_tables(ExclusiveStartTableName=name("cab"))
    assert out["TableNames"][:3] == [name("charlie"), name("delta"), name("echo")]
    if listing.private:
        assert out["TableNames"] == [name("charlie"), name("delta"), name("echo")]
    out = client.list_tables(ExclusiveStartTableName=name("echo"))
    if listing.private:
        assert out["TableNames"] == []
    else:
        assert listing.ours(out["TableNames"]) == []
    # No table sorts after the greatest possible name, on any server.
    out = client.list_tables(ExclusiveStartTableName="z" * 255)
    assert out["TableNames"] == []
    assert "LastEvaluatedTableName" not in out


def test_list_tables_boto3_paginator(listing):
    paginator = listing.client.get_paginator("list_tables")
    # On a shared endpoint the paginator stops after these five tables (MaxItems).
    limit = {} if listing.private else {"MaxItems": len(LIST_NAMES)}
    pages = list(paginator.paginate(**listing.start(),
                                    PaginationConfig={"PageSize": 2, **limit}))
    assert [p["TableNames"] for p in pages] == [listing.names[0:2], listing.names[2:4],
                                               listing.names[4:]]
    collected = paginator.paginate(**listing.start(),
                                   PaginationConfig={"PageSize": 3, **limit}).build_full_result()
    assert collected["TableNames"] == listing.names


def test_list_tables_in_session_server_includes_new_table(ddb, table):
    names = []
    for page in ddb.get_paginator("list_tables").paginate():
        names += page["TableNames"]
    assert table in names
    assert names == sorted(names)


# ---------------------------------------------------------------------------------------------
# DeleteTable
# ---------------------------------------------------------------------------------------------


def test_delete_table_then_resource_not_found(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    out = ddb.delete_table(TableName=table)
    d = out["TableDescription"]
    assert d["TableName"] == table
    assert d["TableStatus"] == "DELETING"
    # DynamoDB's reduced description of a deleted table.
    assert set(d) == {"TableName", "TableStatus", "TableId", "TableArn", "BillingModeSummary",
                      "ProvisionedThroughput", "TableSizeBytes", "ItemCount"}
    assert d["ItemCount"] == 1 and d["TableSizeBytes"] > 0
    assert d["BillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}
    wait_table_gone(ddb, table)
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table)
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found")
    assert table not in ddb.list_tables(ExclusiveStartTableName=table[:-1])["TableNames"]
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=table)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_recreated_table_is_empty_and_new(ddb, make_table):
    name = make_table()
    first = ddb.describe_table(TableName=name)["Table"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "old"}})
    ddb.delete_table(TableName=name)
    wait_table_gone(ddb, name)
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    second = ddb.describe_table(TableName=name)["Table"]
    assert second["TableId"] != first["TableId"]
    assert second["ItemCount"] == 0
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "old"}})


# ---------------------------------------------------------------------------------------------
# UpdateTable
# ---------------------------------------------------------------------------------------------


def test_update_table_throughput(ddb, make_table):
    name = make_table(billing="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    out = ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 10,
                                                                   "WriteCapacityUnits": 20})
    assert out["TableDescription"]["TableName"] == name
    wait_table_active(ddb, name)
    pt = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (10, 20)
    assert isinstance(pt["LastIncreaseDateTime"], dt.datetime)

    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 3,
                                                             "WriteCapacityUnits": 20})
    wait_table_active(ddb, name)
    pt = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (3, 20)
    assert isinstance(pt["LastDecreaseDateTime"], dt.datetime)
    assert pt["NumberOfDecreasesToday"] == 1


def test_update_table_billing_mode_switch(ddb, make_table):
    name = make_table(billing="PROVISIONED")
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    wait_table_active(ddb, name)
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert isinstance(t["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"], dt.datetime)
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 0

    ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 6})
    wait_table_active(ddb, name)
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    pt = t["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (4, 6)


def test_deletion_protection_blocks_delete_table(ddb, make_table):
    name = make_table()
    out = ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert out["TableDescription"]["DeletionProtectionEnabled"] is True
    wait_table_active(ddb, name)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "protect" in message.lower()
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"

    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    wait_table_active(ddb, name)
    ddb.delete_table(TableName=name)
    wait_table_gone(ddb, name)


def test_create_table_with_deletion_protection(ddb, make_table):
    name = make_table(DeletionProtectionEnabled=True)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    assert error_of(e)[0] == "ValidationException"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)


def test_update_missing_table(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")
    assert error_of(e)[0] == "ResourceNotFoundException"


# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------


def sorted_tags(tags):
    return sorted(tags, key=lambda t: t["Key"])


def test_tag_untag_list_tags(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []

    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"},
                                            {"Key": "team", "Value": "storage"}])
    assert sorted_tags(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == [
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "storage"},
    ]
    # Tagging an existing key replaces its value.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    assert sorted_tags(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == [
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": "storage"},
    ]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["env", "not-there"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "storage"}]


def test_create_table_with_tags(ddb, make_table):
    name = make_table(Tags=[{"Key": "owner", "Value": "xc"}, {"Key": "empty", "Value": ""}])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert sorted_tags(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == [
        {"Key": "empty", "Value": ""},
        {"Key": "owner", "Value": "xc"},
    ]


def test_tags_of_missing_table(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    missing_arn = arn + "_missing"
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=missing_arn)
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=missing_arn, Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(e)[0] == "ResourceNotFoundException"


# ---------------------------------------------------------------------------------------------
# DescribeLimits / DescribeEndpoints
# ---------------------------------------------------------------------------------------------


def test_describe_limits(ddb):
    out = ddb.describe_limits()
    for field in ("AccountMaxReadCapacityUnits", "AccountMaxWriteCapacityUnits",
                  "TableMaxReadCapacityUnits", "TableMaxWriteCapacityUnits"):
        assert isinstance(out[field], int) and out[field] > 0, field


def test_describe_endpoints(ddb):
    out = ddb.describe_endpoints()
    assert len(out["Endpoints"]) >= 1
    first = out["Endpoints"][0]
    assert first["Address"]
    assert first["CachePeriodInMinutes"] > 0
