//! Test harness: starts the real `stator` binary on an ephemeral loopback port and builds
//! an official `aws-sdk-dynamodb` client for it. The server is stopped when the handle drops.
#![allow(clippy::unwrap_used, dead_code, unused_macros)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// Which storage the server under test uses.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    Disk,
}

pub struct TestServer {
    child: Option<Child>,
    pub endpoint: String,
    pub port: u16,
    _tmp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server on a fresh database of the given kind.
    pub fn start(backend: Backend) -> TestServer {
        match backend {
            Backend::Memory => Self::spawn(&["--in-memory"], None),
            Backend::Disk => {
                let tmp = tempfile::tempdir().unwrap();
                let dir = tmp.path().to_str().unwrap().to_string();
                Self::spawn(&["--data-dir", &dir], Some(tmp))
            }
        }
    }

    /// Starts a server on an existing data directory.
    pub fn start_on(dir: &Path, extra: &[&str]) -> TestServer {
        let mut args = vec!["--data-dir", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        Self::spawn(&args, None)
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
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        TestServer {
            child: Some(child),
            endpoint: addr,
            port,
            _tmp: tmp,
        }
    }

    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        client_for(&self.endpoint)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Graceful stop with SIGTERM; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
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
        if let Some(mut child) = self.child.take() {
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

/// Generates one `#[tokio::test]` per storage backend (`memory::name`, `disk::name`) for
/// each scenario. Scenarios take an `aws_sdk_dynamodb::Client`, or with the `server:` form a
/// `&TestServer` (for raw requests or several clients).
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
    (@each $mode:ident; $($name:ident),*) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = super::common::TestServer::start(super::common::Backend::Memory);
                    on_both_backends!(@call $mode $name server);
                }
            )*
        }
        mod disk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = super::common::TestServer::start(super::common::Backend::Disk);
                    on_both_backends!(@call $mode $name server);
                }
            )*
        }
    };
}
