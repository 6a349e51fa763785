//! Reading a controller's Prometheus `/metrics`: plumb's (behind a bearer token) and
//! Flux's (controller-runtime's, plain).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// `GET /metrics` of `server`, with `token` as a bearer token when given; `None` unless
/// it answers 200.
pub fn scrape(server: SocketAddr, token: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect(server).ok()?;
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {server}\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply.starts_with("HTTP/1.1 200").then_some(reply)
}

/// The sum of every series of the metric `name` (the first word of its lines).
pub fn sum_of(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The API server's own CPU time so far (`process_cpu_seconds_total` of its `/metrics`),
/// read through `client`: the fleet's cost to the control plane, beside the controller's.
/// `None` when the server does not expose it to this client.
pub async fn api_server_cpu_seconds(client: &kube::Client) -> Option<f64> {
    let request = http::Request::get("/metrics").body(Vec::new()).ok()?;
    let text = client.request_text(request).await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("process_cpu_seconds_total "))
        .and_then(|value| value.trim().parse().ok())
}
