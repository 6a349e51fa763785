//! The Application's status: what a reconcile observed, turned into sync state, health,
//! kstatus conditions, per-resource entries and the sync history — written only when it
//! changed, so a no-op reconcile writes nothing.

use std::collections::HashMap;
use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use plumb_engine::health::{Health, HealthStatus};
use plumb_engine::{Change, Engine, ObjectRef, Plan, SyncResult};
use serde_json::{Map, Value};

use crate::application::{
    Application, ApplicationStatus, Condition, Drift, HISTORY_LIMIT, HealthStatus as AppHealth,
    Pin, ResourceStatus, SyncRecord, SyncStatus,
};
use crate::context::{AppState, Context, Desired};
use crate::error::{Error, Result};
use crate::notify::{Kind, Notice};
use crate::reconcile::Trigger;
use crate::sync_loop::{LoopGuard, SyncLoop};

/// How much diff text one resource keeps in status.
const DIFF_LIMIT: usize = 4096;
/// How many resources keep their diff in status.
const DIFFS_KEPT: usize = 20;

/// The time now, RFC 3339 (seconds).
pub(crate) fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// How a sync ended.
#[derive(Debug)]
pub(crate) enum SyncOutcome {
    /// Everything applied and pruned.
    Succeeded,
    /// Something failed; the message says what.
    Failed {
        /// The first failure.
        message: String,
    },
}

/// What one reconcile saw and did.
#[derive(Debug)]
pub(crate) struct Observation {
    revision: String,
    resources: Vec<(ObjectRef, ResourceState)>,
    /// The sync's outcome, if one ran.
    pub outcome: Option<SyncOutcome>,
    record: Option<SyncRecord>,
    /// Set when the reconcile waits (dependency, back-off) and for how long.
    pub waiting: Option<Duration>,
    /// Why it waits.
    pub waiting_for: Option<String>,
    /// A sync loop in progress.
    pub sync_loop: Option<SyncLoop>,
    /// Why Git could not be reached, when the reconcile used the revision rendered last.
    pub source_unreachable: Option<String>,
    /// The aggregated health.
    pub health: HealthStatus,
    health_message: Option<String>,
}

#[derive(Debug)]
struct ResourceState {
    synced: bool,
    orphaned: bool,
    drift: Option<plumb_engine::Diff>,
    health: Option<Health>,
}

impl Observation {
    /// From the plan: per resource, synced or not.
    pub(crate) fn new(desired: &Desired, plan: &Plan) -> Self {
        let resources = plan
            .actions
            .iter()
            .map(|action| {
                (
                    action.object.clone(),
                    ResourceState {
                        synced: matches!(
                            action.change,
                            Change::InSync | Change::Orphan | Change::Release
                        ),
                        orphaned: matches!(action.change, Change::Orphan | Change::Release),
                        drift: action.diff.clone(),
                        health: None,
                    },
                )
            })
            .collect();
        Observation {
            revision: desired.commit.clone(),
            resources,
            outcome: None,
            record: None,
            waiting: None,
            waiting_for: None,
            source_unreachable: None,
            sync_loop: None,
            health: HealthStatus::Unknown,
            health_message: None,
        }
    }

    /// Takes a sync's result in: applied objects are synced, pruned ones gone, failures
    /// stay out of sync; self-heal corrections feed the loop guard.
    pub(crate) fn record_sync(
        &mut self,
        trigger: Trigger,
        desired: &Desired,
        plan: &Plan,
        result: &SyncResult,
        guard: &mut LoopGuard,
    ) {
        let failed: HashMap<&ObjectRef, &str> = result
            .outcomes
            .iter()
            .filter_map(|o| o.error.as_deref().map(|e| (&o.object, e)))
            .collect();
        let done: Vec<&ObjectRef> = result
            .outcomes
            .iter()
            .filter(|o| o.error.is_none())
            .map(|o| &o.object)
            .collect();
        self.resources.retain(|(object, _)| {
            !(done.contains(&object)
                && plan
                    .actions
                    .iter()
                    .any(|a| a.object == *object && a.change == Change::Prune))
        });
        for (object, state) in &mut self.resources {
            if done.contains(&&*object) {
                state.synced = true;
                state.drift = None;
            }
        }
        if trigger == Trigger::SelfHeal && result.succeeded() {
            let now = tokio::time::Instant::now();
            for action in plan.actions.iter().filter(|a| a.change == Change::Update) {
                let (fields, managers) = action
                    .diff
                    .as_ref()
                    .map(|d| (d.fields.clone(), d.changed_by.clone()))
                    .unwrap_or_default();
                guard.corrected(&action.object, &fields, &managers, now);
            }
        }
        let summary = summary(plan, result);
        let (result_text, outcome) = if result.succeeded() {
            ("Succeeded", SyncOutcome::Succeeded)
        } else {
            let message = result
                .stopped
                .clone()
                .or_else(|| failed.iter().next().map(|(o, e)| format!("{o}: {e}")))
                .unwrap_or_else(|| "the sync did not complete".into());
            ("Failed", SyncOutcome::Failed { message })
        };
        let author = &desired.metadata.author;
        self.record = Some(SyncRecord {
            id: 0,
            revision: desired.commit.clone(),
            author: format!("{} <{}>", author.name, author.email),
            message: desired.metadata.summary().to_owned(),
            trigger: trigger.as_str().to_owned(),
            started_at: String::new(),
            finished_at: now(),
            result: result_text.to_owned(),
            summary,
        });
        self.outcome = Some(outcome);
    }

