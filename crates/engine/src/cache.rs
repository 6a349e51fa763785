//! The incremental cache: per object, the hash of the manifest last found in sync and a
//! hash of the live object it was in sync with. When neither changed, the object is still
//! in sync — no dry-run, no write. This is what makes a no-op reconcile cost one list per
//! kind instead of a dry-run per object.
//!
//! The live side is hashed after normalising (status and volatile metadata removed) rather
//! than keyed by resourceVersion: controllers rewrite the status of Deployments and their
//! kin all the time, which bumps resourceVersion without changing anything plumb applies.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use serde_json::{Map, Value};

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

/// A hash of a live object, ignoring what controllers rewrite without a change to it
/// (status, resourceVersion, managedFields…): equal hashes mean nobody changed what an
/// apply could have set. Watchers use it to tell drift from status updates.
pub fn live_hash(live: &Value, object: &ObjectRef) -> u64 {
    hash_json(&normalize(live, object, &[]))
}

fn hash_json(value: &impl serde::Serialize) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(value)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}
