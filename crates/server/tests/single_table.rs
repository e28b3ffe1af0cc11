//! The Product Catalog tutorial's single-table design, end to end: the real `stator` binary
//! driven by the official Rust SDK, on both storage backends.
//!
//! One table (`pk`/`sk`, strings) holds products (`PRODUCT#id` / `METADATA`), their reviews
//! (`PRODUCT#id` / `REVIEW#date#user`) and category listings (`CATEGORY#name` /
//! `PRODUCT#id`), with
//! - `ByCategoryPrice`: a global index on `category` (S) + `price` (N), projection ALL;
//! - `ByStatusDate`: a global index on `status` (S) + `createdAt` (S), projection INCLUDE
//!   `name`, `price` — sparse: draft products have no status, reviews and listings neither;
//! - `ByRating`: a local index on `pk` + `rating` (N), projection KEYS_ONLY (reviews only).
//!
//! The dataset (361 items) is generated deterministically, and every expected result is
//! computed from it in the test: exact items, exact order, exact counts. Each access pattern
//! of the tutorial gets a test, plus paging boundaries, 1 MB pages, capacity accounting,
//! number and binary sort keys. `status`, `name` and other reserved words always go through
//! `#placeholders`.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeyType, LocalSecondaryIndex, Projection, ProjectionType,
    ReturnConsumedCapacity, Select,
};
use aws_sdk_dynamodb::Client;
use common::schema::{attr, key, on_demand_table, B, N, S};
use common::{error_of, item, n, s, unique_name, wait, Item};

on_both_backends!(
    get_product_by_id,
    product_and_reviews_in_one_query,
    reviews_newest_first,
    category_listing,
    products_in_category_by_price_range,
    items_by_status_sorted_by_date,
    index_pagination_carries_index_keys,
    base_table_paging_boundaries,
    reverse_paging,
    filter_reads_everything_it_scans,
    select_count,
    projection_expression,
    keys_only_and_include_projections,
    sparse_indexes,
    consistent_read_rejected_on_global_index,
    scan_with_filter,
    one_megabyte_pages,
    number_sort_keys_across_magnitudes,
    binary_sort_keys_begins_with,
    index_added_later_covers_existing_items,
);

/// The catalog table's short name (each load gets a unique name built from it).
const TABLE: &str = "ProductCatalog";
const BY_CATEGORY: &str = "ByCategoryPrice";
const BY_STATUS: &str = "ByStatusDate";
const BY_RATING: &str = "ByRating";
const CATEGORIES: [&str; 5] = ["electronics", "books", "kitchen", "garden", "toys"];
const GENERATED_PRODUCTS: usize = 80;

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

fn str_of<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(Av::S(v)) => v,
        other => panic!("{name} is not a string in {item:?}: {other:?}"),
    }
}

fn num_of(item: &Item, name: &str) -> f64 {
    match item.get(name) {
        Some(Av::N(v)) => v.parse().unwrap(),
        other => panic!("{name} is not a number in {item:?}: {other:?}"),
    }
}

/// The item restricted to the named attributes (those it has).
fn only(item: &Item, names: &[&str]) -> Item {
    item.iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn key_of(item: &Item) -> Item {
    only(item, &["pk", "sk"])
}

fn pk_sk(item: &Item) -> (String, String) {
    (str_of(item, "pk").to_owned(), str_of(item, "sk").to_owned())
}

/// A number as DynamoDB returns it: no trailing zeros after the point.
fn price_text(cents: u64) -> String {
    match cents % 100 {
        0 => format!("{}", cents / 100),
        c if c % 10 == 0 => format!("{}.{}", cents / 100, c / 10),
        c => format!("{}.{c:02}", cents / 100),
    }
}

/// Every page of a query, following LastEvaluatedKey from `start`.
async fn query_pages(base: QueryFluentBuilder, start: Option<Item>) -> Vec<QueryOutput> {
    let mut pages = Vec::new();
    let mut next = start;
    loop {
        let page = base
            .clone()
            .set_exclusive_start_key(next.take())
            .send()
            .await
            .unwrap();
        next = page.last_evaluated_key().cloned();
        pages.push(page);
        assert!(pages.len() < 10_000, "runaway paging");
        if next.is_none() {
            return pages;
        }
    }
}

async fn scan_pages(base: ScanFluentBuilder) -> Vec<ScanOutput> {
    let mut pages = Vec::new();
    let mut next = None;
    loop {
        let page = base
            .clone()
            .set_exclusive_start_key(next.take())
            .send()
            .await
            .unwrap();
        next = page.last_evaluated_key().cloned();
        pages.push(page);
        assert!(pages.len() < 10_000, "runaway paging");
        if next.is_none() {
            return pages;
        }
    }
}

async fn query_items(base: QueryFluentBuilder) -> Vec<Item> {
    query_pages(base, None)
        .await
        .iter()
        .flat_map(|p| p.items().to_vec())
        .collect()
}

async fn put_all(client: &Client, table: &str, items: Vec<Item>) {
    let mut tasks = tokio::task::JoinSet::new();
    let chunk = items.len().div_ceil(8).max(1);
    for part in items.chunks(chunk) {
        let client = client.clone();
        let table = table.to_owned();
        let part = part.to_vec();
        tasks.spawn(async move {
            for it in part {
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(it))
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

// ------------------------------------------------------------------------------------------
// The catalog
// ------------------------------------------------------------------------------------------

/// The dataset and the expected answers derived from it.
struct Catalog {
    /// The table's (unique) name, set by `load_catalog`.
    table: String,
    items: Vec<Item>,
}

impl Catalog {
    /// The tutorial's own items plus 80 generated products (5 categories; 3 of 4 with a
    /// status, alternating active and discontinued), 0–5 reviews each, and a category
    /// listing for every product.
    fn generate() -> Catalog {
        let mut items = vec![
            item(&[
                ("pk", s("PRODUCT#laptop-001")),
                ("sk", s("METADATA")),
                ("name", s("Pro Laptop 15")),
                ("description", s("15-inch laptop with 16GB RAM")),
                ("price", n("999.99")),
                ("category", s("electronics")),
                ("status", s("active")),
                ("createdAt", s("2026-04-20T10:00:00Z")),
                ("stock", n("50")),
            ]),
            item(&[
                ("pk", s("PRODUCT#mouse-002")),
                ("sk", s("METADATA")),
                ("name", s("Wireless Mouse")),
                ("description", s("Ergonomic wireless mouse")),
                ("price", n("29.99")),
                ("category", s("electronics")),
                ("status", s("active")),
                ("createdAt", s("2026-04-22T10:00:00Z")),
                ("stock", n("200")),
            ]),
            item(&[
                ("pk", s("PRODUCT#laptop-001")),
                ("sk", s("REVIEW#2026-04-24#user-001")),
                ("rating", n("5")),
                ("comment", s("Great laptop, fast and reliable")),
                ("userId", s("user-001")),
                ("createdAt", s("2026-04-24T14:30:00Z")),
            ]),
            item(&[
                ("pk", s("CATEGORY#electronics")),
                ("sk", s("PRODUCT#laptop-001")),
                ("name", s("Pro Laptop 15")),
                ("price", n("999.99")),
            ]),
            item(&[
                ("pk", s("CATEGORY#electronics")),
                ("sk", s("PRODUCT#mouse-002")),
                ("name", s("Wireless Mouse")),
                ("price", n("29.99")),
            ]),
        ];
        for i in 0..GENERATED_PRODUCTS {
            let id = format!("p{i:03}");
            let category = CATEGORIES[i % 5];
            let price = price_text(500 + (i as u64 * 3719) % 99_000);
            let mut product = item(&[
                ("pk", s(&format!("PRODUCT#{id}"))),
                ("sk", s("METADATA")),
                ("name", s(&format!("Product {id}"))),
                ("description", s(&format!("Generated product number {i}"))),
                ("price", n(&price)),
                ("category", s(category)),
                (
                    "createdAt",
                    s(&format!(
                        "2026-{:02}-{:02}T{:02}:00:00Z",
                        1 + i / 28,
                        1 + i % 28,
                        (i * 7) % 24
                    )),
                ),
                ("stock", n(&((i * 13) % 250).to_string())),
            ]);
            match i % 4 {
                0 | 1 => product.insert("status".into(), s("active")),
                2 => product.insert("status".into(), s("discontinued")),
                _ => None,
            };
            items.push(product);
            for j in 0..i % 6 {
                let date = format!("2026-05-{:02}", 1 + j * 3);
                let user = format!("user-{:03}", (i * 7 + j) % 100);
                items.push(item(&[
                    ("pk", s(&format!("PRODUCT#{id}"))),
                    ("sk", s(&format!("REVIEW#{date}#{user}"))),
                    ("rating", n(&((i + j) % 5 + 1).to_string())),
                    ("comment", s(&format!("Review {j} of {id}"))),
                    ("userId", s(&user)),
                    ("createdAt", s(&format!("{date}T12:00:00Z"))),
                ]));
            }
            items.push(item(&[
                ("pk", s(&format!("CATEGORY#{category}"))),
                ("sk", s(&format!("PRODUCT#{id}"))),
                ("name", s(&format!("Product {id}"))),
                ("price", n(&price)),
            ]));
        }
        let catalog = Catalog {
            table: String::new(),
            items,
        };
        // Preconditions of exact ordering: index sort keys are unique where compared.
        let mut prices: Vec<(String, String)> = catalog
            .products()
            .iter()
            .map(|p| (str_of(p, "category").to_owned(), price_text_of(p)))
            .collect();
        prices.sort();
        prices.dedup();
        assert_eq!(prices.len(), catalog.products().len(), "duplicate prices");
        catalog
    }

    fn products(&self) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|i| str_of(i, "sk") == "METADATA")
            .collect()
    }

    /// The items of a partition in sort key order.
    fn partition(&self, pk: &str) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .items
            .iter()
            .filter(|i| str_of(i, "pk") == pk)
            .cloned()
            .collect();
        items.sort_by(|a, b| str_of(a, "sk").cmp(str_of(b, "sk")));
        items
    }

    /// Products of a category by price (the ByCategoryPrice index, projection ALL).
    fn by_category(&self, category: &str) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .products()
            .into_iter()
            .filter(|p| str_of(p, "category") == category)
            .cloned()
            .collect();
        items.sort_by(|a, b| num_of(a, "price").total_cmp(&num_of(b, "price")));
        items
    }

    /// Products with a status by creation date, as ByStatusDate projects them.
    fn by_status(&self, status: &str) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .items
            .iter()
            .filter(|i| matches!(i.get("status"), Some(Av::S(v)) if v == status))
            .map(|i| only(i, &["pk", "sk", "status", "createdAt", "name", "price"]))
            .collect();
        items.sort_by(|a, b| str_of(a, "createdAt").cmp(str_of(b, "createdAt")));
        items
    }

    /// Reviews of a product by rating, as the KEYS_ONLY ByRating index projects them.
    fn by_rating(&self, pk: &str) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .partition(pk)
            .into_iter()
            .filter(|i| i.contains_key("rating"))
            .map(|i| only(&i, &["pk", "sk", "rating"]))
            .collect();
        items.sort_by(|a, b| num_of(a, "rating").total_cmp(&num_of(b, "rating")));
        items
    }
}

