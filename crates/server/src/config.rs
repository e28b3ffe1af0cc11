//! The command line: `stator serve [--port N] [--host H] [--data-dir D | --in-memory]
//! [--sync] [--log-level L] [--header-timeout-secs N] [--idle-timeout-secs N]
//! [--max-connections N] [--cors ORIGINS] [--capacity off|report|enforce]
//! [--clock system|manual[=TIME]] [--admin-anywhere]`, plus DynamoDB Local's single-dash flags
//! (`-port`, `-inMemory`, `-dbPath`, `-sharedDb`, `-cors`, `-optimizeDbBeforeStartup`,
//! `-disableTelemetry`, `-delayTransientStatuses`, `-help`) so Stator can replace it in existing scripts. Without a
//! subcommand, `serve` is assumed. Contradictory flags (`--in-memory` with `--data-dir` or
//! `--sync`) are refused before anything starts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::http::{ConnectionLimits, CorsPolicy};

/// What `stator --help` shows below the commands: how to start the server.
const START_HELP: &str = "\
Start the server (`serve` is the default command):
  stator                              on disk in ./stator-data, http://127.0.0.1:8000
  stator --data-dir DIR --port 8001   on disk in DIR, another port
  stator --in-memory                  nothing kept after it stops
  stator --sync                       fsync every acknowledged write

Then point any DynamoDB SDK or the AWS CLI at it, with any credentials:
  aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000

Main options of `stator serve`: --port, --host, --data-dir, --in-memory, --sync,
--log-level, --cors; DynamoDB Local's -port, -inMemory, -dbPath, -sharedDb, -cors,
-delayTransientStatuses, -optimizeDbBeforeStartup, -disableTelemetry are accepted too.
All of them:
  stator serve --help";

#[derive(Parser, Debug)]
#[command(
    name = "stator",
    version,
    about = "A fast, persistent DynamoDB-compatible server",
    after_help = START_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server.
    Serve(ServeConfig),
    /// Print every record of an on-disk database, decoded (items, index entries,
    /// statistics, catalog records), one per line in key order. For debugging; the
    /// database must not be open in a running server.
    Dump(DumpConfig),
}

#[derive(Args, Debug, Clone)]
pub struct DumpConfig {
    /// Directory of the on-disk database.
    #[arg(long, default_value = "./stator-data")]
    pub data_dir: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct ServeConfig {
    /// TCP port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Directory for the on-disk database.
    #[arg(long, default_value = "./stator-data")]
    pub data_dir: PathBuf,
    /// Keep all data in memory; it is lost when the server stops.
    #[arg(long, conflicts_with_all = ["data_dir", "sync"])]
    pub in_memory: bool,
    /// fsync every acknowledged write (group commit): survives power loss, not just crashes.
    #[arg(long)]
    pub sync: bool,
    /// Accepted for DynamoDB Local compatibility (`-sharedDb`): Stator always serves one
    /// database, whatever the credentials and region of a request.
    #[arg(long, hide = true)]
    pub shared_db: bool,
    /// Accepted for DynamoDB Local compatibility (`-optimizeDbBeforeStartup`): Stator has
    /// nothing to optimise before it starts.
    #[arg(long, hide = true)]
    pub optimize_db_before_startup: bool,
    /// Accepted for DynamoDB Local compatibility (`-disableTelemetry`): Stator sends no
    /// telemetry anywhere.
    #[arg(long, hide = true)]
    pub disable_telemetry: bool,
    /// The most detailed kind of log line written to stderr.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// Close a connection that has not sent a complete request head this many seconds
    /// after it was accepted (or after the first byte of a later request), or whose
    /// request body stops arriving for as long; 0 turns this off.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Close a keep-alive connection that sends no request for this many seconds after
    /// its last answer; 0 turns this off.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Serve at most this many connections at once; further clients wait in the listen
    /// backlog until one closes.
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Browser origins that get CORS headers: `*` (every origin, answered with
    /// `Access-Control-Allow-Origin: *`) or a comma-separated list of origins, each echoed
    /// back when it calls.
    #[arg(long, value_name = "ORIGINS", default_value = "*")]
    pub cors: String,
    /// The AWS account id in the ARNs of tables (twelve digits); a request naming another
    /// account's ARN is refused with AccessDeniedException.
    #[arg(long, value_name = "ID", default_value = "000000000000", value_parser = account_id)]
    pub account_id: String,
    /// Created tables stay CREATING, and updated ones UPDATING, for this many milliseconds
    /// (1000 when given without a value) instead of becoming ACTIVE at once, for code that
    /// waits on table status; DynamoDB Local's `-delayTransientStatuses`.
    #[arg(long, value_name = "MS", num_args = 0..=1, default_missing_value = "1000")]
    pub delay_transient_statuses: Option<u64>,
    /// Whether provisioned capacity governs requests: `report` computes token buckets and
    /// partitions and counts would-be throttles without refusing anything; `enforce`
    /// refuses as DynamoDB does (ProvisionedThroughputExceededException); `off` keeps no
    /// buckets. One table's mode can be changed at run time (docs/admin-api.md).
    #[arg(long, value_enum, default_value_t = CapacityFlag::Report)]
    pub capacity: CapacityFlag,
    /// The engine clock every time-based rule reads: `system`, or `manual` (moved only by
    /// `POST /_stator/clock`), starting now or at `manual=<RFC 3339 time>`.
    #[arg(long, value_name = "CLOCK", default_value = "system", value_parser = clock_flag)]
    pub clock: ClockFlag,
    /// Answer Stator's own endpoints (`/_stator/…`, `/metrics`) for clients on any
    /// address, not only loopback.
    #[arg(long)]
    pub admin_anywhere: bool,
}

/// `--capacity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CapacityFlag {
    Off,
    Report,
    Enforce,
}

impl CapacityFlag {
    pub fn mode(self) -> stator_engine::throughput::CapacityMode {
        use stator_engine::throughput::CapacityMode;
        match self {
            CapacityFlag::Off => CapacityMode::Off,
            CapacityFlag::Report => CapacityMode::Report,
            CapacityFlag::Enforce => CapacityMode::Enforce,
        }
    }
}

/// `--clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockFlag {
    System,
    /// A manual clock starting at this time (since the Unix epoch), or now.
    Manual(Option<Duration>),
}

