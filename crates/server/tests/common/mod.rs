//! Test harness shared by the end-to-end tests: where the server under test comes from, an
//! official `aws-sdk-dynamodb` client for it, and the helpers every test file needs.
//!
//! Normally each test starts the real `stator` binary on an ephemeral loopback port, on a
//! fresh database of the storage backend it asks for, and stops it when the handle drops.
//! With `STATOR_ENDPOINT=http://HOST:PORT` set, every test runs against that endpoint
//! instead ("endpoint mode"): nothing is started, both backend variants of a scenario
//! collapse into one run, and tests that need a server process of their own (restarts,
//! `kill -9`, server flags) print why and return. Tests therefore never assume an empty
//! database: every table name comes from [`names::unique_name`].
//!
//! Submodules: [`names`] (unique table names and `$name` templates), [`schema`] (key schema
//! and table builders), [`values`] (attribute-value builders and item reads), [`raw`]
//! (hand-written HTTP requests), [`wait`] (polling index status). docs/testing.md describes
//! the whole arrangement.
#![allow(clippy::unwrap_used, dead_code, unused_macros, unused_imports)]

pub mod names;
pub mod raw;
pub mod schema;
pub mod values;
pub mod wait;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

pub use names::{unique_name, Tables};
pub use values::{item, n, s, Item};

/// The environment variable that points the suites at a running server.
pub const ENDPOINT_VAR: &str = "STATOR_ENDPOINT";

/// The endpoint named by `STATOR_ENDPOINT` (`http://HOST:PORT`), or `None` when the tests
/// start their own servers. A malformed value fails every test loudly rather than silently
/// testing something else.
pub fn shared_endpoint() -> Option<&'static str> {
    static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            let value = std::env::var(ENDPOINT_VAR).ok()?;
            let value = value.trim().trim_end_matches('/');
            if value.is_empty() {
                return None;
            }
            let authority = value
                .strip_prefix("http://")
                .unwrap_or_else(|| panic!("{ENDPOINT_VAR}={value:?}: expected http://HOST:PORT"));
            let port = authority.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
            assert!(
                matches!(port, Some(Ok(_))) && !authority.contains('/'),
                "{ENDPOINT_VAR}={value:?}: expected http://HOST:PORT"
            );
            Some(value.to_string())
        })
        .as_deref()
}

/// True when the tests run against `STATOR_ENDPOINT`.
pub fn endpoint_mode() -> bool {
    shared_endpoint().is_some()
}

/// For a test that needs a server process of its own: in endpoint mode prints
/// `skipped (STATOR_ENDPOINT): <reason>` and returns true (the test then returns).
pub fn skip_in_endpoint_mode(reason: &str) -> bool {
    if endpoint_mode() {
        println!("skipped ({ENDPOINT_VAR}): {reason}");
        true
    } else {
        false
    }
}

/// Which storage the server under test uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Disk,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Disk => "disk",
        }
    }
}

/// The server a test talks to: a `stator` process it started, or the shared endpoint.
pub struct TestServer {
    child: Option<Child>,
    /// `http://HOST:PORT`.
    pub endpoint: String,
    /// `HOST:PORT`, for raw TCP connections and the `Host` header.
    pub authority: String,
    pub port: u16,
    shared: bool,
    _tmp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server on a fresh database of the given kind; in endpoint mode, the shared endpoint
    /// (whatever its storage).
    pub fn start(backend: Backend) -> TestServer {
        if let Some(endpoint) = shared_endpoint() {
            return Self::at(endpoint, true);
        }
        match backend {
            Backend::Memory => Self::spawn(&["--in-memory"], None),
            Backend::Disk => {
                let tmp = tempfile::tempdir().unwrap();
                let dir = tmp.path().to_str().unwrap().to_string();
                Self::spawn(&["--data-dir", &dir], Some(tmp))
            }
        }
    }

    /// The server for one backend variant of a scenario (`memory::name`, `disk::name`).
    /// In endpoint mode only the memory variant runs; the others print a note and get
    /// `None`, because they would repeat the same requests against the same server.
    pub fn for_variant(backend: Backend, scenario: &str) -> Option<TestServer> {
        if endpoint_mode() && backend != Backend::Memory {
            println!(
                "skipped ({ENDPOINT_VAR}): the {} variant of {scenario} would repeat its memory \
                 variant against the same endpoint",
                backend.name()
            );
            return None;
        }
        Some(Self::start(backend))
    }