fn price_text_of(item: &Item) -> String {
    match item.get("price") {
        Some(Av::N(v)) => v.clone(),
        _ => panic!("no price"),
    }
}

async fn load_catalog(client: &Client) -> Catalog {
    let keys_only = Projection::builder()
        .projection_type(ProjectionType::KeysOnly)
        .build();
    let table = unique_name(TABLE);
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", S))
        .attribute_definitions(attr("category", S))
        .attribute_definitions(attr("price", N))
        .attribute_definitions(attr("status", S))
        .attribute_definitions(attr("createdAt", S))
        .attribute_definitions(attr("rating", N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(BY_CATEGORY)
                .key_schema(key("category", KeyType::Hash))
                .key_schema(key("price", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(BY_STATUS)
                .key_schema(key("status", KeyType::Hash))
                .key_schema(key("createdAt", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("name")
                        .non_key_attributes("price")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(BY_RATING)
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("rating", KeyType::Range))
                .projection(keys_only)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut catalog = Catalog::generate();
    catalog.table = table;
    put_all(client, &catalog.table, catalog.items.clone()).await;
    catalog
}

fn query(client: &Client, table: &str) -> QueryFluentBuilder {
    client.query().table_name(table)
}

/// `pk = :pk` on the base table.
fn query_partition(client: &Client, table: &str, pk: &str) -> QueryFluentBuilder {
    query(client, table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(pk))
}

/// `category = :c` on ByCategoryPrice.
fn query_category(client: &Client, table: &str, category: &str) -> QueryFluentBuilder {
    query(client, table)
        .index_name(BY_CATEGORY)
        .key_condition_expression("category = :c")
        .expression_attribute_values(":c", s(category))
}

/// `#s = :s` on ByStatusDate.
fn query_status(client: &Client, table: &str, status: &str) -> QueryFluentBuilder {
    query(client, table)
        .index_name(BY_STATUS)
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s(status))
}

fn units(capacity: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) -> f64 {
    capacity
        .expect("ConsumedCapacity requested but absent")
        .capacity_units()
        .expect("CapacityUnits absent")
}

// ------------------------------------------------------------------------------------------
// Access patterns
// ------------------------------------------------------------------------------------------

/// "Get a product by ID": GetItem on the full key, and the same item through a Query on
/// the exact key.
async fn get_product_by_id(client: Client) {
    let catalog = load_catalog(&client).await;
    let laptop = catalog.partition("PRODUCT#laptop-001")[0].clone();
    assert_eq!(str_of(&laptop, "sk"), "METADATA");
    let got = client
        .get_item()
        .table_name(&catalog.table)
        .key("pk", s("PRODUCT#laptop-001"))
        .key("sk", s("METADATA"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item(), Some(&laptop));

    let out = query(&client, &catalog.table)
        .key_condition_expression("pk = :pk AND sk = :m")
        .expression_attribute_values(":pk", s("PRODUCT#p042"))
        .expression_attribute_values(":m", s("METADATA"))
        .send()
        .await
        .unwrap();
    let p042 = catalog.partition("PRODUCT#p042")[0].clone();
    assert_eq!(out.items(), [p042]);
    assert_eq!((out.count(), out.scanned_count()), (1, 1));
    assert_eq!(out.last_evaluated_key(), None);

    let missing = query_partition(&client, &catalog.table, "PRODUCT#nope")
        .send()
        .await
        .unwrap();
    assert_eq!((missing.count(), missing.scanned_count()), (0, 0));
    assert!(missing.items().is_empty());
    assert_eq!(missing.last_evaluated_key(), None);
}

/// A product and its reviews in one Query (`pk = PRODUCT#id`), the reviews alone with
/// `begins_with(sk, "REVIEW#")`: "Items returned: 1 · Items scanned: 1 · RCUs consumed: 0.5"
/// for the laptop.
async fn product_and_reviews_in_one_query(client: Client) {
    let catalog = load_catalog(&client).await;
    for id in ["p005", "p011", "p012", "laptop-001"] {
        let pk = format!("PRODUCT#{id}");
        let expected = catalog.partition(&pk);
        let out = query_partition(&client, &catalog.table, &pk)
            .send()
            .await
            .unwrap();
        assert_eq!(out.items(), expected.as_slice(), "{pk}");
        assert_eq!(out.count() as usize, expected.len());
        assert_eq!(out.scanned_count() as usize, expected.len());
        assert_eq!(str_of(&out.items()[0], "sk"), "METADATA");

        let reviews = query(&client, &catalog.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":r", s("REVIEW#"))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap();
        assert_eq!(reviews.items(), &expected[1..], "{pk} reviews");
        assert_eq!(reviews.count() as usize, expected.len() - 1);
        assert_eq!(reviews.scanned_count() as usize, expected.len() - 1);
        // A handful of small reviews: one 4 KB unit, halved (eventually consistent).
        assert_eq!(units(reviews.consumed_capacity()), 0.5, "{pk}");
        assert_eq!(
            reviews.consumed_capacity().unwrap().table_name(),
            Some(catalog.table.as_str())
        );
    }
    // p005 has 5 reviews, p012 none.
    assert_eq!(catalog.partition("PRODUCT#p005").len(), 6);
    assert_eq!(catalog.partition("PRODUCT#p012").len(), 1);
}

/// Reviews newest first: ScanIndexForward=false with begins_with, whole and paged.
async fn reviews_newest_first(client: Client) {
    let catalog = load_catalog(&client).await;
    let mut expected: Vec<Item> = catalog.partition("PRODUCT#p005")[1..].to_vec();
    expected.reverse();
    let base = query(&client, &catalog.table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
        .expression_attribute_values(":pk", s("PRODUCT#p005"))
        .expression_attribute_values(":r", s("REVIEW#"))
        .scan_index_forward(false);
    let out = base.clone().send().await.unwrap();
    assert_eq!(out.items(), expected.as_slice());
    let dates: Vec<&str> = out.items().iter().map(|i| str_of(i, "createdAt")).collect();
    assert_eq!(
        dates,
        [
            "2026-05-13T12:00:00Z",
            "2026-05-10T12:00:00Z",
            "2026-05-07T12:00:00Z",
            "2026-05-04T12:00:00Z",
            "2026-05-01T12:00:00Z"
        ]
    );
    // The two newest, then the rest.
    let top = base.clone().limit(2).send().await.unwrap();
    assert_eq!(top.items(), &expected[..2]);
    assert_eq!(top.last_evaluated_key(), Some(&key_of(&expected[1])));
    let rest = base
        .clone()
        .set_exclusive_start_key(top.last_evaluated_key().cloned())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items(), &expected[2..]);
    assert_eq!(rest.last_evaluated_key(), None);
}

/// "List all products in a category": the denormalised listing partition.
async fn category_listing(client: Client) {
    let catalog = load_catalog(&client).await;
    for category in CATEGORIES {
        let pk = format!("CATEGORY#{category}");
        let expected = catalog.partition(&pk);
        let got = query_items(query_partition(&client, &catalog.table, &pk)).await;
        assert_eq!(got, expected, "{pk}");
    }
    let electronics = catalog.partition("CATEGORY#electronics");
    assert_eq!(electronics.len(), 18);
    assert_eq!(str_of(&electronics[0], "sk"), "PRODUCT#laptop-001");
    assert_eq!(str_of(&electronics[1], "sk"), "PRODUCT#mouse-002");
    assert_eq!(str_of(&electronics[2], "sk"), "PRODUCT#p000");
}

/// "Find products by price range in a category": BETWEEN on the number sort key of the
/// global index, whole items (projection ALL), numeric order, charged to the index.
async fn products_in_category_by_price_range(client: Client) {
    let catalog = load_catalog(&client).await;
    for category in CATEGORIES {
        let expected = catalog.by_category(category);
        assert_eq!(
            expected.len(),
            if category == "electronics" { 18 } else { 16 }
        );
        let out = query_category(&client, &catalog.table, category)
            .send()
            .await
            .unwrap();
        assert_eq!(out.items(), expected.as_slice(), "{category}");
        assert_eq!(out.count() as usize, expected.len());
        assert_eq!(out.last_evaluated_key(), None);
    }
    let (low, high) = (100.0, 400.0);
    let expected: Vec<Item> = catalog
        .by_category("books")
        .into_iter()
        .filter(|p| (low..=high).contains(&num_of(p, "price")))
        .collect();
    assert!(expected.len() >= 2 && expected.len() < 16);
    let out = query(&client, &catalog.table)
        .index_name(BY_CATEGORY)
        .key_condition_expression("category = :c AND price BETWEEN :lo AND :hi")
        .expression_attribute_values(":c", s("books"))
        .expression_attribute_values(":lo", n("100"))
        .expression_attribute_values(":hi", n("400"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    assert_eq!(out.items(), expected.as_slice());
    assert_eq!(out.count() as usize, expected.len());
    // Index reads are charged to the index, not the table.
    let cc = out.consumed_capacity().unwrap();
    assert_eq!(cc.table_name(), Some(catalog.table.as_str()));
    assert_eq!(cc.capacity_units(), Some(0.5));
    assert_eq!(cc.table().and_then(|t| t.capacity_units()), Some(0.0));
    let gsi = cc.global_secondary_indexes().unwrap();
    assert_eq!(gsi.len(), 1);
    assert_eq!(gsi[BY_CATEGORY].capacity_units(), Some(0.5));

    // The tutorial's pair: mouse (29.99) before laptop (999.99) among electronics, and the
    // cheapest and dearest electronics by a one-sided condition each way.
    let cheap = query(&client, &catalog.table)
        .index_name(BY_CATEGORY)
        .key_condition_expression("category = :c AND price < :p")
        .expression_attribute_values(":c", s("electronics"))
        .expression_attribute_values(":p", n("30"))
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = catalog
        .by_category("electronics")
        .into_iter()
        .filter(|p| num_of(p, "price") < 30.0)
        .collect();
    assert_eq!(cheap.items(), expected.as_slice());
    assert!(cheap
        .items()
        .iter()
        .any(|i| str_of(i, "pk") == "PRODUCT#mouse-002"));
    let dearest = query(&client, &catalog.table)
        .index_name(BY_CATEGORY)
        .key_condition_expression("category = :c AND price >= :p")
        .expression_attribute_values(":c", s("electronics"))
        .expression_attribute_values(":p", n("999.99"))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    assert_eq!(dearest.items().len(), 1);
    assert_eq!(str_of(&dearest.items()[0], "pk"), "PRODUCT#laptop-001");
}

/// "List recently added products": the status + createdAt index, oldest first and newest
/// first, with a date range; INCLUDE returns exactly keys, name and price.
async fn items_by_status_sorted_by_date(client: Client) {
    let catalog = load_catalog(&client).await;
    for status in ["active", "discontinued"] {
        let expected = catalog.by_status(status);
        let got = query_items(query_status(&client, &catalog.table, status)).await;
        assert_eq!(got, expected, "{status}");
    }
    let active = catalog.by_status("active");
    assert_eq!(active.len(), 42); // 40 generated + laptop + mouse
    for it in &active {
        let mut attrs: Vec<&str> = it.keys().map(String::as_str).collect();
        attrs.sort();
        assert_eq!(attrs, ["createdAt", "name", "pk", "price", "sk", "status"]);
    }
    // Recently added, newest first: everything created after March 1st.
    let since = "2026-03-01";
    let mut expected: Vec<Item> = active
        .iter()
        .filter(|i| str_of(i, "createdAt") > since)
        .cloned()
        .collect();
    expected.reverse();
    let out = query(&client, &catalog.table)
        .index_name(BY_STATUS)
        .key_condition_expression("#s = :s AND createdAt > :d")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("active"))
        .expression_attribute_values(":d", s(since))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    assert_eq!(out.items(), expected.as_slice());
    assert_eq!(str_of(&out.items()[0], "pk"), "PRODUCT#mouse-002");
    assert_eq!(str_of(&out.items()[1], "pk"), "PRODUCT#laptop-001");
    // The three most recent.
    let top = query_status(&client, &catalog.table, "active")
        .scan_index_forward(false)
        .limit(3)
        .send()
        .await
        .unwrap();
    assert_eq!(top.items(), &expected[..3]);
}

/// Paging index queries: every LastEvaluatedKey is the table key plus the index key of the
/// last item, and the pages together are the whole result in order. 16 books in pages of 4:
/// the fourth page ends exactly at the end, so a fifth, empty page follows.
async fn index_pagination_carries_index_keys(client: Client) {
    let catalog = load_catalog(&client).await;
    let expected = catalog.by_category("books");
    assert_eq!(expected.len(), 16);
    let pages = query_pages(
        query_category(&client, &catalog.table, "books").limit(4),
        None,
    )
    .await;
    assert_eq!(pages.len(), 5);
    for (i, page) in pages.iter().enumerate() {
        if i < 4 {
            assert_eq!(page.items(), &expected[i * 4..i * 4 + 4], "page {i}");
            let last = &expected[i * 4 + 3];
            let lek = only(last, &["pk", "sk", "category", "price"]);
            assert_eq!(lek.len(), 4);
            assert_eq!(page.last_evaluated_key(), Some(&lek), "page {i}");
        } else {
            assert!(page.items().is_empty());
            assert_eq!((page.count(), page.scanned_count()), (0, 0));
            assert_eq!(page.last_evaluated_key(), None);
        }
    }

    // The INCLUDE index: keys pk, sk, status, createdAt.
    let expected = catalog.by_status("discontinued");
    assert_eq!(expected.len(), 20);
    let pages = query_pages(
        query_status(&client, &catalog.table, "discontinued").limit(7),
        None,
    )
    .await;
    let got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    assert_eq!(got, expected);
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages[0].last_evaluated_key(),
        Some(&only(&expected[6], &["pk", "sk", "status", "createdAt"]))
    );
    assert_eq!(pages[2].last_evaluated_key(), None);

    // The local index: keys pk, sk, rating.
    let expected = catalog.by_rating("PRODUCT#p005");
    assert_eq!(expected.len(), 5);
    let base = query(&client, &catalog.table)
        .index_name(BY_RATING)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("PRODUCT#p005"))
        .limit(2);
    let pages = query_pages(base, None).await;
    let got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    assert_eq!(got, expected);
    assert_eq!(pages[0].last_evaluated_key(), Some(&expected[1]));
    assert_eq!(pages.len(), 3);
}

/// Base-table paging: Limit equal to the partition's size returns a LastEvaluatedKey (the
/// last item's key) and the next page is empty with none; Limit above it returns none.
async fn base_table_paging_boundaries(client: Client) {
    let catalog = load_catalog(&client).await;
    let expected = catalog.partition("PRODUCT#p005");
    assert_eq!(expected.len(), 6);
    let exact = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .limit(6)
        .send()
        .await
        .unwrap();
    assert_eq!(exact.items(), expected.as_slice());
    assert_eq!(exact.last_evaluated_key(), Some(&key_of(&expected[5])));
    let after = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .set_exclusive_start_key(exact.last_evaluated_key().cloned())
        .send()
        .await
        .unwrap();
    assert!(after.items().is_empty());
    assert_eq!((after.count(), after.scanned_count()), (0, 0));
    assert_eq!(after.last_evaluated_key(), None);

    let roomy = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .limit(7)
        .send()
        .await
        .unwrap();
    assert_eq!(roomy.items(), expected.as_slice());
    assert_eq!(roomy.last_evaluated_key(), None);

    let pages = query_pages(
        query_partition(&client, &catalog.table, "PRODUCT#p005").limit(4),
        None,
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].items(), &expected[..4]);
    assert_eq!(pages[0].last_evaluated_key(), Some(&key_of(&expected[3])));
    assert_eq!(pages[1].items(), &expected[4..]);
    assert_eq!(pages[1].last_evaluated_key(), None);

    // Limit 1 walks the partition one item per page, plus the empty page.
    let pages = query_pages(
        query_partition(&client, &catalog.table, "PRODUCT#p005").limit(1),
        None,
    )
    .await;
    assert_eq!(pages.len(), 7);
    let got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    assert_eq!(got, expected);

    // An ExclusiveStartKey that names no item starts right after its position.
    let mid = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .exclusive_start_key("pk", s("PRODUCT#p005"))
        .exclusive_start_key("sk", s("REVIEW#2026-05-05"))
        .send()
        .await
        .unwrap();
    let later: Vec<Item> = expected
        .iter()
        .filter(|i| str_of(i, "sk") > "REVIEW#2026-05-05")
        .cloned()
        .collect();
    assert_eq!(later.len(), 3);
    assert_eq!(mid.items(), later.as_slice());
}

/// Reverse paging on the table and on the local index.
async fn reverse_paging(client: Client) {
    let catalog = load_catalog(&client).await;
    let mut expected = catalog.partition("PRODUCT#p005");
    expected.reverse();
    let pages = query_pages(
        query_partition(&client, &catalog.table, "PRODUCT#p005")
            .scan_index_forward(false)
            .limit(4),
        None,
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].items(), &expected[..4]);
    assert_eq!(pages[0].last_evaluated_key(), Some(&key_of(&expected[3])));
    assert_eq!(pages[1].items(), &expected[4..]);
    assert_eq!(pages[1].last_evaluated_key(), None);
    assert_eq!(str_of(&pages[1].items()[1], "sk"), "METADATA");

    // Starting below a given review, going down.
    let below = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .scan_index_forward(false)
        .set_exclusive_start_key(Some(key_of(&expected[1])))
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(below.items(), &expected[2..4]);

    let mut by_rating = catalog.by_rating("PRODUCT#p005");
    by_rating.reverse();
    let pages = query_pages(
        query(&client, &catalog.table)
            .index_name(BY_RATING)
            .key_condition_expression("pk = :pk AND rating <= :r")
            .expression_attribute_values(":pk", s("PRODUCT#p005"))
            .expression_attribute_values(":r", n("4"))
            .scan_index_forward(false)
            .limit(3),
        None,
    )
    .await;
    let got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    let want: Vec<Item> = by_rating
        .into_iter()
        .filter(|i| num_of(i, "rating") <= 4.0)
        .collect();
    assert_eq!(want.len(), 4);
    assert_eq!(got, want);
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].last_evaluated_key(), Some(&want[2]));
}

