//! Where Applications apply: the controller's own cluster, or another one the operators
//! registered — a hub that manages a fleet, with every cluster's credentials kept in it.
//!
//! ```text
//!  Secret (controller's namespace, label plumb.dev/cluster) ─▶ Clusters ─▶ Destination per cluster:
//!      kubeconfig, or server + token / client cert + CA            client, engine (discovery),
//!                                                                  drift watches, reachability
//! ```
//!
//! A registered cluster is a Secret in the controller's own namespace labelled
//! `plumb.dev/cluster` — tenants cannot write there, so they cannot point plumb at a
//! cluster of their own making, nor at a Secret that is not a cluster's. An Application
//! names it in `spec.destination.cluster` (the Secret's name); `in-cluster` or nothing is the
//! controller's own. Everything an app does there — plan, apply, prune, health, drift
//! watches shared by the apps of that cluster, impersonation, its inventory — goes through
//! that cluster's clients; status, Events and notifications stay in the hub.
//!
//! A cluster that stops answering must not slow the others: once a request to it fails
//! and a short probe (`/version`) confirms it cannot be reached, its apps fail at once
//! (Ready=False, `ClusterUnreachable`) until a probe succeeds again — probes back off from
//! 5 s to a minute — instead of each holding a worker until a request times out.

mod destination;
mod registration;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};

use crate::application::{AppKey, Application};
use crate::error::{Error, Result};
use crate::queue::{Queue, Reasons};

pub use destination::ClusterState;
pub(crate) use destination::Destination;
use registration::{config_from, server_of, text};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The name of the controller's own cluster.
pub const IN_CLUSTER: &str = "in-cluster";
/// The label that makes a Secret of the controller's namespace a registered cluster.
pub const CLUSTER_LABEL: &str = "plumb.dev/cluster";

/// The ConfigMap of the controller's namespace that holds the fleet's state (key
/// `clusters.json`: a list of [`ClusterState`]), for `plumb get clusters` and the API.
pub const CLUSTERS_CONFIG_MAP: &str = "plumb-clusters";

/// Where, in a registered cluster, plumb keeps the inventories of the apps that apply
/// there, unless its Secret says (key `namespace`); created when missing.
pub const DEFAULT_INVENTORY_NAMESPACE: &str = "plumb-system";

/// How long a reconcile waits for the first list of the registered clusters.
const FIRST_READ_PATIENCE: Duration = Duration::from_secs(10);

/// Apps that could not reach a cluster, and why, as last tried.
#[derive(Default)]
struct Waiting {
    apps: HashSet<AppKey>,
    why: String,
}

/// Every cluster apps may apply to.
pub(crate) struct Clusters {
    local: Arc<Destination>,
    secrets: Store<Secret>,
    secrets_read: Arc<AtomicBool>,
    remote: tokio::sync::Mutex<HashMap<String, Arc<Destination>>>,
    /// Clusters apps could not reach, by name: retried as soon as its Secret is written
    /// (registered, or its credentials or address fixed).
    waiting: Arc<Mutex<HashMap<String, Waiting>>>,
    queue: Arc<Queue>,
    request_timeout: Duration,
    /// Told when a cluster is connected, so that its state is written at once.
    pub(crate) connected: tokio::sync::Notify,
}

