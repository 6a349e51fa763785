//! How an inventory and the sync cache are written into their ConfigMap.
//!
//! A ConfigMap holds 1 MiB, and an app's objects share few kinds and namespaces: objects
//! are grouped by both, so each object costs its name (and, in the cache, its two hashes)
//! rather than a whole identity. With names of two dozen characters, the first layout,
//! which spelt out every identity, reached the limit near 10,000 objects and left the cache
//! out past 3,000; this one holds an inventory of 40,000 objects, or of 11,000 with their
//! cache.
//!
//! Both layouts are read: what an earlier plumb wrote is taken in and rewritten in this
//! one at the next save. An inventory in a layout this plumb does not know is an error
//! (pruning from a misread inventory would delete the wrong objects); such a cache is
//! only ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cache::{CacheEntry, CacheSnapshot};
use crate::inventory::Inventory;
use crate::object_ref::ObjectRef;

const INVENTORY_FORMAT: &str = "plumb.dev/inventory/v2";
const CACHE_FORMAT: &str = "plumb.dev/sync-cache/v2";

/// The objects of one kind in one namespace, by name.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kind<T> {
    api_version: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    /// Names (inventory), or name, desired hash and live hash (cache).
    objects: Vec<T>,
}

impl<T> Kind<T> {
    /// Each object's identity (its name read from the item by `name`), with its item.
    fn into_objects(self, name: impl Fn(&T) -> &str) -> impl Iterator<Item = (ObjectRef, T)> {
        let (group, version) = match self.api_version.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None => (String::new(), self.api_version),
        };
        let (kind, namespace) = (self.kind, self.namespace);
        self.objects.into_iter().map(move |item| {
            let object = ObjectRef {
                group: group.clone(),
                version: version.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: name(&item).to_owned(),
            };
            (object, item)
        })
    }
}

/// Groups `items` by their object's kind and namespace, in identity order.
fn grouped<'a, T>(items: impl IntoIterator<Item = (&'a ObjectRef, T)>) -> Vec<Kind<T>> {
    let mut kinds: BTreeMap<(&str, &str, &str, Option<&str>), Kind<T>> = BTreeMap::new();
    for (object, item) in items {
        let key = (
            object.group.as_str(),
            object.version.as_str(),
            object.kind.as_str(),
            object.namespace.as_deref(),
        );
        kinds
            .entry(key)
            .or_insert_with(|| Kind {
                api_version: object.api_version(),
                kind: object.kind.clone(),
                namespace: object.namespace.clone(),
                objects: Vec::new(),
            })
            .objects
            .push(item);
    }
    kinds.into_values().collect()
}

/// Either layout of an inventory: `format` and `kinds` now, `objects` before.
#[derive(Serialize, Deserialize)]
struct StoredInventory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<Vec<Kind<String>>>,
    /// The first layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

/// The text an inventory is kept as.
pub(super) fn write_inventory(inventory: &Inventory) -> serde_json::Result<String> {
    let kinds = grouped(
        inventory
            .objects
            .iter()
            .map(|object| (object, object.name.clone())),
    );
    serde_json::to_string(&StoredInventory {
        format: Some(INVENTORY_FORMAT.to_owned()),
        kinds: Some(kinds),
        objects: None,
    })
}

/// An inventory from its text, in either layout; the error says what is wrong with it.
pub(super) fn read_inventory(text: &str) -> Result<Inventory, String> {
    let stored: StoredInventory = serde_json::from_str(text).map_err(|err| err.to_string())?;
    match (stored.format.as_deref(), stored.kinds, stored.objects) {
        (Some(INVENTORY_FORMAT), Some(kinds), _) => Ok(Inventory::new(
            kinds
                .into_iter()
                .flat_map(|kind| kind.into_objects(String::as_str))
                .map(|(object, _)| object)
                .collect(),
        )),
        (None, _, Some(objects)) => Ok(Inventory::new(objects)),
        (Some(format), _, _) => Err(format!(
            "written in layout {format}, which this plumb does not know: upgrade plumb"
        )),
        (None, _, None) => Err("it lists no objects".to_owned()),
    }
}

/// Either layout of a cache: `format` names the layout and `hashes` the hash scheme now;
/// before, `format` named the hash scheme and `entries` spelt out each object.
#[derive(Serialize, Deserialize)]
struct StoredCache {
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hashes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<Vec<Kind<(String, String, String)>>>,
    /// The first layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<CacheEntry>>,
}

/// The text a cache is kept as.
pub(super) fn write_cache(cache: &CacheSnapshot) -> serde_json::Result<String> {
    let kinds = grouped(cache.entries.iter().map(|entry| {
        (
            &entry.object,
            (
                entry.object.name.clone(),
                entry.desired.clone(),
                entry.live.clone(),
            ),
        )
    }));
    serde_json::to_string(&StoredCache {
        format: CACHE_FORMAT.to_owned(),
        hashes: Some(cache.format.clone()),
        kinds: Some(kinds),
        entries: None,
    })
}

