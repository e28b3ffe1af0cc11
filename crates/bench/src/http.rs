//! A minimal HTTP/1.1 client for the driver: one keep-alive connection, one request at a time.
//!
//! The driver's own cost per request must stay far below the servers' so that the ceiling it
//! measures is the server's. So the client writes each request with one `write_all` (head and
//! body in one buffer), parses the response head with `httparse`, reads the body by
//! `Content-Length` (or chunked transfer coding, which some servers use), and reuses its
//! buffers. A server that closes the connection (`Connection: close`, or HTTP/1.0 without
//! keep-alive, as some Python servers answer) gets a fresh connection for the next request.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One response: status and the body (borrowed from the connection's buffer).
pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// A keep-alive connection to one endpoint.
pub struct Connection {
    addr: SocketAddr,
    host: String,
    stream: Option<TcpStream>,
    /// Bytes read from the socket and not yet consumed.
    read_buf: Vec<u8>,
    /// The decoded body of the last response.
    body: Vec<u8>,
    /// The request being written (head and body).
    request: Vec<u8>,
    /// The status of the last response.
    last_status: u16,
}

const HEADER_LIMIT: usize = 64;

impl Connection {
    pub fn new(addr: SocketAddr) -> Self {
        Connection {
            addr,
            host: addr.to_string(),
            stream: None,
            read_buf: Vec::with_capacity(64 * 1024),
            body: Vec::with_capacity(64 * 1024),
            request: Vec::with_capacity(64 * 1024),
            last_status: 0,
        }
    }

    async fn connect(&mut self) -> io::Result<()> {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        self.stream = Some(stream);
        self.read_buf.clear();
        Ok(())
    }

    /// Sends one DynamoDB JSON request (`target` is the operation name) and reads the answer.
    pub async fn call(&mut self, target: &str, body: &[u8]) -> io::Result<Response<'_>> {
        self.request.clear();
        write_head(&mut self.request, &self.host, target, body.len());
        self.request.extend_from_slice(body);
        // A kept-alive connection the server closed meanwhile fails on first use: reconnect
        // once and resend. A fresh connection that fails is an error.
        let reused = self.stream.is_some();
        match self.exchange().await {
            Ok(keep) => {
                if !keep {
                    self.stream = None;
                }
            }
            Err(e) if reused && is_reset(&e) => {
                self.stream = None;
                let keep = self.exchange().await?;
                if !keep {
                    self.stream = None;
                }
            }
            Err(e) => {
                self.stream = None;
                return Err(e);
            }
        }
        Ok(Response {
            status: self.last_status,
            body: &self.body,
        })
    }
}

impl Connection {
    /// Writes the prepared request and reads one response into `body`. Returns whether the
    /// connection may be reused.
    async fn exchange(&mut self) -> io::Result<bool> {
        if self.stream.is_none() {
            self.connect().await?;
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))?;
        stream.write_all(&self.request).await?;

        // Read until the head is complete.
        let (status, head_len, framing, keep_alive) = loop {
            let mut headers = [httparse::EMPTY_HEADER; HEADER_LIMIT];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.read_buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = response.code.unwrap_or(0);
                    let http10 = response.version == Some(0);
                    let mut framing = Framing::UntilClose;
                    let mut keep_alive = !http10;
                    for h in response.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            let len = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .ok_or_else(|| bad("bad Content-Length"))?;
                            framing = Framing::Length(len);
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                            && contains_token(h.value, b"chunked")
                        {
                            framing = Framing::Chunked;
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            if contains_token(h.value, b"close") {
                                keep_alive = false;
                            } else if contains_token(h.value, b"keep-alive") {
                                keep_alive = true;
                            }
                        }
                    }
                    break (status, head_len, framing, keep_alive);
                }
                Ok(httparse::Status::Partial) => {
                    if fill(stream, &mut self.read_buf).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(_) => return Err(bad("malformed response head")),
            }
        };
        self.read_buf.drain(..head_len);
        self.body.clear();
        let mut keep = keep_alive;
        match framing {
            Framing::Length(len) => {
                while self.read_buf.len() < len {
                    if fill(stream, &mut self.read_buf).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                self.body.extend_from_slice(&self.read_buf[..len]);
                self.read_buf.drain(..len);
            }
            Framing::Chunked => loop {
                let (size, line_len) = loop {
                    if let Some(pos) = find_crlf(&self.read_buf) {
                        let line = std::str::from_utf8(&self.read_buf[..pos])
                            .map_err(|_| bad("bad chunk size"))?;
                        let hex = line.split(';').next().unwrap_or("").trim();
                        let size =
                            usize::from_str_radix(hex, 16).map_err(|_| bad("bad chunk size"))?;
                        break (size, pos + 2);
                    }
                    if fill(stream, &mut self.read_buf).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                };
                // The chunk, then its CRLF (for the last chunk: optional trailers, then CRLF).
                if size == 0 {
                    loop {
                        if let Some(pos) = find_crlf_crlf_or_crlf(&self.read_buf[line_len..]) {
                            self.read_buf.drain(..line_len + pos);
                            break;
                        }
                        if fill(stream, &mut self.read_buf).await? == 0 {
                            return Err(io::ErrorKind::UnexpectedEof.into());
                        }
                    }
                    break;
                }
                while self.read_buf.len() < line_len + size + 2 {
                    if fill(stream, &mut self.read_buf).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                self.body
                    .extend_from_slice(&self.read_buf[line_len..line_len + size]);
                self.read_buf.drain(..line_len + size + 2);
            },
            Framing::UntilClose => {
                while fill(stream, &mut self.read_buf).await? > 0 {}
                self.body.extend_from_slice(&self.read_buf);
                self.read_buf.clear();
                keep = false;
            }
        }
        self.last_status = status;
        Ok(keep)
    }
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 16 * 1024 {
        buf.reserve(64 * 1024);
    }
    stream.read_buf(buf).await
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// After the last chunk: either an empty line (no trailers) or trailers ending in an empty
/// line. Returns the length up to and including the terminating CRLF.
fn find_crlf_crlf_or_crlf(buf: &[u8]) -> Option<usize> {
    if buf.starts_with(b"\r\n") {
        return Some(2);
    }
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// The fixed credential the driver signs with. None of the measured servers verifies
/// signatures (Stator, like DynamoDB Local, checks only the header's shape), so the driver
/// sends a well-formed SigV4 header with a constant signature instead of spending its own CPU
/// on HMACs; a server that did verify would answer 400 and the run would be reported failed.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/20261121/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=5f1c0d3b2a4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

fn write_head(out: &mut Vec<u8>, host: &str, target: &str, len: usize) {
    out.extend_from_slice(b"POST / HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(
        b"\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.",
    );
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b"\r\nX-Amz-Date: 20261121T000000Z\r\nAuthorization: ");
    out.extend_from_slice(AUTHORIZATION.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    crate::workloads::push_decimal(out, len as u64);
    out.extend_from_slice(b"\r\n\r\n");
}
