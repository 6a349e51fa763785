//! Git webhooks: a verified push asks every Application of that repository to reconcile
//! now (the same annotation `plumb sync` sets), so a push is applied in about a second
//! instead of at the next poll. Any replica may receive it: the annotation reaches the
//! leader through its watch.
//!
//! Secrets live in one Kubernetes Secret (`--webhook-secret`, default `plumb-webhooks` in
//! the controller's namespace), one key per provider: `github`, `gitlab`, `gitea`,
//! `bitbucket`. A provider without a key refuses every delivery: nothing is unsigned.
//!
//! A refusal says the same to every sender — not which providers have keys, nor where
//! they are kept; the log says why. A delivery costs no Secret read (see `secret`).

pub(crate) mod providers;

use std::collections::HashSet;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::{HeaderMap, StatusCode};
use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_controller::{ApiAction, metrics, operations};
use plumb_source::RepositoryLocation;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Access, Credentials};
use crate::error::ApiError;
use crate::state::Server;
use providers::{Delivery, Provider};

/// What every refused delivery is told.
const REFUSED: &str = "webhook refused: the signature or token is missing or does not match";

fn count(provider: &str, result: &str) {
    metrics::count(
        "plumb_webhook_deliveries_total",
        "Webhook deliveries by provider and result (triggered, ignored, refused, failed).",
        &[("provider", provider), ("result", result)],
    );
}

/// `POST /api/v1/webhooks/{provider}`.
pub(crate) async fn receive(
    State(server): State<Arc<Server>>,
    Path(provider_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let provider = Provider::from_path(&provider_name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no webhook provider {provider_name:?}: use github, gitlab, gitea, forgejo or bitbucket"
        ))
    })?;
    let secret = match webhook_secret(&server, provider).await {
        Ok(secret) => secret,
        Err(err) => {
            count(provider.secret_key(), "refused");
            return Err(err);
        }
    };
    if let Err(reason) = provider.verify(&headers, &body, &secret) {
        count(provider.secret_key(), "refused");
        tracing::warn!(
            provider = provider.secret_key(),
            "refused a webhook: {reason}"
        );
        return Err(ApiError::unauthorized(REFUSED));
    }
    let delivery = provider.parse(&headers, &body).map_err(|reason| {
        count(provider.secret_key(), "failed");
        ApiError::bad_request(reason)
    })?;
    match delivery {
        Delivery::Ignored(reason) => {
            count(provider.secret_key(), "ignored");
            Ok((StatusCode::ACCEPTED, Json(json!({"ignored": reason}))))
        }
        Delivery::Push(urls) => {
            let wanted: HashSet<String> = urls
                .iter()
                .map(|u| RepositoryLocation::of(u).canonical())
                .collect();
            let apps = server
                .apps
                .all()
                .into_iter()
                .filter(|app| {
                    wanted.contains(&RepositoryLocation::of(&app.spec.source.repo_url).canonical())
                })
                .map(|app| {
                    (
                        app.metadata.namespace.clone().unwrap_or_default(),
                        app.metadata.name.clone().unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>();
            let triggered = trigger(&server, &apps).await?;
            count(provider.secret_key(), "triggered");
            tracing::info!(
                provider = provider.secret_key(),
                apps = ?triggered,
                "push received; reconciling its applications"
            );
            Ok((StatusCode::ACCEPTED, Json(json!({"triggered": triggered}))))
        }
    }
}

/// The body of `POST /api/v1/trigger`.
#[derive(Debug, Deserialize)]
pub(crate) struct TriggerRequest {
    /// Reconcile every Application of this repository the caller may operate.
    #[serde(rename = "repoURL")]
    repo_url: String,
}

/// `POST /api/v1/trigger`: for CI systems — a bearer token, and a repository URL. Only the
/// Applications the caller may operate are triggered or named; when there are none, the
/// answer is the same whether the repository has Applications or not.
pub(crate) async fn trigger_repository(
    State(server): State<Arc<Server>>,
    credentials: Credentials,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = server.authority.caller(&credentials, false).await?;
    let request: TriggerRequest = serde_json::from_slice(&body).map_err(|err| {
        ApiError::bad_request(format!("the body must be {{\"repoURL\": \"…\"}}: {err}"))
    })?;
    let wanted = RepositoryLocation::of(&request.repo_url).canonical();
    let mut allowed = Vec::new();
    for app in server.apps.all() {
        if RepositoryLocation::of(&app.spec.source.repo_url).canonical() != wanted {
            continue;
        }
        let namespace = app.metadata.namespace.clone().unwrap_or_default();
        let name = app.metadata.name.clone().unwrap_or_default();
        if server
            .authority
            .require(&caller, Access::Operate, &namespace, &name)
            .await
            .is_ok()
            && server
                .require_role(&caller, &namespace, ApiAction::Sync)
                .is_ok()
        {
            allowed.push((namespace, name));
        }
    }
    if allowed.is_empty() {
        return Err(ApiError::not_found(format!(
            "{} may operate no Application of {} (there is none, or RBAC does not let you patch it, or no role of its AppPolicies lets you sync it)",
            caller.username, request.repo_url
        )));
    }
    let triggered = trigger(&server, &allowed).await?;
    count("generic", "triggered");
    Ok((StatusCode::ACCEPTED, Json(json!({"triggered": triggered}))))
}

/// Sets the reconcile request on each app; returns `namespace/name` of those it reached.
async fn trigger(server: &Server, apps: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    let token = operations::request_token();
    let patch = operations::request_sync_for_webhook(&token);
    let mut triggered = Vec::new();
    for (namespace, name) in apps {
        let api: Api<plumb_controller::Application> =
            Api::namespaced(server.client.clone(), namespace);
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|err| {
                ApiError::kube(
                    &format!("requesting a reconcile of {namespace}/{name}"),
                    &err,
                )
            })?;
        triggered.push(format!("{namespace}/{name}"));
    }
    Ok(triggered)
}

/// This provider's key from the webhook Secret. Refused like a bad signature when it has
/// none; a Secret that cannot be read is a 503 (the Git host may retry), its reason logged.
async fn webhook_secret(server: &Server, provider: Provider) -> Result<Vec<u8>, ApiError> {
    let keys = server.webhook_secret.keys().await.map_err(|reason| {
        tracing::warn!(
            provider = provider.secret_key(),
            "refused a webhook: {reason}"
        );
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook refused: the receiver cannot read its configuration now; retry later",
        )
    })?;
    keys.get(provider.secret_key()).cloned().ok_or_else(|| {
        let (namespace, name) = (&server.config.namespace, &server.config.webhook_secret);
        tracing::warn!(
            provider = provider.secret_key(),
            "refused a webhook: no secret for {} webhooks (put one under key {:?} of Secret {namespace}/{name})",
            provider.secret_key(),
            provider.secret_key()
        );
        ApiError::unauthorized(REFUSED)
    })
}