/// The tutorial's lesson: a FilterExpression does not reduce what is read. 12 items of
/// exactly 1,000 bytes (string attributes only: pk 2+8, sk 2+4, tag 3+1, body 4+976)
/// = 12,000 bytes = 3 units of 4 KB, charged once per request: 1.5 eventually consistent,
/// 3 strongly consistent, whatever the filter, the projection or Select.
async fn filter_reads_everything_it_scans(client: Client) {
    let bulk = unique_name("Bulk");
    on_demand_table(&client, &bulk, &[("pk", S), ("sk", S)]).await;
    let items: Vec<Item> = (1..=12)
        .map(|i| {
            item(&[
                ("pk", s("BULK#001")),
                ("sk", s(&format!("{i:04}"))),
                ("tag", s(if i % 3 == 0 { "a" } else { "b" })),
                ("body", s(&"x".repeat(976))),
            ])
        })
        .collect();
    put_all(&client, &bulk, items.clone()).await;
    let base = client
        .query()
        .table_name(&bulk)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("BULK#001"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total);

    let all = base.clone().send().await.unwrap();
    assert_eq!(all.items(), items.as_slice());
    assert_eq!((all.count(), all.scanned_count()), (12, 12));
    assert_eq!(units(all.consumed_capacity()), 1.5);

    let filtered = base
        .clone()
        .filter_expression("tag = :a")
        .expression_attribute_values(":a", s("a"))
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = items
        .iter()
        .filter(|i| str_of(i, "tag") == "a")
        .cloned()
        .collect();
    assert_eq!(filtered.items(), expected.as_slice());
    assert_eq!((filtered.count(), filtered.scanned_count()), (4, 12));
    assert_eq!(units(filtered.consumed_capacity()), 1.5);

    let strong = base
        .clone()
        .filter_expression("tag = :a")
        .expression_attribute_values(":a", s("a"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!((strong.count(), strong.scanned_count()), (4, 12));
    assert_eq!(units(strong.consumed_capacity()), 3.0);

    let projected = base
        .clone()
        .projection_expression("tag")
        .send()
        .await
        .unwrap();
    assert_eq!(units(projected.consumed_capacity()), 1.5);
    assert_eq!(projected.items()[2], item(&[("tag", s("a"))]));

    let counted = base.clone().select(Select::Count).send().await.unwrap();
    assert_eq!((counted.count(), counted.scanned_count()), (12, 12));
    assert_eq!(units(counted.consumed_capacity()), 1.5);

    // The 4 KB boundary: 4 items (4,000 bytes) are one unit, 5 items two.
    let four = base.clone().limit(4).send().await.unwrap();
    assert_eq!(units(four.consumed_capacity()), 0.5);
    let five = base.clone().limit(5).send().await.unwrap();
    assert_eq!(units(five.consumed_capacity()), 1.0);

    // A Scan is charged the same way.
    let scan = client
        .scan()
        .table_name(&bulk)
        .filter_expression("tag = :a")
        .expression_attribute_values(":a", s("a"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!((scan.count(), scan.scanned_count()), (4, 12));
    assert_eq!(units(scan.consumed_capacity()), 1.5);

    // And in the catalog: reviews rated 4 or more of a product with five reviews.
    let catalog = load_catalog(&client).await;
    let partition = catalog.partition("PRODUCT#p005");
    let good: Vec<Item> = partition
        .iter()
        .filter(|i| i.contains_key("rating") && num_of(i, "rating") >= 4.0)
        .cloned()
        .collect();
    let out = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .filter_expression("rating >= :r")
        .expression_attribute_values(":r", n("4"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.items(), good.as_slice());
    assert_eq!(out.count() as usize, good.len());
    assert_eq!(out.scanned_count(), 6);
    assert!(out.count() < out.scanned_count());
}

/// Select=COUNT: Count and ScannedCount, no items, on the table and an index, with filters
/// and with paging.
async fn select_count(client: Client) {
    let catalog = load_catalog(&client).await;
    let out = query_partition(&client, &catalog.table, "CATEGORY#books")
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert!(out.items().is_empty());
    assert_eq!((out.count(), out.scanned_count()), (16, 16));

    let out = query_category(&client, &catalog.table, "kitchen")
        .select(Select::Count)
        .filter_expression("stock > :z")
        .expression_attribute_values(":z", n("100"))
        .send()
        .await
        .unwrap();
    let expected = catalog
        .by_category("kitchen")
        .iter()
        .filter(|p| num_of(p, "stock") > 100.0)
        .count();
    assert!(out.items().is_empty());
    assert_eq!(out.count() as usize, expected);
    assert_eq!(out.scanned_count(), 16);

    let pages = query_pages(
        query_partition(&client, &catalog.table, "CATEGORY#books")
            .select(Select::Count)
            .limit(10),
        None,
    )
    .await;
    let counts: Vec<(i32, i32, bool)> = pages
        .iter()
        .map(|p| {
            (
                p.count(),
                p.scanned_count(),
                p.last_evaluated_key().is_some(),
            )
        })
        .collect();
    assert_eq!(counts, [(10, 10, true), (6, 6, false)]);

    let scan = client
        .scan()
        .table_name(&catalog.table)
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert!(scan.items().is_empty());
    assert_eq!(scan.count() as usize, catalog.items.len());
    assert_eq!(scan.scanned_count() as usize, catalog.items.len());
    assert_eq!(scan.last_evaluated_key(), None);
}

/// ProjectionExpression returns exactly the named attributes (keys only when named), on
/// the table and on an index.
async fn projection_expression(client: Client) {
    let catalog = load_catalog(&client).await;
    let out = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .projection_expression("sk, #n, rating")
        .expression_attribute_names("#n", "name")
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = catalog
        .partition("PRODUCT#p005")
        .iter()
        .map(|i| only(i, &["sk", "name", "rating"]))
        .collect();
    assert_eq!(out.items(), expected.as_slice());
    assert_eq!(out.items()[0].len(), 2); // the product: sk and name
    assert_eq!(out.items()[1].len(), 2); // a review: sk and rating

    let out = query_category(&client, &catalog.table, "toys")
        .projection_expression("#n, price")
        .expression_attribute_names("#n", "name")
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = catalog
        .by_category("toys")
        .iter()
        .map(|i| only(i, &["name", "price"]))
        .collect();
    assert_eq!(out.items(), expected.as_slice());

    let out = query_status(&client, &catalog.table, "active")
        .projection_expression("pk, price")
        .limit(3)
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = catalog.by_status("active")[..3]
        .iter()
        .map(|i| only(i, &["pk", "price"]))
        .collect();
    assert_eq!(out.items(), expected.as_slice());
}

/// KEYS_ONLY and INCLUDE indexes return exactly what they project; a local index fetches
/// the rest from the table when asked for all attributes; a global index cannot.
async fn keys_only_and_include_projections(client: Client) {
    let catalog = load_catalog(&client).await;
    let base = query(&client, &catalog.table)
        .index_name(BY_RATING)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("PRODUCT#p011"));
    let out = base.clone().send().await.unwrap();
    let expected = catalog.by_rating("PRODUCT#p011");
    assert_eq!(expected.len(), 5);
    assert_eq!(out.items(), expected.as_slice());
    for it in out.items() {
        let mut attrs: Vec<&str> = it.keys().map(String::as_str).collect();
        attrs.sort();
        assert_eq!(attrs, ["pk", "rating", "sk"]);
    }
    let projected = base
        .clone()
        .select(Select::AllProjectedAttributes)
        .send()
        .await
        .unwrap();
    assert_eq!(projected.items(), expected.as_slice());

    // Local index + ALL_ATTRIBUTES: whole reviews, in rating order.
    let full = base
        .clone()
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap();
    let mut reviews: Vec<Item> = catalog.partition("PRODUCT#p011")[1..].to_vec();
    reviews.sort_by(|a, b| num_of(a, "rating").total_cmp(&num_of(b, "rating")));
    assert_eq!(full.items(), reviews.as_slice());

    // INCLUDE: keys + name + price.
    let out = query_status(&client, &catalog.table, "discontinued")
        .send()
        .await
        .unwrap();
    assert_eq!(out.items(), catalog.by_status("discontinued").as_slice());
    assert!(out
        .items()
        .iter()
        .all(|i| !i.contains_key("stock") && !i.contains_key("description")));

    // A global index that does not project everything cannot return all attributes.
    let err = query_status(&client, &catalog.table, "active")
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap_err();
    let (code, message) = error_of(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("ALL_ATTRIBUTES") && message.contains(BY_STATUS),
        "{message}"
    );

    // A filter on an attribute the KEYS_ONLY local index does not project: DynamoDB fetches
    // it from the table to evaluate the filter, but returns what Select asks for, here the
    // default ALL_PROJECTED_ATTRIBUTES.
    let out = base
        .clone()
        .filter_expression("begins_with(#c, :r)")
        .expression_attribute_names("#c", "comment")
        .expression_attribute_values(":r", s("Review 1 "))
        .send()
        .await
        .unwrap();
    let expected: Vec<Item> = expected
        .iter()
        .filter(|k| {
            catalog
                .items
                .iter()
                .any(|i| pk_sk(i) == pk_sk(k) && str_of(i, "comment").starts_with("Review 1 "))
        })
        .cloned()
        .collect();
    assert_eq!(expected.len(), 1);
    assert_eq!((out.count(), out.scanned_count()), (1, 5));
    assert_eq!(
        out.items(),
        expected.as_slice(),
        "a filter on a non-projected attribute must not change the attributes returned"
    );
}

/// Sparse indexes: an index holds only the items that have its key attributes. Category
/// listings carry a price but no category; reviews a createdAt but no status; drafts no
/// status; products no rating.
async fn sparse_indexes(client: Client) {
    let catalog = load_catalog(&client).await;
    let scan_keys = |index: &'static str| {
        let client = client.clone();
        let table = catalog.table.clone();
        async move {
            let pages =
                scan_pages(client.scan().table_name(&table).index_name(index).limit(25)).await;
            let mut keys: Vec<(String, String)> = pages
                .iter()
                .flat_map(|p| p.items().iter().map(pk_sk))
                .collect();
            keys.sort();
            keys
        }
    };
    let mut products: Vec<(String, String)> = catalog.products().into_iter().map(pk_sk).collect();
    products.sort();
    assert_eq!(products.len(), 82);
    assert_eq!(scan_keys(BY_CATEGORY).await, products);

    let mut with_status: Vec<(String, String)> = catalog
        .items
        .iter()
        .filter(|i| i.contains_key("status"))
        .map(pk_sk)
        .collect();
    with_status.sort();
    assert_eq!(with_status.len(), 62);
    assert_eq!(scan_keys(BY_STATUS).await, with_status);

    let mut reviews: Vec<(String, String)> = catalog
        .items
        .iter()
        .filter(|i| i.contains_key("rating"))
        .map(pk_sk)
        .collect();
    reviews.sort();
    assert_eq!(reviews.len(), 197);
    assert_eq!(scan_keys(BY_RATING).await, reviews);

    // A draft product (p003: no status) is in the category index but not the status index.
    let drafts = query_status(&client, &catalog.table, "draft")
        .send()
        .await
        .unwrap();
    assert_eq!(drafts.count(), 0);
    let p003 = catalog.partition("PRODUCT#p003")[0].clone();
    assert!(!p003.contains_key("status"));
    let garden = query_category(&client, &catalog.table, "garden")
        .send()
        .await
        .unwrap();
    assert!(garden.items().contains(&p003));

    // Removing the index key attribute takes the item out of the index, setting it puts
    // it back.
    client
        .update_item()
        .table_name(&catalog.table)
        .key("pk", s("PRODUCT#p000"))
        .key("sk", s("METADATA"))
        .update_expression("REMOVE #s")
        .expression_attribute_names("#s", "status")
        .send()
        .await
        .unwrap();
    let active = query_items(query_status(&client, &catalog.table, "active")).await;
    assert_eq!(active.len(), 41);
    assert!(!active.iter().any(|i| str_of(i, "pk") == "PRODUCT#p000"));
    client
        .update_item()
        .table_name(&catalog.table)
        .key("pk", s("PRODUCT#p003"))
        .key("sk", s("METADATA"))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("active"))
        .send()
        .await
        .unwrap();
    let active = query_items(query_status(&client, &catalog.table, "active")).await;
    assert_eq!(active.len(), 42);
    assert!(active.iter().any(|i| str_of(i, "pk") == "PRODUCT#p003"));
}

/// GSIs support eventually consistent reads only; LSIs allow strongly consistent ones, at
/// twice the units.
async fn consistent_read_rejected_on_global_index(client: Client) {
    let catalog = load_catalog(&client).await;
    let expected = (
        "ValidationException".to_string(),
        "Consistent reads are not supported on global secondary indexes".to_string(),
    );
    let err = query_category(&client, &catalog.table, "books")
        .consistent_read(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), expected);
    let err = client
        .scan()
        .table_name(&catalog.table)
        .index_name(BY_STATUS)
        .consistent_read(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), expected);
    // ConsistentRead=false is fine.
    let ok = query_category(&client, &catalog.table, "books")
        .consistent_read(false)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.count(), 16);

    let base = query(&client, &catalog.table)
        .index_name(BY_RATING)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("PRODUCT#p005"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total);
    let eventual = base.clone().send().await.unwrap();
    let strong = base.clone().consistent_read(true).send().await.unwrap();
    assert_eq!(strong.items(), eventual.items());
    assert_eq!(strong.count(), 5);
    assert_eq!(units(eventual.consumed_capacity()), 0.5);
    assert_eq!(units(strong.consumed_capacity()), 1.0);

    // On the base table too.
    let strong = query_partition(&client, &catalog.table, "PRODUCT#p005")
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(strong.count(), 6);
    assert_eq!(units(strong.consumed_capacity()), 1.0);
}

