//! Field ownership from `metadata.managedFields`: which fields of an object a given field
//! manager owns, so `ignoreDifferences` can leave out everything another controller (an
//! HPA, an operator, `kubectl-edit`) manages.
//!
//! The `fieldsV1` format is a tree whose keys are `f:<field>` (a map field), `k:<json>` (a
//! list item by its key fields), `v:<json>` (a set item by value) and `i:<index>`; `.`
//! marks the node itself. An empty subtree is an owned leaf.

use serde_json::{Map, Value};

/// The `fieldsV1` trees of `object`'s managedFields entries whose manager is in `managers`.
pub(crate) fn owned_by(object: &Value, managers: &[String]) -> Vec<Map<String, Value>> {
    if managers.is_empty() {
        return Vec::new();
    }
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| {
            entry
                .get("manager")
                .and_then(Value::as_str)
                .is_some_and(|manager| managers.iter().any(|m| m == manager))
        })
        .filter_map(|entry| entry.get("fieldsV1").and_then(Value::as_object).cloned())
        .collect()
}

/// Removes every leaf field named by `fields` from `value`.
pub(crate) fn remove(value: &mut Value, fields: &Map<String, Value>) {
    for (key, subtree) in fields {
        let leaf = subtree
            .as_object()
            .is_none_or(|sub| sub.keys().all(|k| k == "."));
        if let Some(name) = key.strip_prefix("f:") {
            let Value::Object(map) = value else { continue };
            if leaf {
                map.remove(name);
            } else if let (Some(child), Some(sub)) = (map.get_mut(name), subtree.as_object()) {
                remove(child, sub);
            }
        } else if let Some(selector) = key.strip_prefix("k:") {
            let (Value::Array(items), Ok(Value::Object(keys))) =
                (&mut *value, serde_json::from_str(selector))
            else {
                continue;
            };
            let matches = |item: &Value| keys.iter().all(|(k, v)| item.get(k) == Some(v));
            if leaf {
                items.retain(|item| !matches(item));
            } else if let (Some(item), Some(sub)) =
                (items.iter_mut().find(|i| matches(i)), subtree.as_object())
            {
                remove(item, sub);
            }
        } else if let Some(literal) = key.strip_prefix("v:") {
            let (Value::Array(items), Ok(wanted)) =
                (&mut *value, serde_json::from_str::<Value>(literal))
            else {
                continue;
            };
            items.retain(|item| *item != wanted);
        } else if let Some(index) = key.strip_prefix("i:").and_then(|i| i.parse::<usize>().ok()) {
            let Value::Array(items) = value else { continue };
            if leaf {
                if index < items.len() {
                    items.remove(index);
                }
            } else if let (Some(item), Some(sub)) = (items.get_mut(index), subtree.as_object()) {
                remove(item, sub);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_of_the_named_managers_are_found() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "plumb", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "hpa", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]}});
        let owned = owned_by(&live, &["hpa".into()]);
        assert_eq!(
            owned,
            vec![
                json!({"f:spec": {"f:replicas": {}}})
                    .as_object()
                    .unwrap()
                    .clone()
            ]
        );
    }

    #[test]
    fn owned_leaves_are_removed_and_siblings_kept() {
        let mut object = json!({"spec": {"replicas": 3, "paused": false, "template": {"spec": {"containers": [
            {"name": "web", "image": "a:1", "args": ["x"]}, {"name": "sidecar", "image": "b:1"}]}}}});
        let fields = json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}}}});
        remove(&mut object, fields.as_object().unwrap());
        assert_eq!(
            object,
            json!({"spec": {"paused": false, "template": {"spec": {"containers": [
            {"name": "web", "args": ["x"]}, {"name": "sidecar", "image": "b:1"}]}}}})
        );
    }

    #[test]
    fn set_items_are_removed_by_value() {
        let mut object = json!({"finalizers": ["a", "b"]});
        remove(
            &mut object,
            json!({"f:finalizers": {"v:\"a\"": {}}})
                .as_object()
                .unwrap(),
        );
        assert_eq!(object, json!({"finalizers": ["b"]}));
    }
}
