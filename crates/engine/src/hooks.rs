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
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::health::{HealthStatus, assess};
use crate::live;
use crate::object_ref::ObjectRef;
use crate::target::{PackedManifest, Target};
use crate::tracking::{APP_LABEL, AppId, TRACKING_ANNOTATION, annotation};

/// plumb's hook annotation: the phases, comma-separated.
pub const HOOK: &str = "plumb.dev/hook";
/// plumb's delete-policy annotation: comma-separated.
pub const HOOK_DELETE_POLICY: &str = "plumb.dev/hook-delete-policy";
/// The label hook instances carry, to find them again.
pub const HOOK_LABEL: &str = "plumb.dev/hook-instance";

const ARGO_HOOK: &str = "argocd.argoproj.io/hook";
const ARGO_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Helm's hooks, mapped onto plumb's phases as Argo CD maps them: a GitOps sync is an
/// install and an upgrade at once.
const HELM_HOOK: &str = "helm.sh/hook";
const HELM_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

/// How often a running hook is looked at.
const POLL: Duration = Duration::from_millis(500);

/// When in a sync a hook runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Before anything is applied; one failing stops the sync.
    PreSync,
    /// After the objects are applied.
    Sync,
    /// After every object is Healthy.
    PostSync,
    /// When the sync failed.
    SyncFail,
    /// Before the objects of an Application deleted with them are deleted; one failing
    /// keeps them (and the Application) until it succeeds.
    PreDelete,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::PreSync => "PreSync",
            Phase::Sync => "Sync",
            Phase::PostSync => "PostSync",
            Phase::SyncFail => "SyncFail",
            Phase::PreDelete => "PreDelete",
        })
    }
}

/// When a hook instance is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeletePolicy {
    /// The previous instance, before a new one is created.
    pub before_creation: bool,
    /// Once it succeeded.
    pub on_success: bool,
    /// Once it failed.
    pub on_failure: bool,
}

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

/// What a manifest's annotations make of it as a hook: `None` when it is not one.
pub(crate) fn hook_of(
    manifest: &Map<String, Value>,
) -> Result<Option<(Vec<Phase>, DeletePolicy)>, String> {
    if let Some(list) = annotation(manifest, HOOK) {
        return plumb_hook(manifest, HOOK, list).map(Some);
    }
    if let Some(list) = annotation(manifest, ARGO_HOOK) {
        return plumb_hook(manifest, ARGO_HOOK, list).map(Some);
    }
    match annotation(manifest, HELM_HOOK) {
        Some(events) => helm_hook(manifest, events).map(Some),
        None => Ok(None),
    }
}

/// plumb's (or Argo CD's, spelt the same) phases and delete policy.
fn plumb_hook(
    manifest: &Map<String, Value>,
    key: &str,
    list: &str,
) -> Result<(Vec<Phase>, DeletePolicy), String> {
    let mut phases = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let phase = match name {
            "PreSync" => Phase::PreSync,
            "Sync" => Phase::Sync,
            "PostSync" => Phase::PostSync,
            "SyncFail" => Phase::SyncFail,
            "PreDelete" => Phase::PreDelete,
            // Argo CD's Skip: never applied — a hook with no phase.
            "Skip" => continue,
            other => {
                return Err(format!(
                    "{key}: {other:?} is not a phase plumb runs (PreSync, Sync, PostSync, SyncFail, PreDelete, Skip)"
                ));
            }
        };
        phases.push(phase);
    }
    let policy_list = annotation(manifest, HOOK_DELETE_POLICY)
        .map(|list| (HOOK_DELETE_POLICY, list))
        .or_else(|| {
            annotation(manifest, ARGO_DELETE_POLICY).map(|list| (ARGO_DELETE_POLICY, list))
        });
    let mut policy = DeletePolicy::default();
    match policy_list {
        None => policy.before_creation = true,
        Some((key, list)) => {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match name {
                    "BeforeHookCreation" => policy.before_creation = true,
                    "HookSucceeded" => policy.on_success = true,
                    "HookFailed" => policy.on_failure = true,
                    other => {
                        return Err(format!(
                            "{key}: {other:?} is not a delete policy (BeforeHookCreation, HookSucceeded, HookFailed)"
                        ));
                    }
                }
            }
        }
    }
    Ok((phases, policy))
}

