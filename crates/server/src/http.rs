//! The HTTP listener: hyper 1, HTTP/1.1 keep-alive, one service function.
//!
//! Per connection: [`serve`] takes a slot under the `--max-connections` cap before it
//! accepts (so at the cap new connections wait in the kernel's listen backlog), and a
//! watchdog thread (`Watchdog`) closes a connection that keeps the server waiting: no complete request head
//! within the header timeout (counted from accept, or on a keep-alive connection from the
//! first byte of the next request), a request body that stops arriving for as long, or no
//! request at all for the idle timeout after the last answer was written. A request being
//! processed or an answer being written is never timed out.
//!
//! Per request: answer `GET /` with the health text; otherwise require `POST /`, read the
//! body with a 16 MB cap (413 beyond it), undo its `Content-Encoding` (gzip, deflate; any
//! other coding refuses the request unexecuted; the same cap on the inflated size), check
//! authentication, resolve `X-Amz-Target`, run the operation, and write the answer through `wire` with the request id generated for it. Engine calls
//! are synchronous and short; when the storage says its calls may block (`--sync`
//! durability waits for an fsync), they run on tokio's blocking pool so that many commits
//! can share one fsync without stalling the async workers. An internal error is logged
//! with its request id, operation and detail; the client only gets DynamoDB's generic text.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use stator_engine::{DynamoError, Engine, ErrorKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tracing::Level;

use crate::headers::text as header_text;
use crate::wire::RequestId;
use crate::{admin, auth, coding, json, wire};