fn clock_flag(text: &str) -> Result<ClockFlag, String> {
    match text {
        "system" => Ok(ClockFlag::System),
        "manual" => Ok(ClockFlag::Manual(None)),
        _ => match text.strip_prefix("manual=") {
            Some(time) => stator_engine::clock::parse_rfc3339(time)
                .map(|t| ClockFlag::Manual(Some(t)))
                .ok_or_else(|| format!("not an RFC 3339 time (like 2026-01-01T00:00:00Z): {time}")),
            None => Err("system, manual, or manual=<RFC 3339 time>".to_string()),
        },
    }
}

impl ClockFlag {
    /// The engine clock this flag asks for.
    pub fn clock(self) -> std::sync::Arc<dyn stator_engine::clock::Clock> {
        use stator_engine::clock::{Clock, ManualClock, SystemClock};
        match self {
            ClockFlag::System => std::sync::Arc::new(SystemClock),
            ClockFlag::Manual(start) => {
                std::sync::Arc::new(ManualClock::new(start.unwrap_or_else(|| SystemClock.now())))
            }
        }
    }

    pub fn describe(self) -> String {
        match self {
            ClockFlag::System => "system".to_string(),
            ClockFlag::Manual(Some(t)) => {
                format!("manual from {}", stator_engine::clock::rfc3339_millis(t))
            }
            ClockFlag::Manual(None) => "manual".to_string(),
        }
    }
}

fn account_id(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err("an account id is twelve digits".to_string())
    }
}

/// `--log-level`: each level includes the ones above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Seconds from the command line as a timeout, 0 meaning none.
fn timeout(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs))
}

impl ServeConfig {
    /// The CORS policy of `--cors`.
    pub fn cors_policy(&self) -> CorsPolicy {
        let origins: Vec<String> = self
            .cors
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect();
        if origins.is_empty() || origins.iter().any(|o| o == "*") {
            CorsPolicy::AnyOrigin
        } else {
            CorsPolicy::Origins(origins)
        }
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: timeout(self.header_timeout_secs),
            idle_timeout: timeout(self.idle_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Rewrites DynamoDB Local's flags into Stator's and inserts `serve` when no subcommand is
/// given.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 {
            out.push(arg);
            continue;
        }
        let mapped = match arg.as_str() {
            "-port" => "--port",
            "-inMemory" => "--in-memory",
            "-dbPath" => "--data-dir",
            "-sharedDb" => "--shared-db",
            "-cors" => "--cors",
            "-optimizeDbBeforeStartup" => "--optimize-db-before-startup",
            "-disableTelemetry" => "--disable-telemetry",
            "-delayTransientStatuses" => "--delay-transient-statuses",
            "-help" => "--help",
            _ => {
                out.push(arg);
                continue;
            }
        };
        out.push(mapped.to_string());
    }
    let has_subcommand = out.get(1).is_some_and(|a| {
        a == "serve"
            || a == "dump"
            || a == "help"
            || a == "--help"
            || a == "-h"
            || a == "--version"
            || a == "-V"
    });
    if !has_subcommand {
        out.insert(1.min(out.len()), "serve".to_string());
    }
    out
}

