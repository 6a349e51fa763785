//! Lists merged on several keys (`ports` on `containerPort` and `protocol`) when some
//! elements lack a key — kyaml's associative-list merge, step by step, because its
//! result is not what one would guess: key tuples that agree where both are set are
//! unified (`8083` and `8083/TCP` become one), an element found by the unified tuple in
//! one list only is taken from that list alone, and the destination's elements are then
//! put back in their order, replacing what matched them on the keys they have. So a patch
//! entry `{port: 8083, targetPort: 8080}` leaves a Service port `{port: 8083, protocol:
//! TCP}` as it was, exactly as `kubectl kustomize` does.
//!
//! This path is quadratic, as kyaml's is; it is taken only for lists of at most
//! [`MAX_ELEMENTS`] elements without `$patch` directives (`smp` merges the others).

use serde_json::Value;

use super::BuildError;
use super::schema::Schema;

/// The longest lists (destination and patch together) merged this way.
pub(crate) const MAX_ELEMENTS: usize = 512;

/// Whether kyaml's multi-key merge applies and differs from a plain merge by key: more
/// than one key is set somewhere, and some element lacks one of them.
pub(crate) fn applies(tuples: &[Vec<String>]) -> bool {
    let width = tuples.first().map_or(0, Vec::len);
    let set = (0..width)
        .filter(|&i| tuples.iter().any(|t| !t[i].is_empty()))
        .count();
    set > 1
        && tuples.len() <= MAX_ELEMENTS
        && tuples
            .iter()
            .any(|t| t.iter().any(String::is_empty) && t.iter().any(|v| !v.is_empty()))
}

/// `walk` merges one destination element (or none) with one patch element (or none).
pub(crate) type Walk<'a, 's> =
    &'a dyn Fn(Option<Value>, Option<Value>, Schema<'s>) -> Result<Option<Value>, BuildError>;

/// kyaml's `setAssociativeSequenceElements` and `appendListNode` with Kustomize's
/// "prepend" option.
pub(crate) fn merge<'s>(
    mut dest: Vec<Value>,
    patch: Vec<Value>,
    node: Schema<'s>,
    keys: &[&str],
    walk: Walk<'_, 's>,
    key_values: &dyn Fn(&Value, &[&str]) -> Vec<String>,
) -> Result<Vec<Value>, BuildError> {
    let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    // The patch's tuples first, then the destination's, each once.
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for item in patch.iter().chain(dest.iter()) {
        let values = key_values(item, &key_refs);
        if !tuples.contains(&values) {
            tuples.push(values);
        }
    }
    unify(&mut tuples);
    let mut items: Vec<Value> = Vec::new();
    let mut valid_keys = keys.clone();
    for values in &tuples {
        let (k, v) = validate(&tuples, values, &keys);
        valid_keys = k;
        let (find_keys, find_values) = validate(std::slice::from_ref(&v), &v, &valid_keys);
        let at = find(&dest, &find_keys, &find_values);
        let patch_item = find(&patch, &find_keys, &find_values).map(|i| patch[i].clone());
        let merged = walk(at.map(|i| dest[i].clone()), patch_item, node)?;
        let merged = match merged {
            Some(Value::Object(map)) if !map.is_empty() => Value::Object(map),
            _ => {
                set(&mut items, None, &valid_keys, &v);
                continue;
            }
        };
        // kyaml merges into the destination's element itself.
        if let Some(i) = at {
            dest[i] = merged.clone();
        }
        set(&mut items, Some(merged), &valid_keys, &v);
    }
    for element in dest {
        let mut values = Vec::new();
        for key in &valid_keys {
            match element.get(key.as_str()) {
                Some(value) if !value.is_null() => values.push(scalar(value)),
                _ => items.push(element.clone()),
            }
        }
        if valid_keys.len() > 1 {
            set(&mut items, None, &valid_keys, &values);
        }
        set(&mut items, Some(element), &valid_keys, &values);
    }
    Ok(items)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// kyaml's `mergeValues`: tuples that share a value and do not conflict become one.
fn unify(tuples: &mut [Vec<String>]) {
    for i in 0..tuples.len() {
        for j in 0..tuples.len() {
            if let Some(merged) = unified(&tuples[i], &tuples[j]) {
                tuples[i] = merged.clone();
                tuples[j] = merged;
            }
        }
    }
}

fn unified(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if x.is_empty() {
            out.push(y.clone());
        } else {
            out.push(x.clone());
        }
    }
    common.then_some(out)
}

/// kyaml's `validateKeys`: the keys some tuple sets, and `values` for them.
fn validate(
    tuples: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let used: Vec<bool> = (0..keys.len())
        .map(|i| {
            tuples
                .iter()
                .any(|t| t.get(i).is_some_and(|v| !v.is_empty()))
        })
        .collect();
    if !used.iter().any(|u| *u) {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys = keys
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(k, _)| k.clone())
        .collect();
    let valid_values = values
        .iter()
        .zip(&used)
        .filter(|(v, u)| !v.is_empty() || **u)
        .map(|(v, _)| v.clone())
        .collect();
    (valid_keys, valid_values)
}

/// Whether `element` has `key`, with the text `value` unless that is empty (kyaml's
/// `FieldMatcher`).
fn has(element: &Value, key: &str, value: &str) -> bool {
    match element.get(key) {
        None | Some(Value::Null) => false,
        Some(found) => value.is_empty() || scalar(found) == value,
    }
}

/// kyaml's `ElementMatcher`: the first map matching every key.
fn find(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    list.iter().position(|element| {
        element.is_object() && keys.iter().zip(values).all(|(k, v)| has(element, k, v))
    })
}

/// kyaml's `ElementSetter`: elements matching the first `values.len()` keys are replaced
/// by `element` (or removed without one); empty maps go; without a match, `element` is
/// appended.
fn set(items: &mut Vec<Value>, element: Option<Value>, keys: &[String], values: &[String]) {
    let mut found = false;
    let mut kept = Vec::with_capacity(items.len() + 1);
    for item in items.drain(..) {
        if item.is_null() || item.as_object().is_some_and(|m| m.is_empty()) {
            continue;
        }
        if !item.is_object() {
            kept.push(item);
            continue;
        }
        let checked = keys.len().min(values.len());
        let matches = checked > 0
            && keys[..checked]
                .iter()
                .zip(values)
                .all(|(k, v)| has(&item, k, v));
        if !matches {
            if !values.is_empty() {
                kept.push(item);
            }
            continue;
        }
        found = true;
        if let Some(element) = &element {
            kept.push(element.clone());
        }
    }
    if let Some(element) = element
        && !found
    {
        kept.push(element);
    }
    *items = kept;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tuples_that_agree_where_set_are_unified() {
        let mut tuples = vec![
            vec!["8083".to_owned(), String::new()],
            vec!["9404".to_owned(), "TCP".to_owned()],
            vec!["8083".to_owned(), "TCP".to_owned()],
        ];
        unify(&mut tuples);
        assert_eq!(tuples[0], ["8083", "TCP"]);
        assert!(applies(&[
            vec!["1".into(), String::new()],
            vec!["2".into(), "TCP".into()]
        ]));
        assert!(!applies(&[vec!["1".into(), String::new()]]));
        let _ = json!(null);
    }
}
