//! Sprig's dictionary functions. `set`, `unset`, `merge` change the map they are given —
//! Go maps are references — and charts rely on it (`$_ := set $ctx "k" v`).

use std::collections::BTreeMap;

use super::Param::{Any, Map, Str};
use super::convert::{empty, to_string};
use super::{Table, s};
use crate::template::State;
use crate::value::{self, Value};

pub(super) fn register(t: &mut Table) {
    t.variadic("dict", &[], Any, |_, a| {
        let mut map = BTreeMap::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            map.insert(to_string(&pair[0]), value);
        }
        Ok(Value::map(map))
    });
    t.add("get", &[Map, Str], |_, a| {
        Ok(with_map(&a[0], |m| m.get(s(&a[1])).cloned()).unwrap_or_else(|| Value::str("")))
    });
    t.add("set", &[Map, Str, Any], |_, a| {
        let map = writable(&a[0])?;
        value::changing(&map);
        map.borrow_mut().insert(s(&a[1]).to_string(), a[2].clone());
        Ok(a[0].clone())
    });
    t.add("unset", &[Map, Str], |_, a| {
        if let Value::Map(map) = &a[0] {
            map.borrow_mut().remove(s(&a[1]));
        }
        Ok(a[0].clone())
    });
    t.add("hasKey", &[Map, Str], |_, a| {
        Ok(Value::Bool(with_map(&a[0], |m| m.contains_key(s(&a[1])))))
    });
    t.variadic("pluck", &[Str], Map, |_, a| {
        let key = s(&a[0]).to_string();
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| with_map(d, |m| m.get(&key).cloned()))
                .collect(),
        ))
    });
    t.variadic("keys", &[], Map, |_, a| {
        let mut keys = Vec::new();
        for d in &a {
            with_map(d, |m| keys.extend(m.keys().map(|k| Value::str(k.as_str()))));
        }
        Ok(Value::list(keys))
    });
    t.add("values", &[Map], |_, a| {
        Ok(Value::list(with_map(&a[0], |m| {
            m.values().cloned().collect()
        })))
    });
    t.variadic("pick", &[Map], Str, |_, a| {
        let picked = with_map(&a[0], |m| {
            a[1..]
                .iter()
                .filter_map(|k| m.get(s(k)).map(|v| (s(k).to_string(), v.clone())))
                .collect()
        });
        Ok(Value::map(picked))
    });
    t.variadic("omit", &[Map], Str, |_, a| {
        let kept = with_map(&a[0], |m| {
            m.iter()
                .filter(|(k, _)| !a[1..].iter().any(|o| s(o) == k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        Ok(Value::map(kept))
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        t.add(name, &[Any], |_, a| Ok(a[0].deep_copy()));
    }
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let f: super::Body = if overwrite { merge_overwrite } else { merge };
        t.variadic(name, &[Map], Any, f);
    }
    t.variadic("dig", &[Any, Any, Any], Any, dig);
}

fn merge(state: &mut State<'_>, a: Vec<Value>) -> Result<Value, String> {
    merge_all(state, a, false)
}

fn merge_overwrite(state: &mut State<'_>, a: Vec<Value>) -> Result<Value, String> {
    merge_all(state, a, true)
}

/// Sprig's `merge`/`mergeOverwrite`: mergo into the first map. A source of another Go type
/// (Helm's named `Values`) is skipped, as mergo refuses it and Sprig swallows the error.
fn merge_all(state: &mut State<'_>, a: Vec<Value>, overwrite: bool) -> Result<Value, String> {
    let dst = writable(&a[0])?;
    for src in &a[1..] {
        match src {
            Value::Map(src) if !state.ns.is_named_values(src) => merge_into(&dst, src, overwrite),
            _ => {}
        }
    }
    Ok(Value::Map(dst))
}

/// mergo's map merge: without `overwrite`, a destination value is replaced only when it is
/// missing or empty (`false`, `0`, `""` count as empty); nested maps merge key by key.
pub(crate) fn merge_into(dst: &value::Map, src: &value::Map, overwrite: bool) {
    merge_at(dst, src, overwrite, 0);
}

fn merge_at(dst: &value::Map, src: &value::Map, overwrite: bool, depth: usize) {
    if std::rc::Rc::ptr_eq(dst, src) || depth > crate::value::MAX_NESTING {
        return;
    }
    value::changing(dst);
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, sv) in entries {
        let dv = dst.borrow().get(&key).cloned();
        match &sv {
            Value::Nil => {
                if overwrite {
                    dst.borrow_mut().insert(key, Value::Nil);
                }
                continue;
            }
            Value::Map(sm) => {
                if let Some(Value::Map(dm)) = &dv {
                    merge_at(dm, sm, overwrite, depth + 1);
                    if !dm.borrow().is_empty() {
                        continue;
                    }
                }
            }
            _ => {}
        }
        let replace = overwrite || dv.as_ref().is_none_or(empty);
        if replace {
            dst.borrow_mut().insert(key, sv);
        }
    }
}

/// Sprig's `dig "a" "b" default dict`.
fn dig(state: &mut State<'_>, a: Vec<Value>) -> Result<Value, String> {
    let (dict, rest) = a.split_last().ok_or("dig needs at least three arguments")?;
    let (default, keys) = rest
        .split_last()
        .ok_or("dig needs at least three arguments")?;
    let mut current = match dict {
        Value::Map(m) if !state.ns.is_named_values(m) => m.clone(),
        other => {
            return Err(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                state.ns.type_name(other)
            ));
        }
    };
    for (n, key) in keys.iter().enumerate() {
        let Value::String(key) = key else {
            return Err(format!(
                "interface conversion: interface {{}} is {}, not string",
                key.type_name()
            ));
        };
        let step = current.borrow().get(&**key).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if n == keys.len() - 1 {
            return Ok(step);
        }
        current = match step {
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                ));
            }
        };
    }
    Ok(default.clone())
}

fn with_map<T: Default>(v: &Value, f: impl FnOnce(&BTreeMap<String, Value>) -> T) -> T {
    match v {
        Value::Map(m) => f(&m.borrow()),
        _ => T::default(),
    }
}

/// The map to write into; Go panics writing into a nil map, and so does the template.
fn writable(v: &Value) -> Result<value::Map, String> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        _ => Err("assignment to entry in nil map".into()),
    }
}
