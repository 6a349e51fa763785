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
//!
//! Sensitive objects (Secrets, anything decrypted) are cached in memory only, never kept:
//! the snapshot lives in a ConfigMap, and an unkeyed hash of a Secret's manifest there is an
//! offline test for a guessed value. After a restart they cost one dry-run each.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::diff::normalize;
use crate::managed::Projection;
use crate::object_ref::ObjectRef;

#[derive(Debug, Default)]
pub(crate) struct SyncCache {
    entries: Mutex<HashMap<ObjectRef, Entry>>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    desired: u64,
    live: u64,
    /// Kept in memory only (see the module doc).
    sensitive: bool,
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
            .is_some_and(|entry| entry.desired == manifest_hash && entry.live == live_hash)
    }

    /// Records that `object` with this manifest matches a live object of this hash;
    /// `sensitive` keeps the entry in memory only.
    pub(crate) fn record(
        &self,
        object: &ObjectRef,
        manifest_hash: u64,
        live_hash: u64,
        sensitive: bool,
    ) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = Entry {
            desired: manifest_hash,
            live: live_hash,
            sensitive,
        };
        entries.insert(object.clone(), entry);
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
                    let entry = entries.get(object).filter(|entry| !entry.sensitive)?;
                    Some(CacheEntry {
                        object: object.clone(),
                        desired: format!("{:016x}", entry.desired),
                        live: format!("{:016x}", entry.live),
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
                // A kept entry was never of a sensitive object.
                let sensitive = false;
                let restored = Entry {
                    desired,
                    live,
                    sensitive,
                };
                entries.insert(entry.object.clone(), restored);
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
    let projections: Vec<(&Map<String, Value>, Projection<'_>)> = owned
        .into_iter()
        .map(|fields| (fields, Projection::new(live, fields)))
        .collect();
    hash_json(&projections)
}

/// The first 64 bits of the SHA-256 of the canonical JSON: stable across processes,
/// versions and machines, and not something a writer of live objects can aim at.
///
/// The JSON is written straight into the hash: this runs for every object of every
/// reconcile, and the text is never needed.
fn hash_json(value: &impl Serialize) -> u64 {
    let mut hasher = HashWriter(Sha256::new());
    {
        let mut buffered = std::io::BufWriter::with_capacity(4096, &mut hasher);
        // Writing into a hash cannot fail, and these values always serialise.
        let _ = serde_json::to_writer(&mut buffered, value);
        let _ = std::io::Write::flush(&mut buffered);
    }
    let digest = hasher.0.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Feeds what is written to it into a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object() -> ObjectRef {
        ObjectRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        }
    }

    /// A Deployment as listed: fields plumb applied, fields others wrote, status.
    fn live() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "resourceVersion": "42",
                "annotations": {"deployment.kubernetes.io/revision": "3"},
                "labels": {"plumb.dev/app": "shop"},
                "managedFields": [
                    {"manager": "plumb", "operation": "Apply", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:metadata": {"f:labels": {"f:plumb.dev/app": {}}},
                                  "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
                                      "f:containers": {"k:{\"name\":\"web\"}": {
                                          ".": {}, "f:image": {}, "f:name": {}}}}},
                                      "f:strategy": {"f:rollingUpdate": {}}}}},
                    {"manager": "kube-controller-manager", "operation": "Update",
                     "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:metadata": {"f:annotations": {
                         "f:deployment.kubernetes.io/revision": {}}}}}
                ]
            },
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [
                    {"name": "sidecar", "image": "envoy"},
                    {"name": "web", "image": "shop:1.2"}
                ]}}
            },
            "status": {"replicas": 2}
        })
    }

    /// Hashes outlive the process (kept beside the inventory): a change to how they are
    /// computed must change FORMAT, or every kept cache would silently miss.
    #[test]
    fn the_live_hash_is_stable_across_versions_of_plumb() {
        assert_eq!(
            format!("{:016x}", live_hash(&live(), &object())),
            "9148b457997bf041"
        );
        let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "c"}, "data": {"k": "v"}});
        let rules = rules_hash(&[]);
        assert_eq!(
            format!("{:016x}", desired_key(manifest.as_object().unwrap(), rules)),
            "3683a35353803e32"
        );
    }

    #[test]
    fn what_others_write_does_not_change_the_live_hash_and_what_plumb_set_does() {
        let before = live_hash(&live(), &object());
        let mut churned = live();
        churned["status"]["replicas"] = json!(3);
        churned["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("4");
        churned["metadata"]["resourceVersion"] = json!("43");
        churned["spec"]["template"]["spec"]["containers"][0]["image"] = json!("envoy:2");
        assert_eq!(live_hash(&churned, &object()), before);

        let mut drifted = live();
        drifted["spec"]["template"]["spec"]["containers"][1]["image"] = json!("shop:evil");
        assert_ne!(live_hash(&drifted, &object()), before);
    }
}
