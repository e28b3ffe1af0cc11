"""Expressions through DynamoDB's own clients: ConditionExpression, UpdateExpression,
ProjectionExpression, the legacy Expected / ConditionalOperator / AttributeUpdates /
AttributesToGet parameters, the boto3 `Table` resource with `Key` / `Attr` condition builders
(which turn conditions into expressions full of `#n0` / `:v0` placeholders), the AWS CLI, and
concurrent conditional and atomic updates.

Expected values are DynamoDB's documented behaviour: exact error types and messages, exact
attribute maps for every ReturnValues setting, and after every failed write the item is
checked to be unchanged.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import error_of, get_item

CONDITION_FAILED = "The conditional request failed"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def norm(value):
    """Sets come back in no particular order: compare them as sorted lists."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def fails_with(fn, code, message=None, prefix=None, **kwargs):
    """Calls fn(**kwargs), which must fail with `code` and exactly `message` (or a message that
    starts with `prefix`). Returns the ClientError."""
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    got_code, got_message = error_of(e)
    assert got_code == code, (got_code, got_message)
    if message is not None:
        assert got_message == message
    if prefix is not None:
        assert got_message.startswith(prefix), got_message
    return e.value


def condition_fails(fn, **kwargs):
    return fails_with(fn, "ConditionalCheckFailedException", CONDITION_FAILED, **kwargs)


def put(ddb, table, item):
    ddb.put_item(TableName=table, Item=item)
    return item


# --------------------------------------------------------------------------------------------
# Conditional writes
# --------------------------------------------------------------------------------------------


def test_create_if_absent_with_attribute_not_exists(ddb, table):
    first = {"pk": {"S": "once"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=first, ConditionExpression="attribute_not_exists(pk)")
    assert get_item(ddb, table, "once") == first

    err = condition_fails(ddb.put_item, TableName=table,
                          Item={"pk": {"S": "once"}, "v": {"N": "2"}},
                          ConditionExpression="attribute_not_exists(pk)")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Without ReturnValuesOnConditionCheckFailure the error carries no item.
    assert "Item" not in err.response
    assert get_item(ddb, table, "once") == first


def test_create_if_absent_with_table_resource(ddb_resource, table):
    t = ddb_resource.Table(table)
    t.put_item(Item={"pk": "res", "qty": 1}, ConditionExpression=Attr("pk").not_exists())
    condition_fails(t.put_item, Item={"pk": "res", "qty": 2},
                    ConditionExpression=Attr("pk").not_exists())
    assert t.get_item(Key={"pk": "res"}, ConsistentRead=True)["Item"] == {
        "pk": "res", "qty": Decimal(1)}


def test_conditions_on_a_missing_item(ddb, table):
    # attribute_exists on a missing item fails for every write, and creates nothing.
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "ghost"}},
                    ConditionExpression="attribute_exists(pk)")
    condition_fails(ddb.update_item, TableName=table, Key={"pk": {"S": "ghost"}},
                    UpdateExpression="SET qty = :one",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    condition_fails(ddb.delete_item, TableName=table, Key={"pk": {"S": "ghost"}},
                    ConditionExpression="qty = :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    err = condition_fails(ddb.delete_item, TableName=table, Key={"pk": {"S": "ghost"}},
                          ConditionExpression="attribute_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert "Item" not in err.response  # there was no old item
    assert get_item(ddb, table, "ghost") is None
    # A condition about absent attributes holds on a missing item.
    ddb.update_item(TableName=table, Key={"pk": {"S": "ghost"}},
                    UpdateExpression="SET qty = :one",
                    ConditionExpression="attribute_not_exists(qty) AND NOT qty = :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    assert get_item(ddb, table, "ghost") == {"pk": {"S": "ghost"}, "qty": {"N": "1"}}


def test_conditional_delete(ddb, table):
    item = put(ddb, table, {"pk": {"S": "d"}, "qty": {"N": "3"}})
    condition_fails(ddb.delete_item, TableName=table, Key={"pk": {"S": "d"}},
                    ConditionExpression="qty > :five",
                    ExpressionAttributeValues={":five": {"N": "5"}})
    assert get_item(ddb, table, "d") == item
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}},
                          ConditionExpression="qty < :five",
                          ExpressionAttributeValues={":five": {"N": "5"}},
                          ReturnValues="ALL_OLD")
    assert out["Attributes"] == item
    assert get_item(ddb, table, "d") is None


# The item every condition below is evaluated against.
COND_ITEM = {
    "qty": {"N": "5"},
    "name": {"S": "widget"},
    "tags": {"SS": ["red", "blue"]},
    "nums": {"NS": ["1", "2"]},
    "l": {"L": [{"N": "1"}, {"N": "2"}, {"S": "three"}]},
    "m": {"M": {"k": {"S": "v"}, "deep": {"M": {"x": {"N": "10"}}}}},
    "flag": {"BOOL": True},
    "nul": {"NULL": True},
    "bin": {"B": b"\x01\x02"},
}

COND_VALUES = {
    ":zero": {"N": "0"}, ":one": {"N": "1"}, ":two": {"N": "2"}, ":three": {"N": "3"},
    ":five": {"N": "5"}, ":six": {"N": "6"}, ":ten": {"N": "10"},
    ":wid": {"S": "wid"}, ":gad": {"S": "gad"}, ":dge": {"S": "dge"}, ":widget": {"S": "widget"},
    ":a": {"S": "a"}, ":z": {"S": "z"}, ":red": {"S": "red"}, ":green": {"S": "green"},
    ":three_s": {"S": "three"}, ":v": {"S": "v"}, ":five_s": {"S": "5"},
    ":true": {"BOOL": True}, ":false": {"BOOL": False},
    ":N": {"S": "N"}, ":S": {"S": "S"}, ":SS": {"S": "SS"}, ":NS": {"S": "NS"},
    ":L": {"S": "L"}, ":M": {"S": "M"}, ":BOOL": {"S": "BOOL"}, ":NULL": {"S": "NULL"},
    ":B": {"S": "B"}, ":b12": {"B": b"\x01\x02"}, ":b01": {"B": b"\x01"},
}

