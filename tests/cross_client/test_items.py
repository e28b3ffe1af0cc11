"""Item operations through boto3: PutItem, GetItem, DeleteItem and UpdateItem (without
expressions), every attribute type, number normalisation, ReturnValues, and the `Table`
resource API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from stator_harness import error_of


def normalise_sets(value):
    """Sets come back in no particular order: compare them as sorted lists."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("SS", "NS", "BS"):
                out[k] = sorted(v)
            else:
                out[k] = normalise_sets(v)
        return out
    if isinstance(value, list):
        return [normalise_sets(v) for v in value]
    return value


EVERY_TYPE = {
    "pk": {"S": "every-type"},
    "s": {"S": "héllo wörld ✓ 日本語 \U0001F600"},
    "s_empty": {"S": ""},
    "n_int": {"N": "42"},
    "n_neg": {"N": "-17.25"},
    "n_zero": {"N": "0"},
    "b": {"B": b"\x00\x01\x02\xfe\xff"},
    "b_empty": {"B": b""},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "nul": {"NULL": True},
    "ss": {"SS": ["b", "a", "c", ""]},
    "ns": {"NS": ["3", "1.5", "-2", "100000000000000000000"]},
    "bs": {"BS": [b"\x01", b"\x02\x03", b""]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"L": []}, {"M": {}},
                {"BOOL": False}, {"B": b"\x09"}]},
    "l_empty": {"L": []},
    "m_empty": {"M": {}},
    "m": {"M": {
        "name": {"S": "nested"},
        "empty": {"S": ""},
        "inner": {"M": {
            "deep": {"L": [{"M": {"deeper": {"SS": ["q", "r"]}}}, {"NS": ["7", "8"]}]},
            "bin": {"BS": [b"z"]},
        }},
    }},
    "weird name with spaces & symbols #:.": {"S": "ok"},
}


def test_put_get_every_attribute_type(ddb, table):
    ddb.put_item(TableName=table, Item=EVERY_TYPE)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "every-type"}})["Item"]
    assert normalise_sets(got) == normalise_sets(EVERY_TYPE)
    # boto3's low-level client returns binaries as bytes.
    assert isinstance(got["b"]["B"], bytes)
    got_strong = ddb.get_item(TableName=table, Key={"pk": {"S": "every-type"}},
                              ConsistentRead=True)["Item"]
    assert normalise_sets(got_strong) == normalise_sets(EVERY_TYPE)


NUMBERS = [
    # (sent, expected back)
    ("1.0", "1"),
    ("1.50", "1.5"),
    ("-0", "0"),
    ("0.000", "0"),
    ("007", "7"),
    ("+5", "5"),
    ("1e3", "1000"),
    ("1E+2", "100"),
    ("12.5e-1", "1.25"),
    ("-1.23E-5", "-0.0000123"),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ("-0.12345678901234567890123456789012345678", "-0.12345678901234567890123456789012345678"),
    ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999"
                                                     + "0" * 88),
    ("-9.9999999999999999999999999999999999999E+125", "-99999999999999999999999999999999999999"
                                                      + "0" * 88),
    ("1E-130", "0." + "0" * 129 + "1"),
    ("-1E-130", "-0." + "0" * 129 + "1"),
]


@pytest.mark.parametrize("sent,expected", NUMBERS, ids=[n[0][:24] for n in NUMBERS])
def test_number_round_trip_and_normalisation(ddb, table, sent, expected):
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "v": {"N": sent},
                                        "ns": {"NS": [sent, "2"]}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}})["Item"]
    assert got["v"] == {"N": expected}
    assert sorted(got["ns"]["NS"]) == sorted([expected, "2"])


def test_number_key_normalised(ddb, make_table):
    name = make_table(hash=("id", "N"))
    ddb.put_item(TableName=name, Item={"id": {"N": "1.0"}, "v": {"S": "one"}})
    # "1", "1.00" and "1e0" all name the same item.
    for spelling in ("1", "1.00", "1e0", "10E-1"):
        got = ddb.get_item(TableName=name, Key={"id": {"N": spelling}})
        assert got["Item"] == {"id": {"N": "1"}, "v": {"S": "one"}}, spelling
    ddb.put_item(TableName=name, Item={"id": {"N": "1.000"}, "v": {"S": "uno"}})
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1


@pytest.mark.parametrize("bad,fragment", [
    ("123456789012345678901234567890123456789", "significant digits"),
    ("1E+126", "overflow"),
    ("1E-131", "underflow"),
    ("abc", "cannot be converted"),
    ("", "cannot be converted"),
])
def test_invalid_numbers_rejected(ddb, table, bad, fragment):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "bad"}, "v": {"N": bad}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert fragment.lower() in message.lower()
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "bad"}})


def test_composite_key_items_are_distinct(ddb, make_table):
    name = make_table(hash=("user", "S"), range=("ts", "N"))
    for ts in ("1", "2", "10"):
        ddb.put_item(TableName=name, Item={"user": {"S": "u"}, "ts": {"N": ts},
                                           "v": {"S": f"at {ts}"}})
    for ts in ("1", "2", "10"):
        got = ddb.get_item(TableName=name, Key={"user": {"S": "u"}, "ts": {"N": ts}})["Item"]
        assert got["v"] == {"S": f"at {ts}"}
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 3
    assert "Item" not in ddb.get_item(TableName=name, Key={"user": {"S": "u"}, "ts": {"N": "3"}})


