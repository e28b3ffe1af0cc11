"""Batches and transactions through boto3: the `Table.batch_writer()` helper (which buffers
puts and deletes into BatchWriteItem calls of 25 and re-sends UnprocessedItems), BatchGetItem
read back through the usual retry loop on UnprocessedKeys, TransactWriteItems and
TransactGetItems through the low-level client (including a cancellation whose
`CancellationReasons` botocore exposes in `err.response`), idempotent retries with
`ClientRequestToken`, and the bank-transfer invariant from concurrent Python threads.

Expected values are DynamoDB's behaviour: every item read back exactly, cancellation reasons
in request order with the old item when `ALL_OLD` was asked, nothing written by a cancelled
transaction.
"""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import get_item

CANCELLED = ("Transaction cancelled, please refer cancellation reasons for specific reasons "
             "[{}]")


def batch_get_all(ddb, table, keys):
    """BatchGetItem in chunks of 100 with the retry loop every DynamoDB client needs:
    whatever comes back in UnprocessedKeys is asked for again."""
    found = []
    for start in range(0, len(keys), 100):
        request = {table: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
        for _ in range(20):
            out = ddb.batch_get_item(RequestItems=request)
            found.extend(out["Responses"].get(table, []))
            request = out.get("UnprocessedKeys") or {}
            if not request:
                break
        assert not request, "UnprocessedKeys never drained"
    return found


# --------------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------------


def test_batch_writer_then_batch_get(ddb, ddb_resource, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    table = ddb_resource.Table(name)
    # overwrite_by_pkeys drops earlier buffered writes to the same key, so the duplicates
    # below reach the server once, with their last value.
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for i in range(200):
            batch.put_item(Item={"pk": f"p{i % 20}", "sk": i, "v": f"first-{i}"})
        for i in range(0, 200, 10):
            batch.put_item(Item={"pk": f"p{i % 20}", "sk": i, "v": f"second-{i}"})
        batch.delete_item(Key={"pk": "p1", "sk": 1})
        batch.put_item(Item={"pk": "p1", "sk": 1, "v": "back"})

    keys = [{"pk": {"S": f"p{i % 20}"}, "sk": {"N": str(i)}} for i in range(200)]
    keys.append({"pk": {"S": "nobody"}, "sk": {"N": "0"}})
    found = batch_get_all(ddb, name, keys)
    assert len(found) == 200
    by_sk = {int(item["sk"]["N"]): item for item in found}
    assert sorted(by_sk) == list(range(200))
    for i, item in by_sk.items():
        expected = "back" if i == 1 else f"second-{i}" if i % 10 == 0 else f"first-{i}"
        assert item == {"pk": {"S": f"p{i % 20}"}, "sk": {"N": str(i)}, "v": {"S": expected}}
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 200

    # Projection in BatchGetItem, with names.
    out = ddb.batch_get_item(RequestItems={name: {
        "Keys": [{"pk": {"S": "p3"}, "sk": {"N": "3"}}],
        "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "v"}}})
    assert out["Responses"][name] == [{"v": {"S": "first-3"}}]


# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------


def test_transact_write_and_get(ddb, make_table):
    orders = make_table()
    stock = make_table()
    ddb.put_item(TableName=stock, Item={"pk": {"S": "widget"}, "qty": {"N": "2"}})
    ddb.put_item(TableName=orders, Item={"pk": {"S": "stale"}})

    out = ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": stock, "Key": {"pk": {"S": "widget"}},
                    "UpdateExpression": "SET qty = qty - :one",
                    "ConditionExpression": "qty >= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": orders, "Item": {"pk": {"S": "o1"}, "what": {"S": "widget"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": orders, "Key": {"pk": {"S": "stale"}}}},
        {"ConditionCheck": {"TableName": stock, "Key": {"pk": {"S": "nothing"}},
                            "ConditionExpression": "attribute_not_exists(pk)"}},
    ], ReturnConsumedCapacity="TOTAL")
    consumed = sorted((c["TableName"], c["CapacityUnits"]) for c in out["ConsumedCapacity"])
    assert [t for t, _ in consumed] == sorted([orders, stock])

    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": stock, "Key": {"pk": {"S": "widget"}}}},
        {"Get": {"TableName": orders, "Key": {"pk": {"S": "stale"}}}},
        {"Get": {"TableName": orders, "Key": {"pk": {"S": "o1"}},
                 "ProjectionExpression": "#w", "ExpressionAttributeNames": {"#w": "what"}}},
    ], ReturnConsumedCapacity="TOTAL")
    assert got["Responses"] == [
        {"Item": {"pk": {"S": "widget"}, "qty": {"N": "1"}}},
        {},
        {"Item": {"what": {"S": "widget"}}},
    ]
    # Transactional reads cost twice a strongly consistent read: 2 units per small item.
    assert sorted((c["TableName"], c["CapacityUnits"]) for c in got["ConsumedCapacity"]) == \
        sorted([(stock, 2.0), (orders, 4.0)])


def test_transaction_cancellation_reasons(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "taken"}, "who": {"S": "alice"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "taken"}, "who": {"S": "bob"}},
                     "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "counter"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    response = excinfo.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == \
        CANCELLED.format("None, ConditionalCheckFailed, None")
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": {"S": "taken"}, "who": {"S": "alice"}}},
        {"Code": "None"},
    ]
    # All or nothing.
    assert get_item(ddb, table, "new") is None
    assert get_item(ddb, table, "counter") is None
    assert get_item(ddb, table, "taken") == {"pk": {"S": "taken"}, "who": {"S": "alice"}}


def test_transaction_validation_errors(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
        ])
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Transaction request cannot include multiple operations on one item"}
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}},
             "Delete": {"TableName": table, "Key": {"pk": {"S": "b"}}}},
        ])
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "TransactItems can only contain one of Check, Put, Update or Delete"}
    assert get_item(ddb, table, "a") is None


