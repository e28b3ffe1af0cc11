"""Query, Scan and secondary indexes through DynamoDB's own clients: the Product Catalog
tutorial's access patterns with the boto3 client and the `Table` resource (`Key(...)` /
`Attr(...)` conditions, which become `#n0`/`:v0` placeholders, so reserved words such as
`status` and `name` need no care), boto3's `query` and `scan` paginators, a parallel scan
from threads, and the AWS CLI's `query` and `scan` (`--total-segments` / `--segment`).

One table, loaded once for the module, models the tutorial's single-table design:
products (`PRODUCT#id` / `METADATA`), reviews (`PRODUCT#id` / `REVIEW#date#user`) and
category listings (`CATEGORY#name` / `PRODUCT#id`), with
- `ByCategoryPrice`: global index on category (S) + price (N), projection ALL;
- `ByStatusDate`: global index on status (S) + createdAt (S), INCLUDE name, price — sparse
  (drafts, reviews and listings have no status);
- `ByRating`: local index on pk + rating (N), KEYS_ONLY.

Every expected value is computed from the generated dataset: exact items, order and counts.
"""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary, TypeSerializer
from botocore.exceptions import ClientError

import stator_harness as h
from stator_harness import error_of

BY_CATEGORY = "ByCategoryPrice"
BY_STATUS = "ByStatusDate"
BY_RATING = "ByRating"
CATEGORIES = ["electronics", "books", "kitchen", "garden", "toys"]
GENERATED = 40

_serializer = TypeSerializer()


def low(item: dict) -> dict:
    """A resource-style item (str, Decimal, Binary) as the low-level client returns it."""
    return {k: _serializer.serialize(v) for k, v in item.items()}


def only(item: dict, names) -> dict:
    return {k: v for k, v in item.items() if k in names}


def price_text(cents: int) -> str:
    """A price as DynamoDB returns numbers: no trailing zeros after the point."""
    whole, frac = divmod(cents, 100)
    if frac == 0:
        return str(whole)
    if frac % 10 == 0:
        return f"{whole}.{frac // 10}"
    return f"{whole}.{frac:02d}"


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------


def generate() -> list[dict]:
    items = [
        {"pk": "PRODUCT#laptop-001", "sk": "METADATA", "name": "Pro Laptop 15",
         "description": "15-inch laptop with 16GB RAM", "price": Decimal("999.99"),
         "category": "electronics", "status": "active",
         "createdAt": "2026-04-20T10:00:00Z", "stock": Decimal(50)},
        {"pk": "PRODUCT#mouse-002", "sk": "METADATA", "name": "Wireless Mouse",
         "description": "Ergonomic wireless mouse", "price": Decimal("29.99"),
         "category": "electronics", "status": "active",
         "createdAt": "2026-04-22T10:00:00Z", "stock": Decimal(200)},
        {"pk": "PRODUCT#laptop-001", "sk": "REVIEW#2026-04-24#user-001", "rating": Decimal(5),
         "comment": "Great laptop, fast and reliable", "userId": "user-001",
         "createdAt": "2026-04-24T14:30:00Z"},
        {"pk": "CATEGORY#electronics", "sk": "PRODUCT#laptop-001", "name": "Pro Laptop 15",
         "price": Decimal("999.99")},
        {"pk": "CATEGORY#electronics", "sk": "PRODUCT#mouse-002", "name": "Wireless Mouse",
         "price": Decimal("29.99")},
    ]
    for i in range(GENERATED):
        pid = f"p{i:03d}"
        category = CATEGORIES[i % 5]
        price = Decimal(price_text(500 + (i * 3719) % 99000))
        product = {"pk": f"PRODUCT#{pid}", "sk": "METADATA", "name": f"Product {pid}",
                   "description": f"Generated product number {i}", "price": price,
                   "category": category,
                   "createdAt": f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}"
                                f"T{(i * 7) % 24:02d}:00:00Z",
                   "stock": Decimal((i * 13) % 250)}
        if i % 4 in (0, 1):
            product["status"] = "active"
        elif i % 4 == 2:
            product["status"] = "discontinued"
        items.append(product)
        for j in range(i % 6):
            date = f"2026-05-{1 + j * 3:02d}"
            user = f"user-{(i * 7 + j) % 100:03d}"
            items.append({"pk": f"PRODUCT#{pid}", "sk": f"REVIEW#{date}#{user}",
                          "rating": Decimal((i + j) % 5 + 1), "comment": f"Review {j} of {pid}",
                          "userId": user, "createdAt": f"{date}T12:00:00Z"})
        items.append({"pk": f"CATEGORY#{category}", "sk": f"PRODUCT#{pid}",
                      "name": f"Product {pid}", "price": price})
    return items


