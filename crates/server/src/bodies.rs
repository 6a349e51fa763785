//! Request bodies are read whole before a handler runs, bounded in size and in time, so a
//! caller can neither make the server buffer without bound nor hold a connection by sending
//! a body byte by byte. Webhook bodies — the large ones, sent before anything is verified —
//! are also read a few at a time, so many connections cannot buffer them all at once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http_body_util::LengthLimitError;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How much of a request body is read, for how long, and how many at once.
#[derive(Clone, Debug)]
pub(crate) struct BodyLimit {
    bytes: usize,
    timeout: Duration,
    reads: Option<Arc<Semaphore>>,
}

impl BodyLimit {
    /// The API's bodies are a few hundred bytes (`{"repoURL": …}`, `{"revision": …}`).
    pub(crate) fn api() -> BodyLimit {
        BodyLimit {
            bytes: 64 * 1024,
            timeout: Duration::from_secs(30),
            reads: None,
        }
    }

    /// Push events of a few hundred commits fit (axum's default limit, which this was).
    pub(crate) fn webhooks() -> BodyLimit {
        BodyLimit {
            bytes: 2 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            reads: Some(Arc::new(Semaphore::new(8))),
        }
    }
}

/// Middleware: reads the body within `limit`, then hands the request on.
pub(crate) async fn bounded(
    State(limit): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.bytes as u64) {
        return too_large(limit.bytes);
    }
    let read = async {
        let _slot = match &limit.reads {
            Some(reads) => Some(reads.acquire().await),
            None => None,
        };
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, limit.bytes)).await
    };
    match tokio::time::timeout(limit.timeout, read).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Ok(Err(err)) if err.is::<LengthLimitError>() => too_large(limit.bytes),
        Ok(Err(err)) => {
            ApiError::bad_request(format!("reading the request body failed: {err}")).into_response()
        }
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {:?}", limit.timeout),
        )
        .into_response(),
    }
}

fn too_large(bytes: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {bytes} bytes"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    use axum::Router;
    use axum::middleware::from_fn_with_state;
    use axum::routing::post;

    use super::*;
    use crate::connections::{self, Limits};

    /// A server echoing the length of what it was sent, behind `limit`.
    fn start(limit: BodyLimit) -> SocketAddr {
        let router = Router::new()
            .route(
                "/",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .route_layer(from_fn_with_state(limit, bounded));
        connections::serve_on_a_thread(router, Limits::SERVER)
    }

    fn small(timeout: Duration) -> BodyLimit {
        BodyLimit {
            bytes: 1000,
            timeout,
            reads: Some(Arc::new(Semaphore::new(1))),
        }
    }

    /// Sends `head` then `body`, returns the status line and body of the answer.
    fn send(address: SocketAddr, head: &str, body: &[u8]) -> String {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        // One write: the server has all of it at its first read, so nothing it leaves
        // unread is still in the socket when it answers and closes (which would reset it).
        stream.write_all(&[head.as_bytes(), body].concat()).unwrap();
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .expect("the server answers and closes");
        String::from_utf8_lossy(&raw).into_owned()
    }

    fn head(length: &str) -> String {
        format!("POST / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{length}\r\n\r\n")
    }

    #[test]
    fn a_body_within_the_limit_reaches_the_handler() {
        let address = start(small(Duration::from_secs(60)));
        let answer = send(address, &head("Content-Length: 1000"), &[b'x'; 1000]);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("1000"), "{answer}");
    }

    #[test]
    fn a_body_declared_or_sent_too_large_is_refused() {
        let address = start(small(Duration::from_secs(60)));
        let declared = send(address, &head("Content-Length: 1001"), &[b'x'; 1001]);
        assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
        // Chunked: no length up front, cut off while reading.
        let chunk = [b'x'; 600];
        let mut body = Vec::new();
        for _ in 0..2 {
            body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            body.extend_from_slice(&chunk);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        let streamed = send(address, &head("Transfer-Encoding: chunked"), &body);
        assert!(streamed.starts_with("HTTP/1.1 413"), "{streamed}");
    }

    #[test]
    fn a_body_that_never_arrives_ends_the_request() {
        let address = start(small(Duration::from_secs(1)));
        // Headers promise 10 bytes, and 3 come.
        let answer = send(address, &head("Content-Length: 10"), b"abc");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}
