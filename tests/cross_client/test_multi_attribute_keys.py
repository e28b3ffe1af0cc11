"""Multi-attribute GSI keys (issue 12, part 2): a global secondary index whose partition key
is up to four attributes and whose sort key is up to four more, each with its own type.
Through boto3, as an application uses them; the texts Stator decided are listed in
docs/compatibility.md ("Multi-attribute GSI keys")."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import error_of


def _defs(**types) -> list:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def _keys(hash_names, range_names=()) -> list:
    return ([{"AttributeName": n, "KeyType": "HASH"} for n in hash_names]
            + [{"AttributeName": n, "KeyType": "RANGE"} for n in range_names])


def _gsi(name, hash_names, range_names=(), projection="ALL") -> dict:
    return {"IndexName": name, "KeySchema": _keys(hash_names, range_names),
            "Projection": {"ProjectionType": projection}}


def _matches_table(make_table) -> str:
    """Matches: id (S); GSI byRound on (tour S, area S) / (round S, bracket N); GSI byPlayer
    on player / id (the table key as a sort component); GSI byBracket with bracket as HASH
    (an attribute RANGE in one index, HASH in another)."""
    return make_table(
        hash=("id", "S"),
        AttributeDefinitions=_defs(id="S", tour="S", area="S", round="S", bracket="N",
                                   player="S"),
        GlobalSecondaryIndexes=[
            _gsi("byRound", ["tour", "area"], ["round", "bracket"]),
            _gsi("byPlayer", ["player"], ["id"], "KEYS_ONLY"),
            _gsi("byBracket", ["bracket"]),
        ],
    )


MATCHES = [
    {"id": "m1", "tour": "w24", "area": "eu", "round": "final", "bracket": 1, "player": "ann"},
    {"id": "m2", "tour": "w24", "area": "eu", "round": "semi", "bracket": 10, "player": "bob"},
    {"id": "m3", "tour": "w24", "area": "eu", "round": "semi", "bracket": 2, "player": "ann"},
    {"id": "m4", "tour": "w24", "area": "eu", "round": "quarter", "bracket": 3},
    {"id": "m5", "tour": "w24", "area": "na", "round": "semi", "bracket": 1},
    {"id": "m6", "tour": "w24", "area": "eu", "round": "semi"},  # no bracket: not indexed
]


def _item(match: dict) -> dict:
    return {k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in match.items()}


def _loaded(ddb, make_table) -> str:
    name = _matches_table(make_table)
    for m in MATCHES:
        ddb.put_item(TableName=name, Item=_item(m))
    return name


def _ids(items) -> list:
    return [i["id"]["S"] for i in items]


EU = {":t": {"S": "w24"}, ":a": {"S": "eu"}}


def test_describe_table_reports_the_key_schema_as_declared(ddb, make_table):
    name = _matches_table(make_table)
    indexes = {i["IndexName"]: i for i in
               ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]}
    assert indexes["byRound"]["KeySchema"] == _keys(["tour", "area"], ["round", "bracket"])
    assert indexes["byPlayer"]["KeySchema"] == _keys(["player"], ["id"])
    assert indexes["byBracket"]["KeySchema"] == _keys(["bracket"])


def test_query_sorts_by_the_sort_components_in_order(ddb, make_table):
    name = _loaded(ddb, make_table)
    out = ddb.query(TableName=name, IndexName="byRound",
                    KeyConditionExpression="tour = :t AND area = :a",
                    ExpressionAttributeValues=EU)
    # round (final < quarter < semi), then bracket as a number (2 < 10); m6 lacks bracket.
    assert _ids(out["Items"]) == ["m1", "m4", "m3", "m2"]
    back = ddb.query(TableName=name, IndexName="byRound", ScanIndexForward=False,
                     KeyConditionExpression="tour = :t AND area = :a",
                     ExpressionAttributeValues=EU)
    assert _ids(back["Items"]) == ["m2", "m3", "m4", "m1"]


@pytest.mark.parametrize("condition,values,expected", [
    ("round = :s AND area = :a AND tour = :t", {":s": {"S": "semi"}}, ["m3", "m2"]),
    ("bracket >= :b AND round = :s AND tour = :t AND area = :a",
     {":s": {"S": "semi"}, ":b": {"N": "3"}}, ["m2"]),
    ("tour = :t AND area = :a AND begins_with(round, :p)", {":p": {"S": "qu"}}, ["m4"]),
    ("tour = :t AND area = :a AND round BETWEEN :lo AND :hi",
     {":lo": {"S": "f"}, ":hi": {"S": "r"}}, ["m1", "m4"]),
    ("tour = :t AND area = :a AND round = :s AND bracket = :b",
     {":s": {"S": "semi"}, ":b": {"N": "2"}}, ["m3"]),
])
def test_query_on_a_prefix_of_the_sort_components(ddb, make_table, condition, values, expected):
    name = _loaded(ddb, make_table)
    out = ddb.query(TableName=name, IndexName="byRound", KeyConditionExpression=condition,
                    ExpressionAttributeValues={**EU, **values})
    assert _ids(out["Items"]) == expected


@pytest.mark.parametrize("condition,values,message", [
    ("tour = :t", {":t": {"S": "w24"}}, "Query condition missed key schema element: area"),
    ("tour = :t AND area = :a AND bracket = :b", {**EU, ":b": {"N": "1"}},
     "Query condition missed key schema element: round"),
    ("tour = :t AND area = :a AND round > :s AND bracket = :b",
     {**EU, ":s": {"S": "a"}, ":b": {"N": "1"}},
     "Query key condition not supported: every sort key attribute before the last one in the "
     "condition must be compared with =: round"),
    ("tour = :t AND area = :a AND round = :b", {**EU, ":b": {"N": "1"}},
     "One or more parameter values were invalid: Condition parameter type does not match "
     "schema type"),
])
def test_query_key_condition_rules(ddb, make_table, condition, values, message):
    name = _matches_table(make_table)
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name, IndexName="byRound", KeyConditionExpression=condition,
                  ExpressionAttributeValues=values)
    assert error_of(e) == ("ValidationException", message)


def test_query_filter_may_not_use_a_key_component(ddb, make_table):
    name = _matches_table(make_table)
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name, IndexName="byRound",
                  KeyConditionExpression="tour = :t AND area = :a",
                  FilterExpression="bracket > :b",
                  ExpressionAttributeValues={**EU, ":b": {"N": "1"}})
    assert error_of(e) == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key "
        "attribute: bracket")


def test_last_evaluated_key_holds_every_component_and_round_trips(ddb, make_table):
    name = _loaded(ddb, make_table)
    pages = list(ddb.get_paginator("query").paginate(
        TableName=name, IndexName="byRound", Limit=3,
        KeyConditionExpression="tour = :t AND area = :a", ExpressionAttributeValues=EU))
    assert [_ids(p["Items"]) for p in pages] == [["m1", "m4", "m3"], ["m2"]]
    assert pages[0]["LastEvaluatedKey"] == {
        "id": {"S": "m3"}, "tour": {"S": "w24"}, "area": {"S": "eu"},
        "round": {"S": "semi"}, "bracket": {"N": "2"}}
    start = dict(pages[0]["LastEvaluatedKey"])
    for broken in ({k: v for k, v in start.items() if k != "bracket"},
                   {**start, "player": {"S": "x"}}):
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=name, IndexName="byRound", ExclusiveStartKey=broken,
                      KeyConditionExpression="tour = :t AND area = :a",
                      ExpressionAttributeValues=EU)
        assert error_of(e) == ("ValidationException", "The provided starting key is invalid")


def test_keys_only_projection_and_a_table_key_as_sort_component(ddb, make_table):
    name = _loaded(ddb, make_table)
    out = ddb.query(TableName=name, IndexName="byPlayer",
                    KeyConditionExpression="player = :p AND id > :i",
                    ExpressionAttributeValues={":p": {"S": "ann"}, ":i": {"S": "m1"}})
    assert out["Items"] == [{"id": {"S": "m3"}, "player": {"S": "ann"}}]
    scanned = ddb.scan(TableName=name, IndexName="byRound")
    assert sorted(_ids(scanned["Items"])) == ["m1", "m2", "m3", "m4", "m5"]


def test_writes_move_and_remove_entries_and_refuse_bad_components(ddb, make_table):
    name = _loaded(ddb, make_table)
    ddb.update_item(TableName=name, Key={"id": {"S": "m4"}},
                    UpdateExpression="SET bracket = :b", ExpressionAttributeValues={":b": {"N": "20"}})
    ddb.update_item(TableName=name, Key={"id": {"S": "m2"}}, UpdateExpression="REMOVE area")
    ddb.delete_item(TableName=name, Key={"id": {"S": "m1"}})
    out = ddb.query(TableName=name, IndexName="byRound",
                    KeyConditionExpression="tour = :t AND area = :a", ExpressionAttributeValues=EU)
    assert [(i["id"]["S"], i["bracket"]["N"]) for i in out["Items"]] == [("m4", "20"), ("m3", "2")]
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=_item({**MATCHES[0], "id": "m8", "area": 1}))
    assert error_of(e) == (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index Key area "
        "Expected: S Actual: N IndexName: byRound")
    # A batch with one such item writes nothing.
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": _item({**MATCHES[0], "id": "m9"})}},
            {"PutRequest": {"Item": _item({**MATCHES[0], "id": "m10", "round": ""})}},
        ]})
    assert error_of(e)[0] == "ValidationException"
    assert "IndexName: byRound, IndexKey: round" in error_of(e)[1]
    assert "Item" not in ddb.get_item(TableName=name, Key={"id": {"S": "m9"}}, ConsistentRead=True)


def test_legacy_key_conditions_on_a_multi_attribute_key(ddb, make_table):
    name = _loaded(ddb, make_table)
    eq = lambda t, v: {"ComparisonOperator": "EQ", "AttributeValueList": [{t: v}]}  # noqa: E731
    out = ddb.query(TableName=name, IndexName="byRound", KeyConditions={
        "tour": eq("S", "w24"), "area": eq("S", "eu"), "round": eq("S", "semi")})
    assert _ids(out["Items"]) == ["m3", "m2"]
    # A simple key still takes one or two.
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name, KeyConditions={
            "id": eq("S", "m1"), "tour": eq("S", "w24"), "area": eq("S", "eu")})
    assert error_of(e) == ("ValidationException", "Conditions can be of length 1 or 2 only")


def test_update_table_backfills_a_multi_attribute_index(ddb, make_table):
    name = make_table(hash=("id", "S"))
    for m in MATCHES:
        ddb.put_item(TableName=name, Item=_item(m))
    ddb.update_table(
        TableName=name, AttributeDefinitions=_defs(tour="S", round="S", bracket="N"),
        GlobalSecondaryIndexUpdates=[{"Create": _gsi("byTour", ["tour"], ["round", "bracket"])}])
    h.wait_index_active(ddb, name, "byTour")
    out = ddb.query(TableName=name, IndexName="byTour",
                    KeyConditionExpression="tour = :t AND round = :s",
                    ExpressionAttributeValues={":t": {"S": "w24"}, ":s": {"S": "semi"}})
    assert _ids(out["Items"]) == ["m5", "m3", "m2"]


def _create_error(ddb, name, key_schema, defs=None, lsi=False) -> tuple:
    names = [k["AttributeName"] for k in key_schema]
    index = {"IndexName": "idx", "KeySchema": key_schema, "Projection": {"ProjectionType": "ALL"}}
    args = dict(TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=_keys(["pk"], ["sk"] if lsi else []),
                AttributeDefinitions=defs or _defs(pk="S", **({"sk": "S"} if lsi else {}),
                                                   **{n: "S" for n in names if n not in ("pk", "sk")}))
    args["LocalSecondaryIndexes" if lsi else "GlobalSecondaryIndexes"] = [index]
    with pytest.raises(ClientError) as e:
        ddb.create_table(**args)
    return error_of(e)


@pytest.mark.parametrize("key_schema,message", [
    (_keys(["a", "b", "c", "d", "e"]),
     "Invalid KeySchema: A global secondary index key can have at most 4 HASH "
     "KeySchemaElements, found 5"),
    (_keys(["a"], ["b", "c", "d", "e", "f"]),
     "Invalid KeySchema: A global secondary index key can have at most 4 RANGE "
     "KeySchemaElements, found 5"),
    (_keys(["a"], ["b"]) + _keys(["c"]),
     "Invalid KeySchema: A HASH KeySchemaElement cannot follow a RANGE KeySchemaElement"),
    (_keys(["b"], ["a"])[::-1],
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (_keys(["a", "b"], ["a"]),
     "Invalid KeySchema: The attribute a appears more than once in the KeySchema"),
])
def test_create_table_refuses_malformed_multi_attribute_keys(ddb, table_name, key_schema, message):
    assert _create_error(ddb, table_name, key_schema) == ("ValidationException", message)
    assert table_name not in ddb.list_tables()["TableNames"]


def test_create_table_key_schema_length_and_definitions(ddb, table_name):
    code, message = _create_error(ddb, table_name, _keys(list("abcde"), list("fghi")))
    assert code == "ValidationException"
    assert message.endswith("Member must have length less than or equal to 8")
    assert "globalSecondaryIndexes.1.member.keySchema" in message
    # A component missing from AttributeDefinitions.
    assert _create_error(ddb, table_name, _keys(["a", "b"]), defs=_defs(pk="S", a="S")) == (
        "ValidationException",
        "One or more parameter values were invalid: Some index key attributes are not defined "
        "in AttributeDefinitions. Keys: [a, b], AttributeDefinitions: [pk, a]")
    # Local indexes keep one HASH (the table's) and one RANGE.
    assert _create_error(ddb, table_name, _keys(["pk", "a"]), lsi=True) == (
        "ValidationException",
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
