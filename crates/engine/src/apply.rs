//! Executing a plan: applies wave by wave and, within a wave, kind group by kind group
//! (each group concurrently), waiting for CRDs to be established before their custom
//! resources and for each wave to be healthy before the next; then prunes.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use kube::api::DeleteParams;

use crate::concurrent::{self, CONCURRENCY};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::hooks::Phase;
use crate::inventory::Inventory;
use crate::live;
use crate::object_options::ApplyMode;
use crate::object_ref::{Identity, ObjectRef};
use crate::plan::{Change, Plan, apply_params};
use crate::target::Target;

/// How a plan is executed.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// How long a wave (or a CRD) may take to become healthy before the sync fails.
    pub wave_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            wave_timeout: Duration::from_secs(300),
        }
    }
}

/// What happened to one object.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Outcome {
    /// The object.
    pub object: ObjectRef,
    /// What was done (or attempted).
    pub change: Change,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of executing a plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SyncResult {
    /// Per object, in execution order. Objects never reached (after a failure) are absent.
    pub outcomes: Vec<Outcome>,
    /// What the app owns now: every desired object plus whatever was not pruned.
    pub inventory: Inventory,
    /// Why the sync stopped early, if it did (e.g. a wave never became healthy).
    pub stopped: Option<String>,
}

impl SyncResult {
    /// Whether every step succeeded.
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none() && self.outcomes.iter().all(|o| o.error.is_none())
    }
}

impl Engine {
    /// Executes `plan`, its hooks at their moments (see [`crate::hooks`]). Stops at the
    /// first group with a failure, or at a failed hook; what was done is reported.
    pub async fn apply(&self, plan: &Plan, options: &ApplyOptions) -> SyncResult {
        let mut outcomes = Vec::new();
        let mut runs = Vec::new();
        let timeout = options.wave_timeout;
        // An invalid object stops the sync before anything is written, as in planning:
        // the app owns what it owned before.
        if let Err(refused) = self.validate_ahead(plan, timeout, &mut outcomes).await {
            return SyncResult {
                outcomes,
                inventory: plan.previous.clone(),
                stopped: Some(refused.to_string()),
            };
        }
        // A failed PreSync hook writes nothing else.
        let mut stopped = self
            .run_hooks(&plan.hooks, Phase::PreSync, timeout, &mut runs)
            .await
            .err();
        if stopped.is_none() {
            stopped = self.apply_targets(plan, options, &mut outcomes).await.err();
        }
        let mut pruned = Vec::new();
        if stopped.is_none() {
            for action in plan.actions.iter().filter(|a| a.change == Change::Prune) {
                let error = self
                    .prune(&action.object)
                    .await
                    .err()
                    .map(|e| e.to_string());
                if error.is_none() {
                    pruned.push(action.object.clone());
                }
                outcomes.push(Outcome {
                    object: action.object.clone(),
                    change: Change::Prune,
                    error,
                });
            }
            stopped = self.after_apply(plan, timeout, &mut runs).await.err();
        }
        if stopped.is_some() {
            // What SyncFail hooks do is reported; the sync failed already.
            let _ = self
                .run_hooks(&plan.hooks, Phase::SyncFail, timeout, &mut runs)
                .await;
        }
        outcomes.extend(runs.into_iter().map(|(object, error)| Outcome {
            object,
            change: Change::Run,
            error,
        }));
        let desired: Vec<ObjectRef> = plan
            .targets
            .iter()
            .filter(|t| t.tracked)
            .map(|t| t.object.clone())
            .collect();
        let released = plan
            .actions
            .iter()
            .filter(|a| a.change == Change::Release)
            .map(|a| &a.object);
        let dropped: HashSet<Identity<'_>> = pruned
            .iter()
            .chain(released)
            .chain(&desired)
            .map(ObjectRef::identity)
            .collect();
        let kept = plan
            .previous
            .objects
            .iter()
            .filter(|o| !dropped.contains(&o.identity()));
        let owned: Vec<ObjectRef> = kept.cloned().chain(desired.iter().cloned()).collect();
        SyncResult {
            outcomes,
            inventory: Inventory::new(owned),
            stopped: stopped.map(|e| e.to_string()),
        }
    }

    /// Sync hooks, then — once everything applied is Healthy — PostSync hooks.
    async fn after_apply(
        &self,
        plan: &Plan,
        timeout: Duration,
        runs: &mut Vec<(ObjectRef, Option<String>)>,
    ) -> Result<()> {
        self.run_hooks(&plan.hooks, Phase::Sync, timeout, runs)
            .await?;
        if plan
            .hooks
            .iter()
            .any(|h| h.phases.contains(&Phase::PostSync))
        {
            let applied: Vec<ObjectRef> = plan
                .targets
                .iter()
                .filter(|t| t.tracked && t.options.apply != ApplyMode::Disabled)
                .map(|t| t.object.clone())
                .collect();
            self.wait_healthy(&applied, timeout).await?;
            self.run_hooks(&plan.hooks, Phase::PostSync, timeout, runs)
                .await?;
        }
        Ok(())
    }