CONDITIONS = [
    # comparisons
    ("qty = :five", True),
    ("qty <> :five", False),
    ("qty < :six", True),
    ("qty <= :five", True),
    ("qty > :five", False),
    ("qty >= :six", False),
    (":six > qty", True),
    ("#n = :widget", True),
    ("#n > :a", True),
    ("#n < :a", False),
    ("m.deep.x = :ten", True),
    ("l[1] = :two", True),
    ("l[2] = :three_s", True),
    ("m.k = :v", True),
    ("flag = :true", True),
    ("flag = :false", False),
    ("bin = :b12", True),
    ("bin > :b01", True),
    # values of different types are never equal, and never ordered
    ("qty = :five_s", False),
    ("qty <> :five_s", True),
    ("qty < :five_s", False),
    ("qty > :five_s", False),
    # a missing attribute compares false
    ("nothing = :five", False),
    ("nothing < :five", False),
    ("NOT nothing = :five", True),
    # BETWEEN, IN
    ("qty BETWEEN :one AND :five", True),
    ("qty BETWEEN :five AND :five", True),
    ("qty BETWEEN :six AND :ten", False),
    ("#n BETWEEN :a AND :z", True),
    ("qty IN (:one, :five, :six)", True),
    ("qty IN (:one, :six)", False),
    ("qty IN (:five_s)", False),
    # functions
    ("attribute_exists(m.deep.x)", True),
    ("attribute_exists(l[2])", True),
    ("attribute_exists(l[3])", False),
    ("attribute_not_exists(m.nope)", True),
    ("attribute_exists(nul)", True),
    ("begins_with(#n, :wid)", True),
    ("begins_with(#n, :gad)", False),
    ("begins_with(bin, :b01)", True),
    ("contains(#n, :dge)", True),
    ("contains(#n, :gad)", False),
    ("contains(tags, :red)", True),
    ("contains(tags, :green)", False),
    ("contains(nums, :two)", True),
    ("contains(l, :two)", True),
    ("contains(l, :three_s)", True),
    ("contains(l, :six)", False),
    ("size(#n) = :six", True),
    ("size(tags) = :two", True),
    ("size(l) = :three", True),
    ("size(m) = :two", True),
    ("size(bin) = :two", True),
    ("size(#n) > size(l)", True),
    ("size(nothing) > :zero", False),
    ("attribute_type(qty, :N)", True),
    ("attribute_type(qty, :S)", False),
    ("attribute_type(#n, :S)", True),
    ("attribute_type(tags, :SS)", True),
    ("attribute_type(nums, :NS)", True),
    ("attribute_type(l, :L)", True),
    ("attribute_type(m, :M)", True),
    ("attribute_type(flag, :BOOL)", True),
    ("attribute_type(nul, :NULL)", True),
    ("attribute_type(bin, :B)", True),
    ("attribute_type(nothing, :N)", False),
    # logic and precedence: NOT binds tighter than AND, AND tighter than OR
    ("qty = :five AND NOT contains(tags, :green)", True),
    ("(qty = :one OR qty = :five) AND attribute_exists(flag)", True),
    ("qty = :one OR qty = :five AND flag = :false", False),
    ("qty = :five OR qty = :one AND flag = :false", True),
    ("(qty = :five OR qty = :one) AND flag = :false", False),
    ("NOT (qty = :five)", False),
    ("NOT qty = :one AND NOT qty = :two", True),
    ("NOT NOT attribute_exists(qty)", True),
]


@pytest.fixture(scope="module")
def cond_table(endpoint):
    client = h.make_client(endpoint)
    name = h.unique_table_name("expressions_conditions")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return name


