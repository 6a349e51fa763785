//! The controller process: leadership, the Application watch, workers.
//!
//! ```text
//!  leader election ─▶ watch Applications ─▶ queue (spec changed / reconcile requested)
//!                     drift watches ───────▶ queue (live change / health)
//!                     workers (N) ◀─ queue ─▶ reconcile ─▶ queue again after interval
//! ```

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::Patch;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use plumb_engine::Engine;
use plumb_render::KustomizeOptions;
use plumb_source::{Source, SourceConfig};

use crate::api_client;
use crate::application::{AppKey, Application};
use crate::appset::ApplicationSet;
use crate::clusters::{CLUSTERS_CONFIG_MAP, ClusterState, Clusters, Destination};
use crate::context::{Context, Settings};
use crate::error::{Error, Result};
use crate::identity::Tenancy;
use crate::leader::LeaderElection;
use crate::metrics;
use crate::notify::OutboundPolicy;
use crate::policy::AppPolicy;
use crate::queue::{Queue, Reasons};
use crate::reconcile::reconcile;
use crate::shards::Shards;
use crate::watches::{LiveObjects, watch_config};

/// How the controller runs.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Watch Applications in this namespace only; all namespaces when `None`.
    pub namespace: Option<String>,
    /// The controller's own namespace: where the registered clusters' Secrets are.
    pub controller_namespace: String,
    /// Where Git repositories and snapshots are cached.
    pub cache_dir: PathBuf,
    /// How many Applications reconcile at once.
    pub concurrency: usize,
    /// Elect a leader among replicas: `(lease namespace, lease name, this replica's id)`.
    pub leader_election: Option<(String, String, String)>,
    /// Share the Applications among the replicas of the leader-election group instead of
    /// leaving them all to the leader ([`crate::shards`]); the leader still runs what must
    /// run once (ApplicationSets, the fleet's cluster state). Needs `leader_election`.
    pub sharding: bool,
    /// Allow `file://` and plain-path repositories (tests, demos).
    pub allow_local_repositories: bool,
    /// The hosts and transports repositories may use (the operator's allow-list).
    pub source_hosts: plumb_source::SourceHosts,
    /// How long a sync wave may take to become healthy.
    pub wave_timeout: Duration,
    /// How long one reconcile may take, all waves included, before it is stopped where it
    /// stands and retried: one app never holds a worker longer.
    pub reconcile_timeout: Duration,
    /// Longest one git operation may run.
    pub git_timeout: Duration,
    /// Longest a request other than a watch may wait for the API server to send anything
    /// (per read, so a long list that keeps arriving is not cut).
    pub request_timeout: Duration,
    /// Remote bases and the external Kustomize binary, both off unless the operator opts in.
    pub kustomize: KustomizeOptions,
    /// An external `helm` to render charts with instead of plumb's engine; off by default.
    pub helm_external: Option<String>,
    /// Whom each Application acts as.
    pub tenancy: Tenancy,
    /// Where notifications may be sent (link-local and metadata addresses never).
    pub notification_targets: OutboundPolicy,
}

/// Runs the controller until leadership is lost or the Application watch ends.
pub async fn run(config: kube::Config, settings: ControllerConfig) -> Result<()> {
    run_until(config, settings, std::future::pending()).await
}