class Catalog:
    def __init__(self, name: str, items: list[dict]):
        self.name = name
        self.items = items

    def products(self):
        return [i for i in self.items if i["sk"] == "METADATA"]

    def partition(self, pk):
        return sorted((i for i in self.items if i["pk"] == pk), key=lambda i: i["sk"])

    def by_category(self, category):
        return sorted((p for p in self.products() if p["category"] == category),
                      key=lambda p: p["price"])

    def by_status(self, status):
        return sorted((only(i, {"pk", "sk", "status", "createdAt", "name", "price"})
                       for i in self.items if i.get("status") == status),
                      key=lambda i: i["createdAt"])

    def by_rating(self, pk):
        return sorted((only(i, {"pk", "sk", "rating"}) for i in self.partition(pk)
                       if "rating" in i), key=lambda i: i["rating"])


def put_all(ddb, table: str, items: list[dict], workers: int = 8) -> None:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda it: ddb.put_item(TableName=table, Item=low(it)), items))


@pytest.fixture(scope="module")
def catalog(ddb) -> Catalog:
    name = h.unique_table_name("query_scan_catalog")
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "category", "AttributeType": "S"},
            {"AttributeName": "price", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "createdAt", "AttributeType": "S"},
            {"AttributeName": "rating", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": BY_CATEGORY,
             "KeySchema": [{"AttributeName": "category", "KeyType": "HASH"},
                           {"AttributeName": "price", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": BY_STATUS,
             "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                           {"AttributeName": "createdAt", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name", "price"]}},
        ],
        LocalSecondaryIndexes=[
            {"IndexName": BY_RATING,
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "rating", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ],
    )
    items = generate()
    put_all(ddb, name, items)
    return Catalog(name, items)


@pytest.fixture(scope="module")
def table(ddb_resource, catalog):
    return ddb_resource.Table(catalog.name)


# --------------------------------------------------------------------------------------------
# The tutorial's access patterns through the Table resource
# --------------------------------------------------------------------------------------------


def test_dataset_shape(catalog):
    assert len(catalog.items) == 5 + GENERATED + sum(i % 6 for i in range(GENERATED)) + GENERATED
    assert len(catalog.products()) == 42
    assert len(catalog.by_category("electronics")) == 10


def test_get_product_by_id(table, catalog):
    got = table.get_item(Key={"pk": "PRODUCT#laptop-001", "sk": "METADATA"})["Item"]
    assert got == catalog.partition("PRODUCT#laptop-001")[0]
    assert got["price"] == Decimal("999.99")
    out = table.query(
        KeyConditionExpression=Key("pk").eq("PRODUCT#p017") & Key("sk").eq("METADATA"))
    assert out["Items"] == [catalog.partition("PRODUCT#p017")[0]]
    assert (out["Count"], out["ScannedCount"]) == (1, 1)
    assert "LastEvaluatedKey" not in out


def test_product_and_reviews_in_one_query(table, catalog):
    """The product's partition: the product, then its reviews in sort key order."""
    for pid in ("p005", "p011", "p012", "laptop-001"):
        expected = catalog.partition(f"PRODUCT#{pid}")
        out = table.query(KeyConditionExpression=Key("pk").eq(f"PRODUCT#{pid}"))
        assert out["Items"] == expected
        assert out["Count"] == out["ScannedCount"] == len(expected)
    # The tutorial's console: "Items returned: 1 · Items scanned: 1 · RCUs consumed: 0.5".
    out = table.query(
        KeyConditionExpression=Key("pk").eq("PRODUCT#laptop-001")
        & Key("sk").begins_with("REVIEW"),
        ReturnConsumedCapacity="TOTAL")
    assert out["Items"] == catalog.partition("PRODUCT#laptop-001")[1:]
    assert (out["Count"], out["ScannedCount"]) == (1, 1)
    assert out["ConsumedCapacity"] == {"TableName": table.name, "CapacityUnits": 0.5}


