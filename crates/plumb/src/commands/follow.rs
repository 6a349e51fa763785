//! What `plumb sync` tells while it follows the sync it asked for.
//!
//! The request is a token in an annotation; the controller copies it into
//! `status.lastHandledReconcileAt` when it has handled it. Until then the status still
//! describes the world before the request (or nothing, for a new app), so nothing of it is
//! printed. From then on, each reading says what changed: a sync recorded in the history
//! since the request, a wait (dependencies, a retry, health progressing), and finally
//! Synced and Healthy — or the failure that ends the wait.

use plumb_controller::Application;

/// What one reading of the Application means for the follower.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The controller has not handled the request yet.
    Pending,
    /// Handled; still going. The lines are what is new since the last reading.
    Going(Vec<String>),
    /// Synced and Healthy (the lines say so).
    Done(Vec<String>),
    /// It will not get there without someone's help.
    Failed(Vec<String>, String),
}

/// Follows one request, remembering what it has already told.
pub(crate) struct Follower {
    requested: String,
    /// The newest history id already told (or present before the request).
    told_record: u64,
    /// The last state line told, so a line is told once.
    told_state: String,
}

impl Follower {
    /// Follows the request `requested`, sent when `before` was the app as last read.
    pub(crate) fn new(requested: &str, before: &Application) -> Follower {
        Follower {
            requested: requested.to_owned(),
            told_record: newest_record(before),
            told_state: String::new(),
        }
    }

    /// What the reading `app` adds.
    pub(crate) fn step(&mut self, app: &Application) -> Step {
        let status = app.status.clone().unwrap_or_default();
        if status.last_handled_reconcile_at.as_deref() != Some(self.requested.as_str()) {
            return Step::Pending;
        }
        let name = app.metadata.name.as_deref().unwrap_or_default();
        let mut lines = Vec::new();
        let mut records: Vec<_> = status
            .history
            .iter()
            .filter(|r| r.id > self.told_record)
            .collect();
        records.sort_by_key(|r| r.id);
        for record in &records {
            lines.push(format!(
                "sync #{} of {} ({}): {}{}",
                record.id,
                short(&record.revision),
                record.trigger,
                record.result,
                if record.summary.is_empty() {
                    String::new()
                } else {
                    format!(", {}", record.summary)
                }
            ));
            self.told_record = record.id;
        }
        if let Some(failed) = records.iter().rev().find(|r| r.result == "Failed") {
            return Step::Failed(lines, format!("the sync failed: {}", failed.summary));
        }
        if app.spec.suspend {
            return Step::Failed(
                lines,
                format!("{name} is suspended: nothing is applied until `plumb resume {name}`"),
            );
        }
        if let Some(stalled) = app.condition("Stalled").filter(|c| c.status == "True") {
            return Step::Failed(
                lines,
                format!(
                    "{name} is stalled ({}): {}",
                    stalled.reason, stalled.message
                ),
            );
        }
        let synced = status.sync.status == "Synced" && status.health.status == "Healthy";
        let state = state_line(app, &status);
        if state != self.told_state {
            lines.push(state.clone());
            self.told_state = state;
        }
        if synced {
            Step::Done(lines)
        } else {
            Step::Going(lines)
        }
    }
}

/// One line of where the app stands, never "Unknown": before its first sync the reason it
/// is not ready says more.
fn state_line(app: &Application, status: &plumb_controller::ApplicationStatus) -> String {
    let revision = status.sync.short_revision.as_deref().unwrap_or("-");
    if let Some(reconciling) = app.condition("Reconciling").filter(|c| c.status == "True") {
        return format!("{}: {}", reconciling.reason, reconciling.message);
    }
    let known = |text: &str| !text.is_empty() && text != "Unknown";
    if !known(&status.sync.status) || !known(&status.health.status) {
        return match app.condition("Ready") {
            Some(ready) => format!("not synced yet ({}): {}", ready.reason, ready.message),
            None => "not synced yet".to_owned(),
        };
    }
    let health = match &status.health.message {
        Some(message) if !message.is_empty() => format!("{} ({message})", status.health.status),
        _ => status.health.status.clone(),
    };
    format!("{} {health} at {revision}", status.sync.status)
}

fn newest_record(app: &Application) -> u64 {
    app.status
        .as_ref()
        .and_then(|s| s.history.iter().map(|r| r.id).max())
        .unwrap_or(0)
}

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(7)]
}

