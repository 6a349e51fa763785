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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use plumb_engine::{AppId, Engine, InventoryStore};

use crate::api_client;
use crate::application::{AppKey, Application};
use crate::error::{Error, Result};
use crate::queue::{Queue, Reasons};
use crate::watches::LiveObjects;

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

/// How long a probe of a cluster that failed may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The first and the longest wait between probes of an unreachable cluster.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One cluster apps apply to.
pub(crate) struct Destination {
    /// `in-cluster`, or the registering Secret's name.
    pub(crate) name: String,
    /// Requests other than watches (with the controller's read timeout).
    pub(crate) client: kube::Client,
    /// What impersonating clients are made from.
    pub(crate) config: kube::Config,
    /// Discovery and apply, as the controller.
    pub(crate) engine: Arc<Engine>,
    /// The drift watches of every app that applies here.
    pub(crate) live: Arc<LiveObjects>,
    /// The registering Secret's resourceVersion: a change builds the destination again.
    revision: String,
    /// Where the inventories of the apps applying to a registered cluster are kept there.
    inventories: String,
    reach: Mutex<Reach>,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whether a cluster answers, as last seen.
#[derive(Clone, Debug, Default)]
struct Reach {
    /// Since when it has not answered, and why.
    down: Option<(SystemTime, String)>,
    /// When it may be probed again.
    next_probe: Option<Instant>,
    backoff: Duration,
    /// The last time it answered.
    last_contact: Option<SystemTime>,
    /// Its Kubernetes version (`v1.37.2`), as it last said.
    version: Option<String>,
}

/// A cluster's state, for `plumb get clusters`, the API and the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    /// `in-cluster` or the registered name.
    pub name: String,
    /// The API server's URL.
    pub server: String,
    /// Whether it answered last time it was asked.
    pub reachable: bool,
    /// Why not, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last time it answered (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<String>,
    /// Its Kubernetes version, as it last said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Destination {
    /// A destination for `config`: its clients, engine (discovery) and watches.
    async fn connect(
        name: &str,
        config: kube::Config,
        request_timeout: Duration,
        queue: &Arc<Queue>,
        revision: String,
        inventories: String,
    ) -> Result<Destination> {
        let kube_error = |action: &str| {
            let action = format!("{action} for cluster {name}");
            move |source| Error::Kube { action, source }
        };
        let watch_client =
            api_client::counted(config.clone()).map_err(kube_error("building the watch client"))?;
        let mut config = config;
        config.read_timeout = Some(request_timeout);
        let client =
            api_client::counted(config.clone()).map_err(kube_error("building the client"))?;
        let (engine, watch_list) = futures::join!(
            Engine::new(client.clone()),
            plumb_engine::offers_watch_list(&client)
        );
        let engine = Arc::new(engine?);
        ensure_namespace(&client, &inventories).await?;
        let live = LiveObjects::new(watch_client, Arc::clone(queue), watch_list);
        Ok(Destination {
            name: name.to_owned(),
            client,
            config,
            engine,
            live,
            revision,
            inventories,
            reach: Mutex::new(Reach {
                last_contact: Some(SystemTime::now()),
                ..Reach::default()
            }),
        })
    }

    /// The controller's own cluster, from what the controller already built.
    pub(crate) fn local(
        client: kube::Client,
        config: kube::Config,
        engine: Arc<Engine>,
        live: Arc<LiveObjects>,
    ) -> Destination {
        Destination {
            name: IN_CLUSTER.to_owned(),
            client,
            config,
            engine,
            live,
            revision: String::new(),
            inventories: String::new(),
            reach: Mutex::default(),
        }
    }

    /// Where `app`'s inventory is kept: in this cluster, beside its objects — in the app's
    /// namespace in the controller's own, in the registered cluster's inventory namespace
    /// in another (the app's namespace of the hub need not exist there).
    pub(crate) fn inventory_store(&self, app: &Application, app_id: &AppId) -> InventoryStore {
        let namespace = if self.is_remote() {
            self.inventories.clone()
        } else {
            app.key().namespace
        };
        InventoryStore::new(self.client.clone(), namespace, app_id.clone())
    }

    /// Whether this is a registered cluster rather than the controller's own.
    pub(crate) fn is_remote(&self) -> bool {
        self.name != IN_CLUSTER
    }

