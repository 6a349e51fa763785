//! What every reconcile shares: the hub's clients, the destination clusters (each with its
//! engine and drift watches), the source cache, the queue, the Applications as last seen,
//! and per-app state kept between reconciles.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use plumb_engine::Inventory;
use plumb_render::PackedSet;
use plumb_source::{CommitMetadata, Source};

use crate::application::{AppKey, Application};
use crate::clusters::Clusters;
use crate::events::Events;
use crate::identity::{Acting, Identity, Tenancy};
use crate::notify::Notifier;
use crate::policy::Policies;
use crate::queue::Queue;
use crate::sync_loop::LoopGuard;

/// Tunables of the controller.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// How long a sync wave may take to become healthy.
    pub wave_timeout: Duration,
    /// How long one reconcile may take before it is stopped and retried.
    pub reconcile_timeout: Duration,
    /// What Kustomize rendering may do beyond plumb's engine.
    pub kustomize: plumb_render::KustomizeOptions,
    /// An external `helm` to render charts with instead of plumb's engine.
    pub helm_external: Option<String>,
    /// Whom each Application acts as.
    pub tenancy: Tenancy,
    /// Where notifications may be sent.
    pub notification_targets: crate::notify::OutboundPolicy,
}

/// A rendered revision, kept until the source or revision changes.
#[derive(Debug)]
pub(crate) struct Desired {
    /// The commit (full id).
    pub commit: String,
    /// Its author and message.
    pub metadata: CommitMetadata,
    /// The source spec it was rendered from, serialised: a change means render again.
    pub source_key: String,
    /// The Helm values read from ConfigMaps and Secrets, serialised: a change means render
    /// again, as a new commit does.
    pub values_from: String,
    /// The objects, packed: kept for every app between reconciles, they would otherwise
    /// be most of the controller's memory ([`PackedSet`]).
    pub set: PackedSet,
}

/// What one app keeps between reconciles (in memory only: everything here can be
/// rebuilt from Git, the cluster and the Application's status after a restart).
#[derive(Debug, Default)]
pub(crate) struct AppState {
    /// When this reconcile was last asked for (a request, a webhook, a due interval): what
    /// Git answered since then is new enough for it — the answer to another app's
    /// `ls-remote` of the same repository, say.
    pub asked: Option<std::time::Instant>,
    /// The last rendered revision.
    pub desired: Option<Arc<Desired>>,
    /// The inventory as last stored.
    pub inventory: Option<Inventory>,
    /// The commit and generation last applied successfully.
    pub applied: Option<(String, Option<i64>)>,
    /// Failed attempts in a row.
    pub failures: u32,
    /// Sync-loop detection.
    pub loop_guard: LoopGuard,
    /// The status as plumb last wrote it. The watched Application can lag behind its own
    /// status writes; building on a stale copy would lose history entries.
    pub(crate) status: Option<crate::application::ApplicationStatus>,
    /// Whom the app last acted as, with the client and engine for it.
    pub acting: Option<Acting>,
    /// The incremental cache as last kept beside the inventory (a restarted controller
    /// reads it back and makes no dry-run for what did not change meanwhile).
    pub kept_cache: Option<plumb_engine::CacheSnapshot>,
    /// The last desired set resolved for planning, with what it was resolved from: a
    /// reconcile of the same render under the same options plans from it as it is.
    pub resolved: Option<(Arc<Desired>, plumb_engine::Resolved)>,
}

/// Shared by all reconciles.
pub(crate) struct Context {
    /// The controller's own client, in the hub: Applications, their status, Events, and
    /// the Secrets they name.
    pub client: kube::Client,
    /// Its configuration, to derive impersonating clients from.
    pub config: kube::Config,
    /// Where apps apply: the controller's own cluster and the registered ones, each with
    /// its engine and drift watches.
    pub clusters: Clusters,
    /// The Git cache.
    pub source: Arc<Source>,
    /// What to reconcile next.
    pub queue: Arc<Queue>,
    /// Kubernetes Events.
    pub events: Events,
    /// Notifications to the receivers Applications name.
    pub notifier: Notifier,
    /// Tunables.
    pub settings: Settings,
    /// Applications as last seen by the watch.
    pub apps: RwLock<HashMap<AppKey, Arc<Application>>>,
    /// The AppPolicies of the admin namespaces, as last seen by their watch.
    pub policies: Policies,
    /// The installation's key for Helm's random functions ([`crate::random_key`]).
    pub random_key: plumb_render::RandomKey,
    states: Mutex<HashMap<AppKey, AppState>>,
}