/// Scan with a filter: the tutorial's fallback `Attr('sk').eq('METADATA')`, which reads the
/// whole table to return the products, and `category = electronics`.
async fn scan_with_filter(client: Client) {
    let catalog = load_catalog(&client).await;
    let total = catalog.items.len();
    assert_eq!(total, 361);
    let out = client
        .scan()
        .table_name(&catalog.table)
        .filter_expression("sk = :m")
        .expression_attribute_values(":m", s("METADATA"))
        .send()
        .await
        .unwrap();
    // The whole table is far below 1 MB: one page.
    assert_eq!(out.last_evaluated_key(), None);
    assert_eq!(out.scanned_count() as usize, total);
    assert_eq!(out.count(), 82);
    let mut got: Vec<Item> = out.items().to_vec();
    got.sort_by_key(pk_sk);
    let mut expected: Vec<Item> = catalog.products().into_iter().cloned().collect();
    expected.sort_by_key(pk_sk);
    assert_eq!(got, expected);

    // The same, paged with Limit: counts add up, every product once.
    let pages = scan_pages(
        client
            .scan()
            .table_name(&catalog.table)
            .filter_expression("category = :c")
            .expression_attribute_values(":c", s("electronics"))
            .limit(40),
    )
    .await;
    assert_eq!(pages.len(), total.div_ceil(40));
    let scanned: i32 = pages.iter().map(|p| p.scanned_count()).sum();
    let counted: i32 = pages.iter().map(|p| p.count()).sum();
    assert_eq!(scanned as usize, total);
    assert_eq!(counted, 18);
    let mut got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    got.sort_by_key(pk_sk);
    let mut expected = catalog.by_category("electronics");
    expected.sort_by_key(pk_sk);
    assert_eq!(got, expected);
    for page in &pages[..pages.len() - 1] {
        assert_eq!(page.scanned_count(), 40);
        assert!(page.last_evaluated_key().is_some());
    }
}

