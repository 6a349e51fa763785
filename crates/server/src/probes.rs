//! Liveness, readiness and Prometheus metrics.
//!
//! The probes answer anyone (the kubelet sends no token). `/metrics` names every
//! Application, so it answers only a token RBAC lets `get` the non-resource URL `/metrics`
//! — how the API server, kubelet and controller-manager guard theirs. With
//! `--allow-anonymous`, a scrape without a token is asked about as `system:anonymous`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use http::{StatusCode, header};
use plumb_controller::metrics;

use crate::auth::Credentials;
use crate::error::ApiError;
use crate::state::Server;

/// `GET /healthz`: the process serves, and no reconcile runs far past its deadline
/// ([`plumb_controller::liveness`]); otherwise the kubelet should restart it.
pub(crate) async fn healthz() -> (StatusCode, String) {
    match plumb_controller::liveness::check() {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(why) => {
            tracing::error!("liveness: {why}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not live: {why}\n"),
            )
        }
    }
}

/// `GET /readyz`: the Applications have been listed once (the API server is reachable).
pub(crate) async fn readyz(State(server): State<Arc<Server>>) -> (StatusCode, &'static str) {
    if server.apps.is_synced() {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: Applications not listed yet\n",
        )
    }
}

/// `GET /metrics`: the controller's counters and, per Application, its sync status and
/// health as 0/1 gauges (one series per possible value, as kube-state-metrics does).
pub(crate) async fn metrics(
    State(server): State<Arc<Server>>,
    credentials: Credentials,
) -> Result<impl IntoResponse, ApiError> {
    let caller = server.authority.caller(&credentials, false).await?;
    server.authority.require_url(&caller, "/metrics").await?;
    let mut out = metrics::render();
    let apps = server.apps.all();
    let _ = writeln!(
        out,
        "# HELP plumb_app_sync_status Whether the Application's sync status is the one labelled (1) or not (0).\n# TYPE plumb_app_sync_status gauge"
    );
    for app in &apps {
        let status = app.status.clone().unwrap_or_default();
        for value in ["Synced", "OutOfSync", "Unknown"] {
            let current = if status.sync.status.is_empty() {
                "Unknown"
            } else {
                &status.sync.status
            };
            let _ = writeln!(
                out,
                "plumb_app_sync_status{} {}",
                labels(app, value),
                u8::from(current == value)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP plumb_app_health_status Whether the Application's health is the one labelled (1) or not (0).\n# TYPE plumb_app_health_status gauge"
    );
    for app in &apps {
        let status = app.status.clone().unwrap_or_default();
        let current = if status.health.status.is_empty() {
            "Unknown"
        } else {
            &status.health.status
        };
        for value in [
            "Healthy",
            "Progressing",
            "Degraded",
            "Suspended",
            "Missing",
            "Unknown",
        ] {
            let _ = writeln!(
                out,
                "plumb_app_health_status{} {}",
                labels(app, value),
                u8::from(current == value)
            );
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}

fn labels(app: &plumb_controller::Application, status: &str) -> String {
    metrics::format_labels(
        &[
            (
                "namespace",
                app.metadata.namespace.clone().unwrap_or_default(),
            ),
            ("name", app.metadata.name.clone().unwrap_or_default()),
            ("status", status.to_owned()),
        ],
        None,
    )
}