def test_get_reviews_newest_first(table, catalog):
    """The tutorial's get_reviews: begins_with('REVIEW#') and ScanIndexForward=False."""
    out = table.query(
        KeyConditionExpression=Key("pk").eq("PRODUCT#p005") & Key("sk").begins_with("REVIEW#"),
        ScanIndexForward=False)
    expected = catalog.partition("PRODUCT#p005")[1:][::-1]
    assert len(expected) == 5
    assert out["Items"] == expected
    assert [r["createdAt"][:10] for r in out["Items"]] == [
        "2026-05-13", "2026-05-10", "2026-05-07", "2026-05-04", "2026-05-01"]
    assert out["Count"] == 5


def test_list_products_in_category(table, catalog):
    """The tutorial's list_products with a category: a Query, Count == ScannedCount."""
    out = table.query(KeyConditionExpression=Key("pk").eq("CATEGORY#electronics"))
    expected = catalog.partition("CATEGORY#electronics")
    assert out["Items"] == expected
    assert out["Count"] == out["ScannedCount"] == 10
    assert [i["sk"] for i in out["Items"][:3]] == [
        "PRODUCT#laptop-001", "PRODUCT#mouse-002", "PRODUCT#p000"]


def test_list_products_scan_fallback(table, catalog):
    """Without a category the tutorial falls back to a Scan filtered on SK = METADATA:
    Count is the products, ScannedCount the whole table."""
    out = table.scan(FilterExpression=Attr("sk").eq("METADATA"))
    assert "LastEvaluatedKey" not in out
    assert out["Count"] == 42
    assert out["ScannedCount"] == len(catalog.items)
    key = lambda i: (i["pk"], i["sk"])  # noqa: E731
    assert sorted(out["Items"], key=key) == sorted(catalog.products(), key=key)
    out = table.scan(FilterExpression=Attr("category").eq("electronics") & Attr("stock").gt(100),
                     Select="COUNT")
    assert "Items" not in out
    assert out["Count"] == sum(1 for p in catalog.by_category("electronics") if p["stock"] > 100)
    assert out["ScannedCount"] == len(catalog.items)


def test_price_range_in_category(table, catalog):
    """Key('category') & Key('price').between(...) on the global index, numeric order."""
    out = table.query(IndexName=BY_CATEGORY,
                      KeyConditionExpression=Key("category").eq("books")
                      & Key("price").between(Decimal(100), Decimal(400)))
    expected = [p for p in catalog.by_category("books") if 100 <= p["price"] <= 400]
    assert len(expected) >= 2
    assert out["Items"] == expected
    out = table.query(IndexName=BY_CATEGORY,
                      KeyConditionExpression=Key("category").eq("electronics")
                      & Key("price").lt(Decimal(30)),
                      ReturnConsumedCapacity="INDEXES")
    expected = [p for p in catalog.by_category("electronics") if p["price"] < 30]
    assert out["Items"] == expected
    assert any(p["pk"] == "PRODUCT#mouse-002" for p in out["Items"])
    # Charged to the index, not the table.
    cc = out["ConsumedCapacity"]
    assert (cc["TableName"], cc["CapacityUnits"]) == (table.name, 0.5)
    assert cc["Table"]["CapacityUnits"] == 0.0
    assert list(cc["GlobalSecondaryIndexes"]) == [BY_CATEGORY]
    assert cc["GlobalSecondaryIndexes"][BY_CATEGORY]["CapacityUnits"] == 0.5
    assert "LocalSecondaryIndexes" not in cc


def test_recent_products_by_status(table, catalog):
    """Key('status') (a reserved word: the resource writes #n0) + createdAt, newest first."""
    out = table.query(IndexName=BY_STATUS,
                      KeyConditionExpression=Key("status").eq("active")
                      & Key("createdAt").gt("2026-02-01"),
                      ScanIndexForward=False)
    expected = [i for i in catalog.by_status("active") if i["createdAt"] > "2026-02-01"][::-1]
    assert out["Items"] == expected
    assert [i["pk"] for i in out["Items"][:2]] == ["PRODUCT#mouse-002", "PRODUCT#laptop-001"]
    for it in out["Items"]:
        assert set(it) == {"pk", "sk", "status", "createdAt", "name", "price"}


