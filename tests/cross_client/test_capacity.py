"""ReturnConsumedCapacity: write units are 1 KB each (rounded up), read units 4 KB each
(rounded up), halved for eventually consistent reads. Sizes count attribute names and values."""

from __future__ import annotations

import pytest


def put(ddb, table, item, **kwargs):
    return ddb.put_item(TableName=table, Item={k: {"S": v} for k, v in item.items()}, **kwargs)


def sized_item(pk: str, total: int) -> dict:
    """An all-string item of exactly `total` bytes: "pk" + pk + "d" + padding."""
    pad = total - len("pk") - len(pk) - len("d")
    assert pad >= 0
    return {"pk": pk, "d": "x" * pad}


def test_put_total_small_item_is_one_wcu(ddb, table):
    out = put(ddb, table, {"pk": "small", "v": "tiny"}, ReturnConsumedCapacity="TOTAL")
    cc = out["ConsumedCapacity"]
    assert cc["TableName"] == table
    assert cc["CapacityUnits"] == 1.0
    # TOTAL gives only the aggregate, no per-table breakdown.
    assert "Table" not in cc


def test_put_indexes_reports_table_capacity(ddb, table):
    out = put(ddb, table, {"pk": "small"}, ReturnConsumedCapacity="INDEXES")
    cc = out["ConsumedCapacity"]
    assert cc["TableName"] == table
    assert cc["CapacityUnits"] == 1.0
    assert cc["Table"]["CapacityUnits"] == 1.0
    assert "GlobalSecondaryIndexes" not in cc
    assert "LocalSecondaryIndexes" not in cc


def test_put_none_or_absent_reports_nothing(ddb, table):
    assert "ConsumedCapacity" not in put(ddb, table, {"pk": "a"}, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in put(ddb, table, {"pk": "b"})


@pytest.mark.parametrize("size,units", [(1024, 1.0), (1025, 2.0), (1536, 2.0), (2048, 2.0),
                                        (2049, 3.0), (10 * 1024, 10.0)])
def test_put_write_units_round_up_per_kb(ddb, table, size, units):
    out = put(ddb, table, sized_item(f"s{size}", size), ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == units


def test_put_over_larger_item_charges_the_larger_size(ddb, table):
    put(ddb, table, sized_item("grow", 3000))
    out = put(ddb, table, {"pk": "grow"}, ReturnConsumedCapacity="TOTAL")
    # A replacing write is charged for the larger of the old and the new item.
    assert out["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_delete_item_capacity(ddb, table):
    put(ddb, table, sized_item("del", 2500))
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}},
                          ReturnConsumedCapacity="TOTAL")
    # A delete is charged for the size of the deleted item.
    assert out["ConsumedCapacity"]["CapacityUnits"] == 3.0
    # Deleting an item that is not there still costs one write unit.
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}},
                          ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_update_item_key_only_capacity(ddb, table):
    out = ddb.update_item(TableName=table, Key={"pk": {"S": "u"}},
                          ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert out["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


def test_get_item_small_eventual_vs_strong(ddb, table):
    put(ddb, table, {"pk": "g", "v": "value"})
    key = {"pk": {"S": "g"}}
    eventual = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    strong = ddb.get_item(TableName=table, Key=key, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    indexes = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="INDEXES")
    assert indexes["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert indexes["ConsumedCapacity"]["Table"]["CapacityUnits"] == 0.5


def test_get_item_ten_kb(ddb, table):
    put(ddb, table, sized_item("ten", 10_000))
    key = {"pk": {"S": "ten"}}
    eventual = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 1.5   # ceil(10000/4096)=3, halved
    strong = ddb.get_item(TableName=table, Key=key, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 3.0


@pytest.mark.parametrize("size,units", [(4096, 1.0), (4097, 2.0)])
def test_get_item_read_units_round_up_per_4kb(ddb, table, size, units):
    put(ddb, table, sized_item(f"r{size}", size))
    out = ddb.get_item(TableName=table, Key={"pk": {"S": f"r{size}"}}, ConsistentRead=True,
                       ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == units


def test_get_missing_item_still_costs(ddb, table):
    out = ddb.get_item(TableName=table, Key={"pk": {"S": "absent"}},
                       ReturnConsumedCapacity="TOTAL")
    assert "Item" not in out
    assert out["ConsumedCapacity"]["CapacityUnits"] == 0.5
