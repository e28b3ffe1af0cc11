//! The HTTP listener: hyper 1, HTTP/1.1 keep-alive, one service function.
//!
//! Per request: answer `GET /` with the health text; otherwise require `POST /`, read the
//! body with a 16 MB cap (413 beyond it), gunzip it when `Content-Encoding: gzip` (same cap
//! on the inflated size), check authentication, resolve `X-Amz-Target`, run the operation,
//! and write the answer through `wire` with the request id generated for it. Engine calls
//! are synchronous and short; when the storage says its calls may block (`--sync`
//! durability waits for an fsync), they run on tokio's blocking pool so that many commits
//! can share one fsync without stalling the async workers. An internal error is logged
//! with its request id, operation and detail; the client only gets DynamoDB's generic text.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use stator_engine::{DynamoError, Engine, ErrorKind};
use tokio::net::TcpListener;
use tracing::Level;

use crate::wire::RequestId;
use crate::{auth, ops, wire};

/// DynamoDB's maximum request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Shared state of the running server.
pub struct Server {
    pub engine: Arc<Engine>,
    /// Run engine calls on the blocking pool: the storage says its calls may wait for I/O.
    pub blocking_engine_calls: bool,
    /// The region named in the health answer.
    pub health_region: String,
    health: HealthLog,
}

impl Server {
    pub fn new(engine: Arc<Engine>) -> Server {
        Server {
            blocking_engine_calls: engine.storage().calls_may_block(),
            engine,
            health_region: "us-east-1".to_string(),
            health: HealthLog::default(),
        }
    }
}

/// The last health state reported to the log, so that a change is logged once and not on
/// every probe. `None`: healthy.
#[derive(Default)]
struct HealthLog {
    last_problem: Mutex<Option<String>>,
}

impl HealthLog {
    /// Records the current state; returns it when it differs from the last one (the first
    /// observation of "healthy" is not a change).
    fn observe(&self, state: &Result<(), String>) -> Option<Result<(), String>> {
        let mut last = match self.last_problem.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let current = state.as_ref().err();
        if last.as_ref() == current {
            return None;
        }
        *last = current.cloned();
        Some(state.clone())
    }
}

/// The answer to `GET /`: DynamoDB's health text while the engine is healthy, 503 with the
/// reason otherwise. A change of state is logged (an error when it goes bad).
fn health(server: &Server) -> Answer {
    let state = server.engine.health();
    match server.health.observe(&state) {
        Some(Err(reason)) => tracing::error!(reason = %reason, "unhealthy"),
        Some(Ok(())) => tracing::info!("healthy again"),
        None => {}
    }
    match state {
        Ok(()) => Answer::Text(
            StatusCode::OK,
            format!("healthy: dynamodb.{}.amazonaws.com ", server.health_region),
        ),
        Err(reason) => Answer::Text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {reason}"),
        ),
    }
}

fn too_large() -> DynamoError {
    DynamoError::new(
        ErrorKind::RequestEntityTooLarge,
        format!("Request body exceeds the maximum size of {MAX_BODY_BYTES} bytes"),
    )
}

async fn read_body(headers: &HeaderMap, body: Incoming) -> Result<Bytes, DynamoError> {
    if let Some(len) = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > MAX_BODY_BYTES as u64 {
            return Err(too_large());
        }
    }
    let collected = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                DynamoError::new(ErrorKind::Serialization, "Could not read the request body")
            }
        })?;
    let mut bytes = collected.to_bytes();
    let gzip = headers
        .get(hyper::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if gzip {
        let mut inflated = Vec::new();
        let mut decoder =
            flate2::read::GzDecoder::new(bytes.as_ref()).take(MAX_BODY_BYTES as u64 + 1);
        decoder.read_to_end(&mut inflated).map_err(|_| {
            DynamoError::new(
                ErrorKind::Serialization,
                "The request body is not valid gzip data",
            )
        })?;
        if inflated.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        bytes = Bytes::from(inflated);
    }
    Ok(bytes)
}

/// What a request is answered with, before it becomes a response.
enum Answer {
    Json(Vec<u8>),
    Error(DynamoError),
    Text(StatusCode, String),
}

/// The operation named by `X-Amz-Target` (`DynamoDB_20120810.PutItem` → `PutItem`), for
/// the log; `-` when there is none.
fn operation_name(headers: &HeaderMap) -> &str {
    let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) else {
        return "-";
    };
    target.rsplit_once('.').map_or(target, |(_, name)| name)
}

/// The text of a panic's payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