def test_filter_counts_and_projection(table, catalog):
    out = table.query(KeyConditionExpression=Key("pk").eq("PRODUCT#p011"),
                      FilterExpression=Attr("rating").gte(4),
                      ProjectionExpression="sk, rating")
    expected = [only(i, {"sk", "rating"}) for i in catalog.partition("PRODUCT#p011")
                if i.get("rating", 0) >= 4]
    assert out["Items"] == expected
    assert out["Count"] == len(expected) < out["ScannedCount"] == 6


def test_keys_only_local_index(table, catalog):
    out = table.query(IndexName=BY_RATING, KeyConditionExpression=Key("pk").eq("PRODUCT#p011"))
    assert out["Items"] == catalog.by_rating("PRODUCT#p011")
    assert all(set(i) == {"pk", "sk", "rating"} for i in out["Items"])
    full = table.query(IndexName=BY_RATING, KeyConditionExpression=Key("pk").eq("PRODUCT#p011"),
                       Select="ALL_ATTRIBUTES")
    reviews = sorted(catalog.partition("PRODUCT#p011")[1:], key=lambda r: r["rating"])
    assert full["Items"] == reviews
    # A filter on a non-projected attribute is evaluated on the item fetched from the table;
    # the items returned are still what the index projects (ALL_PROJECTED_ATTRIBUTES).
    out = table.query(IndexName=BY_RATING, KeyConditionExpression=Key("pk").eq("PRODUCT#p011"),
                      FilterExpression=Attr("comment").begins_with("Review 1 "))
    assert (out["Count"], out["ScannedCount"]) == (1, 5)
    assert out["Items"] == [only(r, {"pk", "sk", "rating"}) for r in reviews
                            if r["comment"].startswith("Review 1 ")]


# --------------------------------------------------------------------------------------------
# The low-level client: paginators, index keys, errors
# --------------------------------------------------------------------------------------------


def test_query_paginator_on_global_index(ddb, catalog):
    paginator = ddb.get_paginator("query")
    pages = list(paginator.paginate(
        TableName=catalog.name, IndexName=BY_CATEGORY,
        KeyConditionExpression="category = :c",
        ExpressionAttributeValues={":c": {"S": "books"}},
        PaginationConfig={"PageSize": 3}))
    expected = [low(p) for p in catalog.by_category("books")]
    assert len(expected) == 8
    assert [len(p["Items"]) for p in pages] == [3, 3, 2]
    assert [i for p in pages for i in p["Items"]] == expected
    # Each LastEvaluatedKey: the table key and the index key of the page's last item.
    assert pages[0]["LastEvaluatedKey"] == only(expected[2], {"pk", "sk", "category", "price"})
    assert pages[1]["LastEvaluatedKey"] == only(expected[5], {"pk", "sk", "category", "price"})
    assert "LastEvaluatedKey" not in pages[2]
    # build_full_result sums the counts.
    full = paginator.paginate(
        TableName=catalog.name, IndexName=BY_CATEGORY,
        KeyConditionExpression="category = :c",
        ExpressionAttributeValues={":c": {"S": "books"}},
        PaginationConfig={"PageSize": 5}).build_full_result()
    assert full["Items"] == expected
    assert full["Count"] == full["ScannedCount"] == 8


def test_query_paginator_exact_boundary(ddb, catalog):
    """PageSize equal to the partition's size: DynamoDB returns a LastEvaluatedKey, so the
    paginator asks once more and gets an empty page."""
    pages = list(ddb.get_paginator("query").paginate(
        TableName=catalog.name, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "PRODUCT#p005"}},
        PaginationConfig={"PageSize": 6}))
    expected = [low(i) for i in catalog.partition("PRODUCT#p005")]
    assert len(expected) == 6
    assert len(pages) == 2
    assert pages[0]["Items"] == expected
    assert pages[0]["LastEvaluatedKey"] == only(expected[-1], {"pk", "sk"})
    assert pages[1]["Items"] == []
    assert (pages[1]["Count"], pages[1]["ScannedCount"]) == (0, 0)
    assert "LastEvaluatedKey" not in pages[1]


def test_reverse_paging_on_local_index(ddb, catalog):
    pages = list(ddb.get_paginator("query").paginate(
        TableName=catalog.name, IndexName=BY_RATING,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "PRODUCT#p005"}},
        ScanIndexForward=False, PaginationConfig={"PageSize": 2}))
    expected = [low(i) for i in catalog.by_rating("PRODUCT#p005")][::-1]
    assert [i for p in pages for i in p["Items"]] == expected
    assert pages[0]["LastEvaluatedKey"] == expected[1]