impl Clusters {
    /// The local cluster, and the registered ones of `namespace` (watched from now on).
    pub(crate) fn new(
        local: Destination,
        hub: kube::Client,
        namespace: &str,
        queue: Arc<Queue>,
        request_timeout: Duration,
    ) -> Clusters {
        let (secrets, writer) = reflector::store();
        let secrets_read = Arc::new(AtomicBool::new(false));
        let read = Arc::clone(&secrets_read);
        let ready = secrets.clone();
        tokio::spawn(async move {
            if ready.wait_until_ready().await.is_ok() {
                read.store(true, Ordering::Relaxed);
            }
        });
        let api: Api<Secret> = Api::namespaced(hub, namespace);
        let config = watcher::Config::default().labels(CLUSTER_LABEL);
        let waiting: Arc<Mutex<HashMap<String, Waiting>>> = Arc::default();
        let (retry, requeue) = (Arc::clone(&waiting), Arc::clone(&queue));
        tokio::spawn(async move {
            let mut events = watcher(api, config)
                .default_backoff()
                .reflect(writer)
                .applied_objects()
                .boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(secret) => {
                        let name = secret.metadata.name.unwrap_or_default();
                        let waiting = lock(&retry).remove(&name).unwrap_or_default();
                        for key in waiting.apps {
                            requeue.add(key, Reasons::RETRY);
                        }
                    }
                    Err(err) => tracing::warn!(
                        "watching the registered clusters' Secrets failed, retrying: {err}"
                    ),
                }
            }
        });
        Clusters {
            local: Arc::new(local),
            secrets,
            secrets_read,
            remote: tokio::sync::Mutex::default(),
            waiting,
            queue,
            request_timeout,
            connected: tokio::sync::Notify::new(),
        }
    }

    /// Where `app` applies: connected (on first use, or when its Secret changed) and known
    /// to answer, or why not.
    pub(crate) async fn destination(&self, app: &Application) -> Result<Arc<Destination>> {
        let Some(name) = cluster_of(app) else {
            return Ok(Arc::clone(&self.local));
        };
        let reached = self.remote_destination(name).await;
        let mut waiting = lock(&self.waiting);
        match &reached {
            Err(err) => {
                let entry = waiting.entry(name.to_owned()).or_default();
                entry.apps.insert(app.key());
                entry.why = err.to_string();
                drop(waiting);
                // The fleet's state says why at once.
                self.connected.notify_one();
            }
            Ok(_) => {
                if let Some(entry) = waiting.get_mut(name) {
                    entry.apps.remove(&app.key());
                    if entry.apps.is_empty() {
                        waiting.remove(name);
                    }
                }
            }
        }
        reached
    }

    /// The registered cluster `name`, connected and known to answer, or why not.
    async fn remote_destination(&self, name: &str) -> Result<Arc<Destination>> {
        if !self.secrets_read.load(Ordering::Relaxed) {
            // Right after a start the registrations are not listed yet: wait for them a
            // little, as for the AppPolicies, rather than fail and back off.
            let _ =
                tokio::time::timeout(FIRST_READ_PATIENCE, self.secrets.wait_until_ready()).await;
        }
        let secret = self.secret(name)?;
        let revision = secret.metadata.resource_version.clone().unwrap_or_default();
        let mut remote = self.remote.lock().await;
        if let Some(existing) = remote.get(name)
            && existing.revision == revision
        {
            let existing = Arc::clone(existing);
            drop(remote);
            existing.ready().await?;
            return Ok(existing);
        }
        let config = config_from(name, &secret).await?;
        let inventories = secret
            .data
            .as_ref()
            .and_then(|data| text(data, "namespace"))
            .unwrap_or(DEFAULT_INVENTORY_NAMESPACE)
            .to_owned();
        let connecting = tokio::time::timeout(
            self.request_timeout,
            Destination::connect(
                name,
                config,
                self.request_timeout,
                &self.queue,
                revision,
                inventories,
            ),
        )
        .await;
        let destination = match connecting {
            Ok(Ok(destination)) => Arc::new(destination),
            Ok(Err(err)) => {
                return Err(Error::ClusterUnreachable {
                    cluster: name.to_owned(),
                    detail: err.to_string(),
                });
            }
            Err(_) => {
                return Err(Error::ClusterUnreachable {
                    cluster: name.to_owned(),
                    detail: format!(
                        "discovery did not finish within {}s",
                        self.request_timeout.as_secs()
                    ),
                });
            }
        };
        tracing::info!(cluster = name, server = %destination.config.cluster_url, "connected to a registered cluster");
        if let Some(old) = remote.insert(name.to_owned(), Arc::clone(&destination)) {
            old.live.stop();
        }
        self.connected.notify_one();
        Ok(destination)
    }

    /// Every destination connected so far, the local one first.
    pub(crate) async fn connected(&self) -> Vec<Arc<Destination>> {
        let remote = self.remote.lock().await;
        let mut all = vec![Arc::clone(&self.local)];
        let mut names: Vec<&String> = remote.keys().collect();
        names.sort();
        all.extend(names.into_iter().map(|name| Arc::clone(&remote[name])));
        all
    }

    /// The state of every registered cluster (connected or not yet) and the local one.
    pub(crate) async fn states(&self) -> Vec<ClusterState> {
        let remote = self.remote.lock().await;
        let waiting = lock(&self.waiting)
            .iter()
            .map(|(name, waiting)| (name.clone(), waiting.why.clone()))
            .collect::<HashMap<_, _>>();
        let mut states: BTreeMap<String, ClusterState> = BTreeMap::new();
        for secret in self.secrets.state() {
            let name = secret.metadata.name.clone().unwrap_or_default();
            let state = match remote.get(&name) {
                Some(destination) => destination.state(),
                None => ClusterState {
                    server: server_of(&secret).unwrap_or_default(),
                    name: name.clone(),
                    reachable: false,
                    message: Some(waiting.get(&name).map_or_else(
                        || "not connected yet: no Application applies there".to_owned(),
                        |why| format!("not connected: {why}"),
                    )),
                    last_contact: None,
                    version: None,
                },
            };
            states.insert(name, state);
        }
        let mut all = vec![self.local.state()];
        all.extend(states.into_values());
        all
    }

    /// The controller's own cluster and every registered one, by name.
    pub(crate) fn registered(&self) -> Vec<RegisteredCluster> {
        let mut registered: Vec<RegisteredCluster> = self
            .secrets
            .state()
            .iter()
            .map(|secret| RegisteredCluster {
                name: secret.metadata.name.clone().unwrap_or_default(),
                server: server_of(secret).unwrap_or_default(),
                labels: secret.metadata.labels.clone().unwrap_or_default(),
                annotations: secret
                    .metadata
                    .annotations
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(key, _)| !key.starts_with("kubectl.kubernetes.io/"))
                    .collect(),
            })
            .collect();
        registered.sort_by(|a, b| a.name.cmp(&b.name));
        registered.insert(
            0,
            RegisteredCluster {
                name: IN_CLUSTER.to_owned(),
                server: self.local.config.cluster_url.to_string(),
                ..RegisteredCluster::default()
            },
        );
        registered
    }

    fn secret(&self, name: &str) -> Result<Arc<Secret>> {
        let found = self
            .secrets
            .state()
            .into_iter()
            .find(|s| s.metadata.name.as_deref() == Some(name));
        found.ok_or_else(|| {
            let why = if self.secrets_read.load(Ordering::Relaxed) {
                format!(
                    "no cluster {name} is registered: a Secret {name} labelled {CLUSTER_LABEL} in the controller's namespace registers it"
                )
            } else {
                "the registered clusters have not been read yet; retrying".to_owned()
            };
            Error::ClusterUnknown(why)
        })
    }
}

/// A cluster apps may apply to, as the ApplicationSets' clusters generator lists it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RegisteredCluster {
    /// `in-cluster` or the registered name.
    pub name: String,
    /// The API server's URL.
    pub server: String,
    /// The registering Secret's labels (none for the controller's own cluster).
    pub labels: BTreeMap<String, String>,
    /// The registering Secret's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// The cluster `app` applies to: a registered one's name, or `in-cluster`.
pub fn cluster_name(app: &Application) -> &str {
    cluster_of(app).unwrap_or(IN_CLUSTER)
}

/// The registered cluster `app` names, if it names one other than the controller's own.
pub(crate) fn cluster_of(app: &Application) -> Option<&str> {
    app.spec
        .destination
        .cluster
        .as_deref()
        .filter(|name| !name.is_empty() && *name != IN_CLUSTER)
}