@pytest.mark.parametrize("expression,holds", CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_condition_expression(ddb, cond_table, expression, holds):
    pk = "c:" + expression
    item = {"pk": {"S": pk}, **COND_ITEM}
    ddb.put_item(TableName=cond_table, Item=item)
    used_values = {k: v for k, v in COND_VALUES.items()
                   if any(k == tok.strip("(),") for tok in expression.split())}
    args = dict(TableName=cond_table, Key={"pk": {"S": pk}},
                UpdateExpression="SET probe = :probe",
                ConditionExpression=expression,
                ExpressionAttributeValues={":probe": {"S": "written"}, **used_values})
    if "#n" in expression:
        args["ExpressionAttributeNames"] = {"#n": "name"}
    if holds:
        ddb.update_item(**args)
        assert norm(get_item(ddb, cond_table, pk)) == norm({**item, "probe": {"S": "written"}})
    else:
        condition_fails(ddb.update_item, **args)
        assert norm(get_item(ddb, cond_table, pk)) == norm(item)


RESOURCE_ITEM = {
    "pk": "r",
    "qty": Decimal(5),
    "status": "active",       # a reserved word: boto3 puts every name in a placeholder
    "name": "widget",
    "tags": {"red", "blue"},
    "m": {"k": "v", "deep": {"x": Decimal(10)}},
    "l": [Decimal(1), "two"],
}

RESOURCE_CONDITIONS = [
    (Attr("qty").eq(5), True),
    (Attr("qty").ne(5), False),
    (Attr("qty").lt(6) & Attr("qty").lte(5) & Attr("qty").gt(4) & Attr("qty").gte(5), True),
    (Attr("qty").between(1, 5), True),
    (Attr("qty").between(6, 10), False),
    (Attr("qty").is_in([1, 5, 9]), True),
    (Attr("qty").is_in([1, 9]), False),
    (Attr("status").eq("active"), True),
    (Attr("status").eq("inactive"), False),
    (Attr("name").begins_with("wid"), True),
    (Attr("name").contains("dge"), True),
    (Attr("tags").contains("red"), True),
    (Attr("tags").contains("green"), False),
    (Attr("tags").size().eq(2), True),
    (Attr("name").size().gt(10), False),
    (Attr("tags").attribute_type("SS"), True),
    (Attr("qty").attribute_type("S"), False),
    (Attr("m.deep.x").eq(10), True),
    (Attr("m.k").exists() & Attr("m.nope").not_exists(), True),
    (Attr("l[1]").eq("two"), True),
    (Attr("l[0]").eq("two"), False),
    (Attr("missing").exists(), False),
    (~Attr("missing").exists(), True),
    (Attr("qty").eq(1) | Attr("status").eq("active"), True),
    ((Attr("qty").eq(1) | Attr("qty").eq(5)) & ~Attr("tags").contains("green"), True),
    (Attr("qty").eq(5) & (Attr("status").eq("x") | Attr("name").eq("y")), False),
    (Key("pk").eq("r") & Attr("qty").gt(1), True),
]


@pytest.mark.parametrize("condition,holds", RESOURCE_CONDITIONS,
                         ids=[f"{i}" for i in range(len(RESOURCE_CONDITIONS))])
def test_resource_attr_conditions(ddb_resource, table, condition, holds):
    t = ddb_resource.Table(table)
    t.put_item(Item=RESOURCE_ITEM)
    # The resource layer merges the builder's #n0/:v0 placeholders with these.
    kwargs = dict(Key={"pk": "r"}, UpdateExpression="SET #p = :p",
                  ExpressionAttributeNames={"#p": "probe"},
                  ExpressionAttributeValues={":p": "written"},
                  ConditionExpression=condition)
    if holds:
        t.update_item(**kwargs)
        expected = {**RESOURCE_ITEM, "probe": "written"}
    else:
        condition_fails(t.update_item, **kwargs)
        expected = RESOURCE_ITEM
    assert t.get_item(Key={"pk": "r"}, ConsistentRead=True)["Item"] == expected


def test_resource_conditional_put_and_delete(ddb_resource, table):
    t = ddb_resource.Table(table)
    t.put_item(Item={"pk": "p", "status": "new", "version": 1})
    t.put_item(Item={"pk": "p", "status": "done", "version": 2},
               ConditionExpression=Attr("status").eq("new") & Attr("version").eq(1))
    condition_fails(t.put_item, Item={"pk": "p", "status": "again", "version": 3},
                    ConditionExpression=Attr("status").eq("new"))
    condition_fails(t.delete_item, Key={"pk": "p"},
                    ConditionExpression=Attr("version").lt(2))
    assert t.get_item(Key={"pk": "p"})["Item"] == {"pk": "p", "status": "done",
                                                   "version": Decimal(2)}
    t.delete_item(Key={"pk": "p"}, ConditionExpression=Attr("version").eq(2))
    assert "Item" not in t.get_item(Key={"pk": "p"})


def test_return_values_on_condition_check_failure(ddb, table):
    item = put(ddb, table, {"pk": {"S": "rv"}, "qty": {"N": "1"}, "tags": {"SS": ["a"]},
                            "bin": {"B": b"\x00\xff"}})
    common = dict(TableName=table, ConditionExpression="qty = :two",
                  ExpressionAttributeValues={":two": {"N": "2"}})

    err = condition_fails(ddb.put_item, Item={"pk": {"S": "rv"}},
                          ReturnValuesOnConditionCheckFailure="ALL_OLD", **common)
    assert err.response["Item"] == item
    err = condition_fails(ddb.update_item, Key={"pk": {"S": "rv"}},
                          UpdateExpression="SET qty = qty + :two",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD", **common)
    assert err.response["Item"] == item
    err = condition_fails(ddb.delete_item, Key={"pk": {"S": "rv"}},
                          ReturnValuesOnConditionCheckFailure="ALL_OLD", **common)
    assert err.response["Item"] == item
    err = condition_fails(ddb.delete_item, Key={"pk": {"S": "rv"}},
                          ReturnValuesOnConditionCheckFailure="NONE", **common)
    assert "Item" not in err.response
    assert get_item(ddb, table, "rv") == item


# --------------------------------------------------------------------------------------------
# Update expressions
# --------------------------------------------------------------------------------------------


def update(ddb, table, pk, expression, values=None, names=None, **extra):
    args = dict(TableName=table, Key={"pk": {"S": pk}}, UpdateExpression=expression, **extra)
    if values:
        args["ExpressionAttributeValues"] = values
    if names:
        args["ExpressionAttributeNames"] = names
    return ddb.update_item(**args)


def test_set_nested_map_paths_and_list_indexes(ddb, table):
    put(ddb, table, {"pk": {"S": "s"},
                     "m": {"M": {"a": {"M": {"b": {"N": "1"}}}, "keep": {"S": "k"}}},
                     "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}})
    update(ddb, table, "s",
           "SET m.a.b = :two, m.a.c = :x, m.#new = :x, l[1] = :y, l[20] = :p, l[10] = :q",
           values={":two": {"N": "2"}, ":x": {"S": "x"}, ":y": {"S": "B"},
                   ":p": {"S": "p"}, ":q": {"S": "q"}},
           names={"#new": "new key.with dot"})
    # Indexes past the end append, in index order.
    assert get_item(ddb, table, "s") == {
        "pk": {"S": "s"},
        "m": {"M": {"a": {"M": {"b": {"N": "2"}, "c": {"S": "x"}}}, "keep": {"S": "k"},
                    "new key.with dot": {"S": "x"}}},
        "l": {"L": [{"S": "a"}, {"S": "B"}, {"S": "c"}, {"S": "q"}, {"S": "p"}]},
    }


def test_set_arithmetic_reads_the_old_item(ddb, table):
    put(ddb, table, {"pk": {"S": "a"}, "n": {"N": "10"}, "f": {"N": "0.1"}})
    out = update(ddb, table, "a",
                 "SET n = n + :two, n_copy = n, diff = :one - n, f = f + :f, lit = :one + :two",
                 values={":one": {"N": "1"}, ":two": {"N": "2"}, ":f": {"N": "0.2"}},
                 ReturnValues="ALL_NEW")
    expected = {"pk": {"S": "a"}, "n": {"N": "12"}, "n_copy": {"N": "10"}, "diff": {"N": "-9"},
                "f": {"N": "0.3"}, "lit": {"N": "3"}}
    assert out["Attributes"] == expected
    assert get_item(ddb, table, "a") == expected


def test_if_not_exists(ddb, table):
    put(ddb, table, {"pk": {"S": "i"}, "created": {"S": "first"}})
    update(ddb, table, "i",
           "SET created = if_not_exists(created, :now), n = if_not_exists(n, :zero) + :one, "
           "m_count = if_not_exists(m.c, :zero)",
           values={":now": {"S": "second"}, ":zero": {"N": "0"}, ":one": {"N": "1"}})
    assert get_item(ddb, table, "i") == {"pk": {"S": "i"}, "created": {"S": "first"},
                                    "n": {"N": "1"}, "m_count": {"N": "0"}}
    update(ddb, table, "i", "SET n = if_not_exists(n, :zero) + :one",
           values={":zero": {"N": "0"}, ":one": {"N": "1"}})
    assert get_item(ddb, table, "i")["n"] == {"N": "2"}


def test_list_append(ddb, table):
    put(ddb, table, {"pk": {"S": "la"}, "l": {"L": [{"N": "1"}]}})
    update(ddb, table, "la",
           "SET l = list_append(l, :more), front = list_append(:front, l), "
           "fresh = list_append(if_not_exists(fresh, :empty), :more)",
           values={":more": {"L": [{"N": "2"}, {"S": "x"}]}, ":front": {"L": [{"N": "0"}]},
                   ":empty": {"L": []}})
    assert get_item(ddb, table, "la") == {
        "pk": {"S": "la"},
        "l": {"L": [{"N": "1"}, {"N": "2"}, {"S": "x"}]},
        "front": {"L": [{"N": "0"}, {"N": "1"}]},
        "fresh": {"L": [{"N": "2"}, {"S": "x"}]},
    }


def test_remove_top_level_nested_and_list_elements(ddb, table):
    put(ddb, table, {"pk": {"S": "r"}, "gone": {"S": "x"}, "keep": {"S": "y"},
                     "m": {"M": {"a": {"N": "1"}, "b": {"N": "2"}}},
                     "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}})
    # Indexes name the elements before the update; later elements shift down.
    # Removing absent attributes, keys and indexes is not an error.
    out = update(ddb, table, "r", "REMOVE gone, m.a, l[0], l[2], absent, m.absent, l[9]",
                 ReturnValues="ALL_NEW")
    expected = {"pk": {"S": "r"}, "keep": {"S": "y"}, "m": {"M": {"b": {"N": "2"}}},
                "l": {"L": [{"S": "b"}, {"S": "d"}]}}
    assert out["Attributes"] == expected
    assert get_item(ddb, table, "r") == expected


def test_add_numbers_and_sets(ddb, table):
    put(ddb, table, {"pk": {"S": "add"}, "n": {"N": "5"}, "ss": {"SS": ["a", "b"]},
                     "ns": {"NS": ["1", "2"]}})
    update(ddb, table, "add", "ADD n :three, fresh_n :minus, ss :ss, ns :ns, fresh_ss :ss",
           values={":three": {"N": "3"}, ":minus": {"N": "-1.5"}, ":ss": {"SS": ["b", "c"]},
                   ":ns": {"NS": ["2", "3.5"]}})
    assert norm(get_item(ddb, table, "add")) == norm({
        "pk": {"S": "add"}, "n": {"N": "8"}, "fresh_n": {"N": "-1.5"},
        "ss": {"SS": ["a", "b", "c"]}, "ns": {"NS": ["1", "2", "3.5"]},
        "fresh_ss": {"SS": ["b", "c"]},
    })


def test_delete_set_elements_and_emptying_removes_attribute(ddb, table):
    put(ddb, table, {"pk": {"S": "del"}, "ss": {"SS": ["a", "b", "c"]},
                     "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01", b"\x02"]}})
    update(ddb, table, "del", "DELETE ss :ab, ns :one, absent :ab",
           values={":ab": {"SS": ["a", "b", "zz"]}, ":one": {"NS": ["1"]}})
    assert norm(get_item(ddb, table, "del")) == norm({
        "pk": {"S": "del"}, "ss": {"SS": ["c"]}, "ns": {"NS": ["2"]},
        "bs": {"BS": [b"\x01", b"\x02"]}})
    out = update(ddb, table, "del", "DELETE ss :c, bs :bs",
                 values={":c": {"SS": ["c"]}, ":bs": {"BS": [b"\x01", b"\x02"]}},
                 ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": {"S": "del"}, "ns": {"NS": ["2"]}}
    assert get_item(ddb, table, "del") == {"pk": {"S": "del"}, "ns": {"NS": ["2"]}}


def test_update_of_missing_item_is_an_upsert(ddb, table):
    out = update(ddb, table, "new", "SET qty = :one ADD tags :t",
                 values={":one": {"N": "1"}, ":t": {"SS": ["x"]}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in out
    # Nothing existed before, so there are no old values of the updated attributes either.
    out = update(ddb, table, "new0", "SET qty = :one", values={":one": {"N": "1"}},
                 ReturnValues="UPDATED_OLD")
    assert "Attributes" not in out
    assert get_item(ddb, table, "new0") == {"pk": {"S": "new0"}, "qty": {"N": "1"}}
    assert get_item(ddb, table, "new") == {"pk": {"S": "new"}, "qty": {"N": "1"},
                                      "tags": {"SS": ["x"]}}
    out = update(ddb, table, "new2", "ADD qty :one", values={":one": {"N": "1"}},
                 ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": {"S": "new2"}, "qty": {"N": "1"}}


RV_ITEM = {"pk": {"S": "rv"}, "a": {"N": "1"}, "b": {"S": "x"}, "c": {"L": [{"N": "1"}]},
           "untouched": {"S": "u"}}
RV_EXPRESSION = "SET a = a + :one, d = :d, c[0] = :nine REMOVE b"
RV_EXPECTED = {
    "NONE": None,
    "ALL_OLD": RV_ITEM,
    "UPDATED_OLD": {"a": {"N": "1"}, "b": {"S": "x"}, "c": {"L": [{"N": "1"}]}},
    "ALL_NEW": {"pk": {"S": "rv"}, "a": {"N": "2"}, "c": {"L": [{"N": "9"}]},
                "d": {"S": "dee"}, "untouched": {"S": "u"}},
    "UPDATED_NEW": {"a": {"N": "2"}, "c": {"L": [{"N": "9"}]}, "d": {"S": "dee"}},
}


@pytest.mark.parametrize("return_values", list(RV_EXPECTED))
def test_update_return_values(ddb, table, return_values):
    put(ddb, table, RV_ITEM)
    out = update(ddb, table, "rv", RV_EXPRESSION,
                 values={":one": {"N": "1"}, ":d": {"S": "dee"}, ":nine": {"N": "9"}},
                 ReturnValues=return_values)
    expected = RV_EXPECTED[return_values]
    if expected is None:
        assert "Attributes" not in out
    else:
        assert out["Attributes"] == expected
    assert get_item(ddb, table, "rv") == RV_EXPECTED["ALL_NEW"]


def test_updated_values_of_nested_paths_are_projected(ddb, table):
    item = {"pk": {"S": "nest"},
            "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
            "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}}
    put(ddb, table, item)
    values = {":v": {"N": "5"}, ":s": {"S": "B"}}
    out = update(ddb, table, "nest", "SET m.x = :v, l[1] = :s", values=values,
                 ReturnValues="UPDATED_OLD")
    assert out["Attributes"] == {"m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "b"}]}}
    put(ddb, table, item)
    out = update(ddb, table, "nest", "SET m.x = :v, l[1] = :s", values=values,
                 ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"m": {"M": {"x": {"N": "5"}}}, "l": {"L": [{"S": "B"}]}}


def test_resource_update_with_placeholders(ddb_resource, table):
    t = ddb_resource.Table(table)
    t.put_item(Item={"pk": "u", "status": "new", "qty": 1})
    out = t.update_item(
        Key={"pk": "u"},
        UpdateExpression="SET #s = :s, qty = qty + :inc ADD tags :tags",
        ConditionExpression=Attr("status").eq("new"),
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "shipped", ":inc": 2, ":tags": {"x", "y"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"status": "shipped", "qty": Decimal(3), "tags": {"x", "y"}}
    assert t.get_item(Key={"pk": "u"})["Item"] == {"pk": "u", "status": "shipped",
                                                   "qty": Decimal(3), "tags": {"x", "y"}}


# --------------------------------------------------------------------------------------------
# Expression errors: exact type and message, item unchanged
# --------------------------------------------------------------------------------------------

ERR_ITEM = {"pk": {"S": "e"}, "n": {"N": "1"}, "s": {"S": "text"},
            "m": {"M": {"a": {"N": "1"}}}, "l": {"L": [{"N": "1"}]}, "ss": {"SS": ["a"]}}

V = "ValidationException"

UPDATE_ERRORS = [
    # (id, update_item arguments, message or ("prefix", text))
    ("reserved-word", dict(UpdateExpression="SET status = :v",
                           ExpressionAttributeValues={":v": {"S": "x"}}),
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    ("reserved-word-in-condition",
     dict(UpdateExpression="SET n = :v", ConditionExpression="attribute_exists(comment)",
          ExpressionAttributeValues={":v": {"N": "2"}}),
     "Invalid ConditionExpression: Attribute name is a reserved keyword; "
     "reserved keyword: comment"),
    ("undefined-value", dict(UpdateExpression="SET n = :x"),
     "Invalid UpdateExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :x"),
    ("undefined-name", dict(UpdateExpression="SET #a = :v",
                            ExpressionAttributeValues={":v": {"N": "2"}}),
     "Invalid UpdateExpression: An expression attribute name used in the document path is not "
     "defined; attribute name: #a"),
    ("unused-value", dict(UpdateExpression="SET n = :v",
                          ExpressionAttributeValues={":v": {"N": "2"}, ":u": {"N": "3"}}),
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}"),
    ("unused-name", dict(UpdateExpression="SET n = :v",
                         ExpressionAttributeNames={"#u": "u"},
                         ExpressionAttributeValues={":v": {"N": "2"}}),
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}"),
    ("set-key", dict(UpdateExpression="SET pk = :v",
                     ExpressionAttributeValues={":v": {"S": "other"}}),
     "One or more parameter values were invalid: Cannot update attribute pk. "
     "This attribute is part of the key"),
    ("set-key-through-placeholder", dict(UpdateExpression="SET #k = :v",
                                         ExpressionAttributeNames={"#k": "pk"},
                                         ExpressionAttributeValues={":v": {"S": "other"}}),
     "One or more parameter values were invalid: Cannot update attribute pk. "
     "This attribute is part of the key"),
    ("remove-key", dict(UpdateExpression="REMOVE pk"),
     "One or more parameter values were invalid: Cannot update attribute pk. "
     "This attribute is part of the key"),
    ("arithmetic-on-string", dict(UpdateExpression="SET n = s + :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}}),
     "An operand in the update expression has an incorrect data type"),
    ("add-number-to-string", dict(UpdateExpression="ADD s :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}}),
     "An operand in the update expression has an incorrect data type"),
    ("add-string-set-to-number", dict(UpdateExpression="ADD n :ss",
                                      ExpressionAttributeValues={":ss": {"SS": ["x"]}}),
     "An operand in the update expression has an incorrect data type"),
    ("delete-number-set-from-string-set", dict(UpdateExpression="DELETE ss :ns",
                                               ExpressionAttributeValues={":ns": {"NS": ["1"]}}),
     "An operand in the update expression has an incorrect data type"),
    ("list-append-to-string", dict(UpdateExpression="SET l = list_append(s, :l)",
                                   ExpressionAttributeValues={":l": {"L": []}}),
     "An operand in the update expression has an incorrect data type"),
    ("number-overflow", dict(UpdateExpression="SET n = :big + :big", ExpressionAttributeValues={
        ":big": {"N": "9.9999999999999999999999999999999999999E+125"}}),
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("begins-with-number", dict(UpdateExpression="SET n = :v",
                                ConditionExpression="begins_with(s, :v)",
                                ExpressionAttributeValues={":v": {"N": "1"}}),
     "Invalid ConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: begins_with, operand type: N"),
    ("arithmetic-missing-attribute", dict(UpdateExpression="SET n = nothing + :one",
                                          ExpressionAttributeValues={":one": {"N": "1"}}),
     "The provided expression refers to an attribute that does not exist in the item"),
    ("copy-missing-attribute", dict(UpdateExpression="SET n = m.nothing"),
     "The provided expression refers to an attribute that does not exist in the item"),
    ("set-under-missing-map", dict(UpdateExpression="SET nomap.x = :v",
                                   ExpressionAttributeValues={":v": {"N": "1"}}),
     "The document path provided in the update expression is invalid for update"),
    ("set-under-string", dict(UpdateExpression="SET s.x = :v",
                              ExpressionAttributeValues={":v": {"N": "1"}}),
     "The document path provided in the update expression is invalid for update"),
    ("index-into-map", dict(UpdateExpression="SET m[0] = :v",
                            ExpressionAttributeValues={":v": {"N": "1"}}),
     "The document path provided in the update expression is invalid for update"),
    ("overlapping-paths", dict(UpdateExpression="SET m = :v, m.a = :v",
                               ExpressionAttributeValues={":v": {"N": "1"}}),
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [m], path two: [m, a]"),
    ("same-path-in-two-clauses", dict(UpdateExpression="SET n = :v REMOVE n",
                                      ExpressionAttributeValues={":v": {"N": "1"}}),
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [n], path two: [n]"),
    ("clause-twice", dict(UpdateExpression="SET n = :v SET s = :v",
                          ExpressionAttributeValues={":v": {"N": "1"}}),
     'Invalid UpdateExpression: The "SET" section can only be used once in an update '
     'expression;'),
    ("function-not-allowed-in-update", dict(UpdateExpression="SET n = size(s)"),
     "Invalid UpdateExpression: The function is not allowed in an update expression; "
     "function: size"),
    ("unknown-function", dict(UpdateExpression="SET n = :v", ConditionExpression="foo(n)",
                              ExpressionAttributeValues={":v": {"N": "1"}}),
     "Invalid ConditionExpression: Invalid function name; function: foo"),
    ("empty-update", dict(UpdateExpression=""),
     "Invalid UpdateExpression: The expression can not be empty;"),
    ("empty-condition", dict(UpdateExpression="SET n = :v", ConditionExpression="",
                             ExpressionAttributeValues={":v": {"N": "1"}}),
     "Invalid ConditionExpression: The expression can not be empty;"),
    ("empty-values", dict(UpdateExpression="SET n = :v", ExpressionAttributeValues={}),
     "ExpressionAttributeValues must not be empty"),
    ("values-without-expression", dict(ExpressionAttributeValues={":v": {"N": "1"}}),
     "ExpressionAttributeValues can only be specified when using expressions: "
     "UpdateExpression and ConditionExpression are null"),
    ("item-too-large", dict(UpdateExpression="SET big = :b",
                            ExpressionAttributeValues={":b": {"S": "x" * 410_000}}),
     "Item size to update has exceeded the maximum allowed size"),
    ("between-bounds-reversed",
     dict(UpdateExpression="SET n = :v", ConditionExpression="n BETWEEN :hi AND :lo",
          ExpressionAttributeValues={":v": {"N": "1"}, ":hi": {"N": "6"}, ":lo": {"N": "1"}}),
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
     "than or equal to lower bound; lower bound operand: AttributeValue: {N:6}, upper bound "
     "operand: AttributeValue: {N:1}"),
    ("update-syntax", dict(UpdateExpression="SET n = ",),
     ("prefix", "Invalid UpdateExpression: Syntax error; token:")),
    ("update-syntax-clause", dict(UpdateExpression="PUT n = :v",
                                  ExpressionAttributeValues={":v": {"N": "1"}}),
     ("prefix", "Invalid UpdateExpression: Syntax error; token:")),
    ("condition-syntax", dict(UpdateExpression="SET n = :v", ConditionExpression="n = = :v",
                              ExpressionAttributeValues={":v": {"N": "1"}}),
     ("prefix", "Invalid ConditionExpression: Syntax error; token:")),
    ("condition-syntax-unclosed", dict(UpdateExpression="SET n = :v",
                                       ConditionExpression="(n = :v",
                                       ExpressionAttributeValues={":v": {"N": "1"}}),
     ("prefix", "Invalid ConditionExpression: Syntax error; token:")),
    ("mixed-condition", dict(UpdateExpression="SET n = :v",
                             Expected={"n": {"Value": {"N": "1"}}},
                             ExpressionAttributeValues={":v": {"N": "2"}}),
     ("prefix", "Can not use both expression and non-expression parameters in the same "
                "request")),
    ("mixed-update", dict(UpdateExpression="SET n = :v",
                          AttributeUpdates={"s": {"Action": "DELETE"}},
                          ExpressionAttributeValues={":v": {"N": "2"}}),
     ("prefix", "Can not use both expression and non-expression parameters in the same "
                "request")),
]


@pytest.mark.parametrize("args,message", [e[1:] for e in UPDATE_ERRORS],
                         ids=[e[0] for e in UPDATE_ERRORS])
def test_update_expression_errors(ddb, table, args, message):
    put(ddb, table, ERR_ITEM)
    if isinstance(message, tuple):
        fails_with(ddb.update_item, V, prefix=message[1], TableName=table,
                   Key={"pk": {"S": "e"}}, **args)
    else:
        fails_with(ddb.update_item, V, message, TableName=table, Key={"pk": {"S": "e"}}, **args)
    assert get_item(ddb, table, "e") == ERR_ITEM


def test_update_sort_key_is_rejected(ddb, make_table):
    name = make_table(hash=("h", "S"), range=("r", "N"))
    key = {"h": {"S": "x"}, "r": {"N": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"S": "v"}})
    fails_with(ddb.update_item, V,
               "One or more parameter values were invalid: Cannot update attribute r. "
               "This attribute is part of the key",
               TableName=name, Key=key, UpdateExpression="ADD r :one",
               ExpressionAttributeValues={":one": {"N": "1"}})
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {**key, "v": {"S": "v"}}


def test_put_and_delete_expression_errors(ddb, table):
    put(ddb, table, ERR_ITEM)
    fails_with(ddb.put_item, V, prefix="Invalid ConditionExpression: Syntax error; token:",
               TableName=table, Item={"pk": {"S": "e"}}, ConditionExpression="attribute_exists(")
    fails_with(ddb.put_item, V,
               "Invalid ConditionExpression: Attribute name is a reserved keyword; "
               "reserved keyword: name",
               TableName=table, Item={"pk": {"S": "e"}}, ConditionExpression="name = :v",
               ExpressionAttributeValues={":v": {"S": "x"}})
    fails_with(ddb.put_item, V,
               "Invalid ConditionExpression: An expression attribute value used in expression "
               "is not defined; attribute value: :missing",
               TableName=table, Item={"pk": {"S": "e"}}, ConditionExpression="n = :missing",
               ExpressionAttributeValues={":v": {"S": "x"}})
    fails_with(ddb.delete_item, V,
               "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}",
               TableName=table, Key={"pk": {"S": "e"}}, ConditionExpression="n = :v",
               ExpressionAttributeValues={":v": {"N": "1"}, ":u": {"N": "1"}})
    fails_with(ddb.put_item, V,
               prefix="Can not use both expression and non-expression parameters in the same "
                      "request",
               TableName=table, Item={"pk": {"S": "e"}}, ConditionExpression="n = :v",
               Expected={"n": {"Exists": False}}, ExpressionAttributeValues={":v": {"N": "1"}})
    fails_with(ddb.delete_item, V,
               prefix="Can not use both expression and non-expression parameters in the same "
                      "request",
               TableName=table, Key={"pk": {"S": "e"}}, ConditionExpression="attribute_exists(n)",
               Expected={"n": {"Exists": True, "Value": {"N": "1"}}})
    assert get_item(ddb, table, "e") == ERR_ITEM


# --------------------------------------------------------------------------------------------
# Projections
# --------------------------------------------------------------------------------------------

PROJ_ITEM = {
    "pk": {"S": "p"},
    "name": {"S": "widget"},
    "qty": {"N": "3"},
    "m": {"M": {"a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}}, "z": {"S": "z"}}},
    "l": {"L": [{"S": "l0"}, {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}, {"S": "l2"}]},
    "tags": {"SS": ["a", "b"]},
}


@pytest.mark.parametrize("projection,expected", [
    ("qty", {"qty": {"N": "3"}}),
    ("#n, qty, absent", {"name": {"S": "widget"}, "qty": {"N": "3"}}),
    ("m.a.b", {"m": {"M": {"a": {"M": {"b": {"N": "1"}}}}}}),
    ("m.a.b, m.z, m.nope", {"m": {"M": {"a": {"M": {"b": {"N": "1"}}}, "z": {"S": "z"}}}}),
    ("l[1]", {"l": {"L": [{"M": {"x": {"N": "1"}, "y": {"N": "2"}}}]}}),
    ("l[2], l[0], l[7]", {"l": {"L": [{"S": "l0"}, {"S": "l2"}]}}),
    ("l[1].y", {"l": {"L": [{"M": {"y": {"N": "2"}}}]}}),
    ("pk, tags", {"pk": {"S": "p"}, "tags": {"SS": ["a", "b"]}}),
], ids=["one", "several", "nested", "nested-several", "list-element", "list-elements",
        "inside-list-element", "key-and-set"])
def test_projection_expression(ddb, table, projection, expected):
    put(ddb, table, PROJ_ITEM)
    args = dict(TableName=table, Key={"pk": {"S": "p"}}, ProjectionExpression=projection)
    if "#n" in projection:
        args["ExpressionAttributeNames"] = {"#n": "name"}
    assert norm(ddb.get_item(**args)["Item"]) == norm(expected)


def test_projection_with_table_resource(ddb_resource, table):
    t = ddb_resource.Table(table)
    t.put_item(Item={"pk": "p", "name": "widget", "status": "on", "doc": {"a": [1, 2]}})
    got = t.get_item(Key={"pk": "p"}, ProjectionExpression="#n, #s, doc.a[1]",
                     ExpressionAttributeNames={"#n": "name", "#s": "status"})["Item"]
    assert got == {"name": "widget", "status": "on", "doc": {"a": [Decimal(2)]}}


def test_projection_errors(ddb, table):
    put(ddb, table, PROJ_ITEM)
    key = {"pk": {"S": "p"}}
    fails_with(ddb.get_item, V,
               "Invalid ProjectionExpression: Attribute name is a reserved keyword; "
               "reserved keyword: name",
               TableName=table, Key=key, ProjectionExpression="name")
    fails_with(ddb.get_item, V,
               "Invalid ProjectionExpression: Two document paths overlap with each other; must "
               "remove or rewrite one of these paths; path one: [m], path two: [m, a]",
               TableName=table, Key=key, ProjectionExpression="m, m.a")
    fails_with(ddb.get_item, V,
               "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}",
               TableName=table, Key=key, ProjectionExpression="qty",
               ExpressionAttributeNames={"#u": "u"})
    fails_with(ddb.get_item, V, prefix="Invalid ProjectionExpression: Syntax error; token:",
               TableName=table, Key=key, ProjectionExpression="qty,,m")
    fails_with(ddb.get_item, V,
               prefix="Can not use both expression and non-expression parameters in the same "
                      "request",
               TableName=table, Key=key, ProjectionExpression="qty", AttributesToGet=["qty"])


def test_attributes_to_get(ddb, table):
    put(ddb, table, PROJ_ITEM)
    out = ddb.get_item(TableName=table, Key={"pk": {"S": "p"}},
                       AttributesToGet=["qty", "name", "absent"])
    assert out["Item"] == {"qty": {"N": "3"}, "name": {"S": "widget"}}


# --------------------------------------------------------------------------------------------
# Legacy conditional and update parameters
# --------------------------------------------------------------------------------------------


def test_expected_exists_false(ddb, table):
    item = {"pk": {"S": "x"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item, Expected={"pk": {"Exists": False}})
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "x"}, "v": {"N": "2"}},
                    Expected={"pk": {"Exists": False}})
    assert get_item(ddb, table, "x") == item


def test_expected_value(ddb, table):
    put(ddb, table, {"pk": {"S": "x"}, "v": {"N": "1"}})
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "x"}, "v": {"N": "9"}},
                    Expected={"v": {"Value": {"N": "999"}}})
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "x"}, "v": {"N": "9"}},
                    Expected={"v": {"Exists": True, "Value": {"S": "1"}}})
    assert get_item(ddb, table, "x") == {"pk": {"S": "x"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {"N": "2"}},
                 Expected={"v": {"Value": {"N": "1"}}, "absent": {"Exists": False}})
    assert get_item(ddb, table, "x") == {"pk": {"S": "x"}, "v": {"N": "2"}}
    ddb.delete_item(TableName=table, Key={"pk": {"S": "x"}},
                    Expected={"v": {"Exists": True, "Value": {"N": "2"}}})
    assert get_item(ddb, table, "x") is None


EXPECTED_ITEM = {"pk": {"S": "co"}, "qty": {"N": "5"}, "name": {"S": "widget"},
                 "tags": {"SS": ["red", "blue"]}}


@pytest.mark.parametrize("expected,holds", [
    ({"qty": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "5"}]}}, True),
    ({"qty": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "5"}]}}, False),
    ({"qty": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "3"}]}}, True),
    ({"qty": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "3"}]}}, False),
    ({"qty": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "5"}]}}, True),
    ({"qty": {"ComparisonOperator": "LE", "AttributeValueList": [{"N": "4"}]}}, False),
    ({"qty": {"ComparisonOperator": "BETWEEN",
              "AttributeValueList": [{"N": "1"}, {"N": "5"}]}}, True),
    ({"qty": {"ComparisonOperator": "IN",
              "AttributeValueList": [{"N": "1"}, {"N": "5"}]}}, True),
    ({"qty": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}]}}, False),
    ({"name": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "wid"}]}},
     True),
    ({"name": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "dge"}]}}, True),
    ({"tags": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "red"}]}}, True),
    ({"tags": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "red"}]}},
     False),
    ({"absent": {"ComparisonOperator": "NULL"}}, True),
    ({"qty": {"ComparisonOperator": "NULL"}}, False),
    ({"qty": {"ComparisonOperator": "NOT_NULL"}}, True),
    ({"qty": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "3"}]},
      "name": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "gadget"}]}}, False),
], ids=["EQ", "NE", "GT", "LT", "GE", "LE", "BETWEEN", "IN", "IN-false", "BEGINS_WITH",
        "CONTAINS-string", "CONTAINS-set", "NOT_CONTAINS", "NULL", "NULL-false", "NOT_NULL",
        "AND"])
