//! `import-values`: a parent chart's defaults take tables its subcharts export.
//!
//! Helm 4 (`processDependencyImportValues`, merging) works bottom-up: a chart that declares
//! imports gets, as its new defaults, its values merged with every subchart's, and under
//! them the imported tables — the parent's own values win over imports, and the first
//! import of a key wins over later ones. Two forms: a string `name` imports the child's
//! `exports.name` table at the parent's top level; `{child: a.b, parent: x.y}` imports the
//! child's table `a.b` at `x.y`. A child path that is not a table is skipped, as Helm skips
//! it with a warning.
//!
//! Go maps are references, and Helm's merge puts a subchart's exported table itself (not a
//! copy) into the parent's imports, so a later import merged into the same key also changes
//! the subchart's own exported table. The merge here runs on [`Value`] maps, which share as
//! Go's do, so those bytes come out the same.

use serde_json::{Map, Value as Json};

use crate::chart::Chart;
use crate::value::Value;

/// Applies every chart's `import-values`, deepest charts first.
pub(crate) fn import_values(chart: &mut Chart) {
    for sub in &mut chart.dependencies {
        import_values(sub);
    }
    if chart
        .metadata
        .dependencies
        .iter()
        .all(|d| d.import_values.is_empty())
    {
        return;
    }
    let mut merged = Map::new();
    crate::values::coalesce_chart(chart, &mut merged, true);
    let cvals = Value::from_json(&Json::Object(merged));
    let imported = Value::empty_map();
    for req in &mut chart.metadata.dependencies {
        let mut normalized = Vec::new();
        for import in &req.import_values {
            let (child, parent) = match import {
                Json::Object(entry) => {
                    (go_print(entry.get("child")), go_print(entry.get("parent")))
                }
                Json::String(name) => (format!("exports.{name}"), ".".to_string()),
                _ => continue,
            };
            normalized.push(serde_json::json!({"child": child, "parent": parent}));
            let Some(table) = table_at(&cvals, &format!("{}.{child}", req.name)) else {
                continue;
            };
            merge_tables(&imported, &nest(&parent, table));
        }
        req.import_values = normalized;
    }
    let values = cvals.deep_copy();
    merge_tables(&values, &imported);
    chart.values = values.to_json();
}

/// `fmt.Sprintf("%v", v)` of a Chart.yaml entry.
fn go_print(v: Option<&Json>) -> String {
    crate::gofmt::print_value(&v.map_or(Value::Nil, Value::from_json))
}

/// Helm's `Values.Table`: the map at a dotted path, itself (shared), when every step is one.
fn table_at(values: &Value, path: &str) -> Option<Value> {
    path.split('.')
        .try_fold(values.clone(), |v, key| match v.get(key) {
            m @ Value::Map(_) => Some(m),
            _ => None,
        })
}

/// `table` under the dotted `path` (`.` is the top).
fn nest(path: &str, table: Value) -> Value {
    if path == "." {
        return table;
    }
    path.rsplit('.').fold(table, |inner, key| {
        Value::map(std::iter::once((key.to_string(), inner)).collect())
    })
}

/// Helm's `MergeTables(dst, src)`: `dst` wins; a key `dst` lacks takes `src`'s value itself
/// (shared); tables on both sides merge; a `nil` in `dst` is written into `src` first.
fn merge_tables(dst: &Value, src: &Value) {
    let (Value::Map(dst), Value::Map(src)) = (dst, src) else {
        return;
    };
    if std::rc::Rc::ptr_eq(dst, src) {
        return;
    }
    let nils: Vec<String> = dst
        .borrow()
        .iter()
        .filter(|(_, v)| matches!(v, Value::Nil))
        .map(|(k, _)| k.clone())
        .collect();
    if !nils.is_empty() {
        let mut src = src.borrow_mut();
        for key in nils {
            src.insert(key, Value::Nil);
        }
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, val) in entries {
        let existing = dst.borrow().get(&key).cloned();
        match existing {
            None => {
                dst.borrow_mut().insert(key, val);
            }
            Some(dv @ Value::Map(_)) if matches!(val, Value::Map(_)) => merge_tables(&dv, &val),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_import_merges_into_the_first_one_s_table() {
        let cvals = Value::from_json(&serde_json::json!({
            "a": {"exports": {"d": {"x": {"p": 1}}}},
            "b": {"exports": {"d": {"x": {"q": 2}}}},
        }));
        let imported = Value::empty_map();
        for child in ["a.exports.d", "b.exports.d"] {
            merge_tables(&imported, &table_at(&cvals, child).unwrap());
        }
        assert_eq!(
            imported.to_json(),
            serde_json::json!({"x": {"p": 1, "q": 2}})
        );
        // As in Helm: a's exported table now holds b's entry too.
        assert_eq!(
            cvals.get("a").to_json(),
            serde_json::json!({"exports": {"d": {"x": {"p": 1, "q": 2}}}})
        );
        assert_eq!(
            nest("p.q", Value::empty_map()).to_json(),
            serde_json::json!({"p": {"q": {}}})
        );
    }
}
