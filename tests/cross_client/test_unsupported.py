"""Operations must either do exactly what DynamoDB does or fail loudly, never silently
succeed. PartiQL is not implemented yet; Query, Scan, batches and transactions are now (their
own suites check them in depth), so their cases here pass through the success branch, which
still checks the data. Expressions and the legacy parameters are covered by
test_expressions.py.

Each test accepts exactly two outcomes, so it stays meaningful when the feature lands:
  * the request fails with a clear "not supported" error (ValidationException mentioning
    support, or UnknownOperationException) and the data is untouched, or
  * the request succeeds AND did precisely what DynamoDB would have done.
Ignoring the parameter and succeeding anyway fails the test.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from stator_harness import get_item


def attempt(fn, **kwargs):
    try:
        return fn(**kwargs), None
    except ClientError as e:
        return None, e


def assert_unsupported(err: ClientError):
    code = err.response["Error"]["Code"]
    message = err.response["Error"]["Message"]
    assert code in ("ValidationException", "UnknownOperationException"), (code, message)
    assert "support" in message.lower(), message


@pytest.fixture
def seeded(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}, "w": {"S": "x"}})
    return table


# ---------------------------------------------------------------------------------------------
# Query, Scan, batches, transactions, PartiQL
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def composite(ddb, make_table):
    name = make_table(hash=("h", "S"), range=("r", "N"))
    for r in ("3", "1", "2"):
        ddb.put_item(TableName=name, Item={"h": {"S": "x"}, "r": {"N": r}})
    ddb.put_item(TableName=name, Item={"h": {"S": "y"}, "r": {"N": "1"}})
    return name


def test_query(ddb, composite):
    out, err = attempt(ddb.query, TableName=composite, KeyConditionExpression="h = :h",
                       ExpressionAttributeValues={":h": {"S": "x"}})
    if err is None:
        assert [i["r"]["N"] for i in out["Items"]] == ["1", "2", "3"]
        assert out["Count"] == 3
    else:
        assert_unsupported(err)


def test_scan(ddb, composite):
    out, err = attempt(ddb.scan, TableName=composite)
    if err is None:
        assert out["Count"] == 4
        assert sorted((i["h"]["S"], i["r"]["N"]) for i in out["Items"]) == [
            ("x", "1"), ("x", "2"), ("x", "3"), ("y", "1")]
    else:
        assert_unsupported(err)


def test_batch_write_item(ddb, table):
    out, err = attempt(ddb.batch_write_item, RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": "b1"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "b2"}}}},
    ]})
    if err is None:
        assert not out.get("UnprocessedItems")
        assert get_item(ddb, table, "b1") == {"pk": {"S": "b1"}}
        assert get_item(ddb, table, "b2") == {"pk": {"S": "b2"}}
    else:
        assert_unsupported(err)
        assert get_item(ddb, table, "b1") is None and get_item(ddb, table, "b2") is None


def test_batch_get_item(ddb, seeded):
    out, err = attempt(ddb.batch_get_item, RequestItems={seeded: {"Keys": [
        {"pk": {"S": "a"}}, {"pk": {"S": "missing"}}]}})
    if err is None:
        assert out["Responses"][seeded] == [{"pk": {"S": "a"}, "v": {"N": "1"},
                                             "w": {"S": "x"}}]
    else:
        assert_unsupported(err)


def test_transact_write_items(ddb, seeded):
    out, err = attempt(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": seeded, "Item": {"pk": {"S": "t1"}}}},
        {"ConditionCheck": {"TableName": seeded, "Key": {"pk": {"S": "a"}},
                            "ConditionExpression": "v = :nine",
                            "ExpressionAttributeValues": {":nine": {"N": "9"}}}},
    ])
    assert err is not None, "a transaction with a failing condition succeeded"
    if err.response["Error"]["Code"] != "TransactionCanceledException":
        assert_unsupported(err)
    assert get_item(ddb, seeded, "t1") is None


def test_transact_get_items(ddb, seeded):
    out, err = attempt(ddb.transact_get_items, TransactItems=[
        {"Get": {"TableName": seeded, "Key": {"pk": {"S": "a"}}}}])
    if err is None:
        assert out["Responses"] == [{"Item": {"pk": {"S": "a"}, "v": {"N": "1"},
                                              "w": {"S": "x"}}}]
    else:
        assert_unsupported(err)


def test_partiql_execute_statement(ddb, seeded):
    out, err = attempt(ddb.execute_statement,
                       Statement=f'SELECT * FROM "{seeded}" WHERE pk = \'a\'')
    if err is None:
        assert out["Items"] == [{"pk": {"S": "a"}, "v": {"N": "1"}, "w": {"S": "x"}}]
    else:
        assert_unsupported(err)