pub fn parse() -> Command {
    Cli::parse_from(normalize_args(std::env::args())).command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_vec(args: &[&str]) -> ServeConfig {
        let args = normalize_args(args.iter().map(|s| s.to_string()));
        match Cli::try_parse_from(args).unwrap().command {
            Command::Serve(c) => c,
            Command::Dump(_) => panic!("not a serve command"),
        }
    }

    #[test]
    fn defaults() {
        let c = parse_vec(&["stator", "serve"]);
        assert_eq!(c.port, 8000);
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.data_dir, PathBuf::from("./stator-data"));
        assert!(!c.in_memory);
        assert!(!c.sync);
        assert_eq!(c.log_level, LogLevel::Info);
        assert_eq!(
            c.connection_limits(),
            ConnectionLimits {
                header_timeout: Some(Duration::from_secs(10)),
                idle_timeout: Some(Duration::from_secs(60)),
                max_connections: 4096,
            }
        );
    }

    #[test]
    fn logging_and_connection_flags() {
        let c = parse_vec(&[
            "stator",
            "serve",
            "--log-level",
            "debug",
            "--header-timeout-secs",
            "2",
            "--idle-timeout-secs",
            "0",
            "--max-connections",
            "3",
        ]);
        assert_eq!(c.log_level, LogLevel::Debug);
        assert_eq!(
            c.connection_limits(),
            ConnectionLimits {
                header_timeout: Some(Duration::from_secs(2)),
                idle_timeout: None,
                max_connections: 3,
            }
        );
        for bad in [
            &["stator", "--max-connections", "0"][..],
            &["stator", "--log-level", "loud"],
            &["stator", "--idle-timeout-secs", "-1"],
        ] {
            let args = normalize_args(bad.iter().map(|s| s.to_string()));
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dynamodb_local_flags_are_aliases() {
        let c = parse_vec(&["stator", "-port", "8123", "-inMemory", "-sharedDb"]);
        assert_eq!(c.port, 8123);
        assert!(c.in_memory);
        assert!(c.shared_db);
        let c = parse_vec(&["stator", "-dbPath", "/tmp/x"]);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        let c = parse_vec(&[
            "stator",
            "-optimizeDbBeforeStartup",
            "-disableTelemetry",
            "-cors",
            "http://a.example,http://b.example",
        ]);
        assert!(c.optimize_db_before_startup && c.disable_telemetry);
        assert_eq!(
            c.cors_policy(),
            CorsPolicy::Origins(vec!["http://a.example".into(), "http://b.example".into()])
        );
        assert_eq!(parse_vec(&["stator"]).cors_policy(), CorsPolicy::AnyOrigin);
        assert_eq!(c.delay_transient_statuses, None);
        // DynamoDB Local's flag takes no value: one second; Stator's may name the delay.
        let c = parse_vec(&["stator", "-delayTransientStatuses", "-port", "8123"]);
        assert_eq!((c.delay_transient_statuses, c.port), (Some(1000), 8123));
        let c = parse_vec(&["stator", "--delay-transient-statuses", "250"]);
        assert_eq!(c.delay_transient_statuses, Some(250));
        assert_eq!(
            parse_vec(&["stator", "-cors", "*"]).cors_policy(),
            CorsPolicy::AnyOrigin
        );
        let help = normalize_args(["stator", "-help"].iter().map(|s| s.to_string()));
        let err = Cli::try_parse_from(help).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(err.to_string().contains("stator --in-memory"), "{err}");
    }

    #[test]
    fn contradictory_flags_are_refused() {
        for bad in [
            &["stator", "-inMemory", "-dbPath", "x"][..],
            &["stator", "--in-memory", "--data-dir", "x"],
            &["stator", "serve", "--in-memory", "--sync"],
        ] {
            let args = normalize_args(bad.iter().map(|s| s.to_string()));
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{bad:?}"
            );
            assert!(err.to_string().contains("cannot be used with"), "{err}");
        }
    }

    #[test]
    fn long_flags() {
        let c = parse_vec(&[
            "stator", "serve", "--port", "0", "--host", "0.0.0.0", "--sync",
        ]);
        assert_eq!(c.port, 0);
        assert_eq!(c.host, "0.0.0.0");
        assert!(c.sync);
    }
}