def test_scan_paginator_every_item_once(ddb, catalog):
    pages = list(ddb.get_paginator("scan").paginate(
        TableName=catalog.name, PaginationConfig={"PageSize": 17}))
    keys = [(i["pk"]["S"], i["sk"]["S"]) for p in pages for i in p["Items"]]
    assert len(keys) == len(set(keys)) == len(catalog.items)
    assert sorted(keys) == sorted((i["pk"], i["sk"]) for i in catalog.items)
    assert all(p["ScannedCount"] == 17 for p in pages[:-1])
    # Hash order: neither the order of insertion nor key order.
    assert keys != [(i["pk"], i["sk"]) for i in catalog.items]
    assert keys != sorted(keys)


def test_sparse_indexes_by_scan(ddb, catalog):
    def scanned(index):
        pages = ddb.get_paginator("scan").paginate(
            TableName=catalog.name, IndexName=index, PaginationConfig={"PageSize": 10})
        return sorted((i["pk"]["S"], i["sk"]["S"]) for p in pages for i in p["Items"])

    assert scanned(BY_CATEGORY) == sorted((p["pk"], p["sk"]) for p in catalog.products())
    assert scanned(BY_STATUS) == sorted((i["pk"], i["sk"]) for i in catalog.items if "status" in i)
    assert scanned(BY_RATING) == sorted((i["pk"], i["sk"]) for i in catalog.items if "rating" in i)


def test_consistent_read_on_global_index_is_rejected(ddb, catalog):
    for call, extra in ((ddb.query, {"KeyConditionExpression": "category = :c",
                                     "ExpressionAttributeValues": {":c": {"S": "books"}}}),
                        (ddb.scan, {})):
        with pytest.raises(ClientError) as e:
            call(TableName=catalog.name, IndexName=BY_CATEGORY, ConsistentRead=True, **extra)
        assert error_of(e) == ("ValidationException",
                               "Consistent reads are not supported on global secondary indexes")
    # A local index allows it, at twice the units.
    args = dict(TableName=catalog.name, IndexName=BY_RATING, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "PRODUCT#p005"}},
                ReturnConsumedCapacity="TOTAL")
    assert ddb.query(**args)["ConsumedCapacity"]["CapacityUnits"] == 0.5
    strong = ddb.query(ConsistentRead=True, **args)
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert strong["Count"] == 5


def test_select_all_attributes_on_include_index_is_rejected(ddb, catalog):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=catalog.name, IndexName=BY_STATUS, Select="ALL_ATTRIBUTES",
                  KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                  ExpressionAttributeValues={":s": {"S": "active"}})
    code, message = error_of(e)
    assert code == "ValidationException"
    assert "ALL_ATTRIBUTES" in message and BY_STATUS in message