def test_put_replaces_whole_item(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "c": {"S": "3"}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"]
    assert got == {"pk": {"S": "r"}, "c": {"S": "3"}}


def test_get_missing_item_has_no_item_member(ddb, table):
    out = ddb.get_item(TableName=table, Key={"pk": {"S": "nobody"}})
    assert "Item" not in out
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_put_return_values_all_old(ddb, table):
    first = ddb.put_item(TableName=table, Item={"pk": {"S": "rv"}, "v": {"N": "1"}},
                         ReturnValues="ALL_OLD")
    assert "Attributes" not in first
    second = ddb.put_item(TableName=table, Item={"pk": {"S": "rv"}, "v": {"N": "2"}},
                          ReturnValues="ALL_OLD")
    assert second["Attributes"] == {"pk": {"S": "rv"}, "v": {"N": "1"}}
    none = ddb.put_item(TableName=table, Item={"pk": {"S": "rv"}, "v": {"N": "3"}},
                        ReturnValues="NONE")
    assert "Attributes" not in none
    plain = ddb.put_item(TableName=table, Item={"pk": {"S": "rv"}, "v": {"N": "4"}})
    assert "Attributes" not in plain


def test_put_return_values_other_than_none_or_all_old_rejected(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}}, ReturnValues="ALL_NEW")
    assert error_of(e)[0] == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "x"}})


def test_delete_item_return_values_all_old(ddb, table):
    item = {"pk": {"S": "del"}, "m": {"M": {"k": {"L": [{"S": "v"}]}}}}
    ddb.put_item(TableName=table, Item=item)
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == item
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "del"}})
    # Deleting a missing item succeeds and returns nothing.
    again = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in again


def test_update_item_without_expressions_creates_key_only_item(ddb, make_table):
    name = make_table(hash=("h", "S"), range=("r", "N"))
    key = {"h": {"S": "new"}, "r": {"N": "5"}}
    out = ddb.update_item(TableName=name, Key=key, ReturnValues="ALL_NEW")
    assert out["Attributes"] == key
    assert ddb.get_item(TableName=name, Key=key)["Item"] == key
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1


def test_update_item_without_expressions_keeps_existing_item(ddb, table):
    item = {"pk": {"S": "keep"}, "a": {"S": "1"}, "n": {"N": "2"}}
    ddb.put_item(TableName=table, Item=item)
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "keep"}}, ReturnValues="ALL_NEW")
    assert out["Attributes"] == item
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "keep"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == item
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "keep"}})
    assert "Attributes" not in out
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "keep"}})["Item"] == item


def test_update_item_all_old_on_new_item_returns_nothing(ddb, table):
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "fresh"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in out
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "fresh"}})["Item"] == {
        "pk": {"S": "fresh"}}


def test_large_item_near_limit_round_trips(ddb, table):
    # 400 KB = 409,600 bytes counting attribute names and values: "pk"+"big" (2+3) + "big" (3)
    # + the two values must stay at or under it.
    value = "x" * (409_600 - len("pk") - len("big") - len("big"))
    ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "big": {"S": value}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})["Item"]
    assert got["big"]["S"] == value


# ---------------------------------------------------------------------------------------------
# The boto3 resource layer (Table, Decimal, Binary, Python sets)
# ---------------------------------------------------------------------------------------------


def test_table_resource_put_get_with_decimal(ddb_resource, table):
    t = ddb_resource.Table(table)
    assert t.key_schema == [{"AttributeName": "pk", "KeyType": "HASH"}]
    item = {
        "pk": "res",
        "price": Decimal("19.99"),
        "count": 3,
        "one": Decimal("1.0"),
        "tiny": Decimal("1E-130"),
        "tags": {"a", "b"},
        "scores": {Decimal("1"), Decimal("2.5")},
        "blob": Binary(b"\x00\xff"),
        "blobs": {Binary(b"\x01"), Binary(b"\x02")},
        "flag": True,
        "nothing": None,
        "doc": {"list": [1, "two", {"three": Decimal("3.0")}], "empty": ""},
    }
    t.put_item(Item=item)
    got = t.get_item(Key={"pk": "res"})["Item"]
    assert got["price"] == Decimal("19.99")
    assert got["count"] == Decimal("3") and isinstance(got["count"], Decimal)
    # DynamoDB normalises the stored number, so the Decimal comes back without trailing zeros.
    assert str(got["one"]) == "1"
    assert got["tiny"] == Decimal("1E-130")
    assert got["tags"] == {"a", "b"}
    assert got["scores"] == {Decimal("1"), Decimal("2.5")}
    assert got["blob"] == Binary(b"\x00\xff")
    assert got["blobs"] == {Binary(b"\x01"), Binary(b"\x02")}
    assert got["flag"] is True
    assert got["nothing"] is None
    assert got["doc"] == {"list": [Decimal(1), "two", {"three": Decimal(3)}], "empty": ""}
    assert str(got["doc"]["list"][2]["three"]) == "3"

    old = t.delete_item(Key={"pk": "res"}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["price"] == Decimal("19.99")
    assert "Item" not in t.get_item(Key={"pk": "res"})


def test_table_resource_describes_table(ddb_resource, make_table):
    name = make_table(hash=("id", "N"), range=("sort", "B"))
    t = ddb_resource.Table(name)
    t.put_item(Item={"id": 7, "sort": b"\x01", "v": "x"})
    t.reload()
    assert t.table_status == "ACTIVE"
    assert t.item_count == 1
    assert t.table_arn.endswith(f":table/{name}")
    assert t.billing_mode_summary["BillingMode"] == "PAY_PER_REQUEST"
    got = t.get_item(Key={"id": Decimal(7), "sort": Binary(b"\x01")}, ConsistentRead=True)
    assert got["Item"] == {"id": Decimal(7), "sort": Binary(b"\x01"), "v": "x"}