/// [`run`], until `stop` resolves too (a signal): then a sharded replica leaves its group
/// at once, so the others take its apps now rather than when its Lease expires.
pub async fn run_until(
    config: kube::Config,
    settings: ControllerConfig,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    // Watches wait for events as long as the server keeps them open; every other request
    // must be answered, or a stalled API server would hold a worker forever.
    let watch_client = api_client::counted(config.clone()).map_err(|source| Error::Kube {
        action: "building the client for watches".into(),
        source,
    })?;
    let mut config = config;
    config.read_timeout = Some(settings.request_timeout);
    let client = api_client::counted(config.clone()).map_err(|source| Error::Kube {
        action: "building the client".into(),
        source,
    })?;
    let election = settings
        .leader_election
        .as_ref()
        .map(|(namespace, name, id)| LeaderElection::new(client.clone(), namespace, name, id));
    let shards = match (&settings.leader_election, settings.sharding) {
        (Some((namespace, name, id)), true) => {
            Some(Shards::new(client.clone(), namespace, name, id))
        }
        _ => None,
    };
    // Unsharded, only the leader works; sharded, every member does, and leading is only
    // for the singletons.
    if let (Some(election), None) = (&election, &shards) {
        election.acquire().await?;
    }
    let (engine, watch_list) = futures::join!(
        Engine::new(client.clone()),
        plumb_engine::offers_watch_list(&client)
    );
    let engine = Arc::new(engine?);
    tracing::info!(
        watch_list,
        "watches stream their initial state: {watch_list}"
    );
    let mut source_config = SourceConfig::new(&settings.cache_dir);
    source_config.allow_local = settings.allow_local_repositories;
    source_config.hosts = settings.source_hosts.clone();
    source_config.limits.timeout = settings.git_timeout;
    let source = Arc::new(Source::new(source_config)?);
    let queue = Arc::new(Queue::default());
    let live = LiveObjects::new(watch_client.clone(), Arc::clone(&queue), watch_list);
    let local = Destination::local(client.clone(), config.clone(), engine, Arc::clone(&live));
    let clusters = Clusters::new(
        local,
        watch_client.clone(),
        &settings.controller_namespace,
        Arc::clone(&queue),
        settings.request_timeout,
    );
    let leading = AtomicBool::new(election.is_none() || shards.is_none());
    let random_key =
        crate::random_key::installation_key(&client, &settings.controller_namespace).await?;
    let ctx = Arc::new(Context::new(
        client.clone(),
        config,
        clusters,
        source,
        Arc::clone(&queue),
        Settings {
            wave_timeout: settings.wave_timeout,
            reconcile_timeout: settings.reconcile_timeout,
            kustomize: settings.kustomize.clone(),
            helm_external: settings.helm_external.clone(),
            tenancy: settings.tenancy.clone(),
            notification_targets: settings.notification_targets,
        },
        random_key,
    ));

    let workers: Vec<_> = (0..settings.concurrency.max(1))
        .map(|_| tokio::spawn(work(Arc::clone(&ctx), shards.clone())))
        .collect();
    let policies: Api<AppPolicy> = Api::all(watch_client.clone());
    let (api, sets): (Api<Application>, Api<ApplicationSet>) = match &settings.namespace {
        Some(namespace) => (
            Api::namespaced(watch_client.clone(), namespace),
            Api::namespaced(watch_client, namespace),
        ),
        None => (Api::all(watch_client.clone()), Api::all(watch_client)),
    };
    let singletons = async {
        if let (Some(election), Some(_)) = (&election, &shards) {
            election.acquire().await?;
            leading.store(true, Ordering::Relaxed);
        }
        tokio::select! {
            () = crate::appset::run(&ctx, sets, watch_list) => Ok(()),
            err = async {
                match &election {
                    Some(election) => election.hold().await,
                    None => std::future::pending().await,
                }
            } => Err(err),
        }
    };
    let outcome = tokio::select! {
        () = watch_applications(&ctx, api, watch_list) => Ok(()),
        () = watch_policies(&ctx, policies) => Ok(()),
        () = keep_clusters(&ctx, &settings.controller_namespace, &leading) => Ok(()),
        () = follow_shards(&ctx, shards.as_deref()) => Ok(()),
        result = singletons => result,
        () = stop => Ok(()),
    };
    if let Some(shards) = &shards {
        shards.leave().await;
    }
    queue.close();
    for destination in ctx.clusters.connected().await {
        destination.live.stop();
    }
    for worker in workers {
        worker.abort();
    }
    outcome
}

/// What of an Application asks for a reconcile when it changes: the generation (spec), the
/// reconcile request, the rollback pin and the start of its deletion. Status writes change
/// none of them.
type Fingerprint = (Option<i64>, Option<String>, Option<String>, bool);

