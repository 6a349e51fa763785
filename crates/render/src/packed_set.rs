//! A DesiredSet packed for keeping: each manifest as its compact JSON text instead of a
//! tree of maps.
//!
//! A controller keeps every app's last render between reconciles, so that a reconcile whose
//! commit did not move renders nothing. Held as `serde_json` values, a manifest costs about
//! ten times its text: each small mapping (labels, a selector, a port) is a B-tree node of
//! several hundred bytes, however few keys it has. Packed, 1,000 apps of 10 objects keep
//! about 4 MiB instead of 40; unpacking one app's set again is a JSON parse of a few
//! kilobytes, far below the cost of a render.
//!
//! Packing is lossless: the JSON text of a value parses back to the same value (keys sorted,
//! numbers exact), and origin and decrypted marks are kept beside it.

use plumb_manifest::{DesiredObject, Origin};

use crate::desired_set::DesiredSet;

/// A [`DesiredSet`] in a compact form, for keeping; [`PackedSet::unpack`] gives it back.
#[derive(Debug, Default)]
pub struct PackedSet {
    objects: Box<[Packed]>,
}

#[derive(Debug)]
struct Packed {
    /// The manifest, as compact JSON.
    manifest: Box<str>,
    origin: Origin,
    decrypted: bool,
}

impl PackedSet {
    /// Packs `set`.
    pub fn pack(set: DesiredSet) -> PackedSet {
        let objects = set
            .into_iter()
            .map(|object| {
                let (manifest, origin, decrypted) = object.into_parts();
                // Serialising a map of JSON values cannot fail: its keys are strings.
                let manifest = serde_json::to_string(&manifest).unwrap_or_default();
                Packed {
                    manifest: manifest.into_boxed_str(),
                    origin,
                    decrypted,
                }
            })
            .collect();
        PackedSet { objects }
    }

    /// The set as it was packed.
    ///
    /// # Panics
    ///
    /// Never for a set made by [`PackedSet::pack`]: every object was valid, and distinct,
    /// when it was packed, and packing loses nothing.
    pub fn unpack(&self) -> DesiredSet {
        let objects = self
            .objects
            .iter()
            .map(|packed| {
                let manifest = serde_json::from_str(&packed.manifest)
                    .expect("a packed manifest is the JSON of a mapping");
                DesiredObject::from_manifest(manifest, packed.origin.clone(), packed.decrypted)
                    .expect("a packed object was valid when packed")
            })
            .collect();
        DesiredSet::new(objects).expect("a packed set had each object once when packed")
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn object(manifest: Value, path: &str, line: u64, decrypted: bool) -> DesiredObject {
        let Value::Object(manifest) = manifest else {
            unreachable!("test manifests are mappings")
        };
        let origin = Origin {
            path: path.into(),
            line,
            item: None,
        };
        DesiredObject::from_manifest(manifest, origin, decrypted).unwrap()
    }

    #[test]
    fn unpacking_gives_back_the_objects_in_order_with_their_origin_and_marks() {
        let objects = vec![
            object(
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "b", "labels": {"z": "1", "a": "2"}},
                       "data": {"ratio": "0.5"}}),
                "apps/b.yaml",
                3,
                false,
            ),
            object(
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "a", "namespace": "web"},
                       "spec": {"replicas": 3, "big": u64::MAX, "small": i64::MIN,
                                "ratio": 0.1, "empty": {}, "none": null, "list": [1, "x", true]}}),
                "apps/a.yaml",
                1,
                false,
            ),
            object(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                       "stringData": {"token": "t"}}),
                "apps/s.enc.yaml",
                1,
                true,
            ),
        ];
        let set = DesiredSet::new(objects.clone()).unwrap();
        let packed = PackedSet::pack(set);
        assert_eq!(packed.len(), 3);
        let unpacked: Vec<DesiredObject> = packed.unpack().into_iter().collect();
        assert_eq!(unpacked, objects);
        // Unpacking again gives the same: the packed set is not consumed.
        assert_eq!(packed.unpack().len(), 3);
    }

    #[test]
    fn an_empty_set_packs_and_unpacks() {
        let packed = PackedSet::pack(DesiredSet::default());
        assert!(packed.is_empty());
        assert!(packed.unpack().is_empty());
    }
}
