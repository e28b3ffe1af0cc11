"""Error types and messages as boto3 (and raw HTTP) see them. The messages are DynamoDB's own
words: SDK users match on them, so they are pinned exactly where DynamoDB's text is known."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from stator_harness import error_of, status_of


def test_get_item_missing_table(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table_name, Key={"pk": {"S": "a"}})
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found")
    assert status_of(e) == 400
    # boto3 also exposes the modelled exception class.
    assert isinstance(e.value, ddb.exceptions.ResourceNotFoundException)


@pytest.mark.parametrize("op", ["put_item", "delete_item", "update_item"])
def test_item_writes_on_missing_table(ddb, table_name, op):
    args = {"Item": {"pk": {"S": "a"}}} if op == "put_item" else {"Key": {"pk": {"S": "a"}}}
    with pytest.raises(ClientError) as e:
        getattr(ddb, op)(TableName=table_name, **args)
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_get_item_wrong_key_type(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"N": "1"}})
    assert error_of(e) == ("ValidationException",
                           "The provided key element does not match the schema")
    assert status_of(e) == 400


def test_get_item_key_with_wrong_attributes(ddb, make_table):
    name = make_table(hash=("h", "S"), range=("r", "N"))
    bad_keys = [
        {"h": {"S": "a"}},                                   # sort key missing
        {"h": {"S": "a"}, "r": {"N": "1"}, "x": {"S": "y"}},  # extra attribute
        {"other": {"S": "a"}, "r": {"N": "1"}},              # wrong name
        {"h": {"S": "a"}, "r": {"S": "1"}},                  # sort key of the wrong type
    ]
    for key in bad_keys:
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=name, Key=key)
        assert error_of(e) == ("ValidationException",
                               "The provided key element does not match the schema"), key


def test_delete_item_wrong_key_type(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key={"pk": {"B": b"1"}})
    assert error_of(e) == ("ValidationException",
                           "The provided key element does not match the schema")


def test_put_item_key_type_mismatch(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"N": "1"}})
    assert error_of(e) == (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key pk expected: S "
        "actual: N",
    )


def test_put_item_missing_key(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"other": {"S": "x"}})
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: Missing the key pk in "
                           "the item")


def test_put_item_missing_sort_key(ddb, make_table):
    name = make_table(hash=("h", "S"), range=("r", "N"))
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"h": {"S": "x"}})
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: Missing the key r in "
                           "the item")


def test_empty_string_key_rejected(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": ""}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "cannot contain an empty string value" in message
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"S": ""}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "cannot contain an empty string value" in message


def test_empty_binary_key_rejected(ddb, make_table):
    name = make_table(hash=("h", "B"))
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"h": {"B": b""}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "empty" in message


def test_item_over_400kb_rejected(ddb, table):
    # One byte over 409,600 (names count too: "pk" + "big" + "big").
    value = "x" * (409_600 - len("pk") - len("big") - len("big") + 1)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "big": {"S": value}})
    assert error_of(e) == ("ValidationException",
                           "Item size has exceeded the maximum allowed size")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})


def test_partition_key_over_2048_bytes_rejected(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k" * 2049}})
    assert error_of(e)[0] == "ValidationException"
    ddb.put_item(TableName=table, Item={"pk": {"S": "k" * 2048}})


@pytest.mark.parametrize("empty_set", [{"SS": []}, {"NS": []}, {"BS": []}],
                         ids=["SS", "NS", "BS"])
def test_empty_set_rejected(ddb, table, empty_set):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "s": empty_set})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "empty" in message
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "e"}})


@pytest.mark.parametrize("dup_set", [{"SS": ["a", "a"]}, {"NS": ["1", "1.0"]},
                                     {"BS": [b"x", b"x"]}], ids=["SS", "NS", "BS"])
def test_duplicate_set_members_rejected(ddb, table, dup_set):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "s": dup_set})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "contains duplicates" in message


def test_attribute_value_with_two_types_rejected(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {"S": "a", "N": "1"}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "more than one datatypes" in message


def test_empty_attribute_value_rejected(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "Supplied AttributeValue is empty" in message


def test_table_name_constraint_message(raw):
    # botocore checks the length client-side, so this one goes over raw HTTP.
    resp = raw({"TableName": "ab", "Key": {"pk": {"S": "a"}}}, operation="GetItem")
    assert resp.status == 400
    assert resp.error_type == "ValidationException"
    assert resp.json()["__type"] == "com.amazon.coral.validate#ValidationException"
    assert resp.json()["message"] == (
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3")


def test_malformed_json_is_serialization_exception(raw):
    resp = raw(b'{"TableName": ', operation="ListTables")
    assert resp.status == 400
    assert resp.error_type == "SerializationException"
    assert resp.json()["__type"].startswith("com.amazon.coral.service#")


def test_wrong_json_type_is_serialization_exception(raw):
    resp = raw({"Limit": "ten"}, operation="ListTables")
    assert resp.status == 400
    assert resp.error_type == "SerializationException"