def test_parallel_scan_from_threads(ddb, catalog):
    """Four threads, one segment each, paging with Limit: every item exactly once."""
    total = 4
    found: dict[int, list] = {}
    lock = threading.Lock()

    def worker(segment):
        keys, start = [], None
        while True:
            args = dict(TableName=catalog.name, Segment=segment, TotalSegments=total, Limit=9)
            if start:
                args["ExclusiveStartKey"] = start
            page = ddb.scan(**args)
            assert page["ScannedCount"] <= 9
            keys += [(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        with lock:
            found[segment] = keys

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(total)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(found) == list(range(total))
    every = [k for keys in found.values() for k in keys]
    assert len(every) == len(set(every)) == len(catalog.items)
    assert sorted(every) == sorted((i["pk"], i["sk"]) for i in catalog.items)
    # A partition's items all land in one segment.
    owner = {}
    for segment, keys in found.items():
        for pk, _ in keys:
            assert owner.setdefault(pk, segment) == segment, pk


def test_parallel_scan_paginator_more_segments_than_items(ddb, make_table):
    name = make_table(hash=("pk", "S"))
    put_all(ddb, name, [{"pk": f"k{i:02d}", "v": Decimal(i)} for i in range(20)])
    keys = []
    for segment in range(50):
        for page in ddb.get_paginator("scan").paginate(
                TableName=name, Segment=segment, TotalSegments=50,
                PaginationConfig={"PageSize": 2}):
            keys += [i["pk"]["S"] for i in page["Items"]]
    assert sorted(keys) == [f"k{i:02d}" for i in range(20)]


def test_filter_does_not_reduce_capacity(ddb, make_table):
    """12 items of exactly 1,000 bytes (pk 2+8, sk 2+4, tag 3+1, body 4+976) = 12,000
    bytes = 3 units of 4 KB, rounded once per request: 1.5 eventually consistent, with or
    without a filter."""
    name = make_table(hash=("pk", "S"), range=("sk", "S"))
    put_all(ddb, name, [{"pk": "BULK#001", "sk": f"{i:04d}", "tag": "a" if i % 3 == 0 else "b",
                         "body": "x" * 976} for i in range(1, 13)])
    args = dict(TableName=name, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "BULK#001"}},
                ReturnConsumedCapacity="TOTAL")
    plain = ddb.query(**args)
    assert (plain["Count"], plain["ScannedCount"]) == (12, 12)
    assert plain["ConsumedCapacity"]["CapacityUnits"] == 1.5
    args["ExpressionAttributeValues"][":t"] = {"S": "a"}
    filtered = ddb.query(FilterExpression="tag = :t", **args)
    assert (filtered["Count"], filtered["ScannedCount"]) == (4, 12)
    assert [i["sk"]["S"] for i in filtered["Items"]] == ["0003", "0006", "0009", "0012"]
    assert filtered["ConsumedCapacity"]["CapacityUnits"] == 1.5
    strong = ddb.query(FilterExpression="tag = :t", ConsistentRead=True, **args)
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 3.0
    scan = ddb.scan(TableName=name, FilterExpression="tag = :t",
                    ExpressionAttributeValues={":t": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert (scan["Count"], scan["ScannedCount"]) == (4, 12)
    assert scan["ConsumedCapacity"]["CapacityUnits"] == 1.5


def test_one_megabyte_pages(ddb, make_table):
    """25 items of 100,000 bytes: a page stops after 1 MB (10 or 11 items: DynamoDB does not
    document whether the item crossing 1 MB is included), so 3 pages."""
    name = make_table(hash=("pk", "S"), range=("sk", "S"))
    put_all(ddb, name, [{"pk": "PAGES", "sk": f"{i:04d}", "pad": "x" * (100_000 - 20)}
                        for i in range(1, 26)], workers=4)
    pages = list(ddb.get_paginator("query").paginate(
        TableName=name, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "PAGES"}}))
    counts = [len(p["Items"]) for p in pages]
    assert len(pages) == 3, counts
    assert all(c in (10, 11) for c in counts[:2]), counts
    assert [i["sk"]["S"] for p in pages for i in p["Items"]] == [f"{i:04d}" for i in range(1, 26)]
    scan_pages = list(ddb.get_paginator("scan").paginate(TableName=name))
    assert len(scan_pages) == 3, [len(p["Items"]) for p in scan_pages]