impl Context {
    /// A context; Applications and states start empty.
    pub(crate) fn new(
        client: kube::Client,
        config: kube::Config,
        clusters: Clusters,
        source: Arc<Source>,
        queue: Arc<Queue>,
        settings: Settings,
        random_key: plumb_render::RandomKey,
    ) -> Self {
        Context {
            policies: Policies::new(settings.tenancy.admin_namespaces.clone()),
            events: Events::new(client.clone()),
            notifier: Notifier::start(
                client.clone(),
                config.clone(),
                settings.notification_targets,
            ),
            client,
            config,
            clusters,
            source,
            queue,
            settings,
            random_key,
            apps: RwLock::default(),
            states: Mutex::default(),
        }
    }

    /// Queues `notice` for `app`'s receivers, whose Secrets are read as the app acts (the
    /// rule of [`crate::identity::Tenancy`]); an app that may act as no one has none
    /// read.
    pub(crate) fn notify(&self, app: &Application, notice: crate::notify::Notice) {
        if app.spec.notifications.is_empty() {
            return;
        }
        let key = app.key();
        let account = app.spec.destination.service_account_name.as_deref();
        match self.settings.tenancy.identity(&key.namespace, account) {
            Ok(Identity::Controller) => self.notifier.notify(app, None, notice),
            Ok(Identity::ServiceAccount { user }) => self.notifier.notify(app, Some(user), notice),
            Err(why) => tracing::warn!(app = %key, "no notification sent: the app {why}"),
        }
    }

    /// Takes `key`'s state out for a reconcile (the queue runs one reconcile per app).
    pub(crate) fn take_state(&self, key: &AppKey) -> AppState {
        self.lock_states().remove(key).unwrap_or_default()
    }

    /// Puts `key`'s state back.
    pub(crate) fn put_state(&self, key: AppKey, state: AppState) {
        if self.app(&key).is_some() {
            self.lock_states().insert(key, state);
        }
    }

    /// Forgets a deleted app.
    pub(crate) fn forget(&self, key: &AppKey) {
        self.lock_states().remove(key);
        self.apps
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Drops what is kept between reconciles of `key` (its inventory, rendered state and
    /// cache), for an app another replica now reconciles: if it comes back, it starts
    /// from its stored inventory as after a restart.
    pub(crate) fn drop_state(&self, key: &AppKey) {
        self.lock_states().remove(key);
    }

    /// The Application as last seen.
    pub(crate) fn app(&self, key: &AppKey) -> Option<Arc<Application>> {
        self.apps
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// The Applications that apply to cluster `name`.
    pub(crate) fn apps_on(&self, name: &str) -> Vec<AppKey> {
        self.apps
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, app)| {
                crate::clusters::cluster_of(app).unwrap_or(crate::clusters::IN_CLUSTER) == name
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Why `app` must wait for a dependency, if it must: each one it depends on has to be
    /// Healthy and Synced at its current generation.
    pub(crate) fn unready_dependency(&self, app: &Application) -> Option<String> {
        let namespace = app.key().namespace;
        for dependency in &app.spec.depends_on {
            let key = AppKey {
                namespace: namespace.clone(),
                name: dependency.name.clone(),
            };
            let Some(other) = self.app(&key) else {
                return Some(format!("dependency {key} does not exist"));
            };
            if !other.is_ready_for_dependents() {
                return Some(format!(
                    "dependency {key} is not yet Healthy and Synced at its current revision"
                ));
            }
        }
        None
    }

    /// The apps of `dependency`'s namespace that depend on it.
    pub(crate) fn dependents_of(&self, dependency: &AppKey) -> Vec<AppKey> {
        self.apps
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(key, app)| {
                key.namespace == dependency.namespace
                    && app
                        .spec
                        .depends_on
                        .iter()
                        .any(|d| d.name == dependency.name)
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    fn lock_states(&self) -> std::sync::MutexGuard<'_, HashMap<AppKey, AppState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }
}
