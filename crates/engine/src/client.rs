//! Kubernetes clients whose connections send each request at once.
//!
//! kube's own client leaves Nagle's algorithm on (kube-rs/kube#2056). On a new connection
//! the request follows the TLS handshake's last flight, so Nagle holds it until that flight
//! is acknowledged, and the API server delays its acknowledgement by 40 ms: every new
//! connection began with a 40 ms stall. A 1,000-object `plumb apply` opens three (the
//! inventory read, then lists in parallel), and spent more time in those stalls than in
//! the requests. These clients set TCP_NODELAY and otherwise keep kube's stack: the
//! kubeconfig's TLS, authentication, extra headers and timeouts, and retries of 429/503/504.

use http::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::retry::RetryPolicy;
use kube::client::{Body, ClientBuilder, ConfigExt as _, DynBody};
use kube::{Client, Config};
use tower::retry::RetryLayer;
use tower::util::BoxService;
use tower::{BoxError, ServiceBuilder, ServiceExt as _};

/// The service a [`ClientBuilder`] from [`builder`] holds: add layers, then build.
pub type ClientService = BoxService<Request<Body>, Response<Box<DynBody>>, BoxError>;

/// A client for `config` (see the module docs for what differs from kube's).
pub fn client(config: Config) -> kube::Result<Client> {
    Ok(builder(config)?.build())
}

/// A [`ClientBuilder`] for `config`, for callers that add layers of their own.
///
/// A kubeconfig that names a proxy, or whose credentials come from an exec plugin (which
/// may hand out client certificates that expire), gets kube's own stack: it handles both.
pub fn builder(config: Config) -> kube::Result<ClientBuilder<ClientService>> {
    if config.proxy_url.is_some() || config.auth_info.exec.is_some() {
        return ClientBuilder::try_from(config);
    }
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(config.connect_timeout);
    let mut connector =
        hyper_timeout::TimeoutConnector::new(config.rustls_https_connector_with_connector(tcp)?);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);

    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(http)
        .map_response(|response: Response<_>| {
            response.map(|body| {
                Box::new(http_body_util::BodyExt::map_err(body, BoxError::from)) as Box<DynBody>
            })
        })
        .boxed();
    Ok(ClientBuilder::new(service, config.default_namespace))
}