    /// Health of every resource, from the drift watches where they know it, else read.
    pub(crate) async fn resources_health(&mut self, ctx: &Context, engine: &Engine) -> Result<()> {
        let mut unknown = Vec::new();
        for (object, state) in &mut self.resources {
            if state.orphaned {
                continue;
            }
            match ctx.live.health(object) {
                Some(health) => state.health = Some(health),
                None => unknown.push(object.clone()),
            }
        }
        if !unknown.is_empty() {
            for (object, health) in engine.health(&unknown).await? {
                if let Some((_, state)) = self.resources.iter_mut().find(|(o, _)| *o == object) {
                    state.health = Some(health);
                }
            }
        }
        let worst = self
            .resources
            .iter()
            .filter_map(|(object, state)| state.health.as_ref().map(|h| (object, h)))
            .max_by_key(|(_, health)| health.status);
        (self.health, self.health_message) = match worst {
            Some((object, health)) if health.status != HealthStatus::Healthy => {
                (health.status, Some(format!("{object}: {}", health.message)))
            }
            Some(_) => (HealthStatus::Healthy, None),
            None => (HealthStatus::Healthy, None),
        };
        Ok(())
    }

    fn in_sync(&self) -> bool {
        self.resources.iter().all(|(_, state)| state.synced)
    }
}

/// `2 created, 1 updated, 1 pruned` — or `no changes`.
pub(crate) fn summary(plan: &Plan, result: &SyncResult) -> String {
    let failed = result.outcomes.iter().filter(|o| o.error.is_some()).count();
    let mut parts = Vec::new();
    for (change, word) in [
        (Change::Create, "created"),
        (Change::Update, "updated"),
        (Change::Prune, "pruned"),
    ] {
        let count = result
            .outcomes
            .iter()
            .filter(|o| o.change == change && o.error.is_none())
            .count();
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if let Some(stopped) = &result.stopped {
        parts.push(format!("stopped: {stopped}"));
    }
    if parts.is_empty() {
        let planned = plan.actions.len();
        return format!("no changes ({planned} objects)");
    }
    parts.join(", ")
}

/// Writes the status a successful reconcile observed, if it differs from the current one.
pub(crate) async fn publish(
    ctx: &Context,
    app: &Application,
    state: &mut AppState,
    observation: Observation,
    started: &str,
) {
    let old = current(app, state);
    let mut status = old.clone();
    let generation = app.metadata.generation;
    status.observed_generation = generation;
    status.last_handled_reconcile_at = app.requested_at().map(str::to_owned);

    let synced = observation.in_sync();
    let succeeded = matches!(observation.outcome, Some(SyncOutcome::Succeeded));
    let last_applied = if succeeded || (synced && old.sync.last_applied_revision.is_none()) {
        Some(observation.revision.clone())
    } else {
        state
            .applied
            .as_ref()
            .map(|(commit, _)| commit.clone())
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
    status.resources = resources(&observation, &old.resources);
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
    let (ready, reason, message) = readiness(app, &observation, synced);
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

/// Writes the status of a reconcile that failed before or while planning: Ready=False
/// with the reason, Stalled when only a change can help; the rest stays as it was.
pub(crate) async fn publish_error(
    ctx: &Context,
    app: &Application,
    state: &mut AppState,
    error: &Error,
) {
    let old = current(app, state);
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
    if write(ctx, app, &old, &status).await {
        state.status = Some(status);
    }
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
                            .unwrap_or_else(now);
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

fn same(resource: &ResourceStatus, object: &ObjectRef) -> bool {
    resource.group == object.group
        && resource.kind == object.kind
        && resource.namespace == object.namespace
        && resource.name == object.name
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
        message: message.to_owned(),
        last_transition_time: now(),
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

/// A merge patch from `old` to `new`: fields `new` dropped are set to null (removed).
fn with_removals(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(old), Value::Object(mut new)) => {
            let mut patch = Map::new();
            for (key, old_value) in old {
                match new.remove(key) {
                    Some(new_value) => {
                        patch.insert(key.clone(), with_removals(old_value, new_value));
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
}
