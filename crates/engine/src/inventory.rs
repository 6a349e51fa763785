//! The inventory: every object an app has applied, so objects removed from Git can be
//! found and pruned — without listing every kind in the cluster.

use serde::{Deserialize, Serialize};

use crate::object_ref::ObjectRef;

mod layout;

/// The objects an app owns, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The objects.
    pub objects: Vec<ObjectRef>,
}

impl Inventory {
    /// An inventory of these objects (sorted, deduplicated).
    pub fn new(mut objects: Vec<ObjectRef>) -> Self {
        objects.sort();
        objects.dedup();
        Inventory { objects }
    }

    /// Whether it holds this object (at any version).
    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.objects.iter().any(|o| o.same_object(object))
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// Keeps an app's inventory in a ConfigMap — for apps without an Application resource to
/// hold it (the CLI's push mode). The ConfigMap is labelled for the inventory, never with
/// the app label, so it is not itself part of what it records.
pub mod config_map {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::Client;
    use kube::api::{Api, ObjectMeta, Patch};

    use super::Inventory;
    use crate::cache::CacheSnapshot;
    use crate::error::{Error, Result};
    use crate::tracking::AppId;

    const KEY: &str = "inventory.json";
    /// The incremental cache, beside the inventory, written by its own field manager so
    /// that saving one never removes the other.
    const CACHE_KEY: &str = "sync-cache.json";
    const CACHE_MANAGER: &str = "plumb-sync-cache";
    /// What the data of a ConfigMap may hold in all, keys included.
    pub(super) const DATA_LIMIT: usize = 1024 * 1024;

    /// Keeps `app`'s cache beside its inventory, when both fit in the ConfigMap; a cache
    /// that does not is not kept (the inventory comes first).
    pub async fn save_cache(
        client: &Client,
        namespace: &str,
        app: &AppId,
        inventory: &Inventory,
        cache: &CacheSnapshot,
    ) -> Result<()> {
        let name = name(app);
        let failed = |err: serde_json::Error| Error::Inventory {
            name: format!("{namespace}/{name}"),
            detail: err.to_string(),
        };
        let text = super::layout::write_cache(cache).map_err(failed)?;
        let inventory_size = super::layout::write_inventory(inventory)
            .map_err(failed)?
            .len();
        if KEY.len() + inventory_size + CACHE_KEY.len() + text.len() > DATA_LIMIT {
            return Ok(());
        }
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..ObjectMeta::default()
            },
            data: Some([(CACHE_KEY.to_owned(), text)].into()),
            ..ConfigMap::default()
        };
        Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .patch(
                &name,
                &crate::server_side_apply(CACHE_MANAGER).force(),
                &Patch::Apply(&config_map),
            )
            .await
            .map_err(|err| Error::Inventory {
                name: format!("{namespace}/{name}"),
                detail: err.to_string(),
            })?;
        Ok(())
    }

    /// The ConfigMap's name for `app`.
    pub fn name(app: &AppId) -> String {
        format!("plumb-inventory.{}", app.label_value().to_ascii_lowercase())
    }

    /// The stored inventory of `app` in `namespace`; empty when none is stored.
    pub async fn load(client: &Client, namespace: &str, app: &AppId) -> Result<Inventory> {
        Ok(load_with_cache(client, namespace, app).await?.0)
    }

    /// The stored inventory and the cache kept beside it, in one read.
    pub async fn load_with_cache(
        client: &Client,
        namespace: &str,
        app: &AppId,
    ) -> Result<(Inventory, CacheSnapshot)> {
        let name = name(app);
        let failed = |detail: String| Error::Inventory {
            name: format!("{namespace}/{name}"),
            detail,
        };
        let stored = Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get_opt(&name)
            .await
            .map_err(|err| failed(err.to_string()))?;
        let mut data = stored.and_then(|cm| cm.data).unwrap_or_default();
        // The cache is only an optimisation: unreadable means empty.
        let cache = data
            .remove(CACHE_KEY)
            .map(|text| super::layout::read_cache(&text))
            .unwrap_or_default();
        let Some(text) = data.remove(KEY) else {
            return Ok((Inventory::default(), cache));
        };
        let inventory = super::layout::read_inventory(&text).map_err(|err| {
            failed(format!(
                "unreadable: {err} (deleting it starts over, and leaves the objects it \
                 listed unpruned)"
            ))
        })?;
        Ok((inventory, cache))
    }

    /// Deletes the inventory of `app` in `namespace`; none stored is fine.
    pub async fn delete(client: &Client, namespace: &str, app: &AppId) -> Result<()> {
        let name = name(app);
        match Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .delete(&name, &kube::api::DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(err) => Err(Error::Inventory {
                name: format!("{namespace}/{name}"),
                detail: format!("cannot delete it: {err}"),
            }),
        }
    }

    /// Stores the inventory of `app` in `namespace`.
    pub async fn save(
        client: &Client,
        namespace: &str,
        app: &AppId,
        inventory: &Inventory,
    ) -> Result<()> {
        let name = name(app);
        let failed = |detail: String| Error::Inventory {
            name: format!("{namespace}/{name}"),
            detail,
        };
        let text =
            super::layout::write_inventory(inventory).map_err(|err| failed(err.to_string()))?;
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("plumb.dev/inventory-of".to_owned(), app.label_value())].into()),
                ..ObjectMeta::default()
            },
            data: Some([(KEY.to_owned(), text)].into()),
            ..ConfigMap::default()
        };
        Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .patch(
                &name,
                &crate::server_side_apply(crate::FIELD_MANAGER).force(),
                &Patch::Apply(&config_map),
            )
            .await
            .map_err(|err| failed(err.to_string()))?;
        Ok(())
    }
}
