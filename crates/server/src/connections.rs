//! Accepting and serving HTTP connections, with the limits `axum::serve` does not set: it
//! gives hyper no timer, so a client that never finishes its request headers (slowloris)
//! holds its connection forever, and it accepts connections without bound.
//!
//! Here every connection has [`Limits::header_read_timeout`] to send each request's headers
//! (also between requests of a kept-alive connection), headers are bounded in size, and at
//! most [`Limits::connections`] are open at once: the next one waits in the kernel's accept
//! queue until one closes. Each request carries its peer address (`ConnectInfo`), which
//! the TokenReview budget is kept by.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

/// What one server allows its clients.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Connections open at once (each open dashboard holds one for its event stream).
    pub(crate) connections: usize,
    /// How long a client has to send a request's headers.
    pub(crate) header_read_timeout: Duration,
    /// The largest request head, in bytes (431 beyond).
    pub(crate) header_bytes: usize,
}

impl Limits {
    /// What `plumb controller` serves with: a browser, CLI, Git host or Prometheus sends its
    /// headers in milliseconds; a few kilobytes carry a token and the dashboard's cookie.
    pub(crate) const SERVER: Limits = Limits {
        connections: 512,
        header_read_timeout: Duration::from_secs(10),
        header_bytes: 64 * 1024,
    };
}

/// Serves `router` on `listener` until the future is dropped; over TLS when `tls` is given
/// (the handshake is bounded by the same header-read timeout).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
) {
    let open = Arc::new(Semaphore::new(limits.connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.header_bytes);
    loop {
        let Ok(permit) = Arc::clone(&open).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a little rather than spin.
                tracing::warn!("accepting a connection failed: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { router.call(request).await }
        });
        let http = http.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = match tls {
                None => http.serve_connection(TokioIo::new(stream), service).await,
                Some(tls) => {
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, tls.accept(stream));
                    match handshake.await {
                        Ok(Ok(stream)) => {
                            http.serve_connection(TokioIo::new(stream), service).await
                        }
                        Ok(Err(err)) => {
                            tracing::debug!(%peer, "TLS handshake failed: {err}");
                            Ok(())
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake took too long");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(err) = served {
                tracing::debug!(%peer, "connection closed: {err}");
            }
            drop(permit);
        });
    }
}

/// Serves `router` with `limits` on a loopback port, on a thread and runtime of its own
/// (so a test's blocking client cannot stall it); returns the address.
#[cfg(test)]
pub(crate) fn serve_on_a_thread(router: Router, limits: Limits) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("a bound address");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            serve(listener, router, limits, None).await;
        });
    });
    address
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use std::net::SocketAddr;

    use axum::routing::get;

    use super::*;

    /// A server of `limits` answering `GET /` with `ok`, on a thread of its own.
    fn start(limits: Limits) -> SocketAddr {
        serve_on_a_thread(Router::new().route("/", get(|| async { "ok" })), limits)
    }

    /// Everything the server sends until it closes the connection; panics if it keeps it
    /// open for two minutes (generous: the servers here close within seconds).
    fn read_all(stream: &mut TcpStream) -> String {
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut raw = Vec::new();
        match stream.read_to_end(&mut raw) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(err) => panic!(
                "the server did not close the connection ({err}); it sent: {}",
                String::from_utf8_lossy(&raw)
            ),
        }
        String::from_utf8_lossy(&raw).into_owned()
    }

    fn get_root(address: SocketAddr) -> String {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .unwrap();
        read_all(&mut stream)
    }

    #[test]
    fn a_client_that_never_finishes_its_headers_is_disconnected() {
        let address = start(Limits {
            header_read_timeout: Duration::from_secs(1),
            ..Limits::SERVER
        });
        let mut slow = TcpStream::connect(address).unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: 1")
            .unwrap();
        // The server closes the connection (`read_all` returns) without serving it.
        let answered = read_all(&mut slow);
        assert!(
            !answered.contains("200 OK"),
            "the unfinished request was not served: {answered}"
        );
        assert!(get_root(address).ends_with("ok"), "others are served");
    }

    #[test]
    fn connections_beyond_the_limit_wait_until_one_closes() {
        let address = start(Limits {
            connections: 2,
            header_read_timeout: Duration::from_secs(3600),
            ..Limits::SERVER
        });
        let first = TcpStream::connect(address).unwrap();
        let _second = TcpStream::connect(address).unwrap();
        let mut third = TcpStream::connect(address).unwrap();
        third
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut byte = [0u8; 1];
        let early = third.read(&mut byte);
        assert!(
            early.is_err(),
            "a third connection is not served while two are open: {early:?}"
        );
        drop(first);
        let answered = read_all(&mut third);
        assert!(
            answered.ends_with("ok"),
            "served once one closed: {answered}"
        );
    }

    #[test]
    fn oversized_request_headers_are_refused() {
        let address = start(Limits {
            header_bytes: 8192,
            ..Limits::SERVER
        });
        let mut stream = TcpStream::connect(address).unwrap();
        let filler = "a".repeat(16 * 1024);
        let _ = stream.write_all(
            format!("GET / HTTP/1.1\r\nHost: test\r\nX-Filler: {filler}\r\n\r\n").as_bytes(),
        );
        let answered = read_all(&mut stream);
        assert!(!answered.contains("200 OK"), "{answered}");
    }
}
