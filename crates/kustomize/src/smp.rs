//! Strategic merge patches as Kustomize (kyaml's `merge2`) applies them.
//!
//! Maps merge field by field; `null` deletes a field; `$patch: delete` removes a map or
//! list element and `$patch: replace` replaces a map or list wholesale. Lists that the
//! Kubernetes schema marks `patchStrategy: merge` merge element by element on their merge
//! keys — in the patch's order, then the remaining existing elements, as Kustomize's
//! "prepend" merge option orders them; lists of scalars with that strategy become the
//! union of both, patch first. Every other list — including all lists of
//! custom resources, whose schema Kustomize does not know unless a kustomization names one
//! (`openapi`, see `openapi.rs`) — is replaced by the patch's.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

use super::BuildError;
use super::schema::Schema;
use super::smp_keys;

const DIRECTIVE: &str = "$patch";

/// Merges `patch` into `dest`. `None` means the patch deleted the whole object.
pub(crate) fn merge(
    dest: Value,
    patch: Value,
    schema: Schema<'_>,
) -> Result<Option<Value>, BuildError> {
    walk(Some(dest), Some(patch), schema, None)
}

/// `node` is the schema of this value (of the elements, for a list); `list_keys` is
/// `Some` when this value is a list merged by key.
fn walk(
    dest: Option<Value>,
    patch: Option<Value>,
    node: Schema<'_>,
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
    node: Schema<'_>,
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
            node.merge_keys(&key).as_deref(),
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
    node: Schema<'_>,
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
        return Ok(Some(Value::Array(union(patch_items, dest_items))));
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
/// than one key is in use, the destination's elements move to the end, in the
/// destination's order (each merged with its patch element).
///
/// Elements are found by their key values through maps, not by scanning: a patch is
/// repository content, and a list of tens of thousands of elements must not take
/// quadratic time.
fn merge_by_keys(
    dest: Vec<Value>,
    patch: Vec<Value>,
    node: Schema<'_>,
    keys: &[&str],
) -> Result<Vec<Value>, BuildError> {
    let dest_keys: Vec<Vec<String>> = dest.iter().map(|item| key_values(item, keys)).collect();
    let patch_keys: Vec<Vec<String>> = patch.iter().map(|item| key_values(item, keys)).collect();
    let directives = patch
        .iter()
        .chain(&dest)
        .any(|item| item.get(DIRECTIVE).is_some());
    if !directives {
        let all: Vec<Vec<String>> = patch_keys.iter().chain(&dest_keys).cloned().collect();
        if smp_keys::applies(&all) {
            let walk = |d: Option<Value>, p: Option<Value>, n: Schema<'_>| walk(d, p, n, None);
            return smp_keys::merge(dest, patch, node, keys, &walk, &key_values);
        }
    }
    let (dest_at, patch_at) = (first_of(&dest_keys), first_of(&patch_keys));
    let mut seen: HashSet<&[String]> = HashSet::new();
    let tuples: Vec<&[String]> = patch_keys
        .iter()
        .chain(&dest_keys)
        .map(Vec::as_slice)
        .filter(|values| !values.iter().all(String::is_empty) && seen.insert(values))
        .collect();
    let keys_in_use = (0..keys.len())
        .filter(|&i| tuples.iter().any(|t| !t[i].is_empty()))
        .count();
    let mut merged_items: Vec<(Value, Option<usize>)> = Vec::new();
    for values in &tuples {
        let dest_at = dest_at.get(values).copied();
        let patch_item = patch_at.get(values).map(|&at| patch[at].clone());
        let dest_item = dest_at.map(|at| dest[at].clone());
        match walk(dest_item, patch_item, node, None)? {
            None => {}
            Some(Value::Object(map)) if map.is_empty() => {}
            Some(mut value) => {
                if let Value::Object(map) = &mut value {
                    for (key, key_value) in keys.iter().zip(values.iter()) {
                        if !map.contains_key(*key) && !key_value.is_empty() {
                            map.insert((*key).to_owned(), Value::String(key_value.clone()));
                        }
                    }
                }
                merged_items.push((value, dest_at));
            }
        }
    }
    // Elements without any key value are kept from the destination, at the end.
    let unkeyed = dest
        .iter()
        .zip(&dest_keys)
        .filter(|(_, values)| values.iter().all(String::is_empty))
        .map(|(item, _)| item.clone());
    let mut result: Vec<Value> = Vec::new();
    if keys_in_use > 1 {
        let (mut in_dest, new): (Vec<_>, Vec<_>) =
            merged_items.into_iter().partition(|(_, at)| at.is_some());
        in_dest.sort_by_key(|(_, at)| *at);
        result.extend(new.into_iter().map(|(v, _)| v));
        result.extend(in_dest.into_iter().map(|(v, _)| v));
    } else {
        result.extend(merged_items.into_iter().map(|(v, _)| v));
    }
    result.extend(unkeyed);
    Ok(result)
}

/// The index of the first element with each key values, as a scan from the start finds it.
fn first_of(all: &[Vec<String>]) -> HashMap<&[String], usize> {
    let mut first: HashMap<&[String], usize> = HashMap::new();
    for (at, values) in all.iter().enumerate() {
        first.entry(values.as_slice()).or_insert(at);
    }
    first
}

/// A list of scalars merged as a set: the patch's elements, then the destination's, each
/// value once (the first kept). Values are bucketed by a hash, so that long lists take
/// linear time; equality within a bucket is `Value`'s own.
fn union(patch: Vec<Value>, dest: Vec<Value>) -> Vec<Value> {
    let mut merged: Vec<Value> = Vec::new();
    let mut buckets: HashMap<u64, Vec<usize>> = HashMap::new();
    for item in patch.into_iter().chain(dest) {
        let bucket = buckets.entry(value_hash(&item)).or_default();
        if bucket.iter().any(|&at| merged[at] == item) {
            continue;
        }
        bucket.push(merged.len());
        merged.push(item);
    }
    merged
}

/// A hash under which equal values are equal: numbers hash by their value as a float (so
/// `0.0` and `-0.0`, which compare equal, share one), maps and lists by their contents.
fn value_hash(value: &Value) -> u64 {
    fn feed(value: &Value, hasher: &mut DefaultHasher) {
        match value {
            Value::Null => 0u8.hash(hasher),
            Value::Bool(b) => (1u8, b).hash(hasher),
            Value::Number(n) => {
                let float = n.as_f64().unwrap_or_default();
                (2u8, if float == 0.0 { 0 } else { float.to_bits() }).hash(hasher);
            }
            Value::String(s) => (3u8, s).hash(hasher),
            Value::Array(items) => {
                (4u8, items.len()).hash(hasher);
                items.iter().for_each(|item| feed(item, hasher));
            }
            Value::Object(map) => {
                // Independent of the entries' order, as map equality is.
                let entries = map.iter().fold(0u64, |sum, (key, item)| {
                    let mut entry = DefaultHasher::new();
                    key.hash(&mut entry);
                    feed(item, &mut entry);
                    sum.wrapping_add(entry.finish())
                });
                (5u8, map.len(), entries).hash(hasher);
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    feed(value, &mut hasher);
    hasher.finish()
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

    /// Merge lists were merged by scanning, in quadratic time: a patch of 80,000 containers,
    /// well within the file and node limits, held a render for minutes (found reviewing
    /// what the strategic_merge fuzz target reaches; its inputs are too short to show it).
    #[test]
    fn long_merge_lists_merge_in_linear_time() {
        let n = 50_000;
        let containers: Vec<Value> = (0..n)
            .map(|i| json!({"name": format!("c{i}"), "image": "x"}))
            .collect();
        let finalizers: Vec<Value> = (0..n).map(|i| json!(format!("f{i}"))).collect();
        let started = std::time::Instant::now();
        let out = apply(json!({"metadata": {"finalizers": finalizers},
            "spec": {"template": {"spec": {"containers": containers}}}}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            n + 2
        );
        assert_eq!(out["metadata"]["finalizers"].as_array().unwrap().len(), n);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    }

    #[test]
    fn scalar_merge_lists_keep_each_value_once_in_order() {
        let merged = union(
            vec![json!("b"), json!(1), json!("a"), json!(1.0), json!(0.0)],
            vec![
                json!("a"),
                json!("c"),
                json!(-0.0),
                json!({"x": [1]}),
                json!({"x": [1]}),
            ],
        );
        assert_eq!(
            merged,
            vec![
                json!("b"),
                json!(1),
                json!("a"),
                json!(1.0),
                json!(0.0),
                json!("c"),
                json!({"x": [1]})
            ]
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
