//! JSON patches (RFC 6902) as Kustomize applies them: `add`, `remove`, `replace`, `move`,
//! `copy` and `test`, with JSON pointers (and `-` to append); a path that does not exist
//! is an error, except where `add` creates the last step.
//!
//! Bounded as the API server bounds them: at most [`Limits::max_patch_operations`]
//! operations, and at most [`Limits::max_copy_bytes`] copied by one patch into one
//! object, counted before each copy is made — a `copy` of `/data` into `/data/x` doubles
//! it, and a few dozen such operations would otherwise exhaust any memory.

use serde_json::Value;

use super::BuildError;
use plumb_manifest::Limits;
use plumb_manifest::size::json_bytes;

/// Applies the operations in `ops` (a list of `{op, path, value, from}`) to `target`.
pub(crate) fn apply(target: &mut Value, ops: &Value, limits: &Limits) -> Result<(), BuildError> {
    let Value::Array(ops) = ops else {
        return Err(BuildError::new(
            "a JSON patch must be a list of operations".into(),
        ));
    };
    if ops.len() > limits.max_patch_operations {
        return Err(BuildError::limit(
            "max_patch_operations",
            limits.max_patch_operations as u64,
            format!("the JSON patch has {} operations", ops.len()),
        ));
    }
    let mut copied = 0u64;
    for (number, op) in ops.iter().enumerate() {
        let text = |field: &str| op.get(field).and_then(Value::as_str).map(str::to_owned);
        let name = text("op")
            .ok_or_else(|| BuildError::new(format!("JSON patch operation without op: {op}")))?;
        let path = text("path")
            .ok_or_else(|| BuildError::new(format!("JSON patch operation without path: {op}")))?;
        let value = || {
            op.get("value").cloned().ok_or_else(|| {
                BuildError::new(format!("JSON patch {name} at {path} needs a value"))
            })
        };
        match name.as_str() {
            "add" => add(target, &path, value()?)?,
            "remove" => {
                remove(target, &path)?;
            }
            "replace" => replace(target, &path, value()?)?,
            "move" => {
                let from = text("from").ok_or_else(|| BuildError::new("move needs from".into()))?;
                let moved = remove(target, &from)?;
                add(target, &path, moved)?;
            }
            "copy" => {
                let from = text("from").ok_or_else(|| BuildError::new("copy needs from".into()))?;
                let source = get(target, &from)?;
                copied += json_bytes(source);
                if copied > limits.max_copy_bytes {
                    return Err(BuildError::limit(
                        "max_copy_bytes",
                        limits.max_copy_bytes,
                        format!(
                            "operation {number} (copy from {from} to {path}) brings the bytes \
                             this JSON patch copied to {copied}"
                        ),
                    ));
                }
                let source = source.clone();
                add(target, &path, source)?;
            }
            "test" => {
                if *get(target, &path)? != value()? {
                    return Err(BuildError::new(format!("testing value {path} failed")));
                }
            }
            other => {
                return Err(BuildError::new(format!(
                    "unexpected JSON patch op {other:?}"
                )));
            }
        }
    }
    Ok(())
}

