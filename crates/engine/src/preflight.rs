//! Validating what planning could not: objects in a namespace this sync creates.
//!
//! The API server answers a dry-run in a namespace that does not exist with "not found"
//! only, so a plan cannot validate such objects. Applying does, before anything else is
//! written: it creates those namespaces, dry-runs the objects in them, and if one is
//! refused deletes the namespaces again — the sync then leaves the cluster as it found it,
//! as when planning finds an invalid object. Without this, a first sync of an app into a
//! new namespace with one bad object would leave the namespace and half the objects behind.
//!
//! The namespaces are created ahead of their wave: a namespace holds nothing else of the
//! app until its objects' own waves, so only its existence is earlier.

use std::collections::HashSet;

use futures::StreamExt;
use kube::api::{DeleteParams, Preconditions};

use crate::apply::{CONCURRENCY, Outcome};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::live;
use crate::plan::{Change, Plan, apply_params};
use crate::target::Target;

impl Engine {
    /// Dry-runs the plan's objects that await their namespace, once it exists. A refusal
    /// is reported in `outcomes` and the namespaces created for it are deleted again.
    pub(crate) async fn validate_in_new_namespaces(
        &self,
        plan: &Plan,
        outcomes: &mut Vec<Outcome>,
    ) -> Result<()> {
        let awaiting: HashSet<_> = plan
            .actions
            .iter()
            .filter(|a| a.awaits_namespace)
            .map(|a| &a.object)
            .collect();
        if awaiting.is_empty() {
            return Ok(());
        }
        let targets: Vec<&Target> = plan
            .targets
            .iter()
            .filter(|t| awaiting.contains(&t.object))
            .collect();
        let names: HashSet<&str> = targets
            .iter()
            .filter_map(|t| t.object.namespace.as_deref())
            .collect();
        let force = plan.options.force_conflicts;

        // Each namespace as this sync writes it (labels, annotations), remembered by uid
        // so that only the very object created here is deleted again.
        let mut created = Vec::new();
        let namespaces = plan
            .targets
            .iter()
            .filter(|t| t.object.group.is_empty() && t.object.kind == "Namespace")
            .filter(|t| names.contains(t.object.name.as_str()));
        for namespace in namespaces {
            match self.send_apply(namespace, &apply_params(force)).await {
                Ok(live) => created.push((namespace, uid(&live))),
                Err(err) => {
                    outcomes.push(Outcome {
                        object: namespace.object.clone(),
                        change: Change::Create,
                        error: Some(err.to_string()),
                    });
                    self.delete_created(&created).await;
                    return Err(err);
                }
            }
        }

        // The futures are made first, then streamed: a closure inside the stream would
        // make the sync future non-`Send` (as in planning).
        let checks: Vec<_> = targets
            .into_iter()
            .map(|target| self.refusal(target, force))
            .collect();
        let refusals: Vec<(&Target, Error)> = futures::stream::iter(checks)
            .buffered(CONCURRENCY)
            .collect::<Vec<_>>()
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
        let mut namespaces: Vec<String> = created
            .iter()
            .map(|(namespace, _)| namespace.object.name.clone())
            .collect();
        namespaces.sort_unstable();
        let left = self.delete_created(&created).await;
        Err(Error::InvalidInNewNamespace {
            first,
            refused,
            namespaces: namespaces.join(", "),
            left,
        })
    }

    /// Why the API server would refuse `target`, if it would.
    async fn refusal<'t>(&self, target: &'t Target, force: bool) -> Option<(&'t Target, Error)> {
        self.dry_run(target, force)
            .await
            .err()
            .map(|err| (target, err))
    }

    /// Deletes namespaces this sync created moments ago; says which could not be.
    async fn delete_created(&self, created: &[(&Target, Option<String>)]) -> String {
        let mut left = Vec::new();
        for (namespace, uid) in created {
            let api = live::api(&self.client, &namespace.kind.resource, None);
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::background()
            };
            self.cache.forget(&namespace.object);
            if let Err(err) = api.delete(&namespace.object.name, &params).await {
                left.push(format!("{} ({err})", namespace.object.name));
            }
        }
        left.join(", ")
    }
}

fn uid(object: &serde_json::Value) -> Option<String> {
    object
        .pointer("/metadata/uid")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}
