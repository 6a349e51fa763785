//! What a manifest's annotations make of it as a hook — plumb's, Argo CD's (spelt the
//! same) and Helm's, mapped onto plumb's phases — read when a target is resolved, before
//! [`crate::hooks`] runs it.

use serde_json::{Map, Value};

use crate::tracking::annotation;

/// plumb's hook annotation: the phases, comma-separated.
pub const HOOK: &str = "plumb.dev/hook";
/// plumb's delete-policy annotation: comma-separated.
pub const HOOK_DELETE_POLICY: &str = "plumb.dev/hook-delete-policy";

const ARGO_HOOK: &str = "argocd.argoproj.io/hook";
const ARGO_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Helm's hooks, mapped onto plumb's phases as Argo CD maps them: a GitOps sync is an
/// install and an upgrade at once.
const HELM_HOOK: &str = "helm.sh/hook";
const HELM_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

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
