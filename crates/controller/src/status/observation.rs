//! What one reconcile saw and did — per resource synced or not, drift, health, and the
//! sync it ran — before it becomes status.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use plumb_engine::health::{Health, HealthStatus, existence_is_health};
use plumb_engine::{Change, Engine, ObjectRef, Plan, SyncResult};

use crate::application::SyncRecord;
use crate::clock;
use crate::context::Desired;
use crate::decision::Trigger;
use crate::error::Result;
use crate::sync_loop::{LoopGuard, SyncLoop};
use crate::watches::LiveObjects;

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
    pub(super) revision: String,
    pub(super) resources: Vec<(ObjectRef, ResourceState)>,
    /// The sync's outcome, if one ran.
    pub outcome: Option<SyncOutcome>,
    pub(super) record: Option<SyncRecord>,
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
    pub(super) health_message: Option<String>,
}

#[derive(Debug)]
pub(super) struct ResourceState {
    pub(super) synced: bool,
    pub(super) orphaned: bool,
    /// Written only when missing, or never: its health is not the app's to judge.
    pub(super) left_alone: bool,
    pub(super) drift: Option<plumb_engine::Diff>,
    pub(super) health: Option<Health>,
}

impl Observation {
    /// From the plan: per resource, synced or not.
    pub(crate) fn new(desired: &Desired, plan: &Plan) -> Self {
        // Hooks are not the app's resources: they show in the sync's outcome and history.
        let resources = plan
            .actions
            .iter()
            .filter(|action| action.change != Change::Run)
            .map(|action| {
                (
                    action.object.clone(),
                    ResourceState {
                        synced: matches!(
                            action.change,
                            Change::InSync | Change::Skip | Change::Orphan | Change::Release
                        ),
                        orphaned: matches!(action.change, Change::Orphan | Change::Release),
                        left_alone: action.change == Change::Skip,
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
        let done: HashSet<&ObjectRef> = result
            .outcomes
            .iter()
            .filter(|o| o.error.is_none())
            .map(|o| &o.object)
            .collect();
        let pruned: HashSet<&ObjectRef> = plan
            .actions
            .iter()
            .filter(|a| a.change == Change::Prune)
            .map(|a| &a.object)
            .collect();
        self.resources
            .retain(|(object, _)| !(done.contains(object) && pruned.contains(object)));
        for (object, state) in &mut self.resources {
            if done.contains(&*object) {
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
            finished_at: clock::now(),
            result: result_text.to_owned(),
            summary,
        });
        self.outcome = Some(outcome);
    }

    /// Health of every resource, from the drift watches where they know it, else read.
    pub(crate) async fn resources_health(
        &mut self,
        live: &LiveObjects,
        engine: &Engine,
    ) -> Result<()> {
        let mut unknown = Vec::new();
        for (object, state) in &mut self.resources {
            if state.orphaned || state.left_alone {
                continue;
            }
            match live.health(object) {
                Some(health) => state.health = Some(health),
                // It exists (in sync), and existing is all its health is: no read.
                None if state.synced && existence_is_health(&object.group, &object.kind) => {
                    state.health = Some(Health {
                        status: HealthStatus::Healthy,
                        message: String::new(),
                    });
                }
                None => unknown.push(object.clone()),
            }
        }
        if !unknown.is_empty() {
            let mut read: HashMap<ObjectRef, Health> =
                engine.health(&unknown).await?.into_iter().collect();
            for (object, state) in &mut self.resources {
                if let Some(health) = read.remove(object) {
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

    pub(crate) fn in_sync(&self) -> bool {
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
        (Change::Run, "hooks run"),
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
