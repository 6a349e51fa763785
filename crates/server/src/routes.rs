//! Every route of the server, each to its handler.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::bodies::{self, BodyLimit};
use crate::state::Server;
use crate::{api, dashboard, probes, tree, webhooks};

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
        .route("/api/v1/clusters", get(api::clusters))
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
