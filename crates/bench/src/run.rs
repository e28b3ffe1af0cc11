//! Running a workload: N connection tasks on one thread, a warm-up, a measured interval, and
//! the server's CPU time sampled at the interval's edges.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::http::Connection;
use crate::report::{cpu_seconds, Report};
use crate::workloads::{self as w, Payloads, Rng, Workload};
use crate::RunArgs;

/// What one connection task saw.
struct Tally {
    latency: Histogram<u64>,
    requests: u64,
    items: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("constant histogram bounds are valid"),
            requests: 0,
            items: 0,
            errors: 0,
            first_error: None,
        }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.items += other.items;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Gives up a connection after this many failures in a row (a server that is down).
const MAX_CONSECUTIVE_ERRORS: u32 = 200;

/// The outcome of one request: how many items it carried, or why it is wrong.
type Outcome = Result<u64, String>;

fn describe(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    format!("HTTP {status}: {text}")
}

fn expect_ok(status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 {
        Ok(())
    } else {
        Err(describe(status, body))
    }
}

/// Per-connection request state.
struct Worker {
    conn: Connection,
    rng: Rng,
    payloads: Payloads,
    prose: Payloads,
    body: Vec<u8>,
    ids: Vec<u64>,
    scan_start: Option<Vec<u8>>,
    items: u64,
    partitions: u64,
    partitions_1kb: u64,
}

impl Worker {
    fn new(addr: SocketAddr, seed: u64, args: &RunArgs) -> Self {
        let mut rng = Rng::new(seed);
        let payloads = Payloads::new(&mut rng);
        let prose = Payloads::prose(&mut rng);
        Worker {
            conn: Connection::new(addr),
            rng,
            payloads,
            prose,
            body: Vec::with_capacity(64 * 1024),
            ids: Vec::with_capacity(w::BATCH),
            scan_start: None,
            items: args.items,
            partitions: args.partitions,
            partitions_1kb: args.partitions_1kb(),
        }
    }

    /// Sends one request of the workload and checks the answer.
    async fn one(&mut self, workload: Workload) -> Outcome {
        self.body.clear();
        let workload = match workload {
            Workload::Mixed if self.rng.next() & 1 == 0 => Workload::Get,
            Workload::Mixed => Workload::Put,
            other => other,
        };
        match workload {
            Workload::Put => {
                let id = self.rng.below(self.items);
                let payload = self.payloads.cut(&mut self.rng, w::PAYLOAD);
                w::put_item(&mut self.body, id, payload);
                let r = call(&mut self.conn, &self.body, "PutItem").await?;
                expect_ok(r.status, r.body).map(|_| 1)
            }
            Workload::Get | Workload::Ping => {
                let id = self.rng.below(self.items);
                w::get_item(&mut self.body, id);
                let r = call(&mut self.conn, &self.body, "GetItem").await?;
                expect_ok(r.status, r.body)?;
                if workload == Workload::Get && w::member(r.body, "Item").is_none() {
                    return Err(format!(
                        "GetItem found no item: {}",
                        describe(r.status, r.body)
                    ));
                }
                Ok(1)
            }
            Workload::Update => {
                let id = self.rng.below(self.items);
                w::update_item(&mut self.body, id);
                let r = call(&mut self.conn, &self.body, "UpdateItem").await?;
                expect_ok(r.status, r.body).map(|_| 1)
            }
            Workload::Query => {
                let partition = self.rng.below(self.partitions);
                w::query(&mut self.body, partition);
                let r = call(&mut self.conn, &self.body, "Query").await?;
                expect_ok(r.status, r.body)?;
                match w::count(r.body) {
                    Some(n) if n == w::PARTITION_ITEMS => Ok(n),
                    _ => Err(format!(
                        "Query did not return the whole partition: {}",
                        describe(r.status, r.body)
                    )),
                }
            }
            Workload::Query1kb => {
                let partition = self.rng.below(self.partitions_1kb);
                w::query_1kb(&mut self.body, partition);
                let r = call(&mut self.conn, &self.body, "Query").await?;
                expect_ok(r.status, r.body)?;
                match w::count(r.body) {
                    Some(n) if n == w::PARTITION_ITEMS => Ok(n),
                    _ => Err(format!(
                        "Query did not return the whole 1 KB-item partition: {}",
                        describe(r.status, r.body)
                    )),
                }
            }
            Workload::Query1kbFlat => {
                let partition = self.rng.below(self.partitions_1kb);
                w::query_1kb_flat(&mut self.body, partition);
                let r = call(&mut self.conn, &self.body, "Query").await?;
                expect_ok(r.status, r.body)?;
                match w::count(r.body) {
                    Some(n) if n == w::PARTITION_ITEMS => Ok(n),
                    _ => Err(format!(
                        "Query did not return the whole flat 1 KB-item partition: {}",
                        describe(r.status, r.body)
                    )),
                }
            }
            Workload::Scan => {
                let start = self.scan_start.take();
                w::scan(&mut self.body, start.as_deref());
                let r = call(&mut self.conn, &self.body, "Scan").await?;
                expect_ok(r.status, r.body)?;
                let n = w::count(r.body).ok_or_else(|| {
                    format!("Scan answer has no Count: {}", describe(r.status, r.body))
                })?;
                self.scan_start = w::member(r.body, "LastEvaluatedKey").map(<[u8]>::to_vec);
                Ok(n)
            }
            Workload::BatchWrite => {
                w::distinct_keys(&mut self.rng, self.items, w::BATCH, &mut self.ids);
                let ids = std::mem::take(&mut self.ids);
                let (rng, payloads) = (&mut self.rng, &self.payloads);
                w::batch_write(&mut self.body, w::TABLE, w::BATCH, |out, i| {
                    w::push_item(out, ids[i], payloads.cut(rng, w::PAYLOAD))
                });
                self.ids = ids;
                self.call_batch().await
            }
            Workload::Transact => {
                w::distinct_keys(&mut self.rng, self.items, w::TRANSACT, &mut self.ids);
                w::transact_puts(&mut self.body, &self.ids, &self.payloads, &mut self.rng);
                let r = call(&mut self.conn, &self.body, "TransactWriteItems").await?;
                expect_ok(r.status, r.body).map(|_| w::TRANSACT as u64)
            }
            Workload::Mixed | Workload::Load => Err("not a request workload".into()),
        }
    }

