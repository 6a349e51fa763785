//! AppPolicies: the guardrails operators set for the Applications of tenant namespaces —
//! which repositories, which namespaces and kinds, whether remote bases and external
//! renderers may run.
//!
//! ```text
//!  AppPolicy watch (admin namespaces only) ─▶ Policies ─▶ reconcile: repository checked before any fetch,
//!                                                                   render options narrowed,
//!                                                                   every object of the plan checked before any write
//!                                                       └▶ cascade deletion: checked before deleting
//! ```
//!
//! A policy counts only in one of the controller's admin namespaces, so a team that may
//! write in its own namespace cannot loosen the rules of its own apps. Until the policies
//! have been read once, apps wait (a few seconds, then they fail and retry): they never
//! run unchecked.

mod evaluate;
mod spec;

use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::watch;

pub use evaluate::api_permits;
use plumb_engine::{Change, ObjectRef, Plan};
use plumb_render::KustomizeOptions;
pub use spec::{ApiAction, AppPolicy, AppPolicySpec, KindPattern, PolicyRole};

use crate::application::Application;
use crate::error::{Error, Result};

/// The AppPolicies of the admin namespaces, as last seen.
#[derive(Debug)]
pub(crate) struct Policies {
    admin_namespaces: Vec<String>,
    state: RwLock<State>,
    /// Turns true once the policies were read: what a reconcile started first waits for.
    read: watch::Sender<bool>,
}

/// How long a reconcile waits for the first read of the policies before it fails (and is
/// retried): the first list usually takes milliseconds.
const FIRST_READ_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct State {
    /// Whether the list was read once.
    read: bool,
    policies: Vec<AppPolicy>,
    /// Why the last read failed, for the apps that wait.
    failure: Option<String>,
}

/// The policies that govern one Application.
#[derive(Debug)]
pub(crate) struct Governing {
    policies: Vec<AppPolicy>,
}

impl Policies {
    pub(crate) fn new(admin_namespaces: Vec<String>) -> Policies {
        Policies {
            admin_namespaces,
            state: RwLock::default(),
            read: watch::Sender::new(false),
        }
    }

    /// Whether a policy in `namespace` counts.
    pub(crate) fn counts_in(&self, namespace: &str) -> bool {
        self.admin_namespaces.iter().any(|n| n == namespace)
    }

    /// Replaces the policies with a complete list (a watch's initial or re-listed state).
    /// Returns what changed, to look again at the apps those govern (nothing on the first
    /// read: apps that waited for it go on by themselves).
    pub(crate) fn replace(&self, policies: Vec<AppPolicy>) -> Changed {
        let mut state = self.write();
        let new: Vec<AppPolicy> = policies.into_iter().filter(|p| self.counts(p)).collect();
        let old = std::mem::replace(&mut state.policies, new);
        let changed = if state.read {
            let new = &state.policies;
            let gone = old.iter().filter(|o| !new.iter().any(|n| alike(n, o)));
            let came = new.iter().filter(|n| !old.iter().any(|o| alike(n, o)));
            Changed(gone.chain(came).cloned().collect())
        } else {
            Changed::default()
        };
        state.read = true;
        state.failure = None;
        drop(state);
        self.read.send_replace(true);
        changed
    }

    /// Takes in a policy that was created or changed.
    pub(crate) fn upsert(&self, policy: AppPolicy) -> Changed {
        if !self.counts(&policy) {
            return Changed::default();
        }
        let mut state = self.write();
        let old = state.policies.iter().position(|p| same(p, &policy));
        let old = old.map(|index| state.policies.swap_remove(index));
        if old.as_ref().is_some_and(|old| alike(old, &policy)) {
            state.policies.extend(old);
            return Changed::default();
        }
        state.policies.push(policy.clone());
        Changed(old.into_iter().chain([policy]).collect())
    }

    /// Forgets a deleted policy.
    pub(crate) fn remove(&self, policy: &AppPolicy) -> Changed {
        let mut state = self.write();
        let before = state.policies.len();
        state.policies.retain(|p| !same(p, policy));
        if state.policies.len() == before {
            Changed::default()
        } else {
            Changed(vec![policy.clone()])
        }
    }

    /// Records why the policies cannot be read (while they never were, apps wait).
    pub(crate) fn failed(&self, why: String) {
        self.write().failure = Some(why);
    }

