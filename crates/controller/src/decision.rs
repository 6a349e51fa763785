//! Whether a reconcile applies, and why — the sync policy as one pure function.
//!
//! In order: suspended → never; a rollback pin → only the pinned commit, once; a reconcile
//! that resumes automation → yes; a request (webhook, `plumb sync`, the API) → yes;
//! automated → a new revision or spec (told as `Poll` when the interval found it), a retry
//! after failure, or drift when `selfHeal` is on — unless a sync loop holds self-heal back;
//! otherwise the app is only reported OutOfSync. A sync also waits for the apps it
//! depends on.

use std::time::Duration;

use crate::application::{Application, ApplicationStatus};
use crate::queue::Reasons;

/// How soon to look again while waiting for a dependency.
const DEPENDENCY_POLL: Duration = Duration::from_secs(2);

/// Why a sync runs; recorded in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A new spec, a first sync, or a new commit found without a request or a poll (a
    /// retry, a restart).
    NewRevision,
    /// A new commit, found when the polling interval came round.
    Poll,
    /// A Git host's push, delivered to the webhook receiver.
    Webhook,
    /// Automation restarted (`spec.suspend` turned off).
    Resumed,
    /// Live drift, reverted.
    SelfHeal,
    /// A person asked: `plumb sync`, the API, the dashboard.
    Requested,
    /// A rollback pin.
    Rollback,
    /// After a failed sync.
    Retry,
}

impl Trigger {
    /// As written in the history.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Trigger::NewRevision => "NewRevision",
            Trigger::Poll => "Poll",
            Trigger::Webhook => "Webhook",
            Trigger::Resumed => "Resumed",
            Trigger::SelfHeal => "SelfHeal",
            Trigger::Requested => "Requested",
            Trigger::Rollback => "Rollback",
            Trigger::Retry => "Retry",
        }
    }
}

/// What a reconcile does after planning.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Only report what was observed.
    Report,
    /// A sync is due but must wait.
    Wait { why: String, after: Duration },
    /// Apply, for this reason.
    Sync(Trigger),
}

/// What the decision is made from, gathered by the reconcile.
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub app: &'a Application,
    /// The status as plumb last wrote it.
    pub status: &'a ApplicationStatus,
    /// The commit and generation this process last applied, if any.
    pub applied: Option<(String, Option<i64>)>,
    /// The commit rendered now.
    pub desired_commit: &'a str,
    /// Whether the plan changes nothing.
    pub in_sync: bool,
    /// Why the reconcile runs.
    pub reasons: Reasons,
    /// Failed attempts in a row.
    pub failures: u32,
    /// How long self-heal still backs off from a sync loop.
    pub self_heal_blocked_for: Option<Duration>,
    /// The first dependency (`dependsOn`) that is not Ready, with why.
    pub unready_dependency: Option<String>,
}

