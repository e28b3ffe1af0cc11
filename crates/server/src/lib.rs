//! Stator's server: the DynamoDB wire protocol over HTTP, the API operations, and start-up.
//!
//! ```text
//! http (listener, body limits, gzip) → auth → stator_api::resolve(X-Amz-Target)
//!      → json::handle: decode JSON → stator_api::ops::<op>::run (validate, engine call,
//!        typed output) → encode JSON
//!      → wire (the one response writer: request id, CRC-32, content type)
//! ```
//! `config` turns the command line into a [`config::ServeConfig`]; [`run`] opens storage and
//! the engine, binds the listener, prints the endpoint and serves until SIGINT/SIGTERM, then
//! drains in-flight requests and flushes storage.

pub mod auth;
pub mod config;
pub mod fingerprint;
pub mod http;
pub mod json;
pub mod wire;

use std::sync::Arc;

use stator_engine::{Engine, EngineConfig};
use stator_storage::{DiskStorage, MemoryStorage, Storage};

use config::ServeConfig;

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
        .map_err(|e| {
            format!(
                "cannot open data directory {}: {e}",
                config.data_dir.display()
            )
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
        let engine = Engine::open(storage, EngineConfig::default()).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        let server = Arc::new(http::Server {
            engine: engine.clone(),
            blocking_engine_calls: config.sync,
            health_region: "us-east-1".to_string(),
        });
        let storage_desc = if config.in_memory {
            "in memory".to_string()
        } else {
            format!("on disk at {}", config.data_dir.display())
        };
        // Output errors (a closed stdout pipe) must never stop the server.
        say(&format!(
            "Stator listening on http://{addr} (data {storage_desc})"
        ));
        http::serve(listener, server, handles, shutdown_signal()).await;
        engine.shutdown().map_err(|e| e.to_string())?;
        say("Stator stopped");
        Ok(())
    });
    for worker in workers {
        let _ = worker.stop.send(());
        let _ = worker.thread.join();
    }
    result
}