    /// The policies governing `app`, once they were read (waiting a little for the first
    /// read); an error while they never were.
    pub(crate) async fn governing(&self, app: &Application) -> Result<Governing> {
        let mut read = self.read.subscribe();
        // Not read in time: the state below says why.
        let _ = tokio::time::timeout(FIRST_READ_PATIENCE, read.wait_for(|read| *read)).await;
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        if !state.read {
            let why = state
                .failure
                .clone()
                .unwrap_or_else(|| "the first list is under way".into());
            return Err(Error::PoliciesUnknown(why));
        }
        let namespace = app.key().namespace;
        let policies = evaluate::governing(&state.policies, &namespace)
            .into_iter()
            .cloned()
            .collect();
        Ok(Governing { policies })
    }

    fn counts(&self, policy: &AppPolicy) -> bool {
        policy
            .metadata
            .namespace
            .as_deref()
            .is_some_and(|namespace| self.counts_in(namespace))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Policies that came, went or changed (old and new versions both).
#[derive(Debug, Default)]
pub(crate) struct Changed(Vec<AppPolicy>);

impl Changed {
    /// Whether an app in `namespace` may be governed differently now.
    pub(crate) fn touches(&self, namespace: &str) -> bool {
        !evaluate::governing(&self.0, namespace).is_empty()
    }
}

fn same(a: &AppPolicy, b: &AppPolicy) -> bool {
    a.metadata.namespace == b.metadata.namespace && a.metadata.name == b.metadata.name
}

/// The same policy saying the same (its metadata may differ: a resourceVersion).
fn alike(a: &AppPolicy, b: &AppPolicy) -> bool {
    same(a, b) && a.spec == b.spec
}

impl Governing {
    fn refs(&self) -> Vec<&AppPolicy> {
        self.policies.iter().collect()
    }

    /// Refuses a repository the policies do not list — before anything is fetched.
    pub(crate) fn check_source(&self, app: &Application) -> Result<()> {
        refuse(evaluate::source_violations(&self.refs(), app))
    }

    /// Whether the app may be rendered by an external binary (`--helm-external`, as
    /// `--kustomize-external` is narrowed in [`Self::narrow`]).
    pub(crate) fn allows_external_renderers(&self) -> bool {
        evaluate::allows_external_renderers(&self.refs())
    }

    /// What Kustomize may do for this app: the controller's options, narrowed.
    pub(crate) fn narrow(&self, options: &KustomizeOptions) -> KustomizeOptions {
        let refs = self.refs();
        KustomizeOptions {
            allow_remote_bases: options.allow_remote_bases && evaluate::allows_remote_bases(&refs),
            external: options
                .external
                .clone()
                .filter(|_| evaluate::allows_external_renderers(&refs)),
        }
    }

    /// Refuses desired objects the policies do not allow.
    pub(crate) fn check_objects<'o>(
        &self,
        app: &Application,
        objects: impl IntoIterator<Item = &'o ObjectRef>,
    ) -> Result<()> {
        refuse(evaluate::object_violations(&self.refs(), app, objects))
    }

    /// Refuses a plan with objects the policies do not allow — every object the app would
    /// create, update, keep or prune, checked before any write. Objects plumb leaves alone
    /// (orphaned by `prune: disabled`, released to the app that owns them) are not judged.
    pub(crate) fn check_plan(&self, app: &Application, plan: &Plan) -> Result<()> {
        let objects = plan
            .actions
            .iter()
            .filter(|a| !matches!(a.change, Change::Orphan | Change::Release))
            .map(|a| &a.object);
        self.check_objects(app, objects)
    }
}

fn refuse(violations: Vec<String>) -> Result<()> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::PolicyViolation(violations))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(name: &str, namespace: &str, governs: &str) -> AppPolicy {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "AppPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"namespaces": [governs]},
        }))
        .unwrap()
    }

    #[test]
    fn only_the_apps_a_changed_policy_governs_are_looked_at_again() {
        let policies = Policies::new(vec!["plumb-system".into()]);
        let first = policies.replace(vec![policy("a", "plumb-system", "team-a")]);
        assert!(
            !first.touches("team-a"),
            "the first read wakes the waiting apps itself"
        );
        let same = policies.upsert(policy("a", "plumb-system", "team-a"));
        assert!(
            !same.touches("team-a"),
            "a policy delivered again changes nothing"
        );
        let moved = policies.upsert(policy("a", "plumb-system", "team-b"));
        assert!(moved.touches("team-a") && moved.touches("team-b"));
        assert!(!moved.touches("team-c"));
        let elsewhere = policies.upsert(policy("b", "team-c", "team-c"));
        assert!(
            !elsewhere.touches("team-c"),
            "a policy outside an admin namespace counts for nothing"
        );
        let relisted = policies.replace(vec![]);
        assert!(relisted.touches("team-b"));
        let gone = policies.remove(&policy("a", "plumb-system", "team-b"));
        assert!(!gone.touches("team-b"), "it was gone already");
    }
}
