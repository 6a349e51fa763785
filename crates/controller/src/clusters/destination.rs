//! One cluster apps apply to: its clients, engine (discovery) and drift watches, and
//! whether it answers — probed when a request to it fails, so that a cluster that stopped
//! answering fails its apps at once instead of holding workers until requests time out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use kube::Api;
use plumb_engine::{AppId, Engine, InventoryStore};

use super::{IN_CLUSTER, lock};
use crate::api_client;
use crate::application::Application;
use crate::error::{Error, Result};
use crate::queue::Queue;
use crate::watches::LiveObjects;

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
    pub(super) revision: String,
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
    pub(super) async fn connect(
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
    pub(super) async fn ready(&self) -> Result<()> {
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

    pub(super) fn state(&self) -> ClusterState {
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