    /// Sends the prepared BatchWriteItem; an answer with unprocessed items is an error (none
    /// of the measured servers throttles, so it would mean lost writes).
    async fn call_batch(&mut self) -> Outcome {
        let r = call(&mut self.conn, &self.body, "BatchWriteItem").await?;
        expect_ok(r.status, r.body)?;
        match w::member(r.body, "UnprocessedItems") {
            Some(v) if w::is_empty_object(v) => Ok(w::BATCH as u64),
            None => Ok(w::BATCH as u64),
            Some(_) => Err(format!("unprocessed items: {}", describe(r.status, r.body))),
        }
    }
}

/// Sends one request; the answer borrows the connection's buffer.
async fn call<'a>(
    conn: &'a mut Connection,
    body: &[u8],
    target: &str,
) -> Result<crate::http::Response<'a>, String> {
    conn.call(target, body)
        .await
        .map_err(|e| format!("{target}: {e}"))
}

/// Runs a request workload: warm-up, then the measured interval.
pub async fn timed(
    addr: SocketAddr,
    args: &RunArgs,
    warmup: Duration,
    duration: Duration,
) -> Result<Report, String> {
    if args.workload == Workload::Query && args.partitions == 0 {
        return Err("--partitions must be at least 1 for query".into());
    }
    if matches!(args.workload, Workload::Query1kb | Workload::Query1kbFlat)
        && args.partitions_1kb() == 0
    {
        return Err(format!(
            "--partitions-1kb (or --partitions) must be at least 1 for {}",
            args.workload.name()
        ));
    }
    let start = Instant::now();
    let measure_from = start + warmup;
    let stop_at = measure_from + duration;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let mut worker = Worker::new(
            addr,
            args.seed.wrapping_mul(1_000_003).wrapping_add(c as u64),
            args,
        );
        let workload = args.workload;
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            let mut failures = 0u32;
            loop {
                let t0 = Instant::now();
                if t0 >= stop_at {
                    break;
                }
                let outcome = worker.one(workload).await;
                let t1 = Instant::now();
                match outcome {
                    Ok(items) => {
                        failures = 0;
                        if t0 >= measure_from && t1 <= stop_at {
                            tally.requests += 1;
                            tally.items += items;
                            let micros = (t1 - t0).as_micros().max(1) as u64;
                            tally.latency.saturating_record(micros);
                        }
                    }
                    Err(e) => {
                        tally.error(e);
                        failures += 1;
                        if failures >= MAX_CONSECUTIVE_ERRORS {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
            tally
        }));
    }

    tokio::time::sleep_until(measure_from.into()).await;
    let clock = Clock::start(args.server_pid)?;
    tokio::time::sleep_until(stop_at.into()).await;
    let measured = clock.stop()?;
    let total = gather(tasks).await?;
    Ok(report(args, total, measured))
}

