//! What operators do to an Application — request a sync, suspend, resume, roll back,
//! unpin — as the merge patches that do it. The CLI, the REST API and the webhook receiver
//! all send these, so an operation means the same thing whichever door it came through.
//! None of them acts directly: the controller sees the patch through its watch.

use serde_json::{Value, json};

use crate::application::{
    Application, ApplicationStatus, PINNED_FROM, RECONCILE_REQUESTED_AT, RECONCILE_REQUESTED_BY,
};

/// Asks for a reconcile now (resolve, fetch, sync when automated); `token` makes the
/// request unique — the controller answers in `status.lastHandledReconcileAt`. A person
/// asks (`plumb sync`, the API): the history says `Requested`.
pub fn request_sync(token: &str) -> Value {
    json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: token, RECONCILE_REQUESTED_BY: null}}})
}

/// [`request_sync`] for a Git host's push delivered to the webhook receiver: the history
/// says `Webhook`.
pub fn request_sync_for_webhook(token: &str) -> Value {
    json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: token, RECONCILE_REQUESTED_BY: "webhook"}}})
}

/// A token for [`request_sync`]: the time now, with nanoseconds so two are never equal.
pub fn request_token() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

/// Stops (or restarts) automation: no sync, no self-heal; drift is still reported.
pub fn suspend(suspended: bool) -> Value {
    json!({"spec": {"suspend": suspended}})
}

/// Pins the app to an earlier revision: `wanted` is a sync id from the history, a
/// (prefix of a) commit in the history, or a commit id. Remembers what it was pinned from.
pub fn rollback(app: &Application, wanted: &str) -> Result<Value, String> {
    let status = app.status.clone().unwrap_or_default();
    let revision = resolve_revision(&status, wanted)?;
    let from = app
        .pinned_from()
        .map(str::to_owned)
        .unwrap_or_else(|| app.spec.source.revision.clone());
    let from = if from.is_empty() {
        "HEAD".to_owned()
    } else {
        from
    };
    Ok(json!({
        "metadata": {"annotations": {PINNED_FROM: from}},
        "spec": {"source": {"revision": revision}},
    }))
}

/// Ends a rollback pin: back to the revision it was pinned from.
pub fn unpin(app: &Application) -> Result<Value, String> {
    let Some(from) = app.pinned_from() else {
        return Err(format!(
            "{} is not pinned",
            app.metadata.name.as_deref().unwrap_or_default()
        ));
    };
    Ok(json!({
        "metadata": {"annotations": {PINNED_FROM: null}},
        "spec": {"source": {"revision": from}},
    }))
}

/// A history id, or a (prefix of a) commit id from the history, or a full commit id.
pub fn resolve_revision(status: &ApplicationStatus, wanted: &str) -> Result<String, String> {
    if let Ok(id) = wanted.parse::<u64>()
        && let Some(record) = status.history.iter().find(|r| r.id == id)
    {
        return Ok(record.revision.clone());
    }
    if !wanted.is_empty()
        && let Some(record) = status
            .history
            .iter()
            .find(|r| r.revision.starts_with(wanted))
    {
        return Ok(record.revision.clone());
    }
    if wanted.len() >= 7 && wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(wanted.to_ascii_lowercase());
    }
    Err(format!(
        "{wanted:?} is neither a sync id from the history nor a commit id"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::SyncRecord;

    fn app_with_history() -> Application {
        let mut app: Application = serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "a"},
            "spec": {"source": {"repoURL": "git://x/y", "revision": "main", "path": "."}},
        }))
        .unwrap();
        let mut status = ApplicationStatus::default();
        status.history.push(SyncRecord {
            id: 3,
            revision: "abcdef0123456789abcdef0123456789abcdef01".into(),
            ..SyncRecord::default()
        });
        app.status = Some(status);
        app
    }

    #[test]
    fn a_rollback_names_a_sync_or_a_commit_and_remembers_the_branch() {
        let app = app_with_history();
        let by_id = rollback(&app, "3").unwrap();
        assert_eq!(
            by_id["spec"]["source"]["revision"],
            "abcdef0123456789abcdef0123456789abcdef01"
        );
        assert_eq!(by_id["metadata"]["annotations"][PINNED_FROM], "main");
        let by_prefix = rollback(&app, "abcdef0").unwrap();
        assert_eq!(by_prefix, by_id);
        assert!(rollback(&app, "nope").is_err());
        assert!(rollback(&app, "").is_err());
        assert!(unpin(&app).is_err(), "not pinned");
    }
}
