//! The Engine: a client, the catalog of served kinds, and the incremental cache — the
//! state one process keeps between plans. Operations live in files named for them
//! (`plan.rs`, `apply.rs`, `health/`).

use std::sync::Arc;

use kube::Client;
use tokio::sync::RwLock;

use crate::cache::SyncCache;
use crate::catalog::Catalog;
use crate::error::Result;

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

    /// Discovers the served kinds again (after CRDs changed).
    pub async fn refresh_discovery(&self) -> Result<()> {
        let fresh = Catalog::discover(&self.client).await?;
        *self.catalog.write().await = Arc::new(fresh);
        Ok(())
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