/// 1 MB pages: 25 items of 100,000 bytes each (pk 2+5, sk 2+4, n 1+2, pad 3+99,981: the
/// number 1–25 takes 2 bytes). A page stops once it has read 1 MB (1,048,576 bytes): 10 or
/// 11 items, depending on whether the item that crosses 1 MB is included (DynamoDB does not
/// document it); either way the partition takes 3 pages, and each costs its bytes rounded up
/// to 4 KB, halved.
async fn one_megabyte_pages(client: Client) {
    const ITEM: usize = 100_000;
    const MB: usize = 1_048_576;
    let pages_table = unique_name("Pages");
    on_demand_table(&client, &pages_table, &[("pk", S), ("sk", S)]).await;
    let items: Vec<Item> = (1..=25)
        .map(|i| {
            item(&[
                ("pk", s("PAGES")),
                ("sk", s(&format!("{i:04}"))),
                ("n", n(&(i % 10 + 1).to_string())),
                ("pad", s(&"x".repeat(ITEM - 2 - 5 - 2 - 4 - 1 - 2 - 3))),
            ])
        })
        .collect();
    put_all(&client, &pages_table, items.clone()).await;

    let check = |counts: &[(usize, bool)], what: &str| {
        for (i, &(count, has_lek)) in counts.iter().enumerate() {
            let bytes = count * ITEM;
            assert!(
                bytes - ITEM < MB,
                "{what}: page {i} holds {count} items of 100 KB: over 1 MB by more than one item"
            );
            if has_lek && i + 1 < counts.len() {
                assert!(
                    bytes + ITEM > MB,
                    "{what}: page {i} stopped at {count} items of 100 KB, before 1 MB"
                );
            }
        }
    };
    for forward in [true, false] {
        let pages = query_pages(
            client
                .query()
                .table_name(&pages_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s("PAGES"))
                .scan_index_forward(forward)
                .return_consumed_capacity(ReturnConsumedCapacity::Total),
            None,
        )
        .await;
        let counts: Vec<(usize, bool)> = pages
            .iter()
            .map(|p| (p.items().len(), p.last_evaluated_key().is_some()))
            .collect();
        assert_eq!(pages.len(), 3, "forward={forward}: {counts:?}");
        check(&counts, "query");
        let got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
        let mut expected = items.clone();
        if !forward {
            expected.reverse();
        }
        assert!(got == expected, "forward={forward}: items differ");
        for p in &pages {
            let bytes = p.items().len() * ITEM;
            assert_eq!(
                units(p.consumed_capacity()),
                bytes.div_ceil(4096) as f64 / 2.0,
                "forward={forward}"
            );
        }
    }

    // Limit 20 is cut short by size too; a filter that drops everything still pages by
    // what was read.
    let base = client
        .query()
        .table_name(&pages_table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("PAGES"));
    let pages = query_pages(base.clone().limit(20), None).await;
    let counts: Vec<(usize, bool)> = pages
        .iter()
        .map(|p| (p.items().len(), p.last_evaluated_key().is_some()))
        .collect();
    assert_eq!(pages.len(), 3, "{counts:?}");
    check(&counts, "query limit 20");
    let pages = query_pages(
        base.clone()
            .filter_expression("n > :big")
            .expression_attribute_values(":big", n("100")),
        None,
    )
    .await;
    let scanned: Vec<i32> = pages.iter().map(|p| p.scanned_count()).collect();
    assert_eq!(pages.len(), 3, "scanned per page {scanned:?}");
    assert!(pages.iter().all(|p| p.count() == 0));
    assert_eq!(scanned.iter().sum::<i32>(), 25);

    let pages = scan_pages(client.scan().table_name(&pages_table)).await;
    let counts: Vec<(usize, bool)> = pages
        .iter()
        .map(|p| (p.items().len(), p.last_evaluated_key().is_some()))
        .collect();
    assert_eq!(pages.len(), 3, "scan: {counts:?}");
    check(&counts, "scan");
    let mut got: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    got.sort_by_key(pk_sk);
    assert!(got == items, "scan: items differ");
}

