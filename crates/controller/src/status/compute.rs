//! The Application's status computed from what a reconcile observed (or the error that
//! stopped it): sync state, health, kstatus conditions, per-resource entries, history.

use plumb_engine::ObjectRef;
use plumb_engine::health::HealthStatus;

use super::observation::{Observation, SyncOutcome};
use crate::application::{
    Application, ApplicationStatus, Condition, Drift, HISTORY_LIMIT, HealthStatus as AppHealth,
    MESSAGE_LIMIT, Pin, RESOURCES_LIMIT, ResourceStatus, SyncStatus,
};
use crate::clock;
use crate::error::Error;

/// How much diff text one resource keeps in status.
const DIFF_LIMIT: usize = 4096;
/// How many resources keep their diff in status.
const DIFFS_KEPT: usize = 20;

/// The status after a reconcile that planned: `old` with what `observation` saw. Pure:
/// the same inputs give the same status (apart from new transition times).
pub(super) fn observed(
    app: &Application,
    old: &ApplicationStatus,
    observation: &Observation,
    applied: Option<&str>,
    started: &str,
) -> ApplicationStatus {
    let mut status = old.clone();
    let generation = app.metadata.generation;
    status.observed_generation = generation;
    status.last_handled_reconcile_at = app.requested_at().map(str::to_owned);

    let synced = observation.in_sync();
    let succeeded = matches!(observation.outcome, Some(SyncOutcome::Succeeded));
    let last_applied = if succeeded || (synced && old.sync.last_applied_revision.is_none()) {
        Some(observation.revision.clone())
    } else {
        applied
            .map(str::to_owned)
            .or(old.sync.last_applied_revision.clone())
    };
    status.sync = SyncStatus {
        status: if synced { "Synced" } else { "OutOfSync" }.to_owned(),
        short_revision: Some(observation.revision[..observation.revision.len().min(7)].to_owned()),
        revision: Some(observation.revision.clone()),
        last_applied_revision: last_applied,
    };
    status.health = AppHealth {
        status: observation.health.to_string(),
        message: observation.health_message.clone(),
    };
    let (resources, omitted) = bounded(resources(observation, &old.resources));
    status.resources = resources;
    status.resources_omitted = omitted;
    if let Some(mut record) = observation.record.clone() {
        record.id = old.history.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        record.started_at = started.to_owned();
        status.history.insert(0, record);
        status.history.truncate(HISTORY_LIMIT);
    }
    status.pinned = app.pinned_from().map(|from| Pin {
        revision: app.spec.source.revision.clone(),
        from: from.to_owned(),
    });

    let mut conditions = Vec::new();
    let (ready, reason, message) = readiness(app, observation, synced);
    conditions.push(condition("Ready", ready, reason, &message, generation));
    if let Some(why) = &observation.waiting_for {
        conditions.push(condition("Reconciling", true, "Waiting", why, generation));
    } else if let Some(unreachable) = &observation.source_unreachable {
        conditions.push(condition(
            "Reconciling",
            true,
            "Retrying",
            unreachable,
            generation,
        ));
    } else if observation.health == HealthStatus::Progressing {
        let message = observation.health_message.clone().unwrap_or_default();
        conditions.push(condition(
            "Reconciling",
            true,
            "Progressing",
            &message,
            generation,
        ));
    }
    if let Some(SyncOutcome::Failed { message }) = &observation.outcome {
        conditions.push(condition(
            "Stalled",
            false,
            "SyncFailed",
            message,
            generation,
        ));
    }
    if let Some(sync_loop) = &observation.sync_loop {
        conditions.push(condition(
            "SyncLoop",
            true,
            "FightingAnotherController",
            &sync_loop.message(),
            generation,
        ));
    }
    status.conditions = keep_transition_times(conditions, &old.conditions);
    status
}