    fn reach(&self) -> std::sync::MutexGuard<'_, Reach> {
        lock(&self.reach)
    }

    /// Asks the API server for its version, briefly; records what it learned. `Ok(true)`
    /// when it answers again after it did not.
    pub(crate) async fn probe(&self) -> std::result::Result<bool, String> {
        let answer = tokio::time::timeout(PROBE_TIMEOUT, self.client.apiserver_version()).await;
        match answer {
            Ok(Ok(info)) => {
                self.reach().version = Some(info.git_version);
                Ok(self.answered())
            }
            Ok(Err(err)) => {
                let why = err.to_string();
                self.unanswered(&why);
                Err(why)
            }
            Err(_) => {
                let why = format!("no answer within {}s", PROBE_TIMEOUT.as_secs());
                self.unanswered(&why);
                Err(why)
            }
        }
    }

    /// Records an answer; whether the cluster had been marked as not answering.
    fn answered(&self) -> bool {
        let mut reach = self.reach();
        let was_down = reach.down.take().is_some();
        if was_down {
            tracing::info!(cluster = %self.name, "the cluster answers again");
        }
        reach.next_probe = None;
        reach.backoff = Duration::ZERO;
        reach.last_contact = Some(SystemTime::now());
        was_down
    }

    fn unanswered(&self, why: &str) {
        let mut reach = self.reach();
        reach.backoff = (reach.backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
        reach.next_probe = Some(Instant::now() + reach.backoff);
        if reach.down.is_none() {
            tracing::warn!(cluster = %self.name, "the cluster does not answer: {why}");
            reach.down = Some((SystemTime::now(), why.to_owned()));
        }
    }

    /// Fails at once while the cluster is known not to answer and no probe is due; probes
    /// when one is.
    async fn ready(&self) -> Result<()> {
        let (down, due) = {
            let reach = self.reach();
            (
                reach.down.clone(),
                reach.next_probe.is_none_or(|at| Instant::now() >= at),
            )
        };
        let Some((since, why)) = down else {
            return Ok(());
        };
        if due && self.probe().await.is_ok() {
            return Ok(());
        }
        Err(Error::ClusterUnreachable {
            cluster: self.name.clone(),
            detail: format!(
                "{why} (since {}; its apps are retried as it is probed again)",
                crate::clock::format(since)
            ),
        })
    }

    /// What a reconcile through this cluster learned: success is contact; a failure is
    /// checked with a probe, so that only a cluster that truly stopped answering is marked.
    pub(crate) async fn record(&self, succeeded: bool) {
        if succeeded {
            self.answered();
        } else if self.reach().down.is_none() {
            let _ = self.probe().await;
        }
    }

    fn state(&self) -> ClusterState {
        let reach = self.reach().clone();
        ClusterState {
            name: self.name.clone(),
            server: self.config.cluster_url.to_string(),
            reachable: reach.down.is_none(),
            message: reach.down.map(|(_, why)| why),
            last_contact: reach.last_contact.map(crate::clock::format),
            version: reach.version,
        }
    }
}

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

/// Creates `namespace` unless it exists: where a registered cluster keeps inventories.
async fn ensure_namespace(client: &kube::Client, namespace: &str) -> Result<()> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let failed = |source| Error::Kube {
        action: format!("creating namespace {namespace} for the inventories"),
        source,
    };
    if api.get_opt(namespace).await.map_err(failed)?.is_some() {
        return Ok(());
    }
    let namespace_object = k8s_openapi::api::core::v1::Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(namespace.to_owned()),
            ..kube::api::ObjectMeta::default()
        },
        ..Default::default()
    };
    match api
        .create(&kube::api::PostParams::default(), &namespace_object)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(source) => Err(failed(source)),
    }
}

/// The registered cluster `app` names, if it names one other than the controller's own.
pub(crate) fn cluster_of(app: &Application) -> Option<&str> {
    app.spec
        .destination
        .cluster
        .as_deref()
        .filter(|name| !name.is_empty() && *name != IN_CLUSTER)
}

fn text<'a>(data: &'a BTreeMap<String, k8s_openapi::ByteString>, key: &str) -> Option<&'a str> {
    data.get(key)
        .and_then(|bytes| std::str::from_utf8(&bytes.0).ok())
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn server_of(secret: &Secret) -> Option<String> {
    let data = secret.data.as_ref()?;
    text(data, "server").map(str::to_owned).or_else(|| {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(text(data, "kubeconfig")?).ok()?;
        kubeconfig
            .clusters
            .first()?
            .cluster
            .as_ref()?
            .server
            .clone()
    })
}

/// The client configuration a cluster's Secret holds: a whole `kubeconfig`, or `server`
/// with `token` or `tls.crt` and `tls.key`, and `ca.crt`. Credentials that would run a
/// program (`exec`, auth providers) or read files of the controller are refused: the
/// Secret's data is all there is.
async fn config_from(name: &str, secret: &Secret) -> Result<kube::Config> {
    let invalid = |why: String| Error::ClusterUnknown(format!("cluster {name}: {why}"));
    let data = secret.data.clone().unwrap_or_default();
    let kubeconfig = match text(&data, "kubeconfig") {
        Some(yaml) => kube::config::Kubeconfig::from_yaml(yaml)
            .map_err(|err| invalid(format!("its kubeconfig cannot be read: {err}")))?,
        None => {
            let server = text(&data, "server").ok_or_else(|| {
                invalid("its Secret has neither kubeconfig nor server".to_owned())
            })?;
            let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut user = serde_json::Map::new();
            if let Some(token) = text(&data, "token") {
                user.insert("token".into(), token.into());
            }
            if let (Some(cert), Some(key)) = (data.get("tls.crt"), data.get("tls.key")) {
                user.insert("client-certificate-data".into(), encode(&cert.0).into());
                user.insert("client-key-data".into(), encode(&key.0).into());
            }
            let mut cluster = serde_json::json!({"server": server});
            if let Some(ca) = data.get("ca.crt") {
                cluster["certificate-authority-data"] = encode(&ca.0).into();
            }
            let document = serde_json::json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": name, "cluster": cluster}],
                "users": [{"name": name, "user": user}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
                "current-context": name,
            });
            serde_json::from_value(document)
                .map_err(|err| invalid(format!("its fields do not make a client: {err}")))?
        }
    };
    let reads_files = kubeconfig.clusters.iter().any(|named| {
        named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
    });
    if reads_files {
        return Err(invalid(
            "its kubeconfig reads the CA from a file of the controller (certificate-authority); give it as certificate-authority-data".into(),
        ));
    }
    for named in &kubeconfig.auth_infos {
        if let Some(auth) = &named.auth_info
            && (auth.exec.is_some()
                || auth.auth_provider.is_some()
                || auth.token_file.is_some()
                || auth.client_certificate.is_some()
                || auth.client_key.is_some())
        {
            return Err(invalid(
                "its kubeconfig runs a program or reads files of the controller (exec, auth-provider, tokenFile, client-certificate, client-key); give the credentials as data".into(),
            ));
        }
    }
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|err| invalid(format!("its kubeconfig does not make a client: {err}")))
}