/// Number sort keys order by value across magnitudes and signs, and come back normalised.
async fn number_sort_keys_across_magnitudes(client: Client) {
    let numbers = unique_name("Numbers");
    on_demand_table(&client, &numbers, &[("pk", S), ("sk", N)]).await;
    // (as written, as DynamoDB returns it), in ascending order.
    let ordered = [
        ("-1e10", "-10000000000"),
        ("-1", "-1"),
        ("-0.5", "-0.5"),
        ("0", "0"),
        ("0.001", "0.001"),
        ("1", "1"),
        ("2", "2"),
        ("10", "10"),
        ("1e10", "10000000000"),
    ];
    let mut shuffled = ordered.to_vec();
    shuffled.reverse();
    shuffled.swap(0, 4);
    for (written, _) in &shuffled {
        client
            .put_item()
            .table_name(&numbers)
            .item("pk", s("n"))
            .item("sk", n(written))
            .send()
            .await
            .unwrap();
    }
    let base = client
        .query()
        .table_name(&numbers)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("n"));
    let sks = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| match &i["sk"] {
                Av::N(v) => v.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let all: Vec<String> = ordered.iter().map(|(_, r)| r.to_string()).collect();
    let out = base.clone().send().await.unwrap();
    assert_eq!(sks(out.items()), all);
    let out = base.clone().scan_index_forward(false).send().await.unwrap();
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(sks(out.items()), reversed);

    let ranged = |cond: &'static str, values: &[(&'static str, &'static str)]| {
        let mut q = client
            .query()
            .table_name(&numbers)
            .key_condition_expression(format!("pk = :pk AND {cond}"))
            .expression_attribute_values(":pk", s("n"));
        for (k, v) in values {
            q = q.expression_attribute_values(*k, n(v));
        }
        q
    };
    let out = ranged("sk BETWEEN :a AND :b", &[(":a", "-1"), (":b", "0.001")])
        .send()
        .await
        .unwrap();
    assert_eq!(sks(out.items()), ["-1", "-0.5", "0", "0.001"]);
    let out = ranged("sk > :z", &[(":z", "0")]).send().await.unwrap();
    assert_eq!(sks(out.items()), ["0.001", "1", "2", "10", "10000000000"]);
    let out = ranged("sk < :z", &[(":z", "-0.5")]).send().await.unwrap();
    assert_eq!(sks(out.items()), ["-10000000000", "-1"]);
    let out = ranged("sk = :v", &[(":v", "1.000")]).send().await.unwrap();
    assert_eq!(sks(out.items()), ["1"]);
    let out = ranged("sk >= :v", &[(":v", "1E1")]).send().await.unwrap();
    assert_eq!(sks(out.items()), ["10", "10000000000"]);

    // Paging: the LastEvaluatedKey carries the normalised number.
    let page = base.clone().limit(3).send().await.unwrap();
    assert_eq!(sks(page.items()), ["-10000000000", "-1", "-0.5"]);
    assert_eq!(
        page.last_evaluated_key(),
        Some(&item(&[("pk", s("n")), ("sk", n("-0.5"))]))
    );
    let next = base
        .clone()
        .limit(3)
        .set_exclusive_start_key(page.last_evaluated_key().cloned())
        .send()
        .await
        .unwrap();
    assert_eq!(sks(next.items()), ["0", "0.001", "1"]);
    let top = base
        .clone()
        .scan_index_forward(false)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        top.last_evaluated_key(),
        Some(&item(&[("pk", s("n")), ("sk", n("10"))]))
    );
}