/// Feeds the queue from the Application watch: new apps, spec changes, reconcile requests,
/// and the dependents of an app that just became ready (at once, not at their next look).
async fn watch_applications(ctx: &Context, api: Api<Application>, watch_list: bool) {
    let mut seen: HashMap<AppKey, Fingerprint> = HashMap::new();
    let mut ready: HashSet<AppKey> = HashSet::new();
    let mut events = watcher::watcher(api, watch_config(watch_list))
        .default_backoff()
        .modify(forget_managed_fields)
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(app) | Event::InitApply(app)) => {
                let key = app.key();
                let fingerprint = (
                    app.metadata.generation,
                    app.requested_at().map(str::to_owned),
                    app.pinned_from().map(str::to_owned),
                    app.metadata.deletion_timestamp.is_some(),
                );
                let previous = seen.insert(key.clone(), fingerprint.clone());
                let is_ready = app.is_ready_for_dependents();
                ctx.apps
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key.clone(), Arc::new(app));
                let reasons = match previous {
                    None => Some(Reasons::SPEC),
                    Some(old) if old.1 != fingerprint.1 => Some(Reasons::REQUESTED),
                    Some(old) if old != fingerprint => Some(Reasons::SPEC),
                    Some(_) => None,
                };
                let became_ready = if is_ready {
                    ready.insert(key.clone())
                } else {
                    ready.remove(&key);
                    false
                };
                if let Some(reasons) = reasons {
                    ctx.queue.add(key.clone(), reasons);
                }
                if became_ready {
                    for dependent in ctx.dependents_of(&key) {
                        ctx.queue.add(dependent, Reasons::RETRY);
                    }
                }
            }
            Ok(Event::Delete(app)) => {
                let key = app.key();
                seen.remove(&key);
                ready.remove(&key);
                ctx.queue.remove(&key);
                for destination in ctx.clusters.connected().await {
                    destination.live.unregister(&key);
                }
                ctx.forget(&key);
                metrics::forget_app(&key.namespace, &key.name);
                tracing::info!(app = %key, "deleted; its objects stay in the cluster");
            }
            Ok(Event::Init | Event::InitDone) => {}
            Err(err) => tracing::warn!("watching Applications failed, retrying: {err}"),
        }
    }
}

/// Drops what the API server records of who wrote which field of an Application: nothing
/// here reads it, and kept for every app (it names each field of the status plumb writes)
/// it would cost more memory than the rest of the Application.
pub fn forget_managed_fields(app: &mut Application) {
    app.metadata.managed_fields = None;
}

/// Keeps the AppPolicies current; when one changes, the apps it governs are looked at
/// again.
async fn watch_policies(ctx: &Context, api: Api<AppPolicy>) {
    let mut listed = Vec::new();
    let mut events = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let changed = match event {
            Ok(Event::Init) => {
                listed.clear();
                continue;
            }
            Ok(Event::InitApply(policy)) => {
                listed.push(policy);
                continue;
            }
            Ok(Event::InitDone) => ctx.policies.replace(std::mem::take(&mut listed)),
            Ok(Event::Apply(policy)) => ctx.policies.upsert(policy),
            Ok(Event::Delete(policy)) => ctx.policies.remove(&policy),
            Err(err) => {
                tracing::warn!("watching AppPolicies failed, retrying: {err}");
                ctx.policies.failed(err.to_string());
                continue;
            }
        };
        // Only the apps a changed policy governs (before or after) are looked at again.
        let keys: Vec<AppKey> = ctx
            .apps
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|key| changed.touches(&key.namespace))
            .cloned()
            .collect();
        for key in keys {
            ctx.queue.add(key, Reasons::SPEC);
        }
    }
}

