//! `/api/v1`: the Applications the caller may see, one in full, the operations on it, and a
//! stream of changes. Every answer is what the API server would let the caller see or do
//! (see `auth`); the dashboard uses nothing else. Credentials written into an
//! Application's `repoURL` are never part of an answer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use http::{StatusCode, header};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_controller::clusters::{CLUSTERS_CONFIG_MAP, ClusterState, cluster_name};
use plumb_controller::{ApiAction, Application, operations};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Access, Caller, Credentials};
use crate::error::ApiError;
use crate::state::Server;

/// The OpenAPI description of this API.
const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /api/v1/applications`: a summary of each Application the caller may see.
pub(crate) async fn list(
    State(server): State<Arc<Server>>,
    credentials: Credentials,
) -> Result<Json<Value>, ApiError> {
    let caller = server.authority.caller(&credentials, true).await?;
    let mut items = Vec::new();
    for app in server.apps.all() {
        if may_view(&server, &caller, &app).await? {
            items.push(summary(&app));
        }
    }
    Ok(Json(json!({"items": items})))
}

/// `GET /api/v1/clusters`: the clusters of the Applications the caller may see, each with
/// how many of those apply there and the controller's last word on it (reachable,
/// version, last contact); a cluster the caller sees no app of is not named.
pub(crate) async fn clusters(
    State(server): State<Arc<Server>>,
    credentials: Credentials,
) -> Result<Json<Value>, ApiError> {
    let caller = server.authority.caller(&credentials, true).await?;
    let mut apps: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for app in server.apps.all() {
        if may_view(&server, &caller, &app).await? {
            *apps.entry(cluster_name(&app).to_owned()).or_default() += 1;
        }
    }
    let states: Vec<ClusterState> =
        Api::<ConfigMap>::namespaced(server.client.clone(), &server.config.namespace)
            .get_opt(CLUSTERS_CONFIG_MAP)
            .await
            .ok()
            .flatten()
            .and_then(|cm| cm.data?.remove("clusters.json"))
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
    let items: Vec<Value> = apps
        .into_iter()
        .map(|(name, count)| {
            let state = states.iter().find(|s| s.name == name);
            json!({
                "name": name,
                "apps": count,
                "server": state.map(|s| s.server.clone()),
                "reachable": state.map(|s| s.reachable),
                "version": state.and_then(|s| s.version.clone()),
                "lastContact": state.and_then(|s| s.last_contact.clone()),
                "message": state.and_then(|s| s.message.clone()),
            })
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// The caller of a read, and the Application they asked for — if they may see it.
pub(crate) async fn visible(
    server: &Server,
    credentials: &Credentials,
    namespace: &str,
    name: &str,
) -> Result<(Caller, Arc<Application>), ApiError> {
    let caller = server.authority.caller(credentials, true).await?;
    may_exist(namespace, name)?;
    server
        .authority
        .require(&caller, Access::View, namespace, name)
        .await?;
    let app = server
        .apps
        .get(namespace, name)
        .ok_or_else(|| ApiError::not_found(format!("no Application {namespace}/{name}")))?;
    Ok((caller, app))
}

/// `GET /api/v1/applications/{namespace}/{name}`: spec, status, summary.
pub(crate) async fn show(
    State(server): State<Arc<Server>>,
    Path((namespace, name)): Path<(String, String)>,
    credentials: Credentials,
) -> Result<Json<Value>, ApiError> {
    let (caller, app) = visible(&server, &credentials, &namespace, &name).await?;
    let operate = server
        .authority
        .require(&caller, Access::Operate, &namespace, &name)
        .await
        .is_ok()
        && server
            .require_role(&caller, &namespace, ApiAction::Sync)
            .is_ok();
    Ok(Json(json!({
        "summary": summary(&app),
        "spec": shown_spec(&app),
        "status": app.status,
        "annotations": app.metadata.annotations,
        "permissions": {"operate": operate},
    })))
}

/// The body of `rollback`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RollbackRequest {
    /// A sync id from the history, or a commit id.
    #[serde(default)]
    revision: String,
}

/// Refuses names no Application can have (a namespace is a DNS label, a name a DNS
/// subdomain) as not found, before they cost a permission check or reach a request URL.
fn may_exist(namespace: &str, name: &str) -> Result<(), ApiError> {
    let label = |text: &str, max: usize, dots: bool| {
        !text.is_empty()
            && text.len() <= max
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (dots && b == b'.')
            })
            && text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if label(namespace, 63, false) && label(name, 253, true) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no Application {namespace}/{name}"
        )))
    }
}

/// What an operation changes in the Application.
enum Change {
    Sync,
    Suspend(bool),
    Rollback,
    Unpin,
}

/// `POST /api/v1/applications/{namespace}/{name}/{sync|suspend|resume|rollback|unpin}`.
pub(crate) async fn operate(
    State(server): State<Arc<Server>>,
    Path((namespace, name, operation)): Path<(String, String, String)>,
    credentials: Credentials,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = server.authority.caller(&credentials, false).await?;
    may_exist(&namespace, &name)?;
    server
        .authority
        .require(&caller, Access::Operate, &namespace, &name)
        .await?;
    let (action, change) = match operation.as_str() {
        "sync" => (ApiAction::Sync, Change::Sync),
        "suspend" => (ApiAction::Suspend, Change::Suspend(true)),
        "resume" => (ApiAction::Suspend, Change::Suspend(false)),
        "rollback" => (ApiAction::Rollback, Change::Rollback),
        "unpin" => (ApiAction::Rollback, Change::Unpin),
        other => {
            return Err(ApiError::not_found(format!(
                "no operation {other:?}: use sync, suspend, resume, rollback or unpin"
            )));
        }
    };
    server.require_role(&caller, &namespace, action)?;
    let api: Api<Application> = Api::namespaced(server.client.clone(), &namespace);
    let app = api
        .get(&name)
        .await
        .map_err(|err| ApiError::kube(&format!("reading {namespace}/{name}"), &err))?;
    let mut answer = json!({"operation": operation, "application": format!("{namespace}/{name}")});
    let patch = match change {
        Change::Sync => {
            let token = operations::request_token();
            answer["requestedAt"] = json!(token);
            operations::request_sync(&token)
        }
        Change::Suspend(suspended) => operations::suspend(suspended),
        Change::Unpin => {
            operations::unpin(&app).map_err(|why| ApiError::new(StatusCode::CONFLICT, why))?
        }
        Change::Rollback => {
            let request: RollbackRequest = if body.is_empty() {
                RollbackRequest::default()
            } else {
                serde_json::from_slice(&body).map_err(|err| {
                    ApiError::bad_request(format!(
                        "the body must be {{\"revision\": \"…\"}}: {err}"
                    ))
                })?
            };
            operations::rollback(&app, &request.revision).map_err(|why| {
                // A sync id is well formed but may not be (or no longer be) in the history.
                if request.revision.parse::<u64>().is_ok() {
                    ApiError::not_found(why)
                } else {
                    ApiError::bad_request(why)
                }
            })?
        }
    };
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|err| ApiError::kube(&format!("updating {namespace}/{name}"), &err))?;
    tracing::info!(app = %format!("{namespace}/{name}"), user = %caller.username, %operation, "operation requested");
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// `GET /api/v1/stream`: server-sent events, one `changed` event (`namespace/name`) each
/// time an Application the caller may see changes — the dashboard then refetches it.
///
/// The token is checked again every [`auth::CACHE_FOR`] (a TokenReview once the cached
/// answer has expired): a token that expired or was revoked ends the stream with an
/// `unauthorized` event, at most twice that long after the API server stopped accepting it.
pub(crate) async fn stream(
    State(server): State<Arc<Server>>,
    credentials: Credentials,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let caller = server.authority.caller(&credentials, true).await?;
    let mut changes = server.apps.subscribe();
    let events = async_stream(move |sender| async move {
        let first = tokio::time::Instant::now() + auth::CACHE_FOR;
        let mut recheck = tokio::time::interval_at(first, auth::CACHE_FOR);
        loop {
            let key = tokio::select! {
                () = sender.closed() => return,
                _ = recheck.tick() => {
                    let refusal = match server.authority.caller(&credentials, true).await {
                        Ok(now) if now == caller => continue,
                        Ok(now) => format!("the token now belongs to {}", now.username),
                        Err(err) => err.message,
                    };
                    tracing::info!(user = %caller.username, "ending an event stream: {refusal}");
                    let _ = sender.send(Event::default().event("unauthorized").data(refusal)).await;
                    return;
                }
                received = changes.recv() => match received {
                    Ok(key) => key,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => "*".to_owned(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            };
            let visible = match key.split_once('/') {
                Some((namespace, name)) => server
                    .authority
                    .require(&caller, Access::View, namespace, name)
                    .await
                    .is_ok(),
                None => true,
            };
            if visible
                && sender
                    .send(Event::default().event("changed").data(key))
                    .await
                    .is_err()
            {
                return;
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stream fed by a task: what `work` sends, until it returns or the client goes away.
fn async_stream<F, Fut>(work: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(work(sender));
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx).map(|event| event.map(Ok)))
}

async fn may_view(server: &Server, caller: &Caller, app: &Application) -> Result<bool, ApiError> {
    let namespace = app.metadata.namespace.as_deref().unwrap_or_default();
    let name = app.metadata.name.as_deref().unwrap_or_default();
    Ok(server
        .authority
        .allows(caller, Access::View, namespace, None)
        .await?
        || server
            .authority
            .allows(caller, Access::View, namespace, Some(name))
            .await?)
}

/// An Application's spec as the API shows it: credentials written into `repoURL`
/// (`https://user:token@host/…`) are redacted, as everywhere plumb shows the URL.
fn shown_spec(app: &Application) -> Value {
    let mut spec = serde_json::to_value(&app.spec).unwrap_or(Value::Null);
    if let Some(url) = spec.pointer_mut("/source/repoURL") {
        *url = json!(plumb_source::redact_url(&app.spec.source.repo_url));
    }
    spec
}

/// What the list shows of an Application.
fn summary(app: &Application) -> Value {
    let status = app.status.clone().unwrap_or_default();
    let ready = app.condition("Ready");
    let last = status.history.first();
    json!({
        "namespace": app.metadata.namespace,
        "name": app.metadata.name,
        "cluster": cluster_name(app),
        "repoURL": plumb_source::redact_url(&app.spec.source.repo_url),
        "path": app.spec.source.path,
        "targetRevision": app.spec.source.revision,
        "sync": if status.sync.status.is_empty() { "Unknown" } else { status.sync.status.as_str() },
        "health": if status.health.status.is_empty() { "Unknown" } else { status.health.status.as_str() },
        "revision": status.sync.revision,
        "suspended": app.spec.suspend,
        "pinned": status.pinned.is_some(),
        "ready": ready.map(|c| c.status == "True"),
        "message": ready.map(|c| c.message.clone()),
        "lastSync": last.map(|r| json!({
            "id": r.id, "revision": r.revision, "result": r.result, "trigger": r.trigger,
            "finishedAt": r.finished_at, "author": r.author, "message": r.message,
        })),
    })
}