/// Binary sort keys order as unsigned bytes; begins_with matches byte prefixes.
async fn binary_sort_keys_begins_with(client: Client) {
    let blobs = unique_name("Blobs");
    on_demand_table(&client, &blobs, &[("pk", S), ("sk", B)]).await;
    let ordered: Vec<Vec<u8>> = vec![
        vec![0x00],
        vec![0x00, 0x01],
        vec![0x01],
        vec![0x01, 0x00],
        vec![0x01, 0xff],
        vec![0x01, 0xff, 0x00],
        vec![0x02],
        vec![0x7f],
        vec![0x80],
        vec![0xff],
        vec![0xff, 0xff],
    ];
    for (i, bytes) in ordered.iter().enumerate().rev() {
        client
            .put_item()
            .table_name(&blobs)
            .item("pk", s("b"))
            .item("sk", Av::B(Blob::new(bytes.clone())))
            .item("i", n(&i.to_string()))
            .send()
            .await
            .unwrap();
    }
    let keys = |items: &[Item]| -> Vec<Vec<u8>> {
        items
            .iter()
            .map(|i| match &i["sk"] {
                Av::B(b) => b.as_ref().to_vec(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let all = client
        .query()
        .table_name(&blobs)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(keys(all.items()), ordered);

    let prefixed = |prefix: Vec<u8>, forward: bool| {
        let client = client.clone();
        let blobs = blobs.clone();
        async move {
            let out = client
                .query()
                .table_name(&blobs)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s("b"))
                .expression_attribute_values(":p", Av::B(Blob::new(prefix)))
                .scan_index_forward(forward)
                .send()
                .await
                .unwrap();
            keys(out.items())
        }
    };
    let starting = |prefix: &[u8]| -> Vec<Vec<u8>> {
        ordered
            .iter()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    };
    assert_eq!(prefixed(vec![0x01], true).await, starting(&[0x01]));
    assert_eq!(starting(&[0x01]).len(), 4);
    assert_eq!(
        prefixed(vec![0x01, 0xff], true).await,
        starting(&[0x01, 0xff])
    );
    assert_eq!(prefixed(vec![0xff], true).await, starting(&[0xff]));
    assert_eq!(prefixed(vec![0x00], true).await, starting(&[0x00]));
    assert_eq!(prefixed(vec![0x03], true).await, Vec::<Vec<u8>>::new());
    let mut reversed = starting(&[0x01]);
    reversed.reverse();
    assert_eq!(prefixed(vec![0x01], false).await, reversed);

    let above = client
        .query()
        .table_name(&blobs)
        .key_condition_expression("pk = :pk AND sk > :b")
        .expression_attribute_values(":pk", s("b"))
        .expression_attribute_values(":b", Av::B(Blob::new(vec![0x7f])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        keys(above.items()),
        [vec![0x80], vec![0xff], vec![0xff, 0xff]]
    );
}

/// "GSIs can be added anytime": a new index on a loaded table (a user's reviews by date,
/// INCLUDE rating) is backfilled with the existing items, becomes ACTIVE, and then answers
/// queries exactly like one created with the table; later writes maintain it.
async fn index_added_later_covers_existing_items(client: Client) {
    let catalog = load_catalog(&client).await;
    client
        .update_table()
        .table_name(&catalog.table)
        .attribute_definitions(attr("userId", S))
        .attribute_definitions(attr("createdAt", S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("ByUser")
                        .key_schema(key("userId", KeyType::Hash))
                        .key_schema(key("createdAt", KeyType::Range))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::Include)
                                .non_key_attributes("rating")
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    wait::gsi_active(&client, &catalog.table, "ByUser", Duration::from_secs(30)).await;
    let reviews_of = |user: &str| -> Vec<Item> {
        let mut items: Vec<Item> = catalog
            .items
            .iter()
            .filter(|i| matches!(i.get("userId"), Some(Av::S(u)) if u == user))
            .map(|i| only(i, &["pk", "sk", "userId", "createdAt", "rating"]))
            .collect();
        items.sort_by(|a, b| str_of(a, "createdAt").cmp(str_of(b, "createdAt")));
        items.reverse();
        items
    };
    let by_user = |user: &str| {
        query(&client, &catalog.table)
            .index_name("ByUser")
            .key_condition_expression("userId = :u")
            .expression_attribute_values(":u", s(user))
            .scan_index_forward(false)
    };
    for user in ["user-001", "user-036", "user-078"] {
        let expected = reviews_of(user);
        assert!(!expected.is_empty(), "{user}");
        let got = query_items(by_user(user)).await;
        assert_eq!(got, expected, "{user}");
    }
    let everyone = scan_pages(
        client
            .scan()
            .table_name(&catalog.table)
            .index_name("ByUser")
            .limit(50),
    )
    .await;
    let total: i32 = everyone.iter().map(|p| p.count()).sum();
    assert_eq!(total, 197);

    // Later writes maintain it.
    client
        .put_item()
        .table_name(&catalog.table)
        .item("pk", s("PRODUCT#mouse-002"))
        .item("sk", s("REVIEW#2026-06-01#user-001"))
        .item("rating", n("4"))
        .item("userId", s("user-001"))
        .item("createdAt", s("2026-06-01T09:00:00Z"))
        .send()
        .await
        .unwrap();
    let newest = by_user("user-001").limit(1).send().await.unwrap();
    assert_eq!(
        newest.items(),
        [item(&[
            ("pk", s("PRODUCT#mouse-002")),
            ("sk", s("REVIEW#2026-06-01#user-001")),
            ("rating", n("4")),
            ("userId", s("user-001")),
            ("createdAt", s("2026-06-01T09:00:00Z")),
        ])]
    );
}