def test_expected_comparison_operators(ddb, table, expected, holds):
    put(ddb, table, EXPECTED_ITEM)
    args = dict(TableName=table, Key={"pk": {"S": "co"}},
                AttributeUpdates={"probe": {"Action": "PUT", "Value": {"S": "written"}}},
                Expected=expected)
    if holds:
        ddb.update_item(**args)
        assert norm(get_item(ddb, table, "co")) == norm({**EXPECTED_ITEM, "probe": {"S": "written"}})
    else:
        condition_fails(ddb.update_item, **args)
        assert norm(get_item(ddb, table, "co")) == norm(EXPECTED_ITEM)


def test_conditional_operator_or(ddb, table):
    put(ddb, table, EXPECTED_ITEM)
    expected = {"qty": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "100"}]},
                "name": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "widget"}]}}
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "co"}},
                    Expected=expected, ConditionalOperator="AND")
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "co"}},
                    Expected=expected)  # AND is the default
    assert norm(get_item(ddb, table, "co")) == norm(EXPECTED_ITEM)
    ddb.put_item(TableName=table, Item={"pk": {"S": "co"}, "v": {"N": "1"}},
                 Expected=expected, ConditionalOperator="OR")
    assert get_item(ddb, table, "co") == {"pk": {"S": "co"}, "v": {"N": "1"}}
    both_false = {"qty": {"ComparisonOperator": "NOT_NULL"},
                  "v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "2"}]}}
    condition_fails(ddb.put_item, TableName=table, Item={"pk": {"S": "co"}},
                    Expected=both_false, ConditionalOperator="OR")
    assert get_item(ddb, table, "co") == {"pk": {"S": "co"}, "v": {"N": "1"}}


def test_attribute_updates_put_add_delete(ddb, table):
    put(ddb, table, {"pk": {"S": "au"}, "n": {"N": "5"}, "ss": {"SS": ["a", "b", "c"]},
                     "gone": {"S": "x"}, "keep": {"S": "k"}})
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "au"}}, AttributeUpdates={
        "v": {"Action": "PUT", "Value": {"S": "put"}},
        "n": {"Action": "ADD", "Value": {"N": "-2"}},
        "fresh": {"Action": "ADD", "Value": {"N": "7"}},
        "tags": {"Action": "ADD", "Value": {"SS": ["t"]}},
        "ss": {"Action": "DELETE", "Value": {"SS": ["a", "c", "zz"]}},
        "gone": {"Action": "DELETE"},
    }, ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"v": {"S": "put"}, "n": {"N": "3"}, "fresh": {"N": "7"},
                                 "tags": {"SS": ["t"]}, "ss": {"SS": ["b"]}}
    assert get_item(ddb, table, "au") == {"pk": {"S": "au"}, "n": {"N": "3"}, "ss": {"SS": ["b"]},
                                     "keep": {"S": "k"}, "v": {"S": "put"},
                                     "fresh": {"N": "7"}, "tags": {"SS": ["t"]}}
    # Deleting the last elements removes the set; Action defaults to PUT.
    ddb.update_item(TableName=table, Key={"pk": {"S": "au"}}, AttributeUpdates={
        "ss": {"Action": "DELETE", "Value": {"SS": ["b"]}},
        "keep": {"Value": {"S": "replaced"}},
    })
    assert get_item(ddb, table, "au") == {"pk": {"S": "au"}, "n": {"N": "3"},
                                     "keep": {"S": "replaced"}, "v": {"S": "put"},
                                     "fresh": {"N": "7"}, "tags": {"SS": ["t"]}}


