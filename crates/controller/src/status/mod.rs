//! The Application's status: what a reconcile observed ([`Observation`]), computed into
//! sync state, health, conditions, resources and history by a pure function
//! ([`compute`]), then written only when it changed — so a no-op reconcile writes nothing —
//! with drift and degraded health told to the app's receivers on the transition.
//!
//! ```text
//!  Observation ─▶ compute::observed ─▶ ApplicationStatus ─▶ notify transitions ─▶ write
//!  Error ───────▶ compute::failed ───▶ ApplicationStatus ─────────────────────▶ write
//! ```

mod compute;
mod observation;

use kube::api::{Api, Patch, PatchParams};
use serde_json::{Map, Value};

pub(crate) use compute::bounded_message;
pub(crate) use observation::{Observation, SyncOutcome, summary};

use crate::application::{Application, ApplicationStatus};
use crate::context::{AppState, Context};
use crate::error::Error;
use crate::notify::{Kind, Notice};

/// Writes the status a successful reconcile observed, if it differs from the current one.
pub(crate) async fn publish(
    ctx: &Context,
    app: &Application,
    state: &mut AppState,
    observation: Observation,
    started: &str,
) {
    let old = current(app, state);
    let applied = state.applied.as_ref().map(|(commit, _)| commit.as_str());
    let status = compute::observed(app, &old, &observation, applied, started);
    notify_transitions(ctx, app, &old, &status, &observation);
    if write(ctx, app, &old, &status).await {
        state.status = Some(status);
    }
}

/// Drift that appeared without a sync, and health that turned Degraded, are told to the
/// app's receivers once, on the transition.
fn notify_transitions(
    ctx: &Context,
    app: &Application,
    old: &ApplicationStatus,
    new: &ApplicationStatus,
    observation: &Observation,
) {
    if old.sync.status == "Synced" && new.sync.status == "OutOfSync" && observation.record.is_none()
    {
        let objects: Vec<String> = observation
            .resources
            .iter()
            .filter(|(_, s)| !s.synced)
            .map(
                |(object, s)| match s.drift.as_ref().map(|d| d.changed_by.join(", ")) {
                    Some(by) if !by.is_empty() => format!("{object} (changed by {by})"),
                    _ => object.to_string(),
                },
            )
            .collect();
        let mut notice = Notice::new(
            Kind::DriftDetected,
            app,
            &observation.revision,
            format!("{} object(s) differ from Git", objects.len()),
        );
        notice.objects = objects;
        ctx.notify(app, notice);
    }
    if new.health.status == "Degraded" && old.health.status != "Degraded" {
        let message = new
            .health
            .message
            .clone()
            .unwrap_or_else(|| "health is Degraded".into());
        ctx.notify(
            app,
            Notice::new(Kind::HealthDegraded, app, &observation.revision, message),
        );
    }
}

/// Writes the status of a reconcile that failed before or while planning.
pub(crate) async fn publish_error(
    ctx: &Context,
    app: &Application,
    state: &mut AppState,
    error: &Error,
) {
    let old = current(app, state);
    let status = compute::failed(app, &old, error);
    if write(ctx, app, &old, &status).await {
        state.status = Some(status);
    }
}

/// The status to build on: what plumb last wrote, unless the watch has seen a newer one.
pub(crate) fn current(app: &Application, state: &AppState) -> ApplicationStatus {
    state
        .status
        .clone()
        .or_else(|| app.status.clone())
        .unwrap_or_default()
}

/// Writes `new` if it differs from `old`; whether it was written (or needed no write).
async fn write(
    ctx: &Context,
    app: &Application,
    old: &ApplicationStatus,
    new: &ApplicationStatus,
) -> bool {
    if old == new {
        return true;
    }
    let key = app.key();
    let (Ok(old_value), Ok(new_value)) = (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return false;
    };
    let patch = serde_json::json!({ "status": with_removals(&old_value, new_value) });
    let api: Api<Application> = Api::namespaced(ctx.client.clone(), &key.namespace);
    if let Err(err) = api
        .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        tracing::warn!(app = %key, "cannot write status: {err}");
        return false;
    }
    true
}

/// The merge patch from `old` to `new`: what changed, fields `new` dropped set to null
/// (removed), unchanged fields left out. A no-op reconcile of an app of 10,000 objects then
/// sends `lastHandledReconcileAt`, not its 2,000 resources again (the whole status took the
/// API server half a second to take in). Lists are replaced whole, as merge patches do.
fn with_removals(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(old), Value::Object(mut new)) => {
            let mut patch = Map::new();
            for (key, old_value) in old {
                match new.remove(key) {
                    Some(new_value) if new_value == *old_value => {}
                    Some(new_value @ Value::Object(_)) if old_value.is_object() => {
                        patch.insert(key.clone(), with_removals(old_value, new_value));
                    }
                    Some(new_value) => {
                        patch.insert(key.clone(), new_value);
                    }
                    None => {
                        patch.insert(key.clone(), Value::Null);
                    }
                }
            }
            patch.extend(new);
            Value::Object(patch)
        }
        (_, new) => new,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_merge_patch_removes_what_the_new_status_dropped() {
        let old = json!({"pinned": {"revision": "abc"}, "sync": {"status": "Synced", "revision": "abc"}, "history": [1, 2]});
        let new = json!({"sync": {"status": "OutOfSync"}, "history": [3]});
        assert_eq!(
            with_removals(&old, new),
            json!({"pinned": null, "sync": {"status": "OutOfSync", "revision": null}, "history": [3]})
        );
    }

    #[test]
    fn a_merge_patch_leaves_out_what_did_not_change() {
        let resources =
            json!([{"kind": "ConfigMap", "name": "a"}, {"kind": "ConfigMap", "name": "b"}]);
        let old = json!({"lastHandledReconcileAt": "1", "resources": resources, "sync": {"status": "Synced", "revision": "abc"}});
        let new = json!({"lastHandledReconcileAt": "2", "resources": resources, "sync": {"status": "Synced", "revision": "abd"}});
        assert_eq!(
            with_removals(&old, new),
            json!({"lastHandledReconcileAt": "2", "sync": {"revision": "abd"}})
        );
    }
}
