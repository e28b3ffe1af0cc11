//! Durability: data survives a clean restart, and every acknowledged write survives
//! `kill -9` of the server under load, in both durability modes. Each test starts, stops and
//! kills its own server on its own data directory, so all of them are skipped when the
//! suite runs against `STATOR_ENDPOINT`.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue as Av;
use common::schema::{on_demand_table, S};
use common::{client_for, skip_in_endpoint_mode, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_items_survive_a_clean_restart() {
    if skip_in_endpoint_mode("needs its own server to restart it") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_on(dir.path(), &[]);
    let client = server.client();
    on_demand_table(&client, "kept", &[("pk", S)]).await;
    for i in 0..50 {
        client
            .put_item()
            .table_name("kept")
            .item("pk", Av::S(format!("k{i}")))
            .item("n", Av::N(i.to_string()))
            .send()
            .await
            .unwrap();
    }
    client
        .delete_item()
        .table_name("kept")
        .key("pk", Av::S("k0".into()))
        .send()
        .await
        .unwrap();
    assert!(server.stop(), "clean shutdown exits successfully");

    let server = TestServer::start_on(dir.path(), &[]);
    let client = server.client();
    let t = client
        .describe_table()
        .table_name("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(49));
    for i in 1..50 {
        let got = client
            .get_item()
            .table_name("kept")
            .key("pk", Av::S(format!("k{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(got.item().unwrap()["n"], Av::N(i.to_string()));
    }
    let gone = client
        .get_item()
        .table_name("kept")
        .key("pk", Av::S("k0".into()))
        .send()
        .await
        .unwrap();
    assert!(gone.item().is_none());
}

/// Writes from several clients until the server is killed with SIGKILL, then checks after a
/// restart that every write the server acknowledged is there.
async fn acknowledged_writes_survive_kill9(extra_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_on(dir.path(), extra_args);
    let client = server.client();
    on_demand_table(&client, "crash", &[("pk", S)]).await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = client_for(&server.endpoint);
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("w{w}-{i}");
                let sent = client
                    .put_item()
                    .table_name("crash")
                    .item("pk", Av::S(key.clone()))
                    .item("payload", Av::S("p".repeat(200)))
                    .send()
                    .await;
                match sent {
                    Ok(_) => acknowledged.lock().unwrap().push(key),
                    // Once the server is gone, requests fail; that is expected.
                    Err(_) => break,
                }
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 100,
        "the load phase should acknowledge many writes, got {}",
        acknowledged.len()
    );

    let server = TestServer::start_on(dir.path(), extra_args);
    let client = server.client();
    let mut missing = Vec::new();
    for key in &acknowledged {
        let got = client
            .get_item()
            .table_name("crash")
            .key("pk", Av::S(key.clone()))
            .send()
            .await
            .unwrap();
        if got.item().is_none() {
            missing.push(key.clone());
        }
    }
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let count = client
        .describe_table()
        .table_name("crash")
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .item_count()
        .unwrap();
    // Writes in flight at the kill may or may not have committed, but the count record is
    // written in the same transaction as the items, so it never falls behind them.
    assert!(count >= acknowledged.len() as i64);
    assert!(count <= acknowledged.len() as i64 + 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill9_default_mode() {
    if skip_in_endpoint_mode("needs its own server to kill it with SIGKILL and restart it") {
        return;
    }
    acknowledged_writes_survive_kill9(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill9_sync_mode() {
    if skip_in_endpoint_mode(
        "needs its own server, started with --sync, to kill it with SIGKILL and restart it",
    ) {
        return;
    }
    acknowledged_writes_survive_kill9(&["--sync"]).await;
}