def test_number_and_binary_sort_keys(ddb_resource, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    t = ddb_resource.Table(name)
    values = ["-1e10", "-1", "-0.5", "0", "0.001", "1", "2", "10", "1e10"]
    for v in reversed(values):
        t.put_item(Item={"pk": "n", "sk": Decimal(v)})
    out = t.query(KeyConditionExpression=Key("pk").eq("n"))
    assert [i["sk"] for i in out["Items"]] == [Decimal(v) for v in values]
    assert [str(i["sk"]) for i in out["Items"]] == [
        "-10000000000", "-1", "-0.5", "0", "0.001", "1", "2", "10", "10000000000"]
    out = t.query(KeyConditionExpression=Key("pk").eq("n")
                  & Key("sk").between(Decimal(-1), Decimal("0.001")),
                  ScanIndexForward=False)
    assert [str(i["sk"]) for i in out["Items"]] == ["0.001", "0", "-0.5", "-1"]

    name = make_table(hash=("pk", "S"), range=("sk", "B"))
    t = ddb_resource.Table(name)
    keys = [b"\x00", b"\x00\x01", b"\x01", b"\x01\x00", b"\x01\xff", b"\x01\xff\x00", b"\x02",
            b"\x7f", b"\x80", b"\xff", b"\xff\xff"]
    for k in reversed(keys):
        t.put_item(Item={"pk": "b", "sk": Binary(k)})
    out = t.query(KeyConditionExpression=Key("pk").eq("b"))
    assert [i["sk"].value for i in out["Items"]] == keys
    out = t.query(KeyConditionExpression=Key("pk").eq("b")
                  & Key("sk").begins_with(Binary(b"\x01")))
    assert [i["sk"].value for i in out["Items"]] == [
        b"\x01", b"\x01\x00", b"\x01\xff", b"\x01\xff\x00"]
    out = t.query(KeyConditionExpression=Key("pk").eq("b")
                  & Key("sk").begins_with(Binary(b"\xff")),
                  ScanIndexForward=False)
    assert [i["sk"].value for i in out["Items"]] == [b"\xff\xff", b"\xff"]


# --------------------------------------------------------------------------------------------
# The AWS CLI
# --------------------------------------------------------------------------------------------


def test_cli_query(aws, catalog):
    rc, out, err = aws(
        "query", "--table-name", catalog.name,
        "--key-condition-expression", "pk = :pk AND begins_with(sk, :r)",
        "--expression-attribute-values",
        json.dumps({":pk": {"S": "PRODUCT#p005"}, ":r": {"S": "REVIEW#"}}),
        "--no-scan-index-forward",
    )
    assert rc == 0, err
    expected = [low(i) for i in catalog.partition("PRODUCT#p005")[1:]][::-1]
    assert out["Items"] == expected
    assert out["Count"] == out["ScannedCount"] == 5

    # The CLI pages by itself: --page-size 3 over 10 electronics still prints all of them.
    rc, out, err = aws(
        "query", "--table-name", catalog.name, "--index-name", BY_CATEGORY,
        "--key-condition-expression", "category = :c AND price BETWEEN :lo AND :hi",
        "--expression-attribute-values",
        json.dumps({":c": {"S": "electronics"}, ":lo": {"N": "0"}, ":hi": {"N": "1000"}}),
        "--page-size", "3", "--projection-expression", "pk, price",
    )
    assert rc == 0, err
    expected = [{"pk": {"S": p["pk"]}, "price": {"N": str(p["price"])}}
                for p in catalog.by_category("electronics")]
    assert out["Items"] == expected
    assert out["Count"] == 10

    # One page only: the LastEvaluatedKey carries the index key.
    rc, out, err = aws(
        "query", "--table-name", catalog.name, "--index-name", BY_STATUS,
        "--key-condition-expression", "#s = :s",
        "--expression-attribute-names", json.dumps({"#s": "status"}),
        "--expression-attribute-values", json.dumps({":s": {"S": "discontinued"}}),
        "--limit", "2", "--no-paginate",
    )
    assert rc == 0, err
    expected = [low(i) for i in catalog.by_status("discontinued")]
    assert out["Items"] == expected[:2]
    assert out["LastEvaluatedKey"] == only(expected[1], {"pk", "sk", "status", "createdAt"})


def test_cli_scan_segments(aws, catalog):
    keys = []
    for segment in range(3):
        rc, out, err = aws("scan", "--table-name", catalog.name, "--total-segments", "3",
                           "--segment", str(segment), "--page-size", "25",
                           "--projection-expression", "pk, sk")
        assert rc == 0, err
        assert out["Count"] == len(out["Items"])
        keys += [(i["pk"]["S"], i["sk"]["S"]) for i in out["Items"]]
    assert len(keys) == len(set(keys)) == len(catalog.items)
    assert sorted(keys) == sorted((i["pk"], i["sk"]) for i in catalog.items)

    rc, out, err = aws("scan", "--table-name", catalog.name, "--select", "COUNT",
                       "--filter-expression", "sk = :m",
                       "--expression-attribute-values", json.dumps({":m": {"S": "METADATA"}}))
    assert rc == 0, err
    assert out["Count"] == 42
    assert out["ScannedCount"] == len(catalog.items)


def test_cli_binary_begins_with(aws, ddb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "B"))
    for k in (b"\x01", b"\x01\x02", b"\x02"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "sk": {"B": k}})
    # AWS CLI v1 sends a blob given in JSON parameters as its raw text and prints blobs
    # base64-encoded; the prefix here is the one-byte string "\x01".
    rc, out, err = aws(
        "query", "--table-name", name,
        "--key-condition-expression", "pk = :pk AND begins_with(sk, :p)",
        "--expression-attribute-values", json.dumps({":pk": {"S": "b"}, ":p": {"B": "\u0001"}}),
    )
    assert rc == 0, err
    assert [i["sk"]["B"] for i in out["Items"]] == [
        base64.b64encode(b"\x01").decode(), base64.b64encode(b"\x01\x02").decode()]
