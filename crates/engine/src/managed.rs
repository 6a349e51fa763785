//! Field ownership from `metadata.managedFields`: which fields of an object a given field
//! manager owns, so `ignoreDifferences` can leave out everything another controller (an
//! HPA, an operator, `kubectl-edit`) manages.
//!
//! The `fieldsV1` format is a tree whose keys are `f:<field>` (a map field), `k:<json>` (a
//! list item by its key fields), `v:<json>` (a set item by value) and `i:<index>`; `.`
//! marks the node itself. An empty subtree is an owned leaf.

use serde_json::{Map, Value};

/// The `fieldsV1` trees of `object`'s managedFields entries whose manager is in `managers`.
pub(crate) fn owned_by<'a>(object: &'a Value, managers: &[String]) -> Vec<&'a Map<String, Value>> {
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
        .filter_map(|entry| entry.get("fieldsV1").and_then(Value::as_object))
        .collect()
}

/// Who changed the fields at `paths` (JSON pointers into `object`): the managers other
/// than plumb whose owned fields lie on those paths, most recent first. When none owns
/// them — a field another manager removed is owned by nobody — the manager other than
/// plumb that wrote to the object last. When plumb itself still owns a changed field,
/// nobody is named: the write was not recorded (Kubernetes before 1.22 does not record
/// writes through subresources such as `/scale`), and the last writer — typically the
/// controller that updates status — would be a false accusation.
pub(crate) fn changed_by(object: &Value, paths: &[String]) -> Vec<String> {
    let entries: Vec<&Value> = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| entry.get("manager").and_then(Value::as_str) != Some(crate::FIELD_MANAGER))
        .collect();
    let mut by_time: Vec<(&str, &str, bool)> = entries
        .iter()
        .filter_map(|entry| {
            let manager = entry.get("manager").and_then(Value::as_str)?;
            let time = entry.get("time").and_then(Value::as_str).unwrap_or("");
            let mut owned = Vec::new();
            if let Some(fields) = entry.get("fieldsV1").and_then(Value::as_object) {
                owned_paths(object, fields, &mut String::new(), &mut owned);
            }
            let touches = owned.iter().any(|owned| {
                paths
                    .iter()
                    .any(|path| on_path(owned, path) || on_path(path, owned))
            });
            Some((manager, time, touches))
        })
        .collect();
    by_time.sort_by(|a, b| b.1.cmp(a.1));
    let mut owners: Vec<String> = by_time
        .iter()
        .filter(|(_, _, touches)| *touches)
        .map(|(manager, _, _)| (*manager).to_owned())
        .collect();
    if owners.is_empty() && !owned_by_plumb(object, paths) {
        owners.extend(by_time.first().map(|(manager, _, _)| (*manager).to_owned()));
    }
    owners.dedup();
    owners
}

/// Whether plumb's own managedFields entry owns one of `paths` (or a field below one).
fn owned_by_plumb(object: &Value, paths: &[String]) -> bool {
    owned_by(object, &[crate::FIELD_MANAGER.to_owned()])
        .iter()
        .any(|fields| {
            let mut owned = Vec::new();
            owned_paths(object, fields, &mut String::new(), &mut owned);
            owned
                .iter()
                .any(|owned| paths.iter().any(|path| on_path(path, owned)))
        })
}

/// Whether `prefix` is `path` or one of its ancestors.
fn on_path(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The JSON pointers of the leaves a `fieldsV1` tree owns in `value`, resolving list
/// items named by key or value to their index.
fn owned_paths(
    value: &Value,
    fields: &Map<String, Value>,
    path: &mut String,
    out: &mut Vec<String>,
) {
    for (key, subtree) in fields {
        let (child, segment) = if let Some(name) = key.strip_prefix("f:") {
            (value.get(name), name.replace('~', "~0").replace('/', "~1"))
        } else if let Some(selector) = key.strip_prefix("k:") {
            let Ok(Value::Object(keys)) = serde_json::from_str(selector) else {
                continue;
            };
            let found = value.as_array().and_then(|items| {
                items
                    .iter()
                    .position(|item| keys.iter().all(|(k, v)| item.get(k) == Some(v)))
            });
            let Some(index) = found else { continue };
            (value.get(index), index.to_string())
        } else if let Some(literal) = key.strip_prefix("v:") {
            let Ok(wanted) = serde_json::from_str::<Value>(literal) else {
                continue;
            };
            let found = value
                .as_array()
                .and_then(|items| items.iter().position(|item| *item == wanted));
            let Some(index) = found else { continue };
            (value.get(index), index.to_string())
        } else if let Some(index) = key.strip_prefix("i:") {
            (
                index.parse::<usize>().ok().and_then(|i| value.get(i)),
                index.to_owned(),
            )
        } else {
            continue;
        };
        let len = path.len();
        path.push('/');
        path.push_str(&segment);
        match (child, subtree.as_object()) {
            (Some(child), Some(sub)) if sub.keys().any(|k| k != ".") => {
                owned_paths(child, sub, path, out)
            }
            _ => out.push(path.clone()),
        }
        path.truncate(len);
    }
}

/// The part of `value` that `fields` (a `fieldsV1` tree) owns, keyed by the tree's own
/// keys: what a manager set, and only that. Two objects with equal projections for plumb
/// are the same to an apply by plumb, whatever else others wrote.
///
/// It is only ever hashed, so it is serialised straight from the object, copying nothing:
/// a map of the tree's keys in the tree's (sorted) order; an owned leaf is the value
/// itself, a missing one `null`, and a set item (`v:`) whether it is present.
pub(crate) struct Projection<'a> {
    value: &'a Value,
    fields: &'a Map<String, Value>,
}

impl<'a> Projection<'a> {
    pub(crate) fn new(value: &'a Value, fields: &'a Map<String, Value>) -> Self {
        Projection { value, fields }
    }

