//! Connection limits, with hand-written HTTP on plain sockets against the real binary: the
//! header timeout, the idle keep-alive timeout, busy connections that must never be cut
//! off, and the cap on concurrent connections. Timeouts are set to a second or two with the
//! command-line flags, so each test takes a few seconds.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The real `stator` binary, in memory, on a free loopback port, with extra flags; killed
/// when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(flags: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stator"))
            .args(["serve", "--in-memory", "--host", "127.0.0.1", "--port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start stator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Stator listening on http://127.0.0.1:PORT (data ...)"
        let port = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Server { child, port }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive `ListTables` request with the given body.
fn list_tables(body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123abcd\r\n\
         X-Amz-Date: 20261121T000000Z\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one response (head and `Content-Length` body) and returns its status.
fn read_response(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(status)
}

/// Sends a request and reads its answer, which must be a 200.
fn round_trip(stream: &mut TcpStream) {
    stream.write_all(list_tables("{}").as_bytes()).unwrap();
    assert_eq!(read_response(stream).unwrap(), 200);
}

/// Waits (up to `limit`) for the server to close the connection; returns how long it took.
fn time_until_closed(stream: &mut TcpStream, start: Instant, limit: Duration) -> Duration {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(0) => start.elapsed(),
        Ok(n) => panic!("unexpected {n} bytes from the server"),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => start.elapsed(),
        Err(e) => panic!("connection still open after {limit:?} ({e})"),
    }
}

/// Whether the connection is still open and has sent nothing, looking for `wait`.
fn is_waiting(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1];
    let waiting = matches!(
        stream.read(&mut buf),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    );
    stream.set_read_timeout(None).unwrap();
    waiting
}

#[test]
fn an_incomplete_request_head_is_dropped_after_the_header_timeout() {
    let server = Server::start(&["--header-timeout-secs", "1", "--idle-timeout-secs", "30"]);
    let start = Instant::now();
    // Half a head, a head trickling in byte by byte (slowloris), and nothing at all.
    let mut half = server.connect();
    half.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        .unwrap();
    let mut trickle = server.connect();
    let mut silent = server.connect();
    // The trickle goes on past the timeout: a head must be complete in time, not merely
    // keep moving. Once the server has closed, writes fail, which ends it.
    let request = list_tables("{}");
    for byte in request.as_bytes().iter().take(10) {
        if trickle.write_all(std::slice::from_ref(byte)).is_err() {
            break;
        }
        sleep(Duration::from_millis(200));
    }
    let limit = Duration::from_secs(5);
    for stream in [&mut half, &mut trickle, &mut silent] {
        let closed_after = time_until_closed(stream, start, limit);
        assert!(
            closed_after >= Duration::from_millis(900),
            "closed too early: {closed_after:?}"
        );
    }
    // A complete request on a fresh connection is still answered.
    round_trip(&mut server.connect());
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(&["--header-timeout-secs", "30", "--idle-timeout-secs", "1"]);
    let mut stream = server.connect();
    round_trip(&mut stream);
    // Still open and usable within the idle timeout...
    sleep(Duration::from_millis(600));
    round_trip(&mut stream);
    // ...which counts from the last answer: ~1 s from here, not the ~0.4 s left had it
    // counted from the first. (The server's clock started just before this one, when it
    // flushed the answer, so the bound leaves it some slack.)
    let answered = Instant::now();
    let closed_after = time_until_closed(&mut stream, answered, Duration::from_secs(5));
    assert!(
        closed_after >= Duration::from_millis(700),
        "closed too early: {closed_after:?}"
    );
}

#[test]
fn a_busy_keep_alive_connection_is_never_cut_off() {
    let server = Server::start(&["--header-timeout-secs", "1", "--idle-timeout-secs", "1"]);
    let mut stream = server.connect();
    // Requests one after another for three times the timeouts.
    let start = Instant::now();
    let mut requests = 0;
    while start.elapsed() < Duration::from_secs(3) {
        round_trip(&mut stream);
        requests += 1;
        sleep(Duration::from_millis(150));
    }
    assert!(requests > 10);
    // A request whose body arrives slowly, for longer than both timeouts, but never
    // pausing for as long as one: the request is in progress, not stalled.
    let request = list_tables(r#"{"Limit":            10}"#);
    let (head, body) = request.split_at(request.find("\r\n\r\n").unwrap() + 4);
    stream.write_all(head.as_bytes()).unwrap();
    let start = Instant::now();
    for byte in body.as_bytes() {
        sleep(Duration::from_millis(100));
        stream.write_all(std::slice::from_ref(byte)).unwrap();
    }
    assert!(start.elapsed() > Duration::from_secs(2));
    assert_eq!(read_response(&mut stream).unwrap(), 200);
    round_trip(&mut stream);
}

#[test]
fn at_the_cap_a_new_connection_waits_until_one_closes() {
    let server = Server::start(&[
        "--max-connections",
        "2",
        "--header-timeout-secs",
        "60",
        "--idle-timeout-secs",
        "60",
    ]);
    let mut first = server.connect();
    let mut second = server.connect();
    round_trip(&mut first);
    round_trip(&mut second);

    // The third connects (the kernel's backlog holds it) but is not served...
    let mut third = server.connect();
    third.write_all(list_tables("{}").as_bytes()).unwrap();
    assert!(is_waiting(&mut third, Duration::from_millis(800)));
    // ...while the existing ones keep working.
    round_trip(&mut first);
    round_trip(&mut second);
    assert!(is_waiting(&mut third, Duration::from_millis(300)));

    // Once one closes, the waiting connection is served.
    drop(second);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(read_response(&mut third).unwrap(), 200);
    round_trip(&mut third);
    round_trip(&mut first);
}