async fn answer(
    server: &Arc<Server>,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Answer {
    if parts.uri.path() != "/" {
        return Answer::Text(StatusCode::NOT_FOUND, "Not Found".to_string());
    }
    match parts.method {
        Method::GET => return health(server),
        Method::POST => {}
        _ => {
            return Answer::Text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed".to_string(),
            )
        }
    }
    let body = match read_body(&parts.headers, body).await {
        Ok(body) => body,
        Err(e) => return Answer::Error(e),
    };
    let credentials = match auth::check(&parts.headers) {
        Ok(c) => c,
        Err(e) => return Answer::Error(e),
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let handler = match ops::resolve(target) {
        Ok(h) => h,
        Err(e) => return Answer::Error(e),
    };
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let run = move |server: &Server| {
        let ctx = ops::Context {
            engine: &server.engine,
            region: &credentials.region,
            host: &host,
        };
        // A panic in a handler is a bug; it becomes one logged internal error instead of
        // a connection dropped without an answer.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&ctx, &body)))
            .unwrap_or_else(|payload| {
                Err(DynamoError::internal(format!(
                    "panic in the operation handler: {}",
                    panic_message(payload.as_ref())
                )))
            })
    };
    let result = if server.blocking_engine_calls {
        let server = server.clone();
        tokio::task::spawn_blocking(move || run(&server))
            .await
            .unwrap_or_else(|e| {
                Err(DynamoError::internal(format!(
                    "the blocking task of the request failed: {e}"
                )))
            })
    } else {
        run(server)
    };
    match result {
        Ok(body) => Answer::Json(body),
        Err(e) => Answer::Error(e),
    }
}

/// Answers one request. The request id is generated here, once: the response carries it
/// and the log names it.
async fn handle(server: &Arc<Server>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let id = RequestId::generate();
    // The clock is read only when the per-request debug line will be written.
    let started = tracing::enabled!(Level::DEBUG).then(Instant::now);
    let (parts, body) = req.into_parts();
    let answer = answer(server, &parts, body).await;
    let (response, error_type) = respond(&id, &parts.headers, answer);
    if let Some(started) = started {
        tracing::debug!(
            request_id = %id,
            operation = operation_name(&parts.headers),
            status = response.status().as_u16(),
            error = error_type,
            latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    }
    response
}

/// Turns an answer into the response, logging an internal error (with `id`, the same id
/// the response carries, and the operation named in `headers`). Also returns the DynamoDB
/// error type, if the answer is an error.
fn respond(
    id: &RequestId,
    headers: &HeaderMap,
    answer: Answer,
) -> (Response<Full<Bytes>>, Option<&'static str>) {
    match answer {
        Answer::Json(body) => (wire::json_response(id, body), None),
        Answer::Text(status, text) => (wire::text_response(id, status, &text), None),
        Answer::Error(error) => {
            if error.kind == ErrorKind::InternalServerError {
                log_internal_error(id, operation_name(headers), &error);
            }
            (wire::error_response(id, &error), Some(error.kind.name()))
        }
    }
}

fn log_internal_error(id: &RequestId, operation: &str, error: &DynamoError) {
    tracing::error!(
        request_id = %id,
        operation,
        detail = error.detail.as_deref().unwrap_or("(none)"),
        "internal server error"
    );
}

/// Accepts connections until `shutdown` resolves, then lets in-flight requests finish (up to
/// a grace period) and returns.
///
/// Connections are dealt round-robin to `workers` (handles of single-threaded runtimes, one
/// per core; the first is the runtime this future runs on). A connection stays on its
/// worker for its whole life, so a request is read, handled and answered by one thread
/// with no cross-thread wake-ups: measured with the benchmark's `{}` server on one core,
/// this answers 10-20% more requests per CPU-second than tokio's work-stealing scheduler.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    workers: Vec<tokio::runtime::Handle>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    let mut next = 0usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer): (_, SocketAddr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors or similar: back off briefly, keep serving.
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let worker = next % workers.len().max(1);
                next = next.wrapping_add(1);
                if worker == 0 || workers.len() < 2 {
                    tokio::spawn(serve_connection(stream, server.clone(), graceful.watcher()));
                    continue;
                }
                // A socket belongs to the reactor it was registered with: hand the worker
                // the plain socket and let it register it with its own.
                let Ok(std_stream) = stream.into_std() else { continue };
                let (server, watcher) = (server.clone(), graceful.watcher());
                workers[worker].spawn(async move {
                    if let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) {
                        serve_connection(stream, server, watcher).await;
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing the requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    server: Arc<Server>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let service = hyper::service::service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&server, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // Copy each answer's body behind its head and send both with one plain write
        // instead of a two-part writev: A/B over 8 alternating GetItem runs, +2.7% requests
        // per server-CPU-second (1 KB answers); neutral for 10 KB Query pages.
        .writev(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = watcher.watch(conn).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_storage::{MemoryStorage, Snapshot, Storage, StorageError, WriteTransaction};
    use std::io::Write;

    /// Captures what the code under test logs, as text.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }

        /// Runs `f` with the log going here, at `level`.
        fn during<T>(&self, level: Level, f: impl FnOnce() -> T) -> T {
            let out = self.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || out.clone())
                .with_max_level(level)
                .finish();
            tracing::subscriber::with_default(subscriber, f)
        }
    }

    /// The memory backend with a health problem that the test can set.
    struct Ailing {
        inner: MemoryStorage,
        problem: Mutex<Option<String>>,
    }

    impl Storage for Ailing {
        fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StorageError> {
            self.inner.snapshot()
        }
        fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError> {
            self.inner.begin_write()
        }
        fn flush(&self) -> Result<(), StorageError> {
            self.inner.flush()
        }
        fn kind(&self) -> &'static str {
            "ailing"
        }
        fn calls_may_block(&self) -> bool {
            true
        }
        fn health(&self) -> Result<(), String> {
            match self.problem.lock().unwrap().clone() {
                Some(problem) => Err(problem),
                None => Ok(()),
            }
        }
    }

    fn text_of(answer: Answer) -> (StatusCode, String) {
        match answer {
            Answer::Text(status, text) => (status, text),
            _ => panic!("not a text answer"),
        }
    }

    #[test]
    fn engine_calls_block_only_when_the_storage_says_they_may() {
        let memory = Arc::new(MemoryStorage::new());
        let engine = Engine::open(memory, stator_engine::EngineConfig::default()).unwrap();
        assert!(!Server::new(engine).blocking_engine_calls);
        let dir = tempfile::tempdir().unwrap();
        for (durability, blocks) in [
            (stator_storage::Durability::Process, false),
            (stator_storage::Durability::Sync, true),
        ] {
            let path = dir.path().join(format!("{durability:?}"));
            let disk = Arc::new(stator_storage::DiskStorage::open(&path, durability).unwrap());
            let engine = Engine::open(disk, stator_engine::EngineConfig::default()).unwrap();
            let server = Server::new(engine);
            assert_eq!(server.blocking_engine_calls, blocks, "{durability:?}");
            server.engine.shutdown().unwrap();
        }
    }

    #[test]
    fn health_answers_and_logs_changes_once() {
        let storage = Arc::new(Ailing {
            inner: MemoryStorage::new(),
            problem: Mutex::new(None),
        });
        let engine = Engine::open(storage.clone(), stator_engine::EngineConfig::default()).unwrap();
        let server = Server::new(engine);
        assert!(server.blocking_engine_calls, "follows calls_may_block");
        let log = Captured::default();
        let probe = || log.during(Level::INFO, || text_of(health(&server)));

        assert_eq!(
            probe(),
            (
                StatusCode::OK,
                "healthy: dynamodb.us-east-1.amazonaws.com ".to_string()
            )
        );
        assert_eq!(log.text(), "", "a healthy start is not news");

        *storage.problem.lock().unwrap() = Some("disk full".to_string());
        for _ in 0..3 {
            assert_eq!(
                probe(),
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unhealthy: disk full".to_string()
                )
            );
        }
        let text = log.text();
        assert_eq!(text.matches("ERROR").count(), 1, "{text}");
        assert!(text.contains("disk full"), "{text}");

        *storage.problem.lock().unwrap() = Some("journal unwritable".to_string());
        assert_eq!(probe().0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            log.text().matches("ERROR").count(),
            2,
            "a new reason is news"
        );

        *storage.problem.lock().unwrap() = None;
        assert_eq!(probe().0, StatusCode::OK);
        assert_eq!(probe().0, StatusCode::OK);
        let text = log.text();
        assert_eq!(text.matches("healthy again").count(), 1, "{text}");
    }

    #[test]
    fn internal_errors_are_logged_with_the_response_request_id() {
        let log = Captured::default();
        let id = RequestId::generate();
        let error = DynamoError::internal("storage: checksum mismatch in block 7");
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", "DynamoDB_20120810.PutItem".parse().unwrap());
        let (response, error_type) =
            log.during(Level::INFO, || respond(&id, &headers, Answer::Error(error)));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error_type, Some("InternalServerError"));
        assert_eq!(response.headers()["x-amzn-requestid"], id.as_str());
        let text = log.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("ERROR"), "{text}");
        assert!(text.contains(id.as_str()), "{text}");
        assert!(text.contains("PutItem"), "{text}");
        assert!(text.contains("checksum mismatch in block 7"), "{text}");

        // Other errors and successes log nothing at the default level.
        let log = Captured::default();
        log.during(Level::INFO, || {
            respond(&id, &headers, Answer::Error(DynamoError::table_not_found()));
            respond(&id, &headers, Answer::Json(b"{}".to_vec()));
        });
        assert_eq!(log.text(), "");
    }

    #[test]
    fn panics_become_internal_errors_with_their_message() {
        let payload: Box<dyn std::any::Any + Send> = Box::new("index out of bounds");
        assert_eq!(panic_message(payload.as_ref()), "index out of bounds");
        let payload: Box<dyn std::any::Any + Send> = Box::new(format!("bad {}", 7));
        assert_eq!(panic_message(payload.as_ref()), "bad 7");
        let payload: Box<dyn std::any::Any + Send> = Box::new(7u8);
        assert_eq!(panic_message(payload.as_ref()), "(no message)");
    }

    #[test]
    fn operation_names_come_from_the_target() {
        let mut headers = HeaderMap::new();
        assert_eq!(operation_name(&headers), "-");
        headers.insert("x-amz-target", "DynamoDB_20120810.PutItem".parse().unwrap());
        assert_eq!(operation_name(&headers), "PutItem");
        headers.insert("x-amz-target", "nonsense".parse().unwrap());
        assert_eq!(operation_name(&headers), "nonsense");
    }
}
