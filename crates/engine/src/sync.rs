//! A sync that keeps its inventory: the one way plumb applies a plan — the controller's
//! reconcile, cascade deletion and `plumb apply` all go through [`Engine::sync`].
//!
//! ```text
//!  inventory ∪ what the plan writes ─▶ save (ahead) ─▶ apply ─▶ save (what it owns now)
//!                                                                 └▶ keep the cache beside it
//! ```
//!
//! Written ahead, the inventory lists every object the apply may create before it creates
//! any: a process killed mid-apply, or a save that fails after it, leaves a superset that
//! the next sync prunes from — never an object nobody tracks.

use kube::Client;

use crate::apply::{ApplyOptions, SyncResult};
use crate::cache::CacheSnapshot;
use crate::engine::Engine;
use crate::error::Result;
use crate::inventory::{Inventory, config_map};
use crate::plan::Plan;
use crate::tracking::AppId;

/// Where an app's inventory is kept: its ConfigMap in `namespace`, written with `client`.
#[derive(Clone)]
pub struct InventoryStore {
    client: Client,
    namespace: String,
    app: AppId,
}

impl InventoryStore {
    /// The store of `app`'s inventory in `namespace`.
    pub fn new(client: Client, namespace: impl Into<String>, app: AppId) -> Self {
        InventoryStore {
            client,
            namespace: namespace.into(),
            app,
        }
    }

    /// The stored inventory and the cache kept beside it.
    pub async fn load(&self) -> Result<(Inventory, CacheSnapshot)> {
        config_map::load_with_cache(&self.client, &self.namespace, &self.app).await
    }

    /// Deletes the ConfigMap (after the app's objects are gone); gone already is fine.
    pub async fn delete(&self) -> Result<()> {
        config_map::delete(&self.client, &self.namespace, &self.app).await
    }

    async fn save(&self, inventory: &Inventory) -> Result<()> {
        config_map::save(&self.client, &self.namespace, &self.app, inventory).await
    }
}

/// What became of the incremental cache after a sync.
#[derive(Clone, Debug, PartialEq)]
pub enum CacheKept {
    /// Nothing to write: it did not change, or none is kept.
    Unchanged,
    /// Written beside the inventory.
    Saved(CacheSnapshot),
    /// Not written; the next sync of a restarted process makes more dry-runs. Why:
    NotSaved(String),
}

/// The outcome of [`Engine::sync`].
#[derive(Clone, Debug)]
pub struct Synced {
    /// What the apply did.
    pub result: SyncResult,
    /// The cache.
    pub cache: CacheKept,
}

impl Engine {
    /// Applies `plan` with the inventory it was made from saved ahead and after (see the
    /// module doc), and the cache kept beside it unless `kept_cache` is `None` (the app is
    /// going away).
    ///
    /// Fails before writing anything when the inventory cannot be saved ahead; fails after
    /// the apply when it cannot be saved again (the inventory saved ahead then stands).
    pub async fn sync(
        &self,
        plan: &Plan,
        store: &InventoryStore,
        kept_cache: Option<&CacheSnapshot>,
        options: &ApplyOptions,
    ) -> Result<Synced> {
        let ahead = ahead_of(plan);
        if ahead != plan.previous {
            store.save(&ahead).await?;
        }
        let result = self.apply(plan, options).await;
        if result.inventory != ahead {
            store.save(&result.inventory).await?;
        }
        let cache = match kept_cache {
            None => CacheKept::Unchanged,
            Some(kept) => {
                let cache = self.cache_snapshot(&result.inventory.objects);
                if cache == *kept {
                    CacheKept::Unchanged
                } else {
                    match config_map::save_cache(
                        &store.client,
                        &store.namespace,
                        &store.app,
                        &result.inventory,
                        &cache,
                    )
                    .await
                    {
                        Ok(()) => CacheKept::Saved(cache),
                        Err(err) => CacheKept::NotSaved(err.to_string()),
                    }
                }
            }
        };
        Ok(Synced { result, cache })
    }
}

/// The inventory to save before applying: everything owned now and everything the plan
/// may create or update (pruned objects stay until they are gone).
fn ahead_of(plan: &Plan) -> Inventory {
    Inventory::new(
        plan.previous
            .objects
            .iter()
            .cloned()
            .chain(
                plan.targets
                    .iter()
                    .filter(|t| t.tracked)
                    .map(|t| t.object.clone()),
            )
            .collect(),
    )
}
