//! Validating what planning could not: objects in a namespace this sync creates, and custom
//! resources whose CustomResourceDefinition this sync creates.
//!
//! The API server cannot dry-run an object whose namespace does not exist ("not found") or
//! whose kind it does not serve yet, so a plan cannot validate such objects. Applying does,
//! before anything else is written: it creates those namespaces and definitions, dry-runs
//! the objects waiting for them, and if one is refused deletes what it created again — the
//! sync then leaves the cluster as it found it, as when planning finds an invalid object.
//! Without this, a first sync of an app into a new namespace, or of an operator with its
//! CRDs, would leave half the app behind when one object is invalid.
//!
//! Only what did not exist is created ahead, since only that can be undone by deleting it.
//! A custom resource whose definition exists already but does not serve its version yet
//! (a definition gaining a version) is applied unvalidated after it, as before. What is
//! created ahead exists a moment before its wave; it holds nothing of the app until then.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use kube::api::{DeleteParams, Preconditions};
use serde_json::Value;

use crate::apply::Outcome;
use crate::concurrent::{self, CONCURRENCY};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::live;
use crate::object_options::ApplyMode;
use crate::object_ref::ObjectRef;
use crate::plan::{Awaits, Change, Plan, apply_params};
use crate::target::Target;

/// What was created ahead, by uid: only that very object is deleted again.
type Created<'p> = Vec<(&'p Target, Option<String>)>;

impl Engine {
    /// Dry-runs the plan's objects that await a namespace or a definition, once it exists.
    /// A refusal is reported in `outcomes`, and what was created for it is deleted again.
    pub(crate) async fn validate_ahead(
        &self,
        plan: &Plan,
        timeout: Duration,
        outcomes: &mut Vec<Outcome>,
    ) -> Result<()> {
        let awaiting: HashMap<&ObjectRef, Awaits> = plan
            .actions
            .iter()
            .filter_map(|a| Some((&a.object, a.awaits?)))
            .collect();
        if awaiting.is_empty() {
            return Ok(());
        }
        let targets: Vec<&Target> = plan
            .targets
            .iter()
            .filter(|t| awaiting.contains_key(&t.object))
            .collect();
        let namespaces: HashSet<&str> = targets
            .iter()
            .filter(|t| awaiting[&t.object].namespace)
            .filter_map(|t| t.object.namespace.as_deref())
            .collect();
        let kinds: HashSet<(&str, &str)> = targets
            .iter()
            .filter(|t| awaiting[&t.object].definition)
            .map(|t| (t.object.group.as_str(), t.object.kind.as_str()))
            .collect();
        // Only what the plan creates: a namespace plumb must not write (`apply: disabled`)
        // is not made here either, and its objects are refused as "not found".
        let creates: HashSet<&ObjectRef> = plan
            .actions
            .iter()
            .filter(|a| a.change == Change::Create)
            .map(|a| &a.object)
            .collect();
        let ahead: Vec<&Target> = plan
            .targets
            .iter()
            .filter(|t| creates.contains(&t.object))
            .filter(|t| {
                (is_namespace(t) && namespaces.contains(t.object.name.as_str()))
                    || t.defined_kind().is_some_and(|(group, kind)| {
                        kinds.contains(&(group.as_str(), kind.as_str()))
                    })
            })
            .collect();

        let mut created = Created::new();
        if let Err((err, object)) = self.create_ahead(plan, &ahead, timeout, &mut created).await {
            if let Some(object) = object {
                outcomes.push(Outcome {
                    object,
                    change: Change::Create,
                    error: Some(err.to_string()),
                });
            }
            self.delete_created(&created).await;
            return Err(err);
        }

        let force = plan.options.force_conflicts;
        let checks: Vec<_> = targets
            .into_iter()
            .map(|target| self.refusal(target, force))
            .collect();
        let refusals: Vec<(&Target, Error)> = concurrent::in_order(checks, CONCURRENCY)
            .await
            .into_iter()
            .flatten()
            .collect();
        let Some((_, first)) = refusals.first() else {
            return Ok(());
        };
        let first = first.to_string();
        let refused = refusals.len();
        outcomes.extend(refusals.into_iter().map(|(target, err)| Outcome {
            object: target.object.clone(),
            change: Change::Create,
            error: Some(err.to_string()),
        }));
        let made = created
            .iter()
            .map(|(target, _)| format!("{} {}", target.object.kind, target.object.name))
            .collect::<Vec<_>>()
            .join(", ");
        let left = self.delete_created(&created).await;
        Err(Error::RefusedAhead {
            first,
            refused,
            created: made,
            left,
        })
    }

    /// Creates the namespaces, then the definitions (waiting until their kinds are
    /// served), remembering each in `created`; on failure, which object failed.
    async fn create_ahead<'p>(
        &self,
        plan: &Plan,
        ahead: &[&'p Target],
        timeout: Duration,
        created: &mut Created<'p>,
    ) -> std::result::Result<(), (Error, Option<ObjectRef>)> {
        let force = plan.options.force_conflicts;
        // Namespaces first: the definitions are cluster-scoped, the objects are not.
        let (namespaces, definitions): (Vec<&Target>, Vec<&Target>) =
            ahead.iter().partition(|t| is_namespace(t));
        for target in namespaces.iter().chain(&definitions) {
            let force = force && target.options.apply != ApplyMode::Merge;
            let live = self
                .send_apply(target, &apply_params(force))
                .await
                .map_err(|err| (err, Some(target.object.clone())))?;
            created.push((target, uid(&live)));
        }
        if definitions.is_empty() {
            return Ok(());
        }
        let objects: Vec<ObjectRef> = definitions.iter().map(|t| t.object.clone()).collect();
        self.wait_healthy(&objects, timeout)
            .await
            .map_err(|err| (err, None))?;
        let manifests: Vec<_> = definitions.iter().map(|t| t.manifest.unpack()).collect();
        let manifests: Vec<_> = manifests.iter().collect();
        self.discover_crds(&manifests, timeout)
            .await
            .map_err(|err| (err, None))
    }

    /// Why the API server would refuse `target`, if it would.
    async fn refusal<'t>(&self, target: &'t Target, force: bool) -> Option<(&'t Target, Error)> {
        let checked = match self.served(target).await {
            Ok(served) => self.dry_run(&served, force).await.map(drop),
            Err(err) => Err(err),
        };
        checked.err().map(|err| (target, err))
    }

    /// Deletes what this sync created moments ago, last first; says what could not be.
    async fn delete_created(&self, created: &Created<'_>) -> String {
        let defined: Vec<(String, String)> = created
            .iter()
            .filter_map(|(target, _)| target.defined_kind())
            .collect();
        if !defined.is_empty() {
            self.forget_kinds(&defined).await;
        }
        let mut left = Vec::new();
        for (target, uid) in created.iter().rev() {
            let api = live::api(&self.client, &target.kind.resource, None);
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::background()
            };
            self.cache.forget(&target.object);
            if let Err(err) = api.delete(&target.object.name, &params).await {
                left.push(format!(
                    "{} {} ({err})",
                    target.object.kind, target.object.name
                ));
            }
        }
        left.join(", ")
    }
}

fn is_namespace(target: &Target) -> bool {
    target.object.group.is_empty() && target.object.kind == "Namespace"
}

fn uid(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
