//! plumb's HTTP face: web dashboard, REST API, Git webhook receiver, Prometheus metrics and probes,
//! served by `plumb controller` on every replica.
//!
//! ```text
//!  browser ──▶ / (dashboard: embedded HTML, CSS, JS) ── the user's token ──▶ /api/v1
//!  browser, CLI, CI ──▶ /api/v1 ── auth (TokenReview, SubjectAccessReview) ──▶ Application patch
//!  GitHub, GitLab, Gitea, Bitbucket ──▶ /api/v1/webhooks/{provider} ── signature ──▶ reconcile request
//!  Prometheus ──▶ /metrics          kubelet ──▶ /healthz, /readyz
//! ```
//!
//! The server never syncs anything itself: every action is a patch of the Application (the
//! same the CLI makes), which the leader's controller sees through its watch. So any replica
//! can serve, and what the API allows is exactly what RBAC allows on `applications.plumb.dev`.

mod api;
mod auth;
mod bodies;
mod connections;
mod dashboard;
mod error;
mod expiring;
/// Entry points for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing;
mod probes;
mod routes;
mod state;
mod store;
mod throttle;
pub mod tls;
mod tree;
mod webhook_secret;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use kube::Client;

pub use error::Error;
use state::Server;

/// How the server is reached and what it reads.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The controller's namespace: where the webhook Secret lives.
    pub namespace: String,
    /// The name of the Secret with one key per webhook provider.
    pub webhook_secret: String,
    /// Show Applications of this namespace only (all when `None`).
    pub watch_namespace: Option<String>,
    /// The controller's admin namespaces: only their AppPolicies count (API roles).
    pub admin_namespaces: Vec<String>,
    /// Let requests without a token act as `system:anonymous` (RBAC still decides).
    pub anonymous: bool,
    /// The audience tokens must be made for (`kubectl create token NAME --audience plumb`);
    /// `None` accepts tokens made for the API server itself.
    pub token_audience: Option<String>,
    /// Serve HTTPS with this certificate chain and private key (PEM files, read again when
    /// they change); plain HTTP when `None`.
    pub tls: Option<tls::TlsFiles>,
}

/// Serves until the future is dropped. Binds first, so a taken port fails at once.
pub async fn serve(client: Client, config: ServerConfig) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            address: config.listen.to_string(),
            source,
        })?;
    let tls = config
        .tls
        .as_ref()
        .map(tls::TlsFiles::acceptor)
        .transpose()?;
    let apps = store::Apps::watch(client.clone(), config.watch_namespace.as_deref());
    let server = Arc::new(Server {
        authority: auth::Authority::new(
            client.clone(),
            config.anonymous,
            config.token_audience.clone(),
        ),
        webhook_secret: webhook_secret::WebhookSecret::new(
            client.clone(),
            &config.namespace,
            &config.webhook_secret,
        ),
        policies: store::Policies::watch(client.clone()),
        client,
        apps,
        config,
    });
    tracing::info!(
        address = %listener.local_addr().map_err(Error::Serve)?,
        https = tls.is_some(),
        "serving the API, webhooks and metrics"
    );
    connections::serve(
        listener,
        routes::routes(server),
        connections::Limits::SERVER,
        tls,
    )
    .await;
    Ok(())
}
