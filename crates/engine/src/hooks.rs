//! Sync hooks: objects (usually Jobs or Pods) that run at a moment of a sync rather than
//! being kept in place — a database migration before the apply, a smoke test after it, a
//! notice when it fails. Argo CD's hook annotations mean the same as plumb's, so a
//! repository written for it moves unchanged.
//!
//! ```text
//!  PreSync hooks ─(all succeeded)─▶ apply waves, prune ─▶ Sync hooks ─▶ all Healthy ─▶ PostSync hooks
//!        └──────────(one failed: nothing else is written)────────┴──────────────────▶ SyncFail hooks
//!
//!  Application deleted with its objects ─▶ PreDelete hooks ─(all succeeded)─▶ objects deleted
//!                                                └──(one failed: nothing deleted, retried)
//! ```
//!
//! A hook is created afresh each sync that writes something (never server-side applied:
//! it may have only a `generateName`), and waited for: a Pod until it Succeeded, anything
//! else until Healthy (a Job Complete); Failed or Degraded fails the phase. Hooks are not
//! the app's objects: they are not in its inventory, not pruned, not drift-watched. Their
//! delete policies (`BeforeHookCreation` unless one is named; `HookSucceeded`,
//! `HookFailed`) decide when the previous or finished instance is deleted; they are found
//! again by the label `plumb.dev/hook-instance`, a digest of the app and the hook's identity.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use kube::api::{DeleteParams, DynamicObject, ListParams, PostParams};
use serde_json::Value;
use tokio::time::Instant;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::health::{HealthStatus, assess};
pub use crate::hook_annotations::{DeletePolicy, HOOK, HOOK_DELETE_POLICY, Phase};
use crate::live;
use crate::object_ref::ObjectRef;
use crate::target::{PackedManifest, Target};
use crate::tracking::{APP_LABEL, AppId, TRACKING_ANNOTATION};

/// The label hook instances carry, to find them again.
pub const HOOK_LABEL: &str = "plumb.dev/hook-instance";

/// How often a running hook is looked at.
const POLL: Duration = Duration::from_millis(500);

/// Takes the hooks out of resolved targets: what stays is kept in place, the hooks run.
pub(crate) fn split(targets: Vec<Target>, app: &AppId) -> Result<(Vec<Target>, Vec<Hook>)> {
    let mut hooks = Vec::new();
    let mut kept = Vec::with_capacity(targets.len());
    for mut target in targets {
        match target.hook.take() {
            Some((phases, delete)) => hooks.push(Hook::new(target, phases, delete, app)),
            None => kept.push(target),
        }
    }
    Ok((kept, hooks))
}

/// One hook of a plan.
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub(crate) phases: Vec<Phase>,
    pub(crate) delete: DeletePolicy,
    /// Resolved as any object (kind, namespace), then made a hook: no tracking marks, its
    /// hook label instead; `object.name` is its `generateName` when it has no name.
    pub(crate) target: Target,
}

impl Hook {
    /// Makes a resolved target a hook of `app`.
    pub(crate) fn new(
        mut target: Target,
        phases: Vec<Phase>,
        delete: DeletePolicy,
        app: &AppId,
    ) -> Hook {
        let label = instance_label(app, &target.object);
        let mut manifest = target.manifest.unpack();
        if let Some(Value::Object(metadata)) = manifest.get_mut("metadata") {
            if let Some(Value::Object(labels)) = metadata.get_mut("labels") {
                labels.remove(APP_LABEL);
                labels.insert(HOOK_LABEL.into(), label.into());
            }
            if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
                annotations.remove(TRACKING_ANNOTATION);
            }
        }
        target.manifest = PackedManifest::pack(&manifest);
        Hook {
            phases,
            delete,
            target,
        }
    }

    fn label(&self) -> String {
        self.target
            .manifest
            .unpack()
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get(HOOK_LABEL))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// The value of [`HOOK_LABEL`]: 16 hex digits of the app and the hook's identity.
fn instance_label(app: &AppId, object: &ObjectRef) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        app.as_str(),
        &object.group,
        &object.kind,
        &object.namespace,
        &object.name,
    )
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

