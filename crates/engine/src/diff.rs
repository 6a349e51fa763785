//! Comparison of a live object with what applying would make of it, and a readable,
//! masked diff of the two.
//!
//! What is compared is the live object and the result of a server-side-apply dry-run of
//! the desired manifest: the API server has merged, defaulted and validated it, so a field
//! plumb never set (a defaulted `spec.strategy`, an HPA's `replicas`) is the same on both
//! sides and can never show as drift. Fields that change on every write (resourceVersion,
//! managedFields, generation…) and `status` are left out. Secret values are masked here,
//! where the diff is made, so no caller can leak them.

use serde_json::{Map, Value};

use crate::ignore::IgnoreRule;
use crate::object_ref::ObjectRef;

/// What replaces a masked value in a diff.
const MASK: &str = "*****";
/// Metadata fields the server rewrites on every write.
const VOLATILE_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
];

/// How many differing fields a diff names; the text shows them all.
const MAX_FIELDS: usize = 16;

/// A difference between live and desired, shown as a unified diff of YAML.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// Unified diff, `live` → `desired`, with secret values masked.
    pub text: String,
    /// The fields that differ, as JSON pointers (`/spec/replicas`), at most 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The field managers other than plumb that own those fields in the live object —
    /// who changed them (`kubectl`, `kube-controller-manager`, an operator). When nobody
    /// owns them (a field was removed), the manager that wrote to the object last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<String>,
}

/// Strips what must not be compared.
pub(crate) fn normalize(object: &Value, object_ref: &ObjectRef, ignore: &[IgnoreRule]) -> Value {
    let mut object = object.clone();
    if let Value::Object(map) = &mut object {
        // Identity is known; and list items come back without apiVersion and kind.
        map.remove("apiVersion");
        map.remove("kind");
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            for field in VOLATILE_METADATA {
                metadata.remove(*field);
            }
            for field in ["labels", "annotations"] {
                if metadata
                    .get(field)
                    .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
                {
                    metadata.remove(field);
                }
            }
        }
    }
    for rule in ignore.iter().filter(|rule| rule.matches(object_ref)) {
        for pointer in &rule.json_pointers {
            remove_pointer(&mut object, pointer);
        }
    }
    object
}

/// The diff between normalized `live` and `desired`, or `None` when they are equal.
pub(crate) fn compare(live: &Value, desired: &Value, sensitive: bool) -> Option<Diff> {
    if live == desired {
        return None;
    }
    let (live, desired) = if sensitive {
        mask_pair(live, desired)
    } else {
        (live.clone(), desired.clone())
    };
    let before = to_yaml(&live);
    let after = to_yaml(&desired);
    let text = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header("live", "desired")
        .to_string();
    let mut fields = Vec::new();
    changed_paths(&live, &desired, &mut String::new(), &mut fields);
    Some(Diff {
        text,
        fields,
        changed_by: Vec::new(),
    })
}

/// Collects the JSON pointers where `before` and `after` differ: the deepest map field
/// that differs, or the list as a whole when its length changed.
fn changed_paths(before: &Value, after: &Value, path: &mut String, found: &mut Vec<String>) {
    if found.len() >= MAX_FIELDS || before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                match (b.get(key), a.get(key)) {
                    (Some(b), Some(a)) => changed_paths(b, a, path, found),
                    _ if found.len() < MAX_FIELDS => found.push(path.clone()),
                    _ => {}
                }
                path.truncate(len);
            }
        }
        (Value::Array(b), Value::Array(a)) if a.len() == b.len() => {
            for (index, (b, a)) in b.iter().zip(a).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&index.to_string());
                changed_paths(b, a, path, found);
                path.truncate(len);
            }
        }
        _ => found.push(if path.is_empty() {
            "/".into()
        } else {
            path.clone()
        }),
    }
}

/// Masks the values of a sensitive object on both sides, keeping whether each changed
/// visible: equal values become `*****`, differing ones `***** (before)`/`***** (after)`.
fn mask_pair(live: &Value, desired: &Value) -> (Value, Value) {
    let mut live = live.clone();
    let mut desired = desired.clone();
    let fields: Vec<String> = desired
        .as_object()
        .into_iter()
        .chain(live.as_object())
        .flat_map(|map| map.keys().cloned())
        .filter(|key| !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "type"))
        .collect();
    for field in fields {
        let before = live.get(&field).cloned();
        let after = desired.get(&field).cloned();
        if let Some(value) = live.get_mut(&field) {
            mask_against(value, after.as_ref(), "before");
        }
        if let Some(value) = desired.get_mut(&field) {
            mask_against(value, before.as_ref(), "after");
        }
    }
    mask_annotations(&mut live, &mut desired);
    (live, desired)
}

/// Masks the annotations of a sensitive object, plumb's own excepted: a Secret once applied
/// with client-side `kubectl apply` carries its whole data in
/// `kubectl.kubernetes.io/last-applied-configuration` (Argo CD's GHSA-rg3g-4rw9-gqrp), and a
/// decrypted value can be moved into an annotation by a Kustomize replacement.
fn mask_annotations(live: &mut Value, desired: &mut Value) {
    let before = annotations(live).cloned();
    let after = annotations(desired).cloned();
    for (side, name, other) in [(live, "before", &after), (desired, "after", &before)] {
        let Some(Value::Object(annotations)) = side.pointer_mut("/metadata/annotations") else {
            continue;
        };
        for (key, value) in annotations.iter_mut() {
            if !key.starts_with("plumb.dev/") {
                mask_against(value, other.as_ref().and_then(|o| o.get(key)), name);
            }
        }
    }
}