/// Helm's events: `pre-install`/`pre-upgrade` run as PreSync, `post-install`/`post-upgrade`
/// as PostSync, `pre-delete` as PreDelete; `test`, `post-delete` and rollback hooks have
/// no moment plumb runs them at and are never applied.
fn helm_hook(
    manifest: &Map<String, Value>,
    events: &str,
) -> Result<(Vec<Phase>, DeletePolicy), String> {
    let mut phases = Vec::new();
    for event in events
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
    {
        let phase = match event.as_str() {
            "pre-install" | "pre-upgrade" => Phase::PreSync,
            "post-install" | "post-upgrade" => Phase::PostSync,
            "pre-delete" => Phase::PreDelete,
            "test" | "test-success" | "post-delete" | "pre-rollback" | "post-rollback" => continue,
            other => return Err(format!("{HELM_HOOK}: {other:?} is not a Helm hook event")),
        };
        if !phases.contains(&phase) {
            phases.push(phase);
        }
    }
    let mut policy = DeletePolicy::default();
    match annotation(manifest, HELM_DELETE_POLICY) {
        None => policy.before_creation = true,
        Some(list) => {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match name {
                    "before-hook-creation" => policy.before_creation = true,
                    "hook-succeeded" => policy.on_success = true,
                    "hook-failed" => policy.on_failure = true,
                    other => {
                        return Err(format!(
                            "{HELM_DELETE_POLICY}: {other:?} is not a delete policy (before-hook-creation, hook-succeeded, hook-failed)"
                        ));
                    }
                }
            }
        }
    }
    Ok((phases, policy))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hook(annotations: Value) -> Result<Option<(Vec<Phase>, DeletePolicy)>, String> {
        let manifest = json!({"metadata": {"annotations": annotations}});
        hook_of(manifest.as_object().unwrap())
    }

    #[test]
    fn argo_cd_hooks_are_plumbs_and_before_creation_is_the_default_policy() {
        assert_eq!(hook(json!({})), Ok(None));
        let (phases, policy) = hook(json!({"argocd.argoproj.io/hook": "PreSync"}))
            .unwrap()
            .unwrap();
        assert_eq!(phases, [Phase::PreSync]);
        assert!(policy.before_creation && !policy.on_success && !policy.on_failure);
        let (phases, policy) = hook(json!({
            "plumb.dev/hook": "PostSync, SyncFail",
            "argocd.argoproj.io/hook-delete-policy": "HookSucceeded",
        }))
        .unwrap()
        .unwrap();
        assert_eq!(phases, [Phase::PostSync, Phase::SyncFail]);
        assert!(!policy.before_creation && policy.on_success);
        let (phases, _) = hook(json!({"argocd.argoproj.io/hook": "Skip"}))
            .unwrap()
            .unwrap();
        assert!(phases.is_empty(), "Skip: never applied");
    }

    #[test]
    fn an_unknown_phase_or_policy_names_the_annotation() {
        let (phases, policy) = hook(json!({
            "helm.sh/hook": "pre-install,pre-upgrade",
            "helm.sh/hook-delete-policy": "hook-succeeded"
        }))
        .unwrap()
        .unwrap();
        assert_eq!(phases, [Phase::PreSync]);
        assert!(policy.on_success && !policy.before_creation);
        let (phases, _) = hook(json!({"helm.sh/hook": "test"})).unwrap().unwrap();
        assert!(phases.is_empty(), "a test hook is never applied");
        let phase = hook(json!({"argocd.argoproj.io/hook": "PostDelete"})).unwrap_err();
        assert!(phase.contains("argocd.argoproj.io/hook"), "{phase}");
        for annotations in [
            json!({"argocd.argoproj.io/hook": "PreDelete"}),
            json!({"helm.sh/hook": "pre-delete"}),
        ] {
            let (phases, _) = hook(annotations).unwrap().unwrap();
            assert_eq!(phases, [Phase::PreDelete]);
        }
        let policy =
            hook(json!({"plumb.dev/hook": "Sync", "plumb.dev/hook-delete-policy": "Never"}))
                .unwrap_err();
        assert!(policy.contains("plumb.dev/hook-delete-policy"), "{policy}");
    }
}
