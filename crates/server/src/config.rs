//! The command line: `stator serve [--port N] [--host H] [--data-dir D] [--in-memory]
//! [--sync] [--log-level L]`, plus DynamoDB Local's single-dash flags (`-port`,
//! `-inMemory`, `-dbPath`, `-sharedDb`) so Stator can replace it in existing scripts.
//! Without a subcommand, `serve` is assumed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "stator",
    version,
    about = "A fast, persistent DynamoDB-compatible server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server.
    Serve(ServeConfig),
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
    #[arg(long)]
    pub in_memory: bool,
    /// fsync every acknowledged write (group commit): survives power loss, not just crashes.
    #[arg(long)]
    pub sync: bool,
    /// Accepted for DynamoDB Local compatibility; Stator always has one shared database.
    #[arg(long, hide = true)]
    pub shared_db: bool,
    /// The most detailed kind of log line written to stderr.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
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
            _ => {
                out.push(arg);
                continue;
            }
        };
        out.push(mapped.to_string());
    }
    let has_subcommand = out.get(1).is_some_and(|a| {
        a == "serve" || a == "help" || a == "--help" || a == "-h" || a == "--version" || a == "-V"
    });
    if !has_subcommand {
        out.insert(1.min(out.len()), "serve".to_string());
    }
    out
}

pub fn parse() -> ServeConfig {
    let cli = Cli::parse_from(normalize_args(std::env::args()));
    match cli.command {
        Command::Serve(config) => config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_vec(args: &[&str]) -> ServeConfig {
        let args = normalize_args(args.iter().map(|s| s.to_string()));
        match Cli::try_parse_from(args).unwrap().command {
            Command::Serve(c) => c,
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
    }

    #[test]
    fn log_level_flag() {
        let c = parse_vec(&["stator", "serve", "--log-level", "debug"]);
        assert_eq!(c.log_level, LogLevel::Debug);
        let args = normalize_args(["stator", "--log-level", "loud"].map(String::from));
        assert!(Cli::try_parse_from(args).is_err());
    }

    #[test]
    fn dynamodb_local_flags_are_aliases() {
        let c = parse_vec(&["stator", "-port", "8123", "-inMemory", "-sharedDb"]);
        assert_eq!(c.port, 8123);
        assert!(c.in_memory);
        assert!(c.shared_db);
        let c = parse_vec(&["stator", "-dbPath", "/tmp/x"]);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
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
