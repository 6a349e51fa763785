//! How plumb marks what it applies, so it can find, diff and prune its own objects — and
//! only its own.
//!
//! Every applied object carries the label `plumb.dev/app` (a label-safe form of the app's
//! id, for selecting) and the annotation `plumb.dev/tracking-id` (the full app id and the
//! object's identity). The label alone can be copied by another tool; the annotation must
//! also name the object itself, so a copied label never makes plumb claim an object.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

/// Label selecting every object of an app.
pub const APP_LABEL: &str = "plumb.dev/app";
/// Annotation holding `APP_ID:GROUP/KIND:NAMESPACE/NAME`.
pub const TRACKING_ANNOTATION: &str = "plumb.dev/tracking-id";

/// Who owns a set of objects: an Application (`namespace/name`) or a CLI app (`name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct AppId(String);

impl AppId {
    /// An app id; `namespace/name` for Applications, a bare name for the CLI.
    pub fn new(id: impl Into<String>) -> Self {
        AppId(id.into())
    }

    /// The full id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value of [`APP_LABEL`]: at most 63 characters of `[a-zA-Z0-9._-]`, starting and
    /// ending alphanumeric. Ids that do not fit are shortened with a hash suffix so two
    /// long ids still differ.
    pub fn label_value(&self) -> String {
        let safe: String = self
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                    c
                } else {
                    '.'
                }
            })
            .collect();
        let trimmed = safe.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if trimmed.len() <= 63 && trimmed == safe && !trimmed.is_empty() {
            return trimmed.to_owned();
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.0.hash(&mut hasher);
        let suffix = format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff);
        let head: String = trimmed.chars().take(63 - 13).collect();
        let head = head.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        if head.is_empty() {
            suffix
        } else {
            format!("{head}-{suffix}")
        }
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tracking annotation value for an object of `app`.
pub(crate) fn tracking_id(
    app: &AppId,
    group: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> String {
    format!("{app}:{group}/{kind}:{namespace}/{name}")
}

/// Adds the tracking label and annotation to a manifest.
pub(crate) fn mark(manifest: &mut Map<String, Value>, app: &AppId, tracking: &str) {
    let metadata = manifest
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(metadata) = metadata else {
        return;
    };
    for (field, key, value) in [
        ("labels", APP_LABEL, app.label_value()),
        ("annotations", TRACKING_ANNOTATION, tracking.to_owned()),
    ] {
        let entries = metadata
            .entry(field)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(entries) = entries {
            entries.insert(key.to_owned(), Value::String(value));
        }
    }
}

/// An annotation of a manifest, if set.
pub(crate) fn annotation<'a>(manifest: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    manifest
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_their_own_label() {
        assert_eq!(AppId::new("web").label_value(), "web");
        assert_eq!(AppId::new("team-a/web").label_value(), "team-a.web");
    }

    #[test]
    fn long_ids_are_shortened_distinctly_and_stay_valid() {
        let long_a = AppId::new(format!("{}/a", "x".repeat(80)));
        let long_b = AppId::new(format!("{}/b", "x".repeat(80)));
        let (a, b) = (long_a.label_value(), long_b.label_value());
        assert_ne!(a, b);
        for value in [a, b] {
            assert!(value.len() <= 63, "{value}");
            assert!(value.chars().next().unwrap().is_ascii_alphanumeric());
            assert!(value.chars().last().unwrap().is_ascii_alphanumeric());
        }
    }

    #[test]
    fn marking_adds_label_and_annotation_keeping_others() {
        let mut manifest: Map<String, Value> =
            serde_json::from_str(r#"{"metadata": {"name": "x", "labels": {"a": "b"}}}"#).unwrap();
        mark(&mut manifest, &AppId::new("web"), "web:/ConfigMap:ns/x");
        assert_eq!(manifest["metadata"]["labels"]["a"], "b");
        assert_eq!(manifest["metadata"]["labels"][APP_LABEL], "web");
        assert_eq!(
            annotation(&manifest, TRACKING_ANNOTATION),
            Some("web:/ConfigMap:ns/x")
        );
    }
}
