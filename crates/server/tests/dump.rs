//! `stator dump`: prints every record of a stopped server's data directory, decoded, and
//! refuses a directory that holds no database or is in use. Needs its own server and data
//! directory, so it is skipped against `STATOR_ENDPOINT`.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue as Av;
use common::schema::{on_demand_table, S};
use common::{skip_in_endpoint_mode, TestServer};

fn dump(dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stator"))
        .args(["dump", "--data-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_prints_the_decoded_records_of_a_data_directory() {
    if skip_in_endpoint_mode("needs its own server and data directory") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_on(dir.path(), &[]);
    let client = server.client();
    on_demand_table(&client, "dumped", &[("pk", S)]).await;
    client
        .put_item()
        .table_name("dumped")
        .item("pk", Av::S("a".into()))
        .item("n", Av::N("7".into()))
        .send()
        .await
        .unwrap();

    // In use: fjall holds the directory's lock.
    let (ok, _, err) = dump(dir.path());
    assert!(!ok, "dump of a directory in use must fail");
    let expected = format!(
        "stator: the data directory {} is in use by another running Stator",
        dir.path().display()
    );
    assert!(err.starts_with(&expected), "{err}");

    assert!(server.stop());
    let (ok, out, err) = dump(dir.path());
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"format version = 1"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("table dumped = id ") && l.ends_with("HASH pk S")),
        "{out}"
    );
    assert!(
        lines.contains(&r#"item dumped pk=S:"a" = {"n":{"N":"7"},"pk":{"S":"a"}} (6 B)"#),
        "{out}"
    );
    assert!(
        lines.contains(&"stats dumped slot 0 = 1 items, 6 B"),
        "{out}"
    );

    let empty = tempfile::tempdir().unwrap();
    let (ok, _, err) = dump(empty.path());
    assert!(!ok);
    assert!(err.contains("holds no Stator database"), "{err}");
}