/// DynamoDB's maximum request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long connections may keep the server waiting, and how many there may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request head must be complete this long after the connection was accepted or the
    /// next request's first byte arrived; a request body may pause this long. `None`: no
    /// limit.
    pub header_timeout: Option<Duration>,
    /// A keep-alive connection with no request for this long is closed. `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// The longest the watchdog sleeps between two looks at a connection: the shortest
    /// timeout. The phase may change while it sleeps (a request ends and the idle clock
    /// starts), and a deadline that starts after a look is then still no earlier than the
    /// next look. `None` when no timeout is set.
    fn recheck(&self) -> Option<Duration> {
        match (self.header_timeout, self.idle_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Shared state of the running server.
pub struct Server {
    pub engine: Arc<Engine>,
    /// Run engine calls on the blocking pool: the storage says its calls may wait for I/O.
    pub blocking_engine_calls: bool,
    pub limits: ConnectionLimits,
    /// Which browser origins get CORS headers.
    pub cors: CorsPolicy,
    /// Answer the admin API (`/_stator/…`) for non-loopback clients too.
    pub admin_anywhere: bool,
    health: HealthLog,
}

impl Server {
    pub fn new(engine: Arc<Engine>, limits: ConnectionLimits) -> Server {
        Server {
            blocking_engine_calls: engine.storage().calls_may_block(),
            engine,
            limits,
            cors: CorsPolicy::AnyOrigin,
            admin_anywhere: false,
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

/// The answer to `GET /`: DynamoDB's health text (`healthy: ` and the host the client
/// addressed) while the engine is healthy, 503 with the reason otherwise. A change of state
/// is logged (an error when it goes bad).
fn health(server: &Server, headers: &HeaderMap) -> Answer {
    let state = server.engine.health();
    match server.health.observe(&state) {
        Some(Err(reason)) => tracing::error!(reason = %reason, "unhealthy"),
        Some(Ok(())) => tracing::info!("healthy again"),
        None => {}
    }
    match state {
        Ok(()) => Answer::Text(
            StatusCode::OK,
            format!("healthy: {} ", request_host(headers)),
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
        .and_then(header_text)
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
    let bytes = collected.to_bytes();
    let codings = coding::request_codings(headers)?;
    coding::decode_body(bytes, &codings, MAX_BODY_BYTES, too_large)
}

/// The host the client addressed (`Host`), `localhost` without one.
fn request_host(headers: &HeaderMap) -> &str {
    headers
        .get(hyper::header::HOST)
        .and_then(header_text)
        .unwrap_or("localhost")
}

/// Which browser origins a response answers with CORS headers (`--cors`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsPolicy {
    /// Every origin: `Access-Control-Allow-Origin: *` (the default, as DynamoDB does).
    AnyOrigin,
    /// Only these origins, each echoed back; other origins get no CORS headers.
    Origins(Vec<String>),
}

/// Headers a browser script may read from a response.
const CORS_EXPOSE_HEADERS: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-crc32,Date";
/// How long a browser may cache a preflight's answer, in seconds.
const CORS_MAX_AGE: &str = "172800";

/// Adds the CORS headers a request with an allowed `Origin` gets; an `OPTIONS` preflight
/// also gets the methods and headers it asked for, echoed, and how long to cache that.
fn add_cors(policy: &CorsPolicy, request: &HeaderMap, method: &Method, response: &mut HeaderMap) {
    use hyper::header::{self, HeaderValue};
    let Some(origin) = request.get(header::ORIGIN) else {
        return;
    };
    let allow = match policy {
        CorsPolicy::AnyOrigin => HeaderValue::from_static("*"),
        CorsPolicy::Origins(allowed) => {
            let Some(text) = header_text(origin) else {
                return;
            };
            if !allowed
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case(text))
            {
                return;
            }
            origin.clone()
        }
    };
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    response.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSE_HEADERS),
    );
    if *method != Method::OPTIONS {
        return;
    }
    response.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(CORS_MAX_AGE),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        response.insert(header::ACCESS_CONTROL_ALLOW_METHODS, asked.clone());
    }
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        response.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
}

/// What a request is answered with, before it becomes a response.
enum Answer {
    Json(Vec<u8>),
    /// An admin API answer (`crate::admin`): plain JSON, its own status.
    Admin(admin::Reply),
    Error(DynamoError),
    Text(StatusCode, String),
}

/// `X-Amz-Target`, the operation's name; a constant so that a look-up does not parse and
/// validate the name each time, as a `&str` key does.
static X_AMZ_TARGET: hyper::header::HeaderName =
    hyper::header::HeaderName::from_static("x-amz-target");

/// The operation named by `X-Amz-Target` (`DynamoDB_20120810.PutItem` → `PutItem`), for
/// the log; `-` when there is none.
fn operation_name(headers: &HeaderMap) -> &str {
    let Some(target) = headers.get(&X_AMZ_TARGET).and_then(header_text) else {
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

/// Whether `peer` is on this machine (IPv4 or IPv6 loopback, also IPv4-mapped).
fn is_loopback(peer: &SocketAddr) -> bool {
    match peer.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback(),
        std::net::IpAddr::V6(ip) => ip
            .to_ipv4_mapped()
            .map_or(ip.is_loopback(), |v4| v4.is_loopback()),
    }
}

/// An admin API request: refused for other machines unless `--admin-anywhere`.
async fn admin_answer(
    server: &Arc<Server>,
    peer: SocketAddr,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Answer {
    if !server.admin_anywhere && !is_loopback(&peer) {
        return Answer::Admin(admin::forbidden());
    }
    let body = match read_body(&parts.headers, body).await {
        Ok(body) => body,
        Err(e) => return Answer::Error(e),
    };
    Answer::Admin(admin::answer(
        &server.engine,
        &parts.method,
        parts.uri.path(),
        &body,
    ))
}

async fn answer(
    server: &Arc<Server>,
    activity: &Activity,
    peer: SocketAddr,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Answer {
    if parts.uri.path() != "/" {
        if admin::is_admin_path(parts.uri.path()) {
            return admin_answer(server, peer, parts, body).await;
        }
        return Answer::Text(StatusCode::NOT_FOUND, "Not Found".to_string());
    }
    match parts.method {
        Method::GET => return health(server, &parts.headers),
        Method::OPTIONS => return Answer::Text(StatusCode::OK, String::new()),
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
    activity.enter(Phase::Busy);
    let credentials = match auth::check(&parts.headers) {
        Ok(c) => c,
        Err(e) => return Answer::Error(e),
    };
    let target = parts.headers.get(&X_AMZ_TARGET).and_then(header_text);
    let op = match stator_api::resolve(target) {
        Ok(op) => op,
        Err(e) => return Answer::Error(e),
    };
    let run = move |server: &Server, host: Option<&str>| {
        let ctx = stator_api::Context {
            engine: &server.engine,
            region: &credentials.region,
            host,
        };
        // A panic in a handler is a bug; it becomes one logged internal error instead of
        // a connection dropped without an answer.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            json::handle(op, &ctx, &body)
        }))
        .unwrap_or_else(|payload| {
            Err(DynamoError::internal(format!(
                "panic in the operation handler: {}",
                panic_message(payload.as_ref())
            )))
        })
    };
    let result = if server.blocking_engine_calls {
        let server = server.clone();
        let host = op
            .uses_host()
            .then(|| request_host(&parts.headers).to_string());
        tokio::task::spawn_blocking(move || run(&server, host.as_deref()))
            .await
            .unwrap_or_else(|e| {
                Err(DynamoError::internal(format!(
                    "the blocking task of the request failed: {e}"
                )))
            })
    } else {
        // The Host header is looked up only for the operation that answers with it.
        run(server, op.uses_host().then(|| request_host(&parts.headers)))
    };
    match result {
        Ok(body) => Answer::Json(body),
        Err(e) => Answer::Error(e),
    }
}

/// Answers one request. The request id is generated here, once: the response carries it
/// and the log names it.
async fn handle(
    server: &Arc<Server>,
    activity: &Activity,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let id = RequestId::generate();
    // The clock is read only when the per-request debug line will be written.
    let started = tracing::enabled!(Level::DEBUG).then(Instant::now);
    let (parts, body) = req.into_parts();
    let answer = answer(server, activity, peer, &parts, body).await;
    let (mut response, error_type) = respond(&id, &parts.headers, answer);
    add_cors(
        &server.cors,
        &parts.headers,
        &parts.method,
        response.headers_mut(),
    );
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
        Answer::Json(body) => {
            // Most answers are too small to compress: `Accept-Encoding` is read only for
            // one that may be.
            let coding = (body.len() > coding::COMPRESS_ABOVE)
                .then(|| coding::response_coding(headers))
                .flatten();
            (wire::json_response(id, body, coding), None)
        }
        Answer::Text(status, text) => (wire::text_response(id, status, &text), None),
        Answer::Admin((status, body)) => (wire::admin_response(id, status, body), None),
        Answer::Error(error) => {
            let coding = coding::response_coding(headers);
            if error.kind == ErrorKind::InternalServerError {
                log_internal_error(id, operation_name(headers), &error);
            }
            (
                wire::error_response(id, &error, coding),
                Some(error.kind.name()),
            )
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
/// At most `server.limits.max_connections` connections are open at once: the listener is
/// not polled while all slots are taken, so further clients wait in the kernel's listen
/// backlog (their connect succeeds, their request is read once a slot frees) rather than
/// being refused — a burst costs latency instead of errors — and the file descriptors left
/// to storage stay bounded.
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
    let slots = Arc::new(tokio::sync::Semaphore::new(
        server
            .limits
            .max_connections
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
    ));
    tokio::pin!(shutdown);
    let watchdog = Watchdog::start(server.limits);
    let mut next = 0usize;
    let mut at_cap = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if !at_cap {
                    at_cap = true;
                    tracing::warn!(
                        max_connections = server.limits.max_connections,
                        "connection limit reached; new connections wait in the listen backlog"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    _ = &mut shutdown => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors or similar: back off briefly, keep serving.
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if at_cap && slots.available_permits() > 0 {
            at_cap = false;
        }
        let _ = stream.set_nodelay(true);
        let worker = next % workers.len().max(1);
        next = next.wrapping_add(1);
        if worker == 0 || workers.len() < 2 {
            let (server, watcher, watchdog) =
                (server.clone(), graceful.watcher(), watchdog.clone());
            tokio::spawn(async move {
                serve_connection(stream, peer, server, watcher, watchdog).await;
                drop(slot);
            });
            continue;
        }
        // A socket belongs to the reactor it was registered with: hand the worker
        // the plain socket and let it register it with its own.
        let Ok(std_stream) = stream.into_std() else {
            continue;
        };
        let (server, watcher, watchdog) = (server.clone(), graceful.watcher(), watchdog.clone());
        workers[worker].spawn(async move {
            if let Ok(stream) = TcpStream::from_std(std_stream) {
                serve_connection(stream, peer, server, watcher, watchdog).await;
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing the requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    if let Some(watchdog) = watchdog {
        watchdog.stop();
    }
}

/// What one connection shares between its service function and its socket.
struct Connection {
    server: Arc<Server>,
    activity: Activity,
    peer: SocketAddr,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    server: Arc<Server>,
    watcher: hyper_util::server::graceful::Watcher,
    watchdog: Option<Arc<Watchdog>>,
) {
    let connection = Arc::new(Connection {
        server,
        activity: Activity::new(coarse_nanos()),
        peer,
    });
    let io = TokioIo::new(Watched::new(stream, connection.clone()));
    let for_service = connection.clone();
    let service = hyper::service::service_fn(move |req| {
        let connection = for_service.clone();
        async move {
            let activity = &connection.activity;
            activity.set(Phase::Body, coarse_nanos());
            let response = handle(&connection.server, activity, connection.peer, req).await;
            activity.enter(Phase::Responding);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // Copy each answer's body behind its head and send both with one plain write
        // instead of a two-part writev: A/B over 8 alternating GetItem runs, +2.7% requests
        // per server-CPU-second (1 KB answers); neutral for 10 KB Query pages.
        .writev(false)
        .serve_connection(io, service);
    let conn = async move {
        let _ = watcher.watch(conn).await;
    };
    let Some(watchdog) = watchdog else {
        conn.await;
        return;
    };
    // The connection runs in a task of its own, which the watchdog thread aborts when a
    // timeout expires: dropping the connection's future closes the socket, and waiting for
    // the task here keeps the connection's slot taken until it is closed. The requests
    // themselves just note the time in `Activity`.
    let task = tokio::spawn(conn);
    watchdog.watch(connection, task.abort_handle(), peer);
    let _ = task.await;
}

/// The connection timeouts, kept by one thread of its own for the whole server.
///
/// Why a thread and not a timer per connection on the serving runtime: a pending tokio
/// timer makes the runtime wait for events with `epoll_wait(…, timeout)` instead of
/// `epoll_wait(…, -1)`, and the kernel then arms a high-resolution timer every time the
/// worker goes to sleep between requests, which a virtual machine pays for in the kernel
/// (with two smaller changes of the same step, GetItem in memory +2.2% requests per
/// server-CPU-second; docs/benchmarks.md). This thread
/// wakes at the earliest deadline of the connections it watches, at least every
/// `recheck` (the shortest timeout), and aborts the tasks of those that expired.
pub(crate) struct Watchdog {
    limits: ConnectionLimits,
    recheck: Duration,
    state: Mutex<WatchdogState>,
    wake: std::sync::Condvar,
}

#[derive(Default)]
struct WatchdogState {
    watched: Vec<(Arc<Connection>, tokio::task::AbortHandle, SocketAddr)>,
    stopped: bool,
}

impl Watchdog {
    /// Starts the watchdog thread; `None` when no timeout is set (nothing to watch).
    pub(crate) fn start(limits: ConnectionLimits) -> Option<Arc<Watchdog>> {
        let recheck = limits.recheck()?;
        let watchdog = Arc::new(Watchdog {
            limits,
            recheck,
            state: Mutex::new(WatchdogState::default()),
            wake: std::sync::Condvar::new(),
        });
        let looking = watchdog.clone();
        let spawned = std::thread::Builder::new()
            .name("stator-timeouts".into())
            .spawn(move || looking.run());
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the connection watchdog; connections have no timeouts");
            return None;
        }
        Some(watchdog)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WatchdogState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn watch(&self, connection: Arc<Connection>, task: tokio::task::AbortHandle, peer: SocketAddr) {
        self.state().watched.push((connection, task, peer));
    }

    /// Ends the thread (the server is shutting down).
    pub(crate) fn stop(&self) {
        self.state().stopped = true;
        self.wake.notify_all();
    }

    fn run(&self) {
        let recheck = nanos_of(self.recheck);
        let mut state = self.state();
        while !state.stopped {
            let now = coarse_nanos();
            let mut next = now.saturating_add(recheck);
            state.watched.retain(|(connection, task, peer)| {
                if task.is_finished() {
                    return false;
                }
                match activity_check(&connection.activity, &self.limits, recheck, now) {
                    Check::At(deadline) => {
                        next = next.min(deadline);
                        true
                    }
                    Check::Expired(reason) => {
                        tracing::debug!(%peer, reason, "closing connection");
                        task.abort();
                        false
                    }
                }
            });
            let wait = Duration::from_nanos(next.saturating_sub(coarse_nanos()));
            state = match self.wake.wait_timeout(state, wait) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// What a connection is doing, as far as its timeouts care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Waiting for (the rest of) a request head: since accept, or since the first byte of
    /// the next request on a keep-alive connection.
    Head = 0,
    /// The head is complete and the body is being read; the time is that of the last
    /// progress (the head, or a read of body bytes).
    Body = 1,
    /// The request is being processed.
    Busy = 2,
    /// The answer is built and being written.
    Responding = 3,
    /// The answer is written; waiting for the next request's first byte.
    Idle = 4,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            0 => Phase::Head,
            1 => Phase::Body,
            2 => Phase::Busy,
            3 => Phase::Responding,
            _ => Phase::Idle,
        }
    }
}

/// A connection's phase and when it began, written by the service function and the socket
/// wrapper, read by the connection's watchdog. All three run in the connection's one task,
/// so relaxed atomics suffice (they are atomics only because the task must be `Send`).
struct Activity {
    phase: AtomicU8,
    /// When the phase began (or the body last progressed), in [`coarse_nanos`].
    since: AtomicU64,
}

impl Activity {
    fn new(opened: u64) -> Activity {
        Activity {
            phase: AtomicU8::new(Phase::Head as u8),
            since: AtomicU64::new(opened),
        }
    }

    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }

    /// A phase whose start time does not matter (no timeout runs in it): no clock read.
    fn enter(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn set(&self, phase: Phase, now: u64) {
        self.since.store(now, Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn since(&self) -> u64 {
        self.since.load(Ordering::Relaxed)
    }

    /// Bytes arrived from the client: the first byte of a request after an idle period
    /// starts its header clock; body bytes are progress.
    fn received(&self) {
        match self.phase() {
            Phase::Idle => self.set(Phase::Head, coarse_nanos()),
            Phase::Body => self.set(Phase::Body, coarse_nanos()),
            Phase::Head | Phase::Busy | Phase::Responding => {}
        }
    }

    /// Everything written so far has been flushed to the socket: after an answer, the
    /// connection is idle from now on.
    fn flushed(&self) {
        if self.phase() == Phase::Responding {
            self.set(Phase::Idle, coarse_nanos());
        }
    }
}

/// The time for the per-request bookkeeping of [`Activity`] and for the watchdog: the
/// monotonic clock as of the kernel's last timer tick (`CLOCK_MONOTONIC_COARSE`, a few
/// milliseconds behind at most), in nanoseconds. Timeouts are whole seconds, so the lag
/// does not matter, and reading it costs a few nanoseconds instead of the precise clock's
/// few tens (three reads per request were ~1.6% of server CPU on PutItem on this project's
/// VM). A plain count of nanoseconds, not an `Instant`: the request path stores it as it
/// comes, with no conversion or arithmetic (callgrind: the `Instant` version spent ~130
/// instructions per request on it). Elsewhere, nanoseconds since the first call.
#[cfg(target_os = "linux")]
fn coarse_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes into it.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if status != 0 {
        return 0;
    }
    // Both fields are non-negative for the monotonic clock; u64 nanoseconds last 584 years.
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn coarse_nanos() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    nanos_of(START.get_or_init(Instant::now).elapsed())
}

/// A duration in nanoseconds, saturating.
fn nanos_of(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// What the watchdog does next.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    /// Look again at this time ([`coarse_nanos`]).
    At(u64),
    /// The connection kept the server waiting too long: close it.
    Expired(&'static str),
}

/// What the watchdog does with a connection at `now`; `recheck` (nanoseconds) is the
/// longest it may wait before the next look. Times past the clock's range saturate.
fn activity_check(activity: &Activity, limits: &ConnectionLimits, recheck: u64, now: u64) -> Check {
    let (timeout, reason) = match activity.phase() {
        Phase::Head => (limits.header_timeout, "no complete request head in time"),
        Phase::Body => (limits.header_timeout, "request body stalled"),
        Phase::Idle => (limits.idle_timeout, "idle"),
        // The server is working on the request or writing its answer: not the client's
        // delay, so never a timeout.
        Phase::Busy | Phase::Responding => (None, ""),
    };
    let next = now.saturating_add(recheck);
    let Some(timeout) = timeout else {
        return Check::At(next);
    };
    let deadline = activity.since().saturating_add(nanos_of(timeout));
    if deadline <= now {
        return Check::Expired(reason);
    }
    Check::At(deadline.min(next))
}

/// The connection's socket, telling its [`Activity`] when bytes arrive and when written
/// bytes have been flushed.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
    /// Where the current request head ends, while that is not known yet.
    head: Option<HeadScan>,
    /// The head was too large and refused: what is still read is thrown away.
    refused: Option<Refused>,
}

impl Watched {
    fn new(stream: TcpStream, connection: Arc<Connection>) -> Watched {
        Watched {
            stream,
            connection,
            head: Some(HeadScan::default()),
            refused: None,
        }
    }

    /// Answers a request whose head is over [`MAX_HEAD_BYTES`] with a 400 and stops
    /// sending. The answer is small enough for the socket's send buffer, so it is written
    /// here without waiting.
    fn refuse_head(&mut self) {
        let id = RequestId::generate();
        let body =
            format!("Bad Request: the request line and headers exceed {MAX_HEAD_BYTES} bytes");
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             x-amzn-requestid: {id}\r\nx-amz-crc32: {}\r\nserver: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len(),
            crc32fast::hash(body.as_bytes()),
            wire::SERVER_HEADER,
        );
        let _ = self.stream.try_write(answer.as_bytes());
        shutdown_write(&self.stream);
        tracing::debug!(request_id = %id, "request head over the limit refused");
        self.refused = Some(Refused::default());
    }

    /// After a refusal: reads and discards what the client still sends (so that closing
    /// does not reset the connection under the answer) until it closes, or until too much.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut scratch = [0u8; 8192];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    let refused = self.refused.get_or_insert_with(Refused::default);
                    refused.discarded += buf.filled().len();
                    if refused.discarded > MAX_DISCARD_BYTES {
                        return Poll::Ready(Err(std::io::Error::other("request head too large")));
                    }
                }
                other => return other,
            }
        }
    }
}

/// The most bytes a request line plus headers may take (DynamoDB's front end limit).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// What a refused connection may still send before it is closed regardless.
const MAX_DISCARD_BYTES: usize = 1024 * 1024;

/// State of a refused connection.
#[derive(Default)]
struct Refused {
    discarded: usize,
}

/// Stops sending on a socket (the peer reads the end of the stream after what was sent).
fn shutdown_write(stream: &TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor belongs to `stream`, which is alive for this call;
        // shutdown only changes the socket's state.
        unsafe {
            libc::shutdown(stream.as_raw_fd(), libc::SHUT_WR);
        }
    }
    #[cfg(not(unix))]
    let _ = stream;
}

/// Finds the end of a request head (an empty line: `\n\n` or `\n\r\n`) across reads,
/// counting its bytes.
#[derive(Default, Debug)]
struct HeadScan {
    /// Head bytes seen so far.
    seen: usize,
    /// 1: the last byte was `\n`; 2: the last two were `\n\r`.
    after_newline: u8,
}

/// What one read told a [`HeadScan`].
#[derive(Debug, PartialEq, Eq)]
enum HeadProgress {
    /// The head ended within the bytes, and was within the limit.
    Ended,
    /// Still in the head, within the limit.
    More,
    /// The head is over the limit.
    TooLarge,
}

impl HeadScan {
    fn feed(&mut self, bytes: &[u8]) -> HeadProgress {
        // The usual case, a whole head ending in CRLF CRLF within one read, found by one
        // SIMD search. The head may have ended earlier (at a bare `\n\n`), never later.
        if self.after_newline == 0 {
            // One searcher for the process: `memmem::find` would build one per call, which
            // cost more than the search of a ~300-byte head (callgrind).
            static END_OF_HEAD: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
                std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
            if let Some(at) = END_OF_HEAD.find(bytes) {
                if self.seen + at + 4 <= MAX_HEAD_BYTES {
                    return HeadProgress::Ended;
                }
            }
        }
        let mut i = 0;
        while i < bytes.len() {
            match (self.after_newline, bytes[i]) {
                (1 | 2, b'\n') => {
                    return if self.seen + i < MAX_HEAD_BYTES {
                        HeadProgress::Ended
                    } else {
                        HeadProgress::TooLarge
                    };
                }
                (1, b'\r') => {
                    self.after_newline = 2;
                    i += 1;
                    continue;
                }
                _ => self.after_newline = 0,
            }
            match bytes[i..].iter().position(|&b| b == b'\n') {
                Some(at) => {
                    i += at + 1;
                    self.after_newline = 1;
                }
                None => i = bytes.len(),
            }
        }
        self.seen += bytes.len();
        if self.seen > MAX_HEAD_BYTES {
            HeadProgress::TooLarge
        } else {
            HeadProgress::More
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.refused.is_some() {
            return self.drain(cx);
        }
        let before = buf.filled().len();
        // Bytes read while the connection waits for a request are the start of one. (Bytes
        // read during a request belong to a pipelined next one, whose head is not counted.)
        if self.connection.activity.phase() == Phase::Idle {
            self.head = Some(HeadScan::default());
        }
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.activity.received();
            let this = &mut *self;
            if let Some(scan) = this.head.as_mut() {
                match scan.feed(&buf.filled()[before..]) {
                    HeadProgress::More => {}
                    HeadProgress::Ended => this.head = None,
                    HeadProgress::TooLarge => {
                        // Nothing of this request reaches hyper: the bytes are withdrawn.
                        buf.set_filled(before);
                        this.head = None;
                        this.refuse_head();
                        return this.drain(cx);
                    }
                }
            }
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_flush(cx);
        if let Poll::Ready(Ok(())) = result {
            self.connection.activity.flushed();
        }
        result
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_storage::{MemoryStorage, Snapshot, Storage, StorageError, WriteTransaction};
    use std::io::Write;

    /// A head of exactly `len` bytes (CRLF line ends), then a body holding CRLF CRLF.
    fn head_of(len: usize, bare_lf: bool) -> Vec<u8> {
        let end: &[u8] = if bare_lf { b"\n\n" } else { b"\r\n\r\n" };
        let start = b"POST / HTTP/1.1\r\nx-pad: ";
        let mut head = start.to_vec();
        head.resize(len - end.len(), b'a');
        head.extend_from_slice(end);
        assert_eq!(head.len(), len);
        head.extend_from_slice(b"{\"a\":\"\r\n\r\n\"}");
        head
    }

    /// Feeds `bytes` in chunks of `chunk` and says whether the scan saw the head end.
    fn scan(bytes: &[u8], chunk: usize) -> HeadProgress {
        let mut scan = HeadScan::default();
        for piece in bytes.chunks(chunk) {
            match scan.feed(piece) {
                HeadProgress::More => {}
                done => return done,
            }
        }
        HeadProgress::More
    }

    #[test]
    fn head_scan_allows_exactly_the_limit_in_any_split() {
        for bare_lf in [false, true] {
            for len in [40, MAX_HEAD_BYTES - 1, MAX_HEAD_BYTES] {
                let bytes = head_of(len, bare_lf);
                for chunk in [1, 2, 3, 7, 1000, 4096, bytes.len()] {
                    assert_eq!(
                        scan(&bytes, chunk),
                        HeadProgress::Ended,
                        "len {len} chunk {chunk} bare_lf {bare_lf}"
                    );
                }
            }
            let bytes = head_of(MAX_HEAD_BYTES + 1, bare_lf);
            for chunk in [1, 3, 1000, 4096, bytes.len()] {
                assert_eq!(
                    scan(&bytes, chunk),
                    HeadProgress::TooLarge,
                    "chunk {chunk} bare_lf {bare_lf}"
                );
            }
        }
    }

    #[test]
    fn head_scan_finds_an_end_split_between_reads() {
        let head = b"POST / HTTP/1.1\r\nhost: x\r\n\r\n";
        for at in 1..head.len() {
            let mut scan = HeadScan::default();
            assert_eq!(scan.feed(&head[..at]), HeadProgress::More, "split at {at}");
            assert_eq!(scan.feed(&head[at..]), HeadProgress::Ended, "split at {at}");
        }
    }

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

    const LIMITS: ConnectionLimits = ConnectionLimits {
        header_timeout: Some(Duration::from_secs(10)),
        idle_timeout: Some(Duration::from_secs(60)),
        max_connections: 8,
    };

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
        assert!(!Server::new(engine, LIMITS).blocking_engine_calls);
        let dir = tempfile::tempdir().unwrap();
        for (durability, blocks) in [
            (stator_storage::Durability::Process, false),
            (stator_storage::Durability::Sync, true),
        ] {
            let path = dir.path().join(format!("{durability:?}"));
            let disk = Arc::new(stator_storage::DiskStorage::open(&path, durability).unwrap());
            let engine = Engine::open(disk, stator_engine::EngineConfig::default()).unwrap();
            let server = Server::new(engine, LIMITS);
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
        let server = Server::new(engine, LIMITS);
        assert!(server.blocking_engine_calls, "follows calls_may_block");
        let log = Captured::default();
        let mut host = HeaderMap::new();
        host.insert(
            hyper::header::HOST,
            "dynamodb.us-east-1.amazonaws.com".parse().unwrap(),
        );
        let probe = || log.during(Level::INFO, || text_of(health(&server, &host)));

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

    /// A time `secs` after `base`, in nanoseconds.
    fn at(base: u64, secs: f64) -> u64 {
        base + nanos_of(Duration::from_secs_f64(secs))
    }

    #[test]
    fn the_watchdog_times_only_what_the_client_owes() {
        // Any origin works: the clock is a plain count.
        let base = 1_000_000_000_000;
        let activity = Activity::new(base);
        let recheck = LIMITS.recheck().unwrap();
        assert_eq!(recheck, Duration::from_secs(10));
        let recheck = nanos_of(recheck);
        let check = |now: f64| activity_check(&activity, &LIMITS, recheck, at(base, now));

        // A new connection must deliver its head within the header timeout.
        assert_eq!(check(0.0), Check::At(at(base, 10.0)));
        assert_eq!(
            check(10.0),
            Check::Expired("no complete request head in time")
        );

        // The head arrived at 1 s: the body may pause for the header timeout.
        activity.set(Phase::Body, at(base, 1.0));
        assert_eq!(check(5.0), Check::At(at(base, 11.0)));
        assert_eq!(check(11.5), Check::Expired("request body stalled"));

        // Processing and writing the answer are never timed out, however long.
        activity.set(Phase::Busy, at(base, 2.0));
        assert_eq!(check(500.0), Check::At(at(base, 510.0)));
        activity.set(Phase::Responding, at(base, 3.0));
        assert_eq!(check(900.0), Check::At(at(base, 910.0)));

        // Idle from 4 s: the idle timeout counts from there.
        // The watchdog never sleeps longer than the shortest timeout.
        activity.set(Phase::Idle, at(base, 4.0));
        assert_eq!(check(30.0), Check::At(at(base, 40.0)));
        assert_eq!(check(60.0), Check::At(at(base, 64.0)));
        assert_eq!(check(64.0), Check::Expired("idle"));

        // So a phase with a shorter timeout that begins while it sleeps is seen in time:
        // the idle clock starting during a long header timeout.
        let short_idle = ConnectionLimits {
            header_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(1)),
            max_connections: 1,
        };
        let fresh_base = 7;
        let fresh = Activity::new(fresh_base);
        let recheck = nanos_of(short_idle.recheck().unwrap());
        let look = |now: f64| activity_check(&fresh, &short_idle, recheck, at(fresh_base, now));
        assert_eq!(look(0.0), Check::At(at(fresh_base, 1.0)));
        fresh.set(Phase::Idle, at(fresh_base, 0.5));
        assert_eq!(look(1.0), Check::At(at(fresh_base, 1.5)));
        assert_eq!(look(1.5), Check::Expired("idle"));

        // Without timeouts there is nothing to watch.
        let none = ConnectionLimits {
            header_timeout: None,
            idle_timeout: None,
            max_connections: 1,
        };
        assert_eq!(none.recheck(), None);
        let idle_only = ConnectionLimits {
            header_timeout: None,
            ..LIMITS
        };
        assert_eq!(
            activity_check(
                &activity,
                &idle_only,
                nanos_of(Duration::from_secs(60)),
                at(base, 65.0)
            ),
            Check::Expired("idle")
        );
        activity.set(Phase::Head, at(base, 70.0));
        assert_eq!(
            activity_check(
                &activity,
                &idle_only,
                nanos_of(Duration::from_secs(60)),
                at(base, 80.0)
            ),
            Check::At(at(base, 140.0))
        );
    }

    #[test]
    fn deadlines_past_the_clock_saturate() {
        let activity = Activity::new(u64::MAX - 5);
        let huge = ConnectionLimits {
            header_timeout: Some(Duration::from_secs(u64::MAX)),
            ..LIMITS
        };
        // The deadline saturates at the clock's end: never reached, looked at again.
        assert_eq!(
            activity_check(&activity, &huge, 10, u64::MAX - 1),
            Check::At(u64::MAX)
        );
    }

    #[test]
    fn activity_follows_the_connection() {
        let opened = coarse_nanos();
        let activity = Activity::new(opened);
        // Bytes of the first head: still the head's clock, from accept.
        activity.received();
        assert_eq!((activity.phase(), activity.since()), (Phase::Head, opened));
        activity.set(Phase::Body, coarse_nanos());
        activity.enter(Phase::Busy);
        activity.received();
        assert_eq!(
            activity.phase(),
            Phase::Busy,
            "pipelined bytes do not interrupt"
        );
        activity.flushed();
        assert_eq!(
            activity.phase(),
            Phase::Busy,
            "a 100-continue flush is not the answer"
        );
        activity.set(Phase::Responding, coarse_nanos());
        activity.flushed();
        assert_eq!(activity.phase(), Phase::Idle);
        let idle_since = activity.since();
        activity.received();
        assert_eq!(activity.phase(), Phase::Head);
        assert!(activity.since() >= idle_since);
    }
}
