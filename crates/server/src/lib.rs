//! Stator's server: the DynamoDB wire protocol over HTTP, the API operations, and start-up.
//!
//! ```text
//! http (listener, head and body limits, CORS; coding: Content-Encoding) → auth
//!      → stator_api::resolve(X-Amz-Target)
//!      → json::handle: decode JSON → stator_api::ops::<op>::run (validate, engine call,
//!        typed output) → encode JSON
//!      → wire (the one response writer: request id, CRC-32, content type, Server,
//!        compression chosen by coding from Accept-Encoding)
//! ```
//! `config` turns the command line into a [`config::ServeConfig`]; [`init_logging`] installs
//! the process-wide log subscriber (stderr); [`run`] opens storage and the engine, binds the
//! listener, logs the effective settings, prints the endpoint on stdout and serves until
//! SIGINT/SIGTERM, then drains in-flight requests and flushes storage.

pub mod admin;
pub mod auth;
pub mod coding;
pub mod config;
pub mod fingerprint;
pub mod headers;
pub mod http;
pub mod json;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use stator_engine::{Engine, EngineConfig};
use stator_storage::{DiskStorage, MemoryStorage, Storage};

use config::{LogLevel, ServeConfig};

/// Installs the log subscriber for the whole process: one line per event on stderr (stdout
/// stays for the endpoint line that scripts read), events above `level` dropped before they
/// are formatted. Every crate logs through the `tracing` macros (`tracing::error!` and so
/// on) and needs nothing else. Records of the `log` crate (fjall's) are forwarded into the
/// same subscriber, at `warn` and above unless `level` is `debug` or `trace`: fjall's
/// `info` lines narrate its internals (a database created, a table file ingested) and
/// would outnumber Stator's own.
pub fn init_logging(level: LogLevel) -> Result<(), String> {
    use tracing::level_filters::LevelFilter;
    use tracing_log::log;
    let (filter, log_filter) = match level {
        LogLevel::Error => (LevelFilter::ERROR, log::LevelFilter::Error),
        LogLevel::Warn => (LevelFilter::WARN, log::LevelFilter::Warn),
        LogLevel::Info => (LevelFilter::INFO, log::LevelFilter::Warn),
        LogLevel::Debug => (LevelFilter::DEBUG, log::LevelFilter::Debug),
        LogLevel::Trace => (LevelFilter::TRACE, log::LevelFilter::Trace),
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(filter)
        // Plain text even if some dependency turns colours on: logs go to files and
        // collectors more often than to terminals.
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("cannot install the logger: {e}"))?;
    tracing_log::LogTracer::init_with_filter(log_filter)
        .map_err(|e| format!("cannot forward log records: {e}"))
}

/// `stator dump`: every record of the on-disk database in `config.data_dir`, decoded, on
/// stdout. The directory must exist (a dump never creates a database).
pub fn dump(config: &config::DumpConfig) -> Result<(), String> {
    let dir = &config.data_dir;
    if !dir.join("version").exists() {
        return Err(format!("{} holds no Stator database", dir.display()));
    }
    let storage =
        DiskStorage::open(dir, stator_storage::Durability::Process).map_err(|e| match e {
            stator_storage::StorageError::InUse(message) => message,
            e => format!("cannot open {}: {e}", dir.display()),
        })?;
    let snapshot = storage.snapshot().map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    stator_engine::dump::dump(snapshot.as_ref(), &mut out).map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| format!("cannot write the dump: {e}"))
}

