//! The Engine: a client, the catalog of served kinds, and the incremental cache — the
//! state one process keeps between plans. Operations live in files named for them
//! (`plan.rs`, `apply.rs`, `health/`).

use std::sync::Arc;

use kube::Client;
use kube::discovery::ApiResource;
use tokio::sync::RwLock;

use crate::cache::{CacheSnapshot, SyncCache};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::object_ref::ObjectRef;

/// Plans and applies desired sets against one cluster.
pub struct Engine {
    pub(crate) client: Client,
    /// Replaced whole on refresh; readers keep the version they started with.
    catalog: RwLock<Arc<Catalog>>,
    pub(crate) cache: SyncCache,
}

impl Engine {
    /// An engine for the cluster behind `client`; discovers the served kinds.
    pub async fn new(client: Client) -> Result<Self> {
        let catalog = Catalog::discover(&client).await?;
        Ok(Engine {
            client,
            catalog: RwLock::new(Arc::new(catalog)),
            cache: SyncCache::default(),
        })
    }

    /// An engine acting through another client — the same cluster as another identity
    /// (an impersonated ServiceAccount). It starts from this engine's catalog, so no
    /// second discovery, and keeps its own incremental cache.
    pub async fn acting_as(&self, client: Client) -> Engine {
        Engine {
            client,
            catalog: RwLock::new(self.catalog().await),
            cache: SyncCache::default(),
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
        Ok(())
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