    /// Starts an in-memory server process with extra flags. Always a process of its own:
    /// callers skip first in endpoint mode.
    pub fn start_with(extra: &[&str]) -> TestServer {
        let mut args = vec!["--in-memory"];
        args.extend_from_slice(extra);
        Self::spawn(&args, None)
    }

    /// Starts a server process on an existing data directory, with extra flags. Always a
    /// process of its own: callers skip first in endpoint mode.
    pub fn start_on(dir: &Path, extra: &[&str]) -> TestServer {
        let mut args = vec!["--data-dir", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        Self::spawn(&args, None)
    }

    /// Another handle on a running server (for a helper thread): it does not own the
    /// process.
    pub fn viewing(endpoint: &str) -> TestServer {
        Self::at(endpoint, true)
    }

    fn at(endpoint: &str, shared: bool) -> TestServer {
        let authority = endpoint.strip_prefix("http://").unwrap().to_string();
        let port = authority.rsplit(':').next().unwrap().parse().unwrap();
        TestServer {
            child: None,
            endpoint: endpoint.to_string(),
            authority,
            port,
            shared,
            _tmp: None,
        }
    }

    fn spawn(args: &[&str], tmp: Option<tempfile::TempDir>) -> TestServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stator"))
            .args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start stator");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        // "Stator listening on http://127.0.0.1:PORT (data ...)"
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        let mut server = Self::at(addr, false);
        server.child = Some(child);
        server._tmp = tmp;
        server
    }

    /// True for the shared endpoint: other tests' tables may be there, and the process is
    /// not ours to stop.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        client_for(&self.endpoint)
    }

    fn own_child(&mut self) -> Option<Child> {
        assert!(
            !self.shared,
            "the shared endpoint is not this test's to stop"
        );
        self.child.take()
    }

    pub fn pid(&self) -> u32 {
        assert!(
            !self.shared,
            "the shared endpoint has no process of this test"
        );
        self.child.as_ref().unwrap().id()
    }

    /// Graceful stop with SIGTERM; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.own_child() else {
            return true;
        };
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap().success()
    }

    /// Abrupt stop with SIGKILL (`kill -9`).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.own_child() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// The DynamoDB error type name and message of an SDK error (panics if the call did not
/// reach the service).
pub fn error_of<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> (String, String)
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => (
            e.code().unwrap_or("<none>").to_string(),
            e.message().unwrap_or("<none>").to_string(),
        ),
        None => panic!("not a service error: {err:?}"),
    }
}

/// The error type of DynamoDB's request-validation failures.
pub const VALIDATION: &str = "ValidationException";

/// A `ValidationException` with this message, as [`error_of`] returns it.
pub fn validation(message: &str) -> (String, String) {
    (VALIDATION.to_string(), message.to_string())
}

/// DynamoDB's `ResourceNotFoundException` for a missing table in item operations.
pub fn not_found() -> (String, String) {
    (
        "ResourceNotFoundException".to_string(),
        "Requested resource not found".to_string(),
    )
}

/// Generates one `#[tokio::test]` per storage backend (`memory::name`, `disk::name`) for
/// each scenario. Scenarios take an `aws_sdk_dynamodb::Client`, or with the `server:` form a
/// `&TestServer` (for raw requests or several clients). In endpoint mode the disk variant
/// only prints a note (see [`TestServer::for_variant`]).
macro_rules! on_both_backends {
    (server: $($name:ident),* $(,)?) => {
        on_both_backends!(@each server; $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        on_both_backends!(@each client; $($name),*);
    };
    (@call client $name:ident $server:ident) => {
        super::$name($server.client()).await
    };
    (@call server $name:ident $server:ident) => {
        super::$name(&$server).await
    };
    (@variant $mode:ident $backend:ident $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(server) = super::common::TestServer::for_variant(
                super::common::Backend::$backend,
                stringify!($name),
            ) else {
                return;
            };
            on_both_backends!(@call $mode $name server);
        }
    };
    (@each $mode:ident; $($name:ident),*) => {
        mod memory {
            $( on_both_backends!(@variant $mode Memory $name); )*
        }
        mod disk {
            $( on_both_backends!(@variant $mode Disk $name); )*
        }
    };
}
