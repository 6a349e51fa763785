//! Strategic merge patches as Kustomize (kyaml's `merge2`) applies them.
//!
//! Maps merge field by field; `null` deletes a field; `$patch: delete` removes a map or
//! list element and `$patch: replace` replaces a map or list wholesale. Lists that the
//! Kubernetes schema marks `patchStrategy: merge` merge element by element on their merge
//! keys — in the patch's order, then the remaining existing elements, as Kustomize's
//! "prepend" merge option orders them; lists of scalars with that strategy become the
//! union of both, patch first. Every other list — including all lists of
//! custom resources, whose schema Kustomize does not know — is replaced by the patch's.

use serde_json::{Map, Value};

use super::BuildError;
use super::schema::Schema;

const DIRECTIVE: &str = "$patch";

/// Merges `patch` into `dest`. `None` means the patch deleted the whole object.
pub(crate) fn merge(
    dest: Value,
    patch: Value,
    schema: Schema,
) -> Result<Option<Value>, BuildError> {
    walk(Some(dest), Some(patch), schema, None)
}

/// `node` is the schema of this value (of the elements, for a list); `list_keys` is
/// `Some` when this value is a list merged by key.
fn walk(
    dest: Option<Value>,
    patch: Option<Value>,
    node: Schema,
    list_keys: Option<&[&str]>,
) -> Result<Option<Value>, BuildError> {
    let dest = dest.filter(|d| !d.is_null());
    let shape = dest.as_ref().or(patch.as_ref().filter(|p| !p.is_null()));
    match shape {
        None => walk_map(dest, patch, node),
        Some(Value::Object(_)) => {
            check_kind(dest.as_ref(), patch.as_ref(), Value::is_object, "map")?;
            walk_map(dest, patch, node)
        }
        Some(Value::Array(_)) => {
            check_kind(dest.as_ref(), patch.as_ref(), Value::is_array, "list")?;
            match list_keys {
                Some(keys) => walk_associative(dest, patch, node, keys),
                None => Ok(patch.or(dest)),
            }
        }
        Some(_) => {
            check_kind(
                dest.as_ref(),
                patch.as_ref(),
                |v| !v.is_object() && !v.is_array(),
                "scalar",
            )?;
            Ok(patch.or(dest))
        }
    }
}

fn check_kind(
    dest: Option<&Value>,
    patch: Option<&Value>,
    ok: impl Fn(&Value) -> bool,
    expected: &str,
) -> Result<(), BuildError> {
    for value in [dest, patch].into_iter().flatten() {
        if !value.is_null() && !ok(value) {
            return Err(BuildError::new(format!(
                "strategic merge patch: wrong node kind: expected {expected}, got {}",
                describe(value)
            )));
        }
    }
    Ok(())
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "map",
        Value::Array(_) => "list",
        _ => "scalar",
    }
}

enum Directive {
    Merge,
    Replace,
    Delete,
}

/// Reads and removes a map's `$patch`.
fn map_directive(patch: &mut Map<String, Value>) -> Result<Directive, BuildError> {
    let Some(value) = patch.remove(DIRECTIVE) else {
        return Ok(Directive::Merge);
    };
    directive(&value)
}