/// Wall time and CPU time (server's, if its pid is known, and the driver's own) over an
/// interval.
struct Clock {
    server_pid: Option<u32>,
    wall: Instant,
    server: Option<f64>,
    driver: f64,
}

struct Measured {
    wall: f64,
    server_cpu: Option<f64>,
    driver_cpu: f64,
}

impl Clock {
    fn start(server_pid: Option<u32>) -> Result<Self, String> {
        Ok(Clock {
            server_pid,
            server: server_pid.map(cpu_seconds).transpose()?,
            driver: cpu_seconds(std::process::id())?,
            wall: Instant::now(),
        })
    }

    fn stop(self) -> Result<Measured, String> {
        let wall = self.wall.elapsed().as_secs_f64();
        let server = self.server_pid.map(cpu_seconds).transpose()?;
        Ok(Measured {
            wall,
            server_cpu: self.server.zip(server).map(|(a, b)| b - a),
            driver_cpu: cpu_seconds(std::process::id())? - self.driver,
        })
    }
}

/// Waits for every connection task and adds up what they saw.
async fn gather(tasks: Vec<tokio::task::JoinHandle<Tally>>) -> Result<Tally, String> {
    let mut total = Tally::new();
    for task in tasks {
        let tally = task
            .await
            .map_err(|e| format!("connection task failed: {e}"))?;
        total.merge(tally);
    }
    Ok(total)
}

fn report(args: &RunArgs, total: Tally, measured: Measured) -> Report {
    Report::new(
        args,
        measured.wall,
        total.requests,
        total.items,
        total.errors,
        total.first_error,
        &total.latency,
        measured.server_cpu,
        measured.driver_cpu,
    )
}

fn create_table_body(table: &str, with_sort: bool) -> Vec<u8> {
    let (keys, defs) = if with_sort {
        (
            r#"[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]"#,
            r#"[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"}]"#,
        )
    } else {
        (
            r#"[{"AttributeName":"pk","KeyType":"HASH"}]"#,
            r#"[{"AttributeName":"pk","AttributeType":"S"}]"#,
        )
    };
    format!(
        r#"{{"TableName":"{table}","KeySchema":{keys},"AttributeDefinitions":{defs},"BillingMode":"PAY_PER_REQUEST"}}"#
    )
    .into_bytes()
}

