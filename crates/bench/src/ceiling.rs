//! The ceiling server: answers every request with `{}` using the same stack as Stator on one
//! core (a single-threaded tokio runtime, hyper 1 HTTP/1.1 keep-alive, the body read in full). Whatever a
//! real server does per request comes on top of this, so the driver's rate against it is the
//! most any server can reach on this machine with this driver.
//!
//! With `--raw` it skips hyper: requests are parsed with httparse, bodies skipped by
//! `Content-Length`, and one fixed answer written per request. The difference between the
//! two is what the HTTP library costs per request; the raw figure is close to the kernel's
//! own floor (one `recv` and one `write` per request on loopback TCP).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as any real server must.
    let _ = req.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    Ok(response)
}

/// Serves one connection without hyper: HTTP/1.1 keep-alive requests with `Content-Length`
/// bodies (what the driver sends), answered with a fixed `{}` response.
async fn serve_raw(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                            content-length: 2\r\n\r\n{}";
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        // Parse every complete request in the buffer.
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            let head = match request.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => break,
                Err(_) => return,
            };
            let body = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .unwrap_or(0);
            if buf.len() < head + body {
                break;
            }
            buf.drain(..head + body);
            if stream.write_all(ANSWER).await.is_err() {
                return;
            }
        }
        let len = buf.len();
        buf.resize(len + 16 * 1024, 0);
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.truncate(len + n),
        }
    }
}

pub fn serve(port: u16, raw: bool) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        println!("ceiling server listening on http://{addr}");
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    if raw {
                        tokio::spawn(serve_raw(stream));
                        continue;
                    }
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(
                                TokioIo::new(stream),
                                hyper::service::service_fn(answer),
                            )
                            .await;
                    });
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        Ok(())
    })
}
