//! The server's shared state and its routes.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use kube::Client;

use crate::auth::Authority;
use crate::bodies::{self, BodyLimit};
use crate::store::Apps;
use crate::webhooks::secret::WebhookSecret;
use crate::{ServerConfig, api, dashboard, probes, tree, webhooks};

/// What every handler reads.
pub(crate) struct Server {
    pub(crate) client: Client,
    pub(crate) apps: Apps,
    pub(crate) authority: Authority,
    pub(crate) webhook_secret: WebhookSecret,
    pub(crate) config: ServerConfig,
}

/// Every route of the server.
pub(crate) fn routes(server: Arc<Server>) -> Router {
    Router::new()
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/applications", get(api::list))
        .route("/api/v1/applications/{namespace}/{name}", get(api::show))
        .route(
            "/api/v1/applications/{namespace}/{name}/tree",
            get(tree::tree),
        )
        .route(
            "/api/v1/applications/{namespace}/{name}/{operation}",
            post(api::operate),
        )
        .route("/api/v1/stream", get(api::stream))
        .route("/api/v1/trigger", post(webhooks::trigger_repository))
        .route_layer(from_fn_with_state(BodyLimit::api(), bodies::bounded))
        .route(
            "/api/v1/webhooks/{provider}",
            post(webhooks::receive)
                .layer(from_fn_with_state(BodyLimit::webhooks(), bodies::bounded)),
        )
        .with_state(server)
}