    /// Each projected key with what it holds.
    fn entries(&self) -> impl Iterator<Item = (&'a String, Projected<'a>)> + use<'a> {
        let value = self.value;
        self.fields.iter().filter_map(move |(key, subtree)| {
            if key == "." {
                return None;
            }
            let sub = subtree
                .as_object()
                .filter(|sub| sub.keys().any(|k| k != "."));
            let child = if let Some(name) = key.strip_prefix("f:") {
                value.get(name)
            } else if let Some(selector) = key.strip_prefix("k:") {
                let Ok(Value::Object(keys)) = serde_json::from_str(selector) else {
                    return None;
                };
                value.as_array().and_then(|items| {
                    items
                        .iter()
                        .find(|item| keys.iter().all(|(k, v)| item.get(k) == Some(v)))
                })
            } else if let Some(literal) = key.strip_prefix("v:") {
                let present = serde_json::from_str::<Value>(literal).is_ok_and(|wanted| {
                    value
                        .as_array()
                        .is_some_and(|items| items.contains(&wanted))
                });
                return Some((key, Projected::Present(present)));
            } else if let Some(index) = key.strip_prefix("i:") {
                index.parse::<usize>().ok().and_then(|i| value.get(i))
            } else {
                return None;
            };
            Some((
                key,
                match (child, sub) {
                    (Some(child), Some(sub)) => Projected::Tree(Projection::new(child, sub)),
                    (Some(child), None) => Projected::Leaf(child),
                    (None, _) => Projected::Missing,
                },
            ))
        })
    }
}

/// What one key of a [`Projection`] holds.
enum Projected<'a> {
    Tree(Projection<'a>),
    Leaf(&'a Value),
    Missing,
    Present(bool),
}

impl serde::Serialize for Projection<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries())
    }
}

impl serde::Serialize for Projected<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Projected::Tree(projection) => projection.serialize(serializer),
            Projected::Leaf(value) => value.serialize(serializer),
            Projected::Missing => serializer.serialize_unit(),
            Projected::Present(present) => serializer.serialize_bool(*present),
        }
    }
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

    fn project(value: &Value, fields: &Map<String, Value>) -> Value {
        serde_json::to_value(Projection::new(value, fields)).unwrap()
    }

    #[test]
    fn fields_of_the_named_managers_are_found() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "plumb", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "hpa", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]}});
        let owned = owned_by(&live, &["hpa".into()]);
        assert_eq!(
            owned,
            [json!({"f:spec": {"f:replicas": {}}}).as_object().unwrap()]
        );
    }

    #[test]
    fn a_changed_field_is_attributed_to_the_manager_that_owns_it() {
        let live = json!({
            "metadata": {"managedFields": [
                {"manager": "plumb", "time": "2026-11-23T10:00:00Z", "fieldsV1": {"f:spec": {"f:template": {}}}},
                {"manager": "kubectl", "time": "2026-11-23T10:05:00Z", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "hpa", "time": "2026-11-23T10:01:00Z", "fieldsV1": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}}},
            ]},
            "spec": {"replicas": 5, "containers": [{"name": "sidecar"}, {"name": "web", "image": "x"}]},
        });
        assert_eq!(changed_by(&live, &["/spec/replicas".into()]), ["kubectl"]);
        assert_eq!(
            changed_by(&live, &["/spec/containers/1/image".into()]),
            ["hpa"]
        );
        // Nobody owns a removed field: the last writer other than plumb is named.
        assert_eq!(changed_by(&live, &["/spec/paused".into()]), ["kubectl"]);
    }

    #[test]
    fn a_projection_holds_what_the_manager_owns_and_nothing_else() {
        let fields = json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}},
        });
        let fields = fields.as_object().unwrap();
        let live = json!({
            "metadata": {"labels": {"app": "web", "other": "x"}, "annotations": {"rev": "1"}},
            "spec": {"replicas": 2, "paused": false,
                     "containers": [{"name": "sidecar", "image": "s"}, {"name": "web", "image": "nginx", "imagePullPolicy": "Always"}]},
            "status": {"replicas": 2},
        });
        let projected = project(&live, fields);
        assert_eq!(
            projected,
            json!({
                "f:metadata": {"f:labels": {"f:app": "web"}},
                "f:spec": {"f:replicas": 2, "f:containers": {"k:{\"name\":\"web\"}": {"f:image": "nginx"}}},
            })
        );
        // What others wrote beside it changes nothing; a value plumb set does.
        let mut churned = live.clone();
        churned["metadata"]["annotations"]["rev"] = json!("2");
        churned["status"]["replicas"] = json!(3);
        churned["spec"]["containers"][0]["image"] = json!("s2");
        assert_eq!(project(&churned, fields), projected);
        let mut drifted = live.clone();
        drifted["spec"]["containers"][1]["image"] = json!("nginx:evil");
        assert_ne!(project(&drifted, fields), projected);
        let mut removed = live;
        removed["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("app");
        assert_ne!(project(&removed, fields), projected);
    }

    #[test]
    fn a_field_plumb_still_owns_was_changed_by_an_unrecorded_write() {
        // `kubectl scale` on 1.20 goes through /scale, which records no manager: plumb
        // still owns replicas, and kube-controller-manager (status) wrote last.
        let live = json!({
            "metadata": {"managedFields": [
                {"manager": "plumb", "time": "2026-11-23T10:00:00Z", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kube-controller-manager", "time": "2026-11-23T10:05:00Z", "fieldsV1": {"f:status": {"f:replicas": {}}}},
            ]},
            "spec": {"replicas": 7},
            "status": {"replicas": 7},
        });
        assert!(changed_by(&live, &["/spec/replicas".into()]).is_empty());
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