/// Creates a table unless it exists, and waits until it is ACTIVE.
async fn ensure_table(conn: &mut Connection, table: &str, with_sort: bool) -> Result<(), String> {
    let body = create_table_body(table, with_sort);
    let r = conn
        .call("CreateTable", &body)
        .await
        .map_err(|e| format!("CreateTable {table}: {e}"))?;
    if r.status != 200 && !contains(r.body, b"ResourceInUseException") {
        return Err(format!(
            "CreateTable {table}: {}",
            describe(r.status, r.body)
        ));
    }
    let describe_body = format!(r#"{{"TableName":"{table}"}}"#).into_bytes();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = conn
            .call("DescribeTable", &describe_body)
            .await
            .map_err(|e| format!("DescribeTable {table}: {e}"))?;
        if r.status == 200 {
            if let Some(status) = w::member(r.body, "TableStatus") {
                if status == b"\"ACTIVE\"" {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("table {table} did not become ACTIVE within 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Creates the tables and writes `--items` items to `bench`, `--partitions` partitions to
/// `bench_query` and `--partitions-1kb` partitions to each of `bench_query_1kb` and
/// `bench_query_1kb_flat`, 25 items per BatchWriteItem, over `--connections` connections.
pub async fn load(addr: SocketAddr, args: &RunArgs) -> Result<Report, String> {
    let partitions_1kb = args.partitions_1kb();
    let mut setup = Connection::new(addr);
    ensure_table(&mut setup, w::TABLE, false).await?;
    if args.partitions > 0 {
        ensure_table(&mut setup, w::QUERY_TABLE, true).await?;
    }
    if partitions_1kb > 0 {
        ensure_table(&mut setup, w::QUERY_1KB_TABLE, true).await?;
        ensure_table(&mut setup, w::QUERY_1KB_FLAT_TABLE, true).await?;
    }
    drop(setup);

    // Work units: batches of `bench` items, then batches of `bench_query` partitions, then
    // of `bench_query_1kb` partitions, then of `bench_query_1kb_flat` partitions (a partition
    // of 100 items is 4 batches).
    let item_batches = args.items.div_ceil(w::BATCH as u64);
    let per_partition = w::PARTITION_ITEMS.div_ceil(w::BATCH as u64);
    let query_end = item_batches + args.partitions * per_partition;
    let orders_end = query_end + partitions_1kb * per_partition;
    let total_units = orders_end + partitions_1kb * per_partition;
    let next = Arc::new(AtomicU64::new(0));
    let clock = Clock::start(args.server_pid)?;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let next = next.clone();
        let mut worker = Worker::new(addr, args.seed.wrapping_add(c as u64), args);
        let items = args.items;
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            loop {
                let unit = next.fetch_add(1, Ordering::Relaxed);
                if unit >= total_units {
                    break;
                }
                worker.body.clear();
                let (rng, payloads) = (&mut worker.rng, &worker.payloads);
                let count = if unit < item_batches {
                    let first = unit * w::BATCH as u64;
                    let count = (items - first).min(w::BATCH as u64) as usize;
                    w::batch_write(&mut worker.body, w::TABLE, count, |out, i| {
                        w::push_item(out, first + i as u64, payloads.cut(rng, w::PAYLOAD))
                    });
                    count
                } else {
                    let (table, q) = if unit < query_end {
                        (w::QUERY_TABLE, unit - item_batches)
                    } else if unit < orders_end {
                        (w::QUERY_1KB_TABLE, unit - query_end)
                    } else {
                        (w::QUERY_1KB_FLAT_TABLE, unit - orders_end)
                    };
                    let partition = q / per_partition;
                    let first = (q % per_partition) * w::BATCH as u64;
                    let count = (w::PARTITION_ITEMS - first).min(w::BATCH as u64) as usize;
                    if table == w::QUERY_TABLE {
                        w::batch_write(&mut worker.body, table, count, |out, i| {
                            w::push_query_item(
                                out,
                                partition,
                                first + i as u64,
                                payloads.cut(rng, w::QUERY_PAYLOAD),
                            )
                        });
                    } else if table == w::QUERY_1KB_TABLE {
                        let text = w::OrderText {
                            tokens: payloads,
                            prose: &worker.prose,
                        };
                        w::batch_write(&mut worker.body, table, count, |out, i| {
                            w::push_order_item(out, partition, first + i as u64, rng, &text)
                        });
                    } else {
                        w::batch_write(&mut worker.body, table, count, |out, i| {
                            let number = w::flat_number(rng);
                            w::push_flat_item(
                                out,
                                partition,
                                first + i as u64,
                                number,
                                payloads.cut(rng, w::FLAT_PAYLOAD),
                            )
                        });
                    }
                    count
                };
                let t0 = Instant::now();
                match worker.call_batch().await {
                    Ok(_) => {
                        tally.requests += 1;
                        tally.items += count as u64;
                        let micros = t0.elapsed().as_micros().max(1) as u64;
                        tally.latency.saturating_record(micros);
                    }
                    Err(e) => {
                        tally.error(e);
                        // Loading stops at the first failure: the data set would be incomplete.
                        break;
                    }
                }
            }
            tally
        }));
    }
    let total = gather(tasks).await?;
    Ok(report(args, total, clock.stop()?))
}