    async fn apply_targets(
        &self,
        plan: &Plan,
        options: &ApplyOptions,
        outcomes: &mut Vec<Outcome>,
    ) -> Result<()> {
        let changes: HashMap<&ObjectRef, Change> =
            plan.actions.iter().map(|a| (&a.object, a.change)).collect();
        let change_of = |target: &Target| {
            changes
                .get(&target.object)
                .copied()
                .unwrap_or(Change::InSync)
        };
        let force = plan.options.force_conflicts;
        let waves = group_by(&plan.targets, |t| t.wave);
        let wave_count = waves.len();
        for (index, wave) in waves.into_iter().enumerate() {
            for group in group_by(wave, |t| crate::order::stage(t.rank)) {
                // Only what changes is copied: most of a reconcile's targets are in sync.
                let pending: Vec<(Target, Change)> = group
                    .iter()
                    .map(|t| (t, change_of(t)))
                    .filter(|(_, change)| matches!(change, Change::Create | Change::Update))
                    .map(|(t, change)| (t.clone(), change))
                    .collect();
                if pending.is_empty() {
                    continue;
                }
                let attempts: Vec<_> = pending
                    .into_iter()
                    .map(|(target, change)| self.attempt(target, change, force))
                    .collect();
                let results: Vec<Outcome> = concurrent::in_order(attempts, CONCURRENCY).await;
                let first_failure = results
                    .iter()
                    .find_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.object)));
                outcomes.extend(results);
                if let Some(first_failure) = first_failure {
                    return Err(Error::Stopped { first_failure });
                }
                let crds: Vec<&Target> = group
                    .iter()
                    .filter(|t| t.object.kind == "CustomResourceDefinition")
                    .collect();
                if !crds.is_empty() {
                    let objects: Vec<ObjectRef> = crds.iter().map(|t| t.object.clone()).collect();
                    self.wait_healthy(&objects, options.wave_timeout).await?;
                    let manifests: Vec<_> = crds.iter().map(|t| t.manifest.unpack()).collect();
                    let manifests: Vec<_> = manifests.iter().collect();
                    self.discover_crds(&manifests, options.wave_timeout).await?;
                }
            }
            if index + 1 < wave_count {
                // What plumb leaves alone is not waited for: it may never exist.
                let members: Vec<ObjectRef> = wave
                    .iter()
                    .filter(|t| change_of(t) != Change::Skip)
                    .map(|t| t.object.clone())
                    .collect();
                self.wait_healthy(&members, options.wave_timeout).await?;
            }
        }
        Ok(())
    }

    async fn attempt(&self, target: Target, change: Change, force: bool) -> Outcome {
        let error = self
            .apply_one(&target, force)
            .await
            .err()
            .map(|e| e.to_string());
        Outcome {
            object: target.object,
            change,
            error,
        }
    }

    /// Applies one object; recreates it when an immutable field changed and it opts in.
    async fn apply_one(&self, target: &Target, force: bool) -> Result<()> {
        let target = self.served(target).await?;
        let params = apply_params(force && target.options.apply != ApplyMode::Merge);
        let applied = match self.send_apply(&target, &params).await {
            Err(Error::Immutable { .. }) if target.options.recreate => {
                self.delete_and_wait(&target).await?;
                self.send_apply(&target, &params).await
            }
            other => other,
        };
        match applied {
            Ok(live) => {
                let live_hash = crate::cache::live_hash(&live, &target.object);
                self.cache
                    .record(&target.object, target.key, live_hash, target.sensitive);
                Ok(())
            }
            Err(err) => {
                self.cache.forget(&target.object);
                Err(err)
            }
        }
    }

    /// The target with its kind as now served (custom resources whose CRD was just applied).
    pub(crate) async fn served(&self, target: &Target) -> Result<Target> {
        if target.kind.served {
            return Ok(target.clone());
        }
        let catalog = self.catalog().await;
        let kind = catalog
            .get(
                &target.object.group,
                &target.object.version,
                &target.object.kind,
            )
            .filter(|kind| kind.served)
            .cloned()
            .ok_or_else(|| Error::UnknownKind {
                object: target.object.to_string(),
                api_version: target.object.api_version(),
                kind: target.object.kind.clone(),
            })?;
        Ok(Target {
            kind,
            ..target.clone()
        })
    }

    async fn delete_and_wait(&self, target: &Target) -> Result<()> {
        let api = live::api(
            &self.client,
            &target.kind.resource,
            target.object.namespace.as_deref(),
        );
        let request = |source| Error::Request {
            action: "delete",
            object: target.object.to_string(),
            source,
        };
        api.delete(&target.object.name, &DeleteParams::foreground())
            .await
            .map_err(request)?;
        for _ in 0..600 {
            if api
                .get_opt(&target.object.name)
                .await
                .map_err(request)?
                .is_none()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(Error::Timeout {
            what: format!("{} to be deleted before recreating it", target.object),
            waited: Duration::from_secs(60),
        })
    }

    /// Deletes an object with background propagation; gone already is fine.
    async fn prune(&self, object: &ObjectRef) -> Result<()> {
        let catalog = self.catalog().await;
        let Some(kind) = catalog.get(&object.group, &object.version, &object.kind) else {
            return Ok(());
        };
        self.cache.forget(object);
        let api = live::api(&self.client, &kind.resource, object.namespace.as_deref());
        match api.delete(&object.name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(source) => Err(Error::Request {
                action: "delete",
                object: object.to_string(),
                source,
            }),
        }
    }
}

/// Splits sorted items into runs with equal keys.
fn group_by<T, K: PartialEq>(items: &[T], key: impl Fn(&T) -> K) -> Vec<&[T]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for index in 1..=items.len() {
        if index == items.len() || key(&items[index]) != key(&items[start]) {
            if start < index {
                groups.push(&items[start..index]);
            }
            start = index;
        }
    }
    groups
}