def test_attribute_updates_on_missing_item(ddb, table):
    # Only DELETEs: nothing to delete, and no item is created.
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "none"}},
                          AttributeUpdates={"a": {"Action": "DELETE"},
                                            "s": {"Action": "DELETE", "Value": {"SS": ["x"]}}},
                          ReturnValues="ALL_NEW")
    assert "Attributes" not in out
    assert get_item(ddb, table, "none") is None
    # ADD and PUT create it.
    ddb.update_item(TableName=table, Key={"pk": {"S": "none"}},
                    AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "2"}},
                                      "s": {"Action": "PUT", "Value": {"S": "x"}}})
    assert get_item(ddb, table, "none") == {"pk": {"S": "none"}, "n": {"N": "2"}, "s": {"S": "x"}}


def test_attribute_updates_with_expected(ddb, table):
    put(ddb, table, {"pk": {"S": "ae"}, "version": {"N": "1"}})
    condition_fails(ddb.update_item, TableName=table, Key={"pk": {"S": "ae"}},
                    AttributeUpdates={"version": {"Action": "ADD", "Value": {"N": "1"}}},
                    Expected={"version": {"Value": {"N": "0"}}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "ae"}},
                    AttributeUpdates={"version": {"Action": "ADD", "Value": {"N": "1"}}},
                    Expected={"version": {"Value": {"N": "1"}}})
    assert get_item(ddb, table, "ae") == {"pk": {"S": "ae"}, "version": {"N": "2"}}