/// The status after a reconcile that failed before or while planning: Ready=False with the
/// reason, Stalled when only a change can help; the rest stays as it was.
pub(super) fn failed(
    app: &Application,
    old: &ApplicationStatus,
    error: &Error,
) -> ApplicationStatus {
    let mut status = old.clone();
    let generation = app.metadata.generation;
    status.observed_generation = generation;
    status.last_handled_reconcile_at = app.requested_at().map(str::to_owned);
    if status.sync.status.is_empty() {
        status.sync.status = "Unknown".into();
    }
    if status.health.status.is_empty() {
        status.health.status = "Unknown".into();
    }
    let message = error.to_string();
    let mut conditions = vec![condition(
        "Ready",
        false,
        error.reason(),
        &message,
        generation,
    )];
    if error.is_stalled() {
        conditions.push(condition(
            "Stalled",
            true,
            error.reason(),
            &message,
            generation,
        ));
    } else {
        conditions.push(condition(
            "Reconciling",
            true,
            "Retrying",
            &message,
            generation,
        ));
    }
    status.conditions = keep_transition_times(conditions, &old.conditions);
    status
}

fn readiness(
    app: &Application,
    observation: &Observation,
    synced: bool,
) -> (bool, &'static str, String) {
    if let Some(SyncOutcome::Failed { message }) = &observation.outcome {
        return (false, "SyncFailed", message.clone());
    }
    if let Some(unreachable) = &observation.source_unreachable {
        return (
            false,
            "FetchFailed",
            format!(
                "{unreachable}; the cluster is kept at {}, the revision fetched last",
                observation.revision
            ),
        );
    }
    if app.spec.suspend {
        let state = if synced { "in sync" } else { "out of sync" };
        return (
            false,
            "Suspended",
            format!("suspended (spec.suspend); the cluster is {state}"),
        );
    }
    if let Some(why) = &observation.waiting_for {
        return (false, "Waiting", why.clone());
    }
    if !synced {
        let drifted: Vec<String> = observation
            .resources
            .iter()
            .filter(|(_, s)| !s.synced)
            .take(5)
            .map(|(object, s)| match &s.drift {
                Some(diff) if !diff.changed_by.is_empty() => {
                    format!("{object} (changed by {})", diff.changed_by.join(", "))
                }
                _ => object.to_string(),
            })
            .collect();
        return (
            false,
            "OutOfSync",
            format!("out of sync: {}", drifted.join(", ")),
        );
    }
    if observation.health != HealthStatus::Healthy {
        let message = observation.health_message.clone().unwrap_or_default();
        return (
            false,
            "Progressing",
            format!("{}: {message}", observation.health),
        );
    }
    if let Some(from) = app.pinned_from() {
        return (
            true,
            "RolledBack",
            format!(
                "pinned to {} by a rollback; automated sync is off until unpinned (back to {from})",
                app.spec.source.revision
            ),
        );
    }
    (
        true,
        "Synced",
        format!("applied revision {}", observation.revision),
    )
}

fn resources(observation: &Observation, old: &[ResourceStatus]) -> Vec<ResourceStatus> {
    let mut diffs_kept = 0;
    observation
        .resources
        .iter()
        .map(|(object, state)| {
            let drift = state
                .drift
                .as_ref()
                .filter(|_| !state.synced)
                .and_then(|diff| {
                    diffs_kept += 1;
                    (diffs_kept <= DIFFS_KEPT).then(|| {
                        let previous = old
                            .iter()
                            .find(|r| same(r, object))
                            .and_then(|r| r.drift.as_ref());
                        let detected_at = previous
                            .filter(|p| p.fields == diff.fields)
                            .map(|p| p.detected_at.clone())
                            .unwrap_or_else(clock::now);
                        Drift {
                            fields: diff.fields.clone(),
                            changed_by: diff.changed_by.clone(),
                            diff: truncate(&diff.text, DIFF_LIMIT),
                            detected_at,
                        }
                    })
                });
            let status = if state.orphaned {
                "Orphaned"
            } else if state.left_alone {
                "Skipped"
            } else if state.synced {
                "Synced"
            } else {
                "OutOfSync"
            };
            ResourceStatus {
                group: object.group.clone(),
                version: object.version.clone(),
                kind: object.kind.clone(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
                status: status.to_owned(),
                health: state.health.as_ref().map(|h| h.status.to_string()),
                health_message: state
                    .health
                    .as_ref()
                    .map(|h| h.message.clone())
                    .filter(|m| !m.is_empty()),
                drift,
            }
        })
        .collect()
}

/// At most [`RESOURCES_LIMIT`] resources, in their order, those that need a person's eye
/// (out of sync, orphaned, not healthy) kept before the others; and how many were left out.
fn bounded(mut resources: Vec<ResourceStatus>) -> (Vec<ResourceStatus>, Option<u32>) {
    if resources.len() <= RESOURCES_LIMIT {
        return (resources, None);
    }
    let omitted = resources.len() - RESOURCES_LIMIT;
    let fine = |r: &ResourceStatus| {
        r.status == "Synced" && r.health.as_deref().is_none_or(|h| h == "Healthy")
    };
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by_key(|&i| fine(&resources[i]));
    let mut keep = vec![false; resources.len()];
    for &i in &order[..RESOURCES_LIMIT] {
        keep[i] = true;
    }
    let mut index = 0;
    resources.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    (resources, Some(u32::try_from(omitted).unwrap_or(u32::MAX)))
}

fn same(resource: &ResourceStatus, object: &ObjectRef) -> bool {
    resource.group == object.group
        && resource.kind == object.kind
        && resource.namespace == object.namespace
        && resource.name == object.name
}

/// A condition's message within [`MESSAGE_LIMIT`]: an error quoting a huge document (a
/// server's refusal of a 1 MiB object) must not make the status too large to write.
pub(crate) fn bounded_message(message: &str) -> String {
    truncate(message, MESSAGE_LIMIT)
}

fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n... (cut at {limit} bytes)\n", &text[..cut])
}

fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: bounded_message(message),
        last_transition_time: clock::now(),
        observed_generation: generation,
    }
}

/// A condition whose status did not change keeps the time it last changed.
fn keep_transition_times(mut conditions: Vec<Condition>, old: &[Condition]) -> Vec<Condition> {
    for condition in &mut conditions {
        if let Some(previous) = old.iter().find(|c| c.type_ == condition.type_)
            && previous.status == condition.status
        {
            condition.last_transition_time = previous.last_transition_time.clone();
        }
    }
    conditions
}

#[cfg(test)]
mod tests {
    use plumb_engine::health::Health;
    use serde_json::json;

    use super::super::observation::ResourceState;
    use super::*;
    use crate::application::SyncRecord;

    const COMMIT: &str = "2222222222222222222222222222222222222222";

    fn app() -> Application {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "team", "generation": 3},
            "spec": {"source": {"repoURL": "https://git.example/shop.git", "path": "app"}}
        }))
        .unwrap()
    }

    fn config_map(name: &str) -> ObjectRef {
        ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("team".into()),
            name: name.into(),
        }
    }

    fn resource(synced: bool, changed_by: &[&str]) -> ResourceState {
        ResourceState {
            synced,
            orphaned: false,
            left_alone: false,
            drift: (!synced).then(|| plumb_engine::Diff {
                fields: vec!["/data/color".into()],
                changed_by: changed_by.iter().map(|s| s.to_string()).collect(),
                text: "- color: blue\n+ color: red\n".into(),
            }),
            health: Some(Health {
                status: HealthStatus::Healthy,
                message: String::new(),
            }),
        }
    }

    fn observation(resources: Vec<(ObjectRef, ResourceState)>) -> Observation {
        Observation {
            revision: COMMIT.into(),
            resources,
            outcome: None,
            record: None,
            waiting: None,
            waiting_for: None,
            sync_loop: None,
            source_unreachable: None,
            health: HealthStatus::Healthy,
            health_message: None,
        }
    }

    fn ready(status: &ApplicationStatus) -> (&str, &str, &str) {
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        (&ready.status, &ready.reason, &ready.message)
    }

    #[test]
    fn drift_without_a_sync_is_out_of_sync_and_names_who_made_it() {
        let seen = observation(vec![
            (config_map("a"), resource(true, &[])),
            (config_map("b"), resource(false, &["kubectl-edit"])),
        ]);
        let status = observed(&app(), &ApplicationStatus::default(), &seen, None, "t0");
        assert_eq!(status.sync.status, "OutOfSync");
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            ready(&status),
            (
                "False",
                "OutOfSync",
                "out of sync: ConfigMap team/b (changed by kubectl-edit)"
            )
        );
        let drift = status.resources[1].drift.as_ref().unwrap();
        assert_eq!(drift.changed_by, ["kubectl-edit"]);
        assert!(status.history.is_empty(), "no sync ran");
    }

    #[test]
    fn a_sync_goes_first_in_the_history_with_the_next_id_and_keeps_ten() {
        let old = ApplicationStatus {
            history: (1..=10)
                .rev()
                .map(|id| SyncRecord {
                    id,
                    ..SyncRecord::default()
                })
                .collect(),
            ..ApplicationStatus::default()
        };
        let mut seen = observation(vec![(config_map("a"), resource(true, &[]))]);
        seen.outcome = Some(SyncOutcome::Succeeded);
        seen.record = Some(SyncRecord {
            trigger: "Poll".into(),
            result: "Succeeded".into(),
            ..SyncRecord::default()
        });
        let status = observed(&app(), &old, &seen, None, "t0");
        assert_eq!(status.history.len(), HISTORY_LIMIT);
        assert_eq!(
            (status.history[0].id, status.history[0].trigger.as_str()),
            (11, "Poll")
        );
        assert_eq!(status.history[0].started_at, "t0");
        assert_eq!(status.sync.last_applied_revision.as_deref(), Some(COMMIT));
        assert_eq!(ready(&status).1, "Synced");
    }

    #[test]
    fn a_failed_reconcile_keeps_what_was_known_and_says_whether_only_a_change_helps() {
        let mut old = ApplicationStatus::default();
        old.sync.status = "Synced".into();
        let error = Error::Spec("spec.source.revision is empty".into());
        let status = failed(&app(), &old, &error);
        assert_eq!(status.sync.status, "Synced", "what was known stays");
        assert_eq!(status.health.status, "Unknown", "never known");
        assert_eq!(
            ready(&status),
            ("False", "InvalidSpec", error.to_string().as_str())
        );
        assert!(
            status
                .conditions
                .iter()
                .any(|c| c.type_ == "Stalled" && c.status == "True")
        );
    }

    #[test]
    fn unchanged_conditions_keep_their_transition_time() {
        let old = vec![condition("Ready", true, "Synced", "a", Some(1))];
        let mut earlier = old.clone();
        earlier[0].last_transition_time = "2026-01-01T00:00:00Z".into();
        let kept = keep_transition_times(
            vec![condition("Ready", true, "Synced", "b", Some(2))],
            &earlier,
        );
        assert_eq!(kept[0].last_transition_time, "2026-01-01T00:00:00Z");
        let flipped = keep_transition_times(
            vec![condition("Ready", false, "OutOfSync", "", None)],
            &earlier,
        );
        assert_ne!(flipped[0].last_transition_time, "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_huge_app_lists_what_needs_attention_first_and_counts_the_rest() {
        let mut resources: Vec<(ObjectRef, ResourceState)> = (0..RESOURCES_LIMIT + 500)
            .map(|i| (config_map(&format!("cm-{i:05}")), resource(true, &[])))
            .collect();
        let drifted = RESOURCES_LIMIT + 400;
        resources[drifted].1 = resource(false, &["kubectl-edit"]);
        let status = observed(
            &app(),
            &ApplicationStatus::default(),
            &observation(resources),
            None,
            "now",
        );
        assert_eq!(status.resources.len(), RESOURCES_LIMIT);
        assert_eq!(status.resources_omitted, Some(500));
        let names: Vec<&str> = status.resources.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&format!("cm-{drifted:05}").as_str()));
        assert_eq!(names[0], "cm-00000", "they keep their order");
        assert_eq!(
            names[RESOURCES_LIMIT - 2],
            format!("cm-{:05}", RESOURCES_LIMIT - 2)
        );
        let bytes = serde_json::to_vec(&status).unwrap().len();
        assert!(bytes < 1 << 20, "status of {bytes} bytes");
    }

    #[test]
    fn a_condition_message_is_cut_to_its_bound() {
        let message = "x".repeat(MESSAGE_LIMIT * 4);
        let cut = condition("Ready", false, "SyncFailed", &message, None).message;
        assert!(
            cut.len() < MESSAGE_LIMIT + 64 && cut.ends_with("bytes)\n"),
            "{}",
            cut.len()
        );
    }
}
