//! `bench`: Stator's workload driver. It speaks DynamoDB's JSON protocol to any endpoint over
//! HTTP keep-alive with N concurrent connections for D seconds and reports throughput and
//! latency percentiles (HdrHistogram), as a table and as one JSON line. Every answer must be
//! HTTP 200 and pass the workload's check; a run with errors is reported failed (exit 1).
//!
//! ```text
//! bench load  --endpoint http://127.0.0.1:8000 --items 100000 --partitions 100
//! bench get   --endpoint http://127.0.0.1:8000 --items 100000 -c 4 -d 10 --server-pid PID
//! bench ceiling-server --port 8001      # answers {} to everything: the HTTP ceiling
//! ```
//!
//! With `--server-pid`, the driver reads the server's CPU time from /proc before and after
//! the measured interval and reports operations per second of server CPU, which is what the
//! comparison script compares: it does not depend on what else the machine is doing.

mod ceiling;
mod http;
mod report;
mod run;
mod workloads;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use workloads::Workload;

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Workload driver for DynamoDB-compatible endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a workload against an endpoint.
    Run(RunArgs),
    /// Serves `{}` to every request on 127.0.0.1 with the same HTTP stack as Stator: the
    /// ceiling a server can reach with this driver on this machine.
    CeilingServer {
        /// Port to listen on (0 picks a free one; the address is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Skip hyper: parse requests with httparse and write a fixed answer, to measure
        /// how much of the ceiling is the HTTP library rather than the kernel.
        #[arg(long)]
        raw: bool,
    },
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// The workload.
    #[arg(value_enum)]
    pub workload: Workload,
    /// The endpoint (http only).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub endpoint: String,
    /// Concurrent keep-alive connections.
    #[arg(short = 'c', long, default_value_t = 4)]
    pub connections: usize,
    /// Measured seconds.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Items in table `bench`: the key space of put/get/update/mixed/batch-write/transact,
    /// and the number `load` writes.
    #[arg(long, default_value_t = 100_000)]
    pub items: u64,
    /// 100-item partitions in table `bench_query`: the partitions `query` reads and the
    /// number `load` writes.
    #[arg(long, default_value_t = 100)]
    pub partitions: u64,
    /// 100-item partitions of ~1 KB items in each of the tables `bench_query_1kb` and
    /// `bench_query_1kb_flat`: the partitions `query-1kb` and `query-1kb-flat` read and the
    /// number `load` writes to each. Defaults to `--partitions`; 0 makes `load` leave both
    /// tables alone (for growing only `bench_query`).
    #[arg(long)]
    pub partitions_1kb: Option<u64>,
    /// Process id of the server, to report operations per second of server CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// A name for this run in the report (for example `stator-memory`).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Seed of the key generators.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print only the JSON line.
    #[arg(long)]
    pub json: bool,
}

impl RunArgs {
    /// The partitions of `bench_query_1kb` and of `bench_query_1kb_flat`.
    pub fn partitions_1kb(&self) -> u64 {
        self.partitions_1kb.unwrap_or(self.partitions)
    }
}

fn parse_endpoint(endpoint: &str) -> Result<SocketAddr, String> {
    let rest = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint must start with http://: {endpoint}"))?;
    let hostport = rest.trim_end_matches('/');
    let hostport = if hostport.starts_with("localhost:") {
        hostport.replacen("localhost", "127.0.0.1", 1)
    } else {
        hostport.to_string()
    };
    hostport
        .parse()
        .map_err(|e| format!("endpoint must be http://<ip>:<port>: {endpoint}: {e}"))
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::CeilingServer { port, raw } => match ceiling::serve(port, raw) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("bench: {e}");
                2
            }
        },
        Command::Run(args) => {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("bench: cannot start the runtime: {e}");
                    std::process::exit(2);
                }
            };
            match runtime.block_on(drive(args)) {
                Ok(report) => {
                    if report.errors > 0 {
                        1
                    } else {
                        0
                    }
                }
                Err(e) => {
                    eprintln!("bench: {e}");
                    2
                }
            }
        }
    };
    std::process::exit(code);
}

async fn drive(args: RunArgs) -> Result<report::Report, String> {
    let addr = parse_endpoint(&args.endpoint)?;
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let random_keys = !matches!(
        args.workload,
        Workload::Load
            | Workload::Query
            | Workload::Query1kb
            | Workload::Query1kbFlat
            | Workload::Scan
    );
    if random_keys && args.items < workloads::BATCH as u64 {
        return Err(format!("--items must be at least {}", workloads::BATCH));
    }
    let report = if args.workload == Workload::Load {
        run::load(addr, &args).await?
    } else {
        run::timed(
            addr,
            &args,
            Duration::from_secs_f64(args.warmup.max(0.0)),
            Duration::from_secs_f64(args.duration.max(0.1)),
        )
        .await?
    };
    report.print(args.json);
    Ok(report)
}