def test_client_request_token_makes_retries_idempotent(ddb, table):
    # Tokens are remembered server-wide: a unique one, so that no other test's requests count
    # as retries of these.
    token_1 = h.unique_table_name("token")

    def bump(by, token=token_1):
        return ddb.transact_write_items(ClientRequestToken=token, TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "ctr"}},
                        "UpdateExpression": "ADD n :by",
                        "ExpressionAttributeValues": {":by": {"N": by}}}}])

    bump("1")
    bump("1")
    assert get_item(ddb, table, "ctr") == {"pk": {"S": "ctr"}, "n": {"N": "1"}}
    with pytest.raises(ClientError) as excinfo:
        bump("5")
    assert excinfo.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert get_item(ddb, table, "ctr") == {"pk": {"S": "ctr"}, "n": {"N": "1"}}
    # boto3 fills in a fresh token when none is given: two calls, two increments.
    for _ in range(2):
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "ctr"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert get_item(ddb, table, "ctr") == {"pk": {"S": "ctr"}, "n": {"N": "3"}}


def test_concurrent_bank_transfers_keep_the_total(endpoint, ddb, table):
    accounts, start = 6, 500
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table,
                 "Item": {"pk": {"S": f"acct-{a}"}, "balance": {"N": str(start)}}}}
        for a in range(accounts)])
    threads, transfers = 4, 50
    outcomes = [[0, 0] for _ in range(threads)]

    def work(i):
        client = h.make_client(endpoint)
        rng = random.Random(i)
        for _ in range(transfers):
            source, target = rng.sample(range(accounts), 2)
            amount = {"N": str(rng.randint(1, 300))}
            try:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": {"S": f"acct-{source}"}},
                                "UpdateExpression": "SET balance = balance - :amt",
                                "ConditionExpression": "balance >= :amt",
                                "ExpressionAttributeValues": {":amt": amount}}},
                    {"Update": {"TableName": table, "Key": {"pk": {"S": f"acct-{target}"}},
                                "UpdateExpression": "SET balance = balance + :amt",
                                "ExpressionAttributeValues": {":amt": amount}}},
                ])
            except ClientError as e:
                assert e.response["Error"]["Code"] == "TransactionCanceledException", e
                assert [r["Code"] for r in e.response["CancellationReasons"]] == \
                    ["ConditionalCheckFailed", "None"]
                outcomes[i][1] += 1
            else:
                outcomes[i][0] += 1

    h.run_threads(threads, work, timeout=120)
    assert sum(done + refused for done, refused in outcomes) == threads * transfers
    assert sum(done for done, _ in outcomes) > 0
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": f"acct-{a}"}}}}
        for a in range(accounts)])
    balances = [int(r["Item"]["balance"]["N"]) for r in got["Responses"]]
    assert all(b >= 0 for b in balances), balances
    assert sum(balances) == accounts * start
