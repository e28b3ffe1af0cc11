//! Polling DescribeTable for the state of a global secondary index, which changes in the
//! background (backfill after UpdateTable, removal after a Delete).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::GlobalSecondaryIndexDescription;
use aws_sdk_dynamodb::Client;

/// How often the waits below ask.
const POLL: Duration = Duration::from_millis(50);

/// The global index `index` of `table` as DescribeTable reports it, if it is listed.
pub async fn describe_gsi(
    client: &Client,
    table: &str,
    index: &str,
) -> Option<GlobalSecondaryIndexDescription> {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(index))
        .cloned()
}

/// Polls until the index is ACTIVE (checking that a CREATING index reports
/// `Backfilling: true`), or panics after `timeout`.
pub async fn gsi_active(
    client: &Client,
    table: &str,
    index: &str,
    timeout: Duration,
) -> GlobalSecondaryIndexDescription {
    let deadline = Instant::now() + timeout;
    loop {
        let g = describe_gsi(client, table, index)
            .await
            .unwrap_or_else(|| panic!("index {index} missing from DescribeTable"));
        match g.index_status().map(|s| s.as_str()) {
            Some("ACTIVE") => return g,
            Some("CREATING") => assert_eq!(g.backfilling(), Some(true)),
            other => panic!("unexpected IndexStatus {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "index {index} still CREATING after {timeout:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Polls until the index is gone (it may show DELETING first), or panics after `timeout`.
pub async fn gsi_gone(client: &Client, table: &str, index: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while let Some(g) = describe_gsi(client, table, index).await {
        assert_eq!(g.index_status().map(|s| s.as_str()), Some("DELETING"));
        assert!(
            Instant::now() < deadline,
            "index {index} still there after {timeout:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}