/// A cache from its text, in either layout; empty when unreadable (it only saves time).
pub(super) fn read_cache(text: &str) -> CacheSnapshot {
    let Ok(stored) = serde_json::from_str::<StoredCache>(text) else {
        return CacheSnapshot::default();
    };
    match (stored.format.as_str(), stored.hashes, stored.kinds) {
        (CACHE_FORMAT, Some(hashes), Some(kinds)) => CacheSnapshot {
            format: hashes,
            entries: kinds
                .into_iter()
                .flat_map(|kind| kind.into_objects(|(name, _, _)| name.as_str()))
                .map(|(object, (_, desired, live))| CacheEntry {
                    object,
                    desired,
                    live,
                })
                .collect(),
        },
        // The first layout: `format` is the hash scheme, which restoring checks.
        (_, None, None) => CacheSnapshot {
            format: stored.format,
            entries: stored.entries.unwrap_or_default(),
        },
        _ => CacheSnapshot::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(
        group: &str,
        version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> ObjectRef {
        ObjectRef {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        }
    }

    /// An app of `count` objects, three namespaced kinds and one cluster-scoped, named as
    /// real apps name things (a few dozen characters).
    fn app(count: usize) -> Inventory {
        Inventory::new(
            (0..count)
                .map(|n| match n % 4 {
                    0 => object(
                        "",
                        "v1",
                        "ConfigMap",
                        Some("payments"),
                        &format!("checkout-settings-{n:06}"),
                    ),
                    1 => object(
                        "apps",
                        "v1",
                        "Deployment",
                        Some("payments"),
                        &format!("checkout-worker-{n:06}"),
                    ),
                    2 => object(
                        "",
                        "v1",
                        "Service",
                        Some("payments-canary"),
                        &format!("checkout-api-{n:06}"),
                    ),
                    _ => object(
                        "rbac.authorization.k8s.io",
                        "v1",
                        "ClusterRole",
                        None,
                        &format!("checkout-reader-{n:06}"),
                    ),
                })
                .collect(),
        )
    }

    fn cache_of(inventory: &Inventory) -> CacheSnapshot {
        CacheSnapshot {
            format: "sha256-64/v1".into(),
            entries: inventory
                .objects
                .iter()
                .enumerate()
                .map(|(n, object)| CacheEntry {
                    object: object.clone(),
                    desired: format!("{:016x}", n * 7919),
                    live: format!("{:016x}", u64::MAX - n as u64),
                })
                .collect(),
        }
    }

    #[test]
    fn an_inventory_and_its_cache_read_back_as_written() {
        let inventory = app(10);
        let cache = cache_of(&inventory);
        assert_eq!(
            read_inventory(&write_inventory(&inventory).unwrap()),
            Ok(inventory)
        );
        assert_eq!(read_cache(&write_cache(&cache).unwrap()), cache);
    }

    #[test]
    fn what_an_earlier_plumb_wrote_is_read() {
        let inventory = r#"{"objects":[{"group":"","version":"v1","kind":"ConfigMap","namespace":"shop","name":"c"},{"group":"","version":"v1","kind":"Namespace","name":"shop"}]}"#;
        let cache = r#"{"format":"sha256-64/v1","entries":[{"object":{"group":"","version":"v1","kind":"ConfigMap","namespace":"shop","name":"c"},"desired":"e5c55fd392ea19e1","live":"3196cf9e09392eb1"}]}"#;
        let expected = Inventory::new(vec![
            object("", "v1", "ConfigMap", Some("shop"), "c"),
            object("", "v1", "Namespace", None, "shop"),
        ]);
        assert_eq!(read_inventory(inventory), Ok(expected));
        let cache = read_cache(cache);
        assert_eq!(cache.format, "sha256-64/v1");
        assert_eq!(cache.entries.len(), 1);
        assert_eq!(cache.entries[0].object.name, "c");
        assert_eq!(cache.entries[0].live, "3196cf9e09392eb1");
    }

    #[test]
    fn an_inventory_in_an_unknown_layout_is_refused_and_such_a_cache_ignored() {
        let error =
            read_inventory(r#"{"format":"plumb.dev/inventory/v9","kinds":[]}"#).unwrap_err();
        assert!(
            error.contains("plumb.dev/inventory/v9") && error.contains("upgrade"),
            "{error}"
        );
        assert!(read_inventory("{}").is_err());
        assert!(read_inventory("[").is_err());
        let cache = read_cache(r#"{"format":"plumb.dev/sync-cache/v9","hashes":"x","kinds":[]}"#);
        assert_eq!(cache, CacheSnapshot::default());
    }

    /// What the layout is for: an app of 10,000 objects keeps its inventory and its cache
    /// in one ConfigMap.
    #[test]
    fn ten_thousand_objects_and_their_cache_fit_in_one_config_map() {
        let inventory = app(10_000);
        let inventory_text = write_inventory(&inventory).unwrap();
        let cache_text = write_cache(&cache_of(&inventory)).unwrap();
        assert!(
            inventory_text.len() + cache_text.len() <= super::super::config_map::DATA_LIMIT,
            "inventory {} + cache {} bytes",
            inventory_text.len(),
            cache_text.len()
        );
    }
}