/// Opens the configured storage backend.
pub fn open_storage(config: &ServeConfig) -> Result<Arc<dyn Storage>, String> {
    if config.in_memory {
        return Ok(Arc::new(MemoryStorage::new()));
    }
    let durability = if config.sync {
        stator_storage::Durability::Sync
    } else {
        stator_storage::Durability::Process
    };
    DiskStorage::open(&config.data_dir, durability)
        .map(|s| Arc::new(s) as Arc<dyn Storage>)
        .map_err(|e| match e {
            // The message says it all, naming the directory.
            stator_storage::StorageError::InUse(message) => message,
            e => format!(
                "cannot open data directory {}: {e}",
                config.data_dir.display()
            ),
        })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// How many connections the kernel may queue for `accept`. At `--max-connections` the
/// server stops accepting and new clients wait here, so it is larger than the default of
/// 128 that `TcpListener::bind` uses (Linux caps it at `net.core.somaxconn`, 4096 by
/// default). Beyond it, the kernel drops connection attempts and clients retry them.
const LISTEN_BACKLOG: u32 = 1024;

/// Binds the first address `host:port` resolves to that accepts a listener.
async fn listen(host: &str, port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let bound = socket.and_then(|socket| {
            // As `TcpListener::bind` does: a restarted server can take its port back at
            // once, while the old connections are still in TIME_WAIT.
            #[cfg(unix)]
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(LISTEN_BACKLOG)
        });
        match bound {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "the host name resolves to no address",
        )
    }))
}

/// Writes one line to stdout and flushes it, ignoring errors: scripts read the first line to
/// learn the endpoint, and a reader that went away must not crash the server.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A single-threaded runtime on its own thread, serving the connections dealt to it.
struct Worker {
    handle: tokio::runtime::Handle,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Starts `count` worker threads.
fn start_workers(count: usize) -> Result<Vec<Worker>, String> {
    let mut workers = Vec::with_capacity(count);
    for i in 0..count {
        let rt = runtime()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("stator-worker-{}", i + 1))
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        workers.push(Worker {
            handle,
            stop,
            thread,
        });
    }
    Ok(workers)
}

/// Runs the server until a shutdown signal.
///
/// Threads: one single-threaded async runtime per available core (as the OS reports it,
/// so `taskset` and container CPU limits are respected). The main thread's runtime accepts
/// connections and serves its share; the others serve theirs (see [`http::serve`]).
pub fn run(config: ServeConfig) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = runtime()?;
    let workers = start_workers(cores.saturating_sub(1))?;
    let mut handles = vec![runtime.handle().clone()];
    handles.extend(workers.iter().map(|w| w.handle.clone()));
    let result = runtime.block_on(async move {
        let storage = open_storage(&config)?;
        let engine_config = EngineConfig {
            account_id: config.account_id.clone(),
            clock: config.clock.clock(),
            capacity: config.capacity.mode(),
            transient_delay: Duration::from_millis(config.delay_transient_statuses.unwrap_or(0)),
            ..EngineConfig::default()
        };
        let engine = Engine::open(storage, engine_config).map_err(|e| e.to_string())?;
        let listener = listen(&config.host, config.port)
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        let limits = config.connection_limits();
        let mut server = http::Server::new(engine.clone(), limits);
        server.cors = config.cors_policy();
        server.admin_anywhere = config.admin_anywhere;
        let server = Arc::new(server);
        let storage_desc = if config.in_memory {
            "in memory".to_string()
        } else {
            format!("on disk at {}", config.data_dir.display())
        };
        let durability = match (config.in_memory, config.sync) {
            // What an acknowledged write survives: nothing, a crash of the process, a
            // crash of the machine.
            (true, _) => "none",
            (false, false) => "process",
            (false, true) => "sync",
        };
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            host = %config.host,
            port = addr.port(),
            storage = engine.storage().kind(),
            data = storage_desc.as_str(),
            durability,
            worker_threads = cores,
            blocking_engine_calls = server.blocking_engine_calls,
            log_level = config.log_level.as_str(),
            header_timeout_secs = config.header_timeout_secs,
            idle_timeout_secs = config.idle_timeout_secs,
            max_connections = config.max_connections,
            cors = config.cors.as_str(),
            account_id = config.account_id.as_str(),
            capacity = config.capacity.mode().as_str(),
            clock = config.clock.describe().as_str(),
            admin_anywhere = config.admin_anywhere,
            "Stator started"
        );
        // Output errors (a closed stdout pipe) must never stop the server.
        say(&format!(
            "Stator listening on http://{addr} (data {storage_desc})"
        ));
        http::serve(listener, server, handles, shutdown_signal()).await;
        engine.shutdown().map_err(|e| e.to_string())?;
        tracing::info!("Stator stopped");
        say("Stator stopped");
        Ok(())
    });
    for worker in workers {
        let _ = worker.stop.send(());
        let _ = worker.thread.join();
    }
    result
}