pub(crate) fn decide(facts: Facts<'_>) -> Decision {
    let Facts { app, status, .. } = facts;
    if app.spec.suspend || facts.in_sync {
        return Decision::Report;
    }
    let applied = facts.applied.clone().or_else(|| {
        Some((
            status.sync.last_applied_revision.clone()?,
            status.observed_generation,
        ))
    });
    let spec_changed = applied
        .as_ref()
        .is_some_and(|(_, generation)| *generation != app.metadata.generation);
    let new_revision = applied
        .as_ref()
        .is_none_or(|(commit, _)| commit != facts.desired_commit)
        || spec_changed;
    // Pending whatever woke this reconcile: a request made before the controller first saw
    // the app (or while it was down) arrives with the app itself, as a SPEC event.
    let requested = app.requested_at().is_some()
        && app.requested_at() != status.last_handled_reconcile_at.as_deref();
    let automated = app.spec.sync_policy.automated.as_ref();
    // Last written while suspended: this reconcile is the first since automation resumed.
    let resumed = status
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.reason == "Suspended");
    let polled =
        facts.reasons.contains(Reasons::INTERVAL) && !facts.reasons.contains(Reasons::SPEC);
    let trigger = if app.pinned_from().is_some() {
        // A rollback: the pinned commit is applied once; then automation waits for unpin.
        (new_revision || requested).then_some(Trigger::Rollback)
    } else if resumed && (requested || (automated.is_some() && new_revision)) {
        Some(Trigger::Resumed)
    } else if requested && app.requested_by() == Some("webhook") {
        Some(Trigger::Webhook)
    } else if requested {
        Some(Trigger::Requested)
    } else if automated.is_some() && new_revision {
        Some(if polled && !spec_changed {
            Trigger::Poll
        } else {
            Trigger::NewRevision
        })
    } else if automated.is_some() && facts.failures > 0 {
        Some(Trigger::Retry)
    } else if automated.is_some_and(|a| a.self_heal) {
        Some(Trigger::SelfHeal)
    } else {
        None
    };
    let Some(trigger) = trigger else {
        return Decision::Report;
    };
    if trigger == Trigger::SelfHeal
        && let Some(after) = facts.self_heal_blocked_for
    {
        return Decision::Wait {
            why: "self-heal is backing off from a sync loop".into(),
            after,
        };
    }
    if let Some(why) = facts.unready_dependency {
        return Decision::Wait {
            why,
            after: DEPENDENCY_POLL,
        };
    }
    Decision::Sync(trigger)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::application::Condition;

    const OLD: &str = "1111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222";

    fn app(spec: serde_json::Value, annotations: serde_json::Value) -> Application {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "team", "generation": 1, "annotations": annotations},
            "spec": {"source": {"repoURL": "https://git.example/shop.git", "path": "app"}}
        }))
        .map(|mut a: Application| {
            let mut value = serde_json::to_value(&a.spec).unwrap();
            json_merge(&mut value, spec);
            a.spec = serde_json::from_value(value).unwrap();
            a
        })
        .unwrap()
    }

    fn json_merge(into: &mut serde_json::Value, from: serde_json::Value) {
        match (into, from) {
            (serde_json::Value::Object(into), serde_json::Value::Object(from)) => {
                for (key, value) in from {
                    json_merge(into.entry(key).or_insert(serde_json::Value::Null), value);
                }
            }
            (into, from) => *into = from,
        }
    }

    fn automated(self_heal: bool) -> serde_json::Value {
        json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": self_heal}}})
    }

    fn applied_at(commit: &str) -> ApplicationStatus {
        let mut status = ApplicationStatus::default();
        status.sync.last_applied_revision = Some(commit.into());
        status.observed_generation = Some(1);
        status
    }

    fn facts<'a>(
        app: &'a Application,
        status: &'a ApplicationStatus,
        reasons: Reasons,
    ) -> Facts<'a> {
        Facts {
            app,
            status,
            applied: None,
            desired_commit: NEW,
            in_sync: false,
            reasons,
            failures: 0,
            self_heal_blocked_for: None,
            unready_dependency: None,
        }
    }

    #[test]
    fn a_commit_found_by_the_interval_is_a_poll_and_one_found_by_a_spec_change_is_not() {
        let app = app(automated(false), json!({}));
        let status = applied_at(OLD);
        let polled = decide(facts(&app, &status, Reasons::INTERVAL | Reasons::HEALTH));
        assert_eq!(polled, Decision::Sync(Trigger::Poll));
        let seen = decide(facts(&app, &status, Reasons::SPEC | Reasons::INTERVAL));
        assert_eq!(seen, Decision::Sync(Trigger::NewRevision));
        let mut moved = app.clone();
        moved.metadata.generation = Some(2);
        let spec = decide(facts(&moved, &status, Reasons::INTERVAL));
        assert_eq!(spec, Decision::Sync(Trigger::NewRevision), "the spec moved");
    }

    #[test]
    fn without_automation_only_a_pending_request_syncs() {
        let app_ = app(json!({}), json!({"plumb.dev/reconcile-requested-at": "t1"}));
        let status = applied_at(OLD);
        // The request is pending whichever event woke the reconcile.
        assert_eq!(
            decide(facts(&app_, &status, Reasons::SPEC)),
            Decision::Sync(Trigger::Requested)
        );
        let mut handled = status.clone();
        handled.last_handled_reconcile_at = Some("t1".into());
        assert_eq!(
            decide(facts(&app_, &handled, Reasons::SPEC)),
            Decision::Report
        );
        let plain = app(json!({}), json!({}));
        assert_eq!(
            decide(facts(&plain, &status, Reasons::INTERVAL)),
            Decision::Report
        );
    }

    #[test]
    fn a_webhook_request_is_told_as_one() {
        let app = app(
            automated(false),
            json!({"plumb.dev/reconcile-requested-at": "t1", "plumb.dev/reconcile-requested-by": "webhook"}),
        );
        let status = applied_at(OLD);
        assert_eq!(
            decide(facts(&app, &status, Reasons::REQUESTED)),
            Decision::Sync(Trigger::Webhook)
        );
    }

    #[test]
    fn suspended_or_in_sync_apps_are_only_reported() {
        let mut suspended = app(
            automated(true),
            json!({"plumb.dev/reconcile-requested-at": "t1"}),
        );
        suspended.spec.suspend = true;
        let status = applied_at(OLD);
        assert_eq!(
            decide(facts(&suspended, &status, Reasons::REQUESTED)),
            Decision::Report
        );
        let app = app(automated(true), json!({}));
        let mut in_sync = facts(&app, &status, Reasons::DRIFT);
        in_sync.in_sync = true;
        assert_eq!(decide(in_sync), Decision::Report);
    }

    #[test]
    fn the_first_reconcile_after_suspend_is_told_as_resumed() {
        let app = app(automated(false), json!({}));
        let mut status = applied_at(OLD);
        status.conditions.push(Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: "Suspended".into(),
            ..Condition::default()
        });
        assert_eq!(
            decide(facts(&app, &status, Reasons::SPEC)),
            Decision::Sync(Trigger::Resumed)
        );
    }

    #[test]
    fn drift_is_healed_only_with_self_heal_and_not_while_a_loop_is_held_back() {
        let status = applied_at(NEW);
        let reporting = app(automated(false), json!({}));
        assert_eq!(
            decide(facts(&reporting, &status, Reasons::DRIFT)),
            Decision::Report
        );
        let healing = app(automated(true), json!({}));
        assert_eq!(
            decide(facts(&healing, &status, Reasons::DRIFT)),
            Decision::Sync(Trigger::SelfHeal)
        );
        let mut held = facts(&healing, &status, Reasons::DRIFT);
        held.self_heal_blocked_for = Some(Duration::from_secs(30));
        assert!(
            matches!(decide(held), Decision::Wait { after, .. } if after == Duration::from_secs(30))
        );
        let mut failing = facts(&healing, &status, Reasons::RETRY);
        failing.failures = 2;
        assert_eq!(decide(failing), Decision::Sync(Trigger::Retry));
    }

    #[test]
    fn a_pinned_app_applies_the_pin_once_then_waits_for_unpin() {
        let pinned = app(automated(true), json!({"plumb.dev/pinned-from": "main"}));
        let status = applied_at(OLD);
        assert_eq!(
            decide(facts(&pinned, &status, Reasons::SPEC)),
            Decision::Sync(Trigger::Rollback)
        );
        let done = applied_at(NEW);
        assert_eq!(
            decide(facts(&pinned, &done, Reasons::DRIFT)),
            Decision::Report
        );
    }

    #[test]
    fn a_sync_waits_for_an_unready_dependency() {
        let app = app(automated(false), json!({}));
        let status = applied_at(OLD);
        let mut waiting = facts(&app, &status, Reasons::INTERVAL);
        waiting.unready_dependency = Some("waiting for team/db (not Ready)".into());
        assert_eq!(
            decide(waiting),
            Decision::Wait {
                why: "waiting for team/db (not Ready)".into(),
                after: DEPENDENCY_POLL
            }
        );
    }
}