#[cfg(test)]
mod tests {
    use plumb_controller::ApplicationStatus;
    use plumb_controller::application::{Condition, SyncRecord};

    use super::*;

    const TOKEN: &str = "2026-12-01T10:00:00.123456789Z";

    fn app(status: Option<ApplicationStatus>) -> Application {
        let mut app = Application::new("web", Default::default());
        app.status = status;
        app
    }

    fn handled(mut status: ApplicationStatus) -> ApplicationStatus {
        status.last_handled_reconcile_at = Some(TOKEN.to_owned());
        status
    }

    fn record(id: u64, result: &str, summary: &str) -> SyncRecord {
        SyncRecord {
            id,
            revision: "0123456789abcdef".into(),
            trigger: "Requested".into(),
            result: result.into(),
            summary: summary.into(),
            ..SyncRecord::default()
        }
    }

    fn synced(health: &str, history: Vec<SyncRecord>) -> ApplicationStatus {
        let mut status = ApplicationStatus::default();
        status.sync.status = "Synced".into();
        status.sync.short_revision = Some("0123456".into());
        status.health.status = health.into();
        status.history = history;
        status
    }

    fn condition(type_: &str, reason: &str, message: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: "True".into(),
            reason: reason.into(),
            message: message.into(),
            ..Condition::default()
        }
    }

    #[test]
    fn the_state_from_before_the_request_is_never_told() {
        let before = app(Some(synced("Healthy", vec![record(4, "Succeeded", "")])));
        let mut follower = Follower::new(TOKEN, &before);
        assert_eq!(follower.step(&before), Step::Pending);
        assert_eq!(follower.step(&app(None)), Step::Pending);
    }

    #[test]
    fn the_new_sync_and_then_the_end_are_told_once_each() {
        let before = app(Some(synced("Healthy", vec![record(4, "Succeeded", "")])));
        let mut follower = Follower::new(TOKEN, &before);
        let mut status = synced(
            "Progressing",
            vec![
                record(5, "Succeeded", "1 updated"),
                record(4, "Succeeded", ""),
            ],
        );
        status.health.message = Some("Deployment web: 0 of 1 ready".into());
        assert_eq!(
            follower.step(&app(Some(handled(status.clone())))),
            Step::Going(vec![
                "sync #5 of 0123456 (Requested): Succeeded, 1 updated".into(),
                "Synced Progressing (Deployment web: 0 of 1 ready) at 0123456".into(),
            ])
        );
        assert_eq!(
            follower.step(&app(Some(handled(status.clone())))),
            Step::Going(vec![])
        );
        status.health.status = "Healthy".into();
        status.health.message = None;
        assert_eq!(
            follower.step(&app(Some(handled(status)))),
            Step::Done(vec!["Synced Healthy at 0123456".into()])
        );
    }

    #[test]
    fn a_new_app_is_not_unknown_but_says_why_it_is_not_synced() {
        let before = app(None);
        let mut follower = Follower::new(TOKEN, &before);
        let mut status = ApplicationStatus::default();
        status.sync.status = "Unknown".into();
        status.health.status = "Unknown".into();
        status.conditions = vec![Condition {
            status: "False".into(),
            ..condition("Ready", "FetchFailed", "cannot reach the repository")
        }];
        let Step::Going(lines) = follower.step(&app(Some(handled(status)))) else {
            panic!("still going");
        };
        assert_eq!(
            lines,
            ["not synced yet (FetchFailed): cannot reach the repository"]
        );
    }

    #[test]
    fn a_wait_is_told_and_a_failed_sync_ends_the_follow() {
        let mut follower = Follower::new(TOKEN, &app(None));
        let status = ApplicationStatus {
            conditions: vec![condition(
                "Reconciling",
                "Waiting",
                "shop-dev is not Healthy",
            )],
            ..ApplicationStatus::default()
        };
        assert_eq!(
            follower.step(&app(Some(handled(status)))),
            Step::Going(vec!["Waiting: shop-dev is not Healthy".into()])
        );
        let mut status = synced(
            "Healthy",
            vec![record(1, "Failed", "Deployment web: forbidden")],
        );
        status.sync.status = "OutOfSync".into();
        let Step::Failed(lines, why) = follower.step(&app(Some(handled(status)))) else {
            panic!("failed");
        };
        assert_eq!(
            lines,
            ["sync #1 of 0123456 (Requested): Failed, Deployment web: forbidden"]
        );
        assert_eq!(why, "the sync failed: Deployment web: forbidden");
    }
}