fn directive(value: &Value) -> Result<Directive, BuildError> {
    match value.as_str() {
        Some("merge") => Ok(Directive::Merge),
        Some("replace") => Ok(Directive::Replace),
        Some("delete") => Ok(Directive::Delete),
        _ => Err(BuildError::new(format!(
            "unknown patch strategy '{}'",
            scalar_text(value)
        ))),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk_map(
    dest: Option<Value>,
    patch: Option<Value>,
    node: Schema,
) -> Result<Option<Value>, BuildError> {
    let mut patch = match patch {
        // An explicit null in the patch deletes.
        Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => Some(map),
        Some(_) => None,
        None => None,
    };
    let directive = match patch.as_mut() {
        Some(map) => map_directive(map)?,
        None => Directive::Merge,
    };
    let mut base = match (dest, directive) {
        (_, Directive::Delete) => return Ok(None),
        (None, _) | (_, Directive::Replace) => match patch.clone() {
            Some(map) => map,
            None => return Ok(None),
        },
        (Some(Value::Object(map)), Directive::Merge) => map,
        (Some(_), Directive::Merge) => Map::new(),
    };
    let Some(patch) = patch else {
        return Ok(Some(Value::Object(base)));
    };
    for (key, patch_value) in patch {
        let dest_value = base.remove(&key);
        let merged = walk(
            dest_value,
            Some(patch_value),
            node.child(&key),
            node.merge_keys(&key),
        )?;
        if let Some(value) = merged.filter(|v| !v.is_null()) {
            base.insert(key, value);
        }
    }
    Ok(Some(Value::Object(base)))
}

/// A list merged by key: `keys` empty means a list of scalars merged as a set.
fn walk_associative(
    dest: Option<Value>,
    patch: Option<Value>,
    node: Schema,
    keys: &[&str],
) -> Result<Option<Value>, BuildError> {
    let mut patch_items = match patch {
        Some(Value::Array(items)) => Some(items),
        Some(Value::Null) => return Ok(None),
        _ => None,
    };
    let mut directive = Directive::Merge;
    if let Some(items) = patch_items.as_mut()
        && let Some(at) = items.iter().position(|item| {
            item.as_object()
                .is_some_and(|m| m.contains_key(DIRECTIVE) && m.len() <= 1)
        })
    {
        directive = directive_of(&items[at])?;
        items.remove(at);
    }
    let dest_items = match (dest, &directive) {
        (_, Directive::Delete) => return Ok(None),
        (_, Directive::Replace) => return Ok(patch_items.map(Value::Array)),
        (None, _) => match patch_items.clone() {
            Some(items) => items,
            None => return Ok(None),
        },
        (Some(Value::Array(items)), _) => items,
        (Some(_), _) => Vec::new(),
    };
    let Some(patch_items) = patch_items else {
        return Ok(Some(Value::Array(dest_items)));
    };
    if keys.is_empty() {
        let mut merged: Vec<Value> = Vec::new();
        for item in patch_items.into_iter().chain(dest_items) {
            if !merged.contains(&item) {
                merged.push(item);
            }
        }
        return Ok(Some(Value::Array(merged)));
    }
    merge_by_keys(dest_items, patch_items, node, keys).map(|items| Some(Value::Array(items)))
}

fn directive_of(item: &Value) -> Result<Directive, BuildError> {
    directive(item.get(DIRECTIVE).unwrap_or(&Value::Null))
}

/// The merge-key values of a list element (empty strings where absent).
fn key_values(item: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|key| match item.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// Merges two lists of maps on `keys` as kyaml does with Kustomize's options: the
/// elements come in the patch's order, then the destination's remaining ones; when more
/// than one key is in use, the destination's elements move to the end.
fn merge_by_keys(
    dest: Vec<Value>,
    patch: Vec<Value>,
    node: Schema,
    keys: &[&str],
) -> Result<Vec<Value>, BuildError> {
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for item in patch.iter().chain(dest.iter()) {
        let values = key_values(item, keys);
        if values.iter().all(String::is_empty) {
            continue;
        }
        if !tuples.contains(&values) {
            tuples.push(values);
        }
    }
    let keys_in_use = (0..keys.len())
        .filter(|&i| tuples.iter().any(|t| !t[i].is_empty()))
        .count();
    let find = |items: &[Value], values: &[String]| {
        items
            .iter()
            .position(|item| key_values(item, keys).as_slice() == values)
    };
    let mut merged_items: Vec<(Value, bool)> = Vec::new();
    for values in &tuples {
        let dest_at = find(&dest, values);
        let patch_item = find(&patch, values).map(|at| patch[at].clone());
        let dest_item = dest_at.map(|at| dest[at].clone());
        match walk(dest_item, patch_item, node, None)? {
            None => {}
            Some(Value::Object(map)) if map.is_empty() => {}
            Some(mut value) => {
                if let Value::Object(map) = &mut value {
                    for (key, key_value) in keys.iter().zip(values) {
                        if !map.contains_key(*key) && !key_value.is_empty() {
                            map.insert((*key).to_owned(), Value::String(key_value.clone()));
                        }
                    }
                }
                merged_items.push((value, dest_at.is_some()));
            }
        }
    }
    // Elements without any key value are kept from the destination, at the end.
    let unkeyed = dest
        .iter()
        .filter(|item| key_values(item, keys).iter().all(String::is_empty))
        .cloned();
    let mut result: Vec<Value> = Vec::new();
    if keys_in_use > 1 {
        result.extend(
            merged_items
                .iter()
                .filter(|(_, in_dest)| !in_dest)
                .map(|(v, _)| v.clone()),
        );
        result.extend(
            merged_items
                .into_iter()
                .filter(|(_, in_dest)| *in_dest)
                .map(|(v, _)| v),
        );
    } else {
        result.extend(merged_items.into_iter().map(|(v, _)| v));
    }
    result.extend(unkeyed);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "a", "image": "a:1", "args": ["x"]},
                   {"name": "b", "image": "b:1"}]}}}})
    }

    fn apply(patch: Value) -> Value {
        merge(deployment(), patch, Schema::of("apps/v1", "Deployment"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn containers_merge_by_name_in_the_patch_s_order() {
        let out = apply(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2"}]}}}}));
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["name"], "c");
        assert_eq!(
            containers[1],
            json!({"name": "a", "image": "a:2", "args": ["x"]})
        );
        assert_eq!(containers[2]["name"], "b");
    }

    #[test]
    fn directives_delete_elements_and_replace_lists() {
        let out = apply(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "$patch": "delete"}]}}}}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let out = apply(json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "z", "image": "z"}]}}}}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "z", "image": "z"}])
        );
    }

    #[test]
    fn null_deletes_and_plain_lists_are_replaced() {
        let out = apply(
            json!({"metadata": {"name": null}, "spec": {"template": {"spec": {"containers": [
            {"name": "a", "args": ["y"]}]}}}}),
        );
        assert!(out["metadata"].get("name").is_none());
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["y"])
        );
    }

    #[test]
    fn a_top_level_delete_removes_the_object() {
        let result = merge(
            deployment(),
            json!({"$patch": "delete"}),
            Schema::of("apps/v1", "Deployment"),
        );
        assert!(result.unwrap().is_none());
    }
}
