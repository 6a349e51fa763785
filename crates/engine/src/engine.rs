//! The Engine: a client, the catalog of served kinds, and the incremental cache — the
//! state one process keeps between plans. Operations live in files named for them
//! (`plan.rs`, `apply.rs`, `health/`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kube::Client;
use kube::discovery::ApiResource;
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::cache::{CacheSnapshot, SyncCache};
use crate::catalog::{Catalog, DiscoverySnapshot};
use crate::error::Result;
use crate::object_ref::ObjectRef;

/// The longest a sync waits for discovery to list the kinds of CRDs it has just applied.
const CRD_DISCOVERY_LIMIT: Duration = Duration::from_secs(30);

/// How recent a discovery must be for a kind missing from it to be taken as not served.
/// Each failing reconcile of an app whose kind is missing asks again at most this often.
const REDISCOVERY_AGE: Duration = Duration::from_secs(2);

/// Plans and applies desired sets against one cluster.
pub struct Engine {
    pub(crate) client: Client,
    /// Replaced whole on refresh; readers keep the version they started with.
    catalog: RwLock<Arc<Catalog>>,
    pub(crate) cache: SyncCache,
    /// The catalog came from a kept snapshot and may be missing kinds added since.
    from_snapshot: AtomicBool,
}

impl Engine {
    /// An engine for the cluster behind `client`; discovers the served kinds.
    pub async fn new(client: Client) -> Result<Self> {
        let catalog = Catalog::discover(&client).await?;
        Ok(Engine {
            client,
            catalog: RwLock::new(Arc::new(catalog)),
            cache: SyncCache::default(),
            from_snapshot: AtomicBool::new(false),
        })
    }

    /// An engine that starts from a discovery kept by an earlier process, without asking
    /// the API server. A kind missing from it makes the engine discover again, once.
    pub fn from_discovery(client: Client, snapshot: &DiscoverySnapshot) -> Engine {
        Engine {
            client,
            catalog: RwLock::new(Arc::new(Catalog::from_snapshot(snapshot))),
            cache: SyncCache::default(),
            from_snapshot: AtomicBool::new(true),
        }
    }

    /// What discovery found, to keep; with whether it is fresh (not from a snapshot).
    pub async fn discovery(&self) -> (DiscoverySnapshot, bool) {
        let fresh = !self.from_snapshot.load(Ordering::Relaxed);
        (self.catalog().await.snapshot(), fresh)
    }

    /// Discovers again because a kind is missing from the catalog, if the catalog may be
    /// out of date: it came from a kept snapshot, or was read more than
    /// [`REDISCOVERY_AGE`] ago — CRDs appear without this engine applying them (another
    /// app, a person, an operator installs them). Returns whether it did.
    pub(crate) async fn rediscover_for_missing_kind(&self) -> Result<bool> {
        let current = self
            .catalog()
            .await
            .discovered_at
            .is_some_and(|at| at.elapsed() < REDISCOVERY_AGE);
        if current {
            return Ok(false);
        }
        self.refresh_discovery().await?;
        Ok(true)
    }

    /// An engine acting through another client — the same cluster as another identity
    /// (an impersonated ServiceAccount). It starts from this engine's catalog, so no
    /// second discovery, and keeps its own incremental cache.
    pub async fn acting_as(&self, client: Client) -> Engine {
        Engine {
            client,
            catalog: RwLock::new(self.catalog().await),
            cache: SyncCache::default(),
            from_snapshot: AtomicBool::new(self.from_snapshot.load(Ordering::Relaxed)),
        }
    }

    /// The incremental cache of `objects`, to keep for another process (see
    /// [`crate::CacheSnapshot`]).
    pub fn cache_snapshot(&self, objects: &[ObjectRef]) -> CacheSnapshot {
        self.cache.snapshot(objects)
    }

    /// Takes in what another process kept: its in-sync verdicts count again where nothing
    /// changed since.
    pub fn restore_cache(&self, snapshot: &CacheSnapshot) {
        self.cache.restore(snapshot);
    }

    /// Discovers the served kinds again (after CRDs changed).
    pub async fn refresh_discovery(&self) -> Result<()> {
        let fresh = Catalog::discover(&self.client).await?;
        *self.catalog.write().await = Arc::new(fresh);
        self.from_snapshot.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Forgets the kinds `(group, kind)` names, whose definitions this engine deleted:
    /// the next plan takes them for unserved, rather than asking the API server for
    /// objects of a kind that is going away.
    pub(crate) async fn forget_kinds(&self, kinds: &[(String, String)]) {
        let mut catalog = self.catalog.write().await;
        *catalog = Arc::new(catalog.without(kinds));
    }

    /// Discovers again until every kind the CRD manifests define is served, for at most
    /// `timeout` (and never more than [`CRD_DISCOVERY_LIMIT`]). An Established CRD can be
    /// missing from discovery for a moment: servers with aggregated discovery rebuild its
    /// document asynchronously. After the limit the catalog is left as found, and an object
    /// of a kind still missing fails by name.
    pub(crate) async fn discover_crds(
        &self,
        crds: &[&Map<String, Value>],
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout.min(CRD_DISCOVERY_LIMIT);
        loop {
            self.refresh_discovery().await?;
            let catalog = self.catalog().await;
            if crds.iter().all(|crd| catalog.serves_crd(crd)) || Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Where `object`'s kind is served, for watching it; `None` when it is not served.
    pub async fn api_resource(&self, object: &ObjectRef) -> Option<ApiResource> {
        let catalog = self.catalog().await;
        catalog
            .get(&object.group, &object.version, &object.kind)
            .filter(|kind| kind.served)
            .map(|kind| kind.resource.clone())
    }

    pub(crate) async fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().await.clone()
    }

    /// The client this engine uses.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}