fn annotations(object: &Value) -> Option<&Value> {
    object.pointer("/metadata/annotations")
}

fn mask_against(value: &mut Value, other: Option<&Value>, side: &str) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                mask_against(inner, other.and_then(|o| o.get(key)), side);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter_mut().enumerate() {
                mask_against(inner, other.and_then(|o| o.get(index)), side);
            }
        }
        Value::Null => {}
        leaf => {
            let changed = other != Some(&*leaf);
            *leaf = if changed {
                Value::String(format!("{MASK} ({side})"))
            } else {
                Value::String(MASK.into())
            };
        }
    }
}

fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|err| format!("(cannot show as YAML: {err})\n"))
}

/// Removes the value at an RFC 6901 JSON pointer, if present.
fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    let parent = if parent.is_empty() {
        Some(value)
    } else {
        value.pointer_mut(parent)
    };
    match parent {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = last.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn web() -> ObjectRef {
        ObjectRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: Some("prod".into()),
            name: "web".into(),
        }
    }

    #[test]
    fn volatile_metadata_and_status_do_not_count() {
        let live = json!({"metadata": {"name": "web", "resourceVersion": "1", "managedFields": []}, "spec": {"a": 1}, "status": {"x": 1}});
        let desired =
            json!({"metadata": {"name": "web", "resourceVersion": "2"}, "spec": {"a": 1}});
        assert_eq!(
            compare(
                &normalize(&live, &web(), &[]),
                &normalize(&desired, &web(), &[]),
                false
            ),
            None
        );
    }

    #[test]
    fn a_changed_field_shows_in_a_unified_diff() {
        let diff = compare(
            &json!({"spec": {"replicas": 3}}),
            &json!({"spec": {"replicas": 2}}),
            false,
        )
        .unwrap();
        assert!(diff.text.contains("-  replicas: 3"), "{}", diff.text);
        assert!(diff.text.contains("+  replicas: 2"), "{}", diff.text);
        assert_eq!(diff.fields, ["/spec/replicas"]);
    }

    #[test]
    fn differing_fields_are_named_down_to_list_items() {
        let diff = compare(
            &json!({"spec": {"containers": [{"name": "a", "image": "x:1"}], "paused": true}}),
            &json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}}),
            false,
        )
        .unwrap();
        assert_eq!(diff.fields, ["/spec/containers/0/image", "/spec/paused"]);
    }

    #[test]
    fn ignored_pointers_are_not_compared() {
        let rule = IgnoreRule {
            group: Some("apps".into()),
            kind: Some("Deployment".into()),
            json_pointers: vec!["/spec/replicas".into()],
            ..IgnoreRule::default()
        };
        let live = normalize(
            &json!({"spec": {"replicas": 5, "paused": false}}),
            &web(),
            std::slice::from_ref(&rule),
        );
        let desired = normalize(
            &json!({"spec": {"replicas": 2, "paused": false}}),
            &web(),
            &[rule],
        );
        assert_eq!(compare(&live, &desired, false), None);
    }

    #[test]
    fn secret_values_are_masked_but_changes_stay_visible() {
        let live = json!({"kind": "Secret", "data": {"user": "YWRtaW4=", "password": "b2xk"}});
        let desired = json!({"kind": "Secret", "data": {"user": "YWRtaW4=", "password": "bmV3"}});
        let diff = compare(&live, &desired, true).unwrap();
        assert!(
            !diff.text.contains("b2xk")
                && !diff.text.contains("bmV3")
                && !diff.text.contains("YWRtaW4="),
            "{}",
            diff.text
        );
        assert!(
            diff.text.contains("-  password: '***** (before)'")
                || diff.text.contains("-  password: \"***** (before)\""),
            "{}",
            diff.text
        );
        assert!(
            diff.text.contains("user: \"*****\"") || diff.text.contains("user: '*****'"),
            "{}",
            diff.text
        );
    }

    /// A Secret once applied with client-side `kubectl apply` holds its data in the
    /// last-applied annotation, which sorts beside plumb's tracking id in every diff.
    #[test]
    fn secret_annotations_are_masked_but_plumbs_own_stay_readable() {
        let last_applied = r#"{"data":{"password":"aHVudGVyMg=="}}"#;
        let live = json!({"kind": "Secret", "metadata": {"annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": last_applied}},
            "data": {"password": "aHVudGVyMg=="}});
        let desired = json!({"kind": "Secret", "metadata": {"annotations": {
            "plumb.dev/tracking-id": "web:/Secret:prod/db"}},
            "data": {"password": "bmV3"}});
        let diff = compare(&live, &desired, true).unwrap();
        assert!(!diff.text.contains("aHVudGVyMg=="), "{}", diff.text);
        assert!(diff.text.contains("web:/Secret:prod/db"), "{}", diff.text);
    }
}