# --------------------------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------------------------


def test_cli_update_expression_and_failed_condition(aws, ddb, table):
    put(ddb, table, {"pk": {"S": "cli"}, "qty": {"N": "1"}, "status": {"S": "new"}})
    rc, out, err = aws(
        "update-item", "--table-name", table, "--key", json.dumps({"pk": {"S": "cli"}}),
        "--update-expression", "SET qty = qty + :inc, #s = :s, doc = :doc ADD tags :t",
        "--condition-expression", "#s = :old",
        "--expression-attribute-names", json.dumps({"#s": "status"}),
        "--expression-attribute-values", json.dumps({
            ":inc": {"N": "4"}, ":s": {"S": "shipped"}, ":old": {"S": "new"},
            ":doc": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}]}}},
            ":t": {"SS": ["x"]}}),
        "--return-values", "ALL_NEW",
    )
    assert rc == 0, err
    assert out["Attributes"] == {"pk": {"S": "cli"}, "qty": {"N": "5"},
                                 "status": {"S": "shipped"},
                                 "doc": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}]}}},
                                 "tags": {"SS": ["x"]}}

    rc, out, err = aws(
        "put-item", "--table-name", table, "--item", json.dumps({"pk": {"S": "cli"}}),
        "--condition-expression", "attribute_not_exists(pk)",
    )
    assert rc != 0
    assert out is None
    assert ("An error occurred (ConditionalCheckFailedException) when calling the PutItem "
            "operation: The conditional request failed") in err
    assert get_item(ddb, table, "cli")["qty"] == {"N": "5"}

    rc, out, err = aws(
        "update-item", "--table-name", table, "--key", json.dumps({"pk": {"S": "cli"}}),
        "--update-expression", "SET status = :s",
        "--expression-attribute-values", json.dumps({":s": {"S": "x"}}),
    )
    assert rc != 0
    assert ("An error occurred (ValidationException) when calling the UpdateItem operation: "
            "Invalid UpdateExpression: Attribute name is a reserved keyword; "
            "reserved keyword: status") in err
    assert get_item(ddb, table, "cli")["status"] == {"S": "shipped"}