async fn work(ctx: Arc<Context>, shards: Option<Arc<Shards>>) {
    while let Some((key, reasons, asked)) = ctx.queue.next().await {
        // Another replica's app: it reconciles it, and is the one to queue it again.
        if shards.as_ref().is_some_and(|shards| !shards.owns(&key)) {
            ctx.queue.done(&key);
            continue;
        }
        if let Some(app) = ctx.app(&key) {
            let started = std::time::Instant::now();
            let next = reconcile(&ctx, app, reasons, asked.into_std()).await;
            metrics::observe(
                "plumb_reconcile_duration_seconds",
                "How long reconciles take, from dequeue to status written.",
                &[("namespace", &key.namespace), ("name", &key.name)],
                started.elapsed(),
            );
            tracing::debug!(app = %key, ?reasons, elapsed = ?started.elapsed(), "reconciled");
            if ctx.app(&key).is_some() {
                ctx.queue.add_after(key.clone(), next.reasons, next.after);
            }
        }
        ctx.queue.done(&key);
    }
}

/// Follows the shard group (when sharded): apps this replica now owns are queued; those
/// another member took are dropped here, with what was kept for them.
async fn follow_shards(ctx: &Context, shards: Option<&Shards>) {
    let Some(shards) = shards else {
        return std::future::pending().await;
    };
    shards
        .run(|before, now| {
            let keys: Vec<AppKey> = ctx
                .apps
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned()
                .collect();
            let mut taken = 0usize;
            for key in keys {
                let was = crate::shards::owner(before, &key) == Some(shards.identity());
                let is = crate::shards::owner(now, &key) == Some(shards.identity());
                if is && !was {
                    ctx.queue.add(key, Reasons::SPEC);
                    taken += 1;
                } else if was && !is {
                    ctx.queue.remove(&key);
                    ctx.drop_state(&key);
                }
            }
            metrics::set(
                "plumb_shard_members",
                "Replicas sharing the Applications, at this replica's last look.",
                &[],
                shards.size() as f64,
            );
            tracing::info!(taken, members = now.len(), "shards rebalanced");
        })
        .await;
}

/// How often every connected cluster is probed and the fleet's state written.
const CLUSTERS_EVERY: Duration = Duration::from_secs(15);

/// Probes every connected cluster (all at once: one that does not answer delays none of
/// the others); the apps of one that answers again are looked at again at once. The
/// fleet's state is written when it changes, and at least every minute (the last contact).
async fn keep_clusters(ctx: &Context, namespace: &str, leading: &AtomicBool) {
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let mut written: Option<(Vec<ClusterState>, Instant)> = None;
    loop {
        let destinations = ctx.clusters.connected().await;
        let probes = destinations.iter().map(|d| d.probe());
        for (destination, probe) in destinations
            .iter()
            .zip(futures::future::join_all(probes).await)
        {
            if probe == Ok(true) {
                for key in ctx.apps_on(&destination.name) {
                    ctx.queue.add(key, Reasons::RETRY);
                }
            }
        }
        let states = ctx.clusters.states().await;
        let without_contact = |states: &[ClusterState]| -> Vec<ClusterState> {
            states
                .iter()
                .map(|s| ClusterState {
                    last_contact: None,
                    ..s.clone()
                })
                .collect()
        };
        let due = written.as_ref().is_none_or(|(last, at)| {
            without_contact(last) != without_contact(&states)
                || at.elapsed() >= Duration::from_secs(60)
        });
        if due && leading.load(Ordering::Relaxed) {
            let config_map = serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": CLUSTERS_CONFIG_MAP},
                "data": {"clusters.json": serde_json::to_string(&states).unwrap_or_default()},
            });
            match api
                .patch(
                    CLUSTERS_CONFIG_MAP,
                    &plumb_engine::server_side_apply(crate::events::REPORTER).force(),
                    &Patch::Apply(&config_map),
                )
                .await
            {
                Ok(_) => written = Some((states, Instant::now())),
                Err(err) => tracing::warn!("writing the clusters' state failed, retrying: {err}"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(CLUSTERS_EVERY) => {}
            () = ctx.clusters.connected.notified() => {}
        }
    }
}
