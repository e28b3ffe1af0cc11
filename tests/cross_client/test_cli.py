"""The AWS CLI (v1, from the test venv) against the server with --endpoint-url."""

from __future__ import annotations

import base64
import json

import stator_harness as h


def j(value) -> str:
    return json.dumps(value)


def test_cli_table_and_item_lifecycle(aws, ddb, table_name):
    rc, out, err = aws(
        "create-table", "--table-name", table_name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "AttributeName=sk,AttributeType=N",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    assert rc == 0, err
    d = out["TableDescription"]
    assert d["TableName"] == table_name
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert d["TableArn"].endswith(f":table/{table_name}")

    rc, out, err = aws("wait", "table-exists", "--table-name", table_name)
    assert rc == 0, err

    item = {"pk": {"S": "cli"}, "sk": {"N": "1.50"}, "tags": {"SS": ["x", "y"]},
            "doc": {"M": {"n": {"N": "2e2"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
            "bin": {"B": "AAEC"}}
    rc, out, err = aws("put-item", "--table-name", table_name, "--item", j(item),
                       "--return-consumed-capacity", "TOTAL")
    assert rc == 0, err
    assert out["ConsumedCapacity"] == {"TableName": table_name, "CapacityUnits": 1.0}

    key = {"pk": {"S": "cli"}, "sk": {"N": "1.5"}}
    rc, out, err = aws("get-item", "--table-name", table_name, "--key", j(key),
                       "--consistent-read")
    assert rc == 0, err
    got = out["Item"]
    assert got["pk"] == {"S": "cli"}
    assert got["sk"] == {"N": "1.5"}
    assert sorted(got["tags"]["SS"]) == ["x", "y"]
    assert got["doc"] == {"M": {"n": {"N": "200"},
                                "l": {"L": [{"BOOL": True}, {"NULL": True}]}}}
    # AWS CLI v1 takes a blob given in --item as raw text (v2 would decode it as base64) and
    # prints blobs base64-encoded, as they travel on the wire.
    assert got["bin"] == {"B": base64.b64encode(b"AAEC").decode()}
    assert ddb.get_item(TableName=table_name, Key=key)["Item"]["bin"] == {"B": b"AAEC"}

    rc, out, err = aws("get-item", "--table-name", table_name,
                       "--key", j({"pk": {"S": "cli"}, "sk": {"N": "99"}}))
    assert rc == 0, err
    assert out is None or "Item" not in out

    new_key = {"pk": {"S": "upd"}, "sk": {"N": "7"}}
    rc, out, err = aws("update-item", "--table-name", table_name, "--key", j(new_key),
                       "--return-values", "ALL_NEW")
    assert rc == 0, err
    assert out["Attributes"] == new_key

    rc, out, err = aws("describe-table", "--table-name", table_name)
    assert rc == 0, err
    t = out["Table"]
    assert t["TableName"] == table_name
    assert t["TableStatus"] == "ACTIVE"
    assert t["ItemCount"] == 2
    assert sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ]

    rc, out, err = aws("list-tables")
    assert rc == 0, err
    assert table_name in out["TableNames"]

    rc, out, err = aws("delete-item", "--table-name", table_name, "--key", j(key),
                       "--return-values", "ALL_OLD")
    assert rc == 0, err
    assert out["Attributes"]["pk"] == {"S": "cli"}
    assert out["Attributes"]["doc"]["M"]["n"] == {"N": "200"}

    rc, out, err = aws("delete-table", "--table-name", table_name)
    assert rc == 0, err
    assert out["TableDescription"]["TableName"] == table_name

    rc, out, err = aws("describe-table", "--table-name", table_name)
    assert rc != 0
    assert "ResourceNotFoundException" in err


def test_cli_error_type_and_message_on_stderr(aws, table_name):
    rc, out, err = aws("get-item", "--table-name", table_name,
                       "--key", j({"pk": {"S": "a"}}))
    assert rc != 0
    assert out is None
    assert ("An error occurred (ResourceNotFoundException) when calling the GetItem operation: "
            "Requested resource not found") in err


def test_cli_validation_error(aws, make_table):
    name = make_table()
    rc, out, err = aws("put-item", "--table-name", name, "--item", j({"other": {"S": "x"}}))
    assert rc != 0
    assert ("An error occurred (ValidationException) when calling the PutItem operation: "
            "One or more parameter values were invalid: Missing the key pk in the item") in err


def test_cli_list_tables_follows_pages(start_server):
    """Normally on a private in-memory server holding exactly these tables. On a shared
    endpoint (STATOR_ENDPOINT) the names share a unique prefix, the CLI starts listing at the
    prefix, and --max-items stops it after these tables."""
    shared = h.shared_endpoint()
    if shared:
        endpoint, prefix = shared, h.unique_table_name("cli") + "_"
        # --starting-token takes botocore's pagination token: base64 of the JSON of the next
        # request's ExclusiveStartTableName.
        token = base64.b64encode(j({"ExclusiveStartTableName": prefix}).encode()).decode()
        start, stop = ["--starting-token", token], ["--max-items", "3"]
    else:
        endpoint, prefix = start_server(in_memory=True).endpoint, ""
        start, stop = [], []
    client = h.make_client(endpoint)
    names = [prefix + name for name in ["cli-c", "cli-a", "cli-b"]]
    for name in names:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    # --page-size 1 makes the CLI follow LastEvaluatedTableName over three requests.
    rc, out, err = h.run_aws_cli(endpoint, "list-tables", *start, "--page-size", "1", *stop)
    assert rc == 0, err
    assert out["TableNames"] == sorted(names)
    rc, out, err = h.run_aws_cli(endpoint, "list-tables", *start, "--max-items", "2")
    assert rc == 0, err
    assert out["TableNames"] == [prefix + "cli-a", prefix + "cli-b"]
    assert out["NextToken"]