# --------------------------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------------------------


def test_concurrent_atomic_add(endpoint, ddb, table):
    threads, per_thread = 8, 25

    def work(_):
        client = h.make_client(endpoint)
        for _ in range(per_thread):
            client.update_item(TableName=table, Key={"pk": {"S": "ctr"}},
                               UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})

    h.run_threads(threads, work, timeout=60)
    assert get_item(ddb, table, "ctr") == {"pk": {"S": "ctr"}, "n": {"N": str(threads * per_thread)}}


def test_concurrent_optimistic_locking(endpoint, ddb, table):
    put(ddb, table, {"pk": {"S": "lock"}, "version": {"N": "0"}})
    threads, attempts = 6, 20
    successes = [0] * threads
    conflicts = [0] * threads
    written: list[list[int]] = [[] for _ in range(threads)]

    def work(i):
        client = h.make_client(endpoint)
        for _ in range(attempts):
            item = client.get_item(TableName=table, Key={"pk": {"S": "lock"}},
                                   ConsistentRead=True)["Item"]
            version = int(item["version"]["N"])
            try:
                client.update_item(
                    TableName=table, Key={"pk": {"S": "lock"}},
                    UpdateExpression="SET version = :new, last_writer = :w",
                    ConditionExpression="version = :v",
                    ExpressionAttributeValues={":v": {"N": str(version)},
                                               ":new": {"N": str(version + 1)},
                                               ":w": {"N": str(i)}})
            except ClientError as e:
                assert e.response["Error"]["Code"] == "ConditionalCheckFailedException", e
                assert e.response["Error"]["Message"] == CONDITION_FAILED
                conflicts[i] += 1
            else:
                successes[i] += 1
                written[i].append(version + 1)

    h.run_threads(threads, work, timeout=60)
    total = sum(successes)
    assert total + sum(conflicts) == threads * attempts
    assert total > 0
    final = get_item(ddb, table, "lock")
    assert final["version"] == {"N": str(total)}
    # Every version number was written by exactly one successful writer.
    assert sorted(v for vs in written for v in vs) == list(range(1, total + 1))