fn tokens(path: &str) -> Result<Vec<String>, BuildError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| BuildError::new(format!("JSON pointer {path:?} must start with /")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn missing(path: &str) -> BuildError {
    BuildError::new(format!("JSON patch: doc is missing path: {path}"))
}

fn get<'a>(target: &'a Value, path: &str) -> Result<&'a Value, BuildError> {
    let mut node = target;
    for token in tokens(path)? {
        node = match node {
            Value::Object(map) => map.get(&token),
            Value::Array(items) => index(&token, items.len(), false).and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok(node)
}

fn parent<'a>(target: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), BuildError> {
    let mut tokens = tokens(path)?;
    let last = tokens
        .pop()
        .ok_or_else(|| BuildError::new("JSON patch on the whole document".into()))?;
    let mut node = target;
    for token in tokens {
        node = match node {
            Value::Object(map) => map.get_mut(&token),
            Value::Array(items) => {
                let len = items.len();
                index(&token, len, false).and_then(move |i| items.get_mut(i))
            }
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok((node, last))
}

/// An array index; negative indices count from the end, as the library Kustomize uses allows.
fn index(token: &str, len: usize, for_insert: bool) -> Option<usize> {
    if token == "-" {
        return for_insert.then_some(len);
    }
    let n: i64 = token.parse().ok()?;
    let i = if n < 0 { len as i64 + n } else { n };
    let limit = if for_insert {
        len as i64
    } else {
        len as i64 - 1
    };
    (0..=limit).contains(&i).then_some(i as usize)
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), BuildError> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (node, last) = parent(target, path)?;
    match node {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let at = index(&last, items.len(), true).ok_or_else(|| missing(path))?;
            items.insert(at, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

/// Kustomize's JSON patch library replaces a key its map lacks by setting it (kubeflow
/// replaces an issuer's `jwksUri` that may not be there); a missing map or list element
/// is an error, as in RFC 6902.
fn replace(target: &mut Value, path: &str, value: Value) -> Result<(), BuildError> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (node, last) = parent(target, path)?;
    match node {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let at = index(&last, items.len(), false).ok_or_else(|| missing(path))?;
            items[at] = value;
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, BuildError> {
    let (node, last) = parent(target, path)?;
    match node {
        Value::Object(map) => map.remove(&last).ok_or_else(|| missing(path)),
        Value::Array(items) => {
            let at = index(&last, items.len(), false).ok_or_else(|| missing(path))?;
            Ok(items.remove(at))
        }
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replace_sets_a_key_its_map_lacks_but_not_a_missing_map_or_element() {
        let mut doc = json!({"data": {"a": "1"}, "list": [1]});
        let ops = json!([{"op": "replace", "path": "/data/b", "value": "2"}]);
        apply(&mut doc, &ops, &Limits::default()).unwrap();
        assert_eq!(doc["data"], json!({"a": "1", "b": "2"}));
        for path in ["/spec/x", "/list/1"] {
            let ops = json!([{"op": "replace", "path": path, "value": 0}]);
            let err = apply(&mut doc, &ops, &Limits::default()).unwrap_err();
            assert!(
                err.detail.contains("missing path"),
                "{path}: {}",
                err.detail
            );
        }
    }

    #[test]
    fn operations_apply_in_order() {
        let mut doc = json!({"a": {"b": [1, 2]}, "c": 1});
        apply(
            &mut doc,
            &json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "replace", "path": "/c", "value": 2},
                {"op": "copy", "from": "/c", "path": "/d"},
                {"op": "remove", "path": "/a/b/0"},
                {"op": "add", "path": "/a/x~1y", "value": true},
            ]),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"a": {"b": [2, 3], "x/y": true}, "c": 2, "d": 2})
        );
    }

    #[test]
    fn replacing_under_a_missing_parent_fails() {
        let mut doc = json!({});
        assert!(
            apply(
                &mut doc,
                &json!([{"op": "replace", "path": "/x/y", "value": 1}]),
                &Limits::default()
            )
            .is_err()
        );
    }

    #[test]
    fn copies_are_counted_before_they_are_made() {
        let limits = Limits {
            max_copy_bytes: 1000,
            ..Limits::default()
        };
        let mut doc = json!({"data": {"k": "0123456789"}});
        let doubling: Vec<Value> = (0..40)
            .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/a{i}")}))
            .collect();
        let err = apply(&mut doc, &Value::Array(doubling), &limits).unwrap_err();
        assert_eq!(err.limit, Some(("max_copy_bytes", 1000)));
        assert!(
            err.detail.contains("operation 5 (copy from /data"),
            "{}",
            err.detail
        );
        assert!(json_bytes(&doc) < 1000);
    }

    #[test]
    fn too_many_operations_are_refused_before_any_applies() {
        let limits = Limits {
            max_patch_operations: 2,
            ..Limits::default()
        };
        let mut doc = json!({});
        let ops = json!([
            {"op": "add", "path": "/a", "value": 1},
            {"op": "add", "path": "/b", "value": 1},
            {"op": "add", "path": "/c", "value": 1},
        ]);
        let err = apply(&mut doc, &ops, &limits).unwrap_err();
        assert_eq!(err.limit, Some(("max_patch_operations", 2)));
        assert_eq!(doc, json!({}));
    }
}