impl Engine {
    /// Runs the hooks of `phase`, one after another in wave order; each instance run and
    /// why it failed, and an error naming the first that failed (the rest of the phase is
    /// not run).
    pub(crate) async fn run_hooks(
        &self,
        hooks: &[Hook],
        phase: Phase,
        timeout: Duration,
        runs: &mut Vec<(ObjectRef, Option<String>)>,
    ) -> Result<()> {
        let mut due: Vec<&Hook> = hooks.iter().filter(|h| h.phases.contains(&phase)).collect();
        due.sort_by(|a, b| a.target.order_key().cmp(&b.target.order_key()));
        for hook in due {
            let (object, result) = self.run_hook(hook, timeout).await;
            runs.push((
                object.clone(),
                result.as_ref().err().map(ToString::to_string),
            ));
            if let Err(err) = result {
                return Err(Error::HookFailed {
                    phase: phase.to_string(),
                    object: object.to_string(),
                    detail: err.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Creates one hook instance and waits for it; deletes instances as its policy says.
    /// The instance's name (made by the API server from a `generateName`) is returned.
    async fn run_hook(&self, hook: &Hook, timeout: Duration) -> (ObjectRef, Result<()>) {
        let mut object = hook.target.object.clone();
        let result = self.create_and_wait(hook, &mut object, timeout).await;
        (object, result)
    }

    async fn create_and_wait(
        &self,
        hook: &Hook,
        object: &mut ObjectRef,
        timeout: Duration,
    ) -> Result<()> {
        let target = self.served(&hook.target).await?;
        let api = live::api(
            &self.client,
            &target.kind.resource,
            object.namespace.as_deref(),
        );
        if hook.delete.before_creation {
            let selector = ListParams::default().labels(&format!("{HOOK_LABEL}={}", hook.label()));
            let previous = api.list(&selector).await.map_err(|source| Error::Request {
                action: "list",
                object: object.to_string(),
                source,
            })?;
            for old in previous.items {
                let name = old.metadata.name.unwrap_or_default();
                self.delete_gone(&api, object, &name, timeout).await?;
            }
        }
        let manifest: DynamicObject =
            serde_json::from_str(target.manifest.raw().get()).map_err(|err| Error::Scope {
                object: object.to_string(),
                detail: format!("not a Kubernetes object: {err}"),
            })?;
        let created = api
            .create(&PostParams::default(), &manifest)
            .await
            .map_err(|source| Error::from_write(&object.to_string(), target.sensitive, source))?;
        object.name = created.metadata.name.clone().unwrap_or_default();
        let finished = self.wait_finished(&api, object, timeout).await;
        let delete = match &finished {
            Ok(()) => hook.delete.on_success,
            Err(_) => hook.delete.on_failure,
        };
        // A finished hook that cannot be deleted as its policy says is reported, not
        // left behind unnoticed.
        let deleted = match delete {
            true => self.delete_gone(&api, object, &object.name, timeout).await,
            false => Ok(()),
        };
        finished.and(deleted)
    }

    /// Waits until a hook instance succeeded (a Pod: Succeeded; else Healthy) or failed.
    async fn wait_finished(
        &self,
        api: &kube::Api<DynamicObject>,
        object: &ObjectRef,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let live = api
                .get_opt(&object.name)
                .await
                .map_err(|source| Error::Request {
                    action: "get",
                    object: object.to_string(),
                    source,
                })?
                .map(live::into_value);
            let health = assess(&object.group, &object.kind, live.as_ref());
            let pod_phase = live
                .as_ref()
                .and_then(|l| l.pointer("/status/phase"))
                .and_then(Value::as_str);
            let succeeded = if object.group.is_empty() && object.kind == "Pod" {
                pod_phase == Some("Succeeded")
            } else {
                health.status == HealthStatus::Healthy
            };
            if succeeded {
                return Ok(());
            }
            if matches!(
                health.status,
                HealthStatus::Degraded | HealthStatus::Missing
            ) {
                return Err(Error::Scope {
                    object: object.to_string(),
                    detail: format!("{} ({})", health.status, health.message),
                });
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("hook {object} ({}: {})", health.status, health.message),
                    waited: timeout,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn delete_gone(
        &self,
        api: &kube::Api<DynamicObject>,
        object: &ObjectRef,
        name: &str,
        timeout: Duration,
    ) -> Result<()> {
        let failed = |source| Error::Request {
            action: "delete",
            object: object.to_string(),
            source,
        };
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(source) => return Err(failed(source)),
        }
        let deadline = Instant::now() + timeout;
        while api.get_opt(name).await.map_err(failed)?.is_some() {
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("deletion of the previous hook {name}"),
                    waited: timeout,
                });
            }
            tokio::time::sleep(POLL / 5).await;
        }
        Ok(())
    }
}
