//! The incremental cache: per object, the hash of the manifest last found in sync and a
//! hash of the live object it was in sync with. When neither changed, the object is still
//! in sync — no dry-run, no write. This is what makes a no-op reconcile cost one list per
//! kind instead of a dry-run per object.
//!
//! The live side is hashed after normalising (status and volatile metadata removed) rather
//! than keyed by resourceVersion: controllers rewrite the status of Deployments and their
//! kin all the time, which bumps resourceVersion without changing anything plumb applies.
//!
//! The cache can be kept between processes ([`CacheSnapshot`], stored beside the
//! inventory): `plumb apply` of an unchanged directory then makes no dry-run either, and a
//! restarted controller starts warm. A stale snapshot is harmless — an entry only counts
//! when both hashes still match what is desired and what is live now.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::diff::normalize;
use crate::object_ref::ObjectRef;

#[derive(Debug, Default)]
pub(crate) struct SyncCache {
    entries: Mutex<HashMap<ObjectRef, (u64, u64)>>,
}

impl SyncCache {
    /// Whether `object` with this manifest was in sync with a live object of this hash.
    pub(crate) fn in_sync(&self, object: &ObjectRef, manifest_hash: u64, live_hash: u64) -> bool {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(object)
            .is_some_and(|&(desired, live)| desired == manifest_hash && live == live_hash)
    }

    /// Records that `object` with this manifest matches a live object of this hash.
    pub(crate) fn record(&self, object: &ObjectRef, manifest_hash: u64, live_hash: u64) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(object.clone(), (manifest_hash, live_hash));
    }

    /// The entries of `objects`, to keep for another process.
    pub(crate) fn snapshot(&self, objects: &[ObjectRef]) -> CacheSnapshot {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        CacheSnapshot {
            format: FORMAT.to_owned(),
            entries: objects
                .iter()
                .filter_map(|object| {
                    entries.get(object).map(|&(desired, live)| CacheEntry {
                        object: object.clone(),
                        desired: format!("{desired:016x}"),
                        live: format!("{live:016x}"),
                    })
                })
                .collect(),
        }
    }

    /// Takes in a snapshot another process kept; one of another format is ignored.
    pub(crate) fn restore(&self, snapshot: &CacheSnapshot) {
        if snapshot.format != FORMAT {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for entry in &snapshot.entries {
            if let (Ok(desired), Ok(live)) = (
                u64::from_str_radix(&entry.desired, 16),
                u64::from_str_radix(&entry.live, 16),
            ) {
                entries.insert(entry.object.clone(), (desired, live));
            }
        }
    }

    /// Forgets an object (after a failure, or when it was pruned).
    pub(crate) fn forget(&self, object: &ObjectRef) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(object);
    }
}

/// The cache key of a desired object: its manifest's canonical JSON (maps are sorted, so
/// equal manifests hash equal) and the `ignoreDifferences` rules it was compared under.
pub(crate) fn desired_key(manifest: &Map<String, Value>, rules: u64) -> u64 {
    hash_json(&(manifest, rules))
}

/// A hash of an app's `ignoreDifferences` rules, for [`desired_key`].
pub(crate) fn rules_hash(rules: &[crate::IgnoreRule]) -> u64 {
    hash_json(&rules)
}

/// A hash of what plumb set on a live object: the fields its managedFields entries own,
/// with their values. Equal hashes mean nobody changed what an apply by plumb sets — what
/// others add beside it (a Deployment's revision annotation, status, an HPA's fields)
/// does not count, as it does not for server-side apply. Watchers use it to tell drift
/// from the churn of other controllers.
///
/// An object plumb owns nothing of (adopted, never applied) is hashed whole, less status
/// and volatile metadata: then every change counts.
pub fn live_hash(live: &Value, object: &ObjectRef) -> u64 {
    let owned = crate::managed::owned_by(live, &[crate::FIELD_MANAGER.to_owned()]);
    if owned.is_empty() {
        return hash_json(&normalize(live, object, &[]));
    }
    let projections: Vec<(&Map<String, Value>, Value)> = owned
        .iter()
        .map(|fields| (fields, crate::managed::project(live, fields)))
        .collect();
    hash_json(&projections)
}

/// The first 64 bits of the SHA-256 of the canonical JSON: stable across processes,
/// versions and machines, and not something a writer of live objects can aim at.
fn hash_json(value: &impl Serialize) -> u64 {
    let digest = Sha256::digest(serde_json::to_vec(value).unwrap_or_default());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The hash scheme of the entries: a snapshot of another scheme is ignored.
const FORMAT: &str = "sha256-64/v1";

/// The incremental cache of some objects, kept between processes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheSnapshot {
    /// The hash scheme.
    pub format: String,
    /// Per object, the hashes it was last in sync at.
    pub entries: Vec<CacheEntry>,
}

/// One object's hashes, hexadecimal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The object.
    pub object: ObjectRef,
    /// Hash of its manifest and the rules it was compared under.
    pub desired: String,
    /// Hash of the live object it matched.
    pub live: String,
}
